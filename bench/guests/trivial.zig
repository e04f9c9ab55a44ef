//! The benchmark's trivial transformation in Zig, the equivalent of bench/user_transform.py's Python
//! one: sets properties.transformed = true on every event (adding properties if it has none). It
//! reads each event in place (guest.zig's `handleRaw`), as the C header does.
//!
//! Build (guest.zig is functions/examples/zig/guest.zig):
//!     python -m ziglang build-exe -target wasm32-wasi -fno-entry -rdynamic -O ReleaseFast -fstrip \
//!         --stack 262144 -femit-bin=trivial.wasm --dep guest -Mroot=trivial.zig -Mguest=guest.zig
const guest = @import("guest");

comptime {
    _ = guest; // its exports
}

pub fn handleRaw(call: *const guest.RawCall, event: guest.Raw, metadata: guest.Raw, out: *guest.Out) !void {
    _ = call;
    _ = metadata;
    const text = event.text;
    const properties = event.get("properties");
    try out.begin("event");
    if (properties.kind() == .object) { // insert the flag as the first member
        const inside = @intFromPtr(properties.text.ptr) - @intFromPtr(text.ptr) + 1;
        try out.write(text[0..inside]);
        var members = properties.iterate();
        try out.write(if (members.next() == null) "\"transformed\":true" else "\"transformed\":true,");
        try out.write(text[inside..]);
    } else if (event.kind() == .object) { // add properties before the closing brace
        try out.write(text[0 .. text.len - 1]);
        try out.write(",\"properties\":{\"transformed\":true}}");
    } else try out.write(text);
    try out.end();
}
