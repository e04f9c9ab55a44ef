//! A Zig guest reading events in place (guest.zig's `handleRaw`), for tests/wasm: each event's
//! "mode" says what to answer; any other event comes back wrapped with its job id, the call's kind
//! and settings, copied as written.
//!
//! Built by the tests with functions.build_guest (python -m ziglang build-exe -target wasm32-wasi
//! -fno-entry -rdynamic -O ReleaseFast -fstrip --stack 262144 ... --dep guest -Mroot=raw.zig
//! -Mguest=functions/examples/zig/guest.zig).
const guest = @import("guest");

comptime {
    _ = guest; // its exports
}

pub fn handleRaw(call: *const guest.RawCall, event: guest.Raw, metadata: guest.Raw, out: *guest.Out) !void {
    const mode = event.get("mode");
    if (mode.is("drop")) return out.drop();
    if (mode.is("invalid")) return out.fail(.ValidationError, "mode \"invalid\"");
    if (mode.is("nothing")) return;
    try out.begin("event");
    if (mode.is("error")) return error.Refused; // what it wrote so far is discarded
    const job = metadata.get("jobId");
    try out.write("{\"given\":");
    try out.write(event.text);
    try out.write(",\"job\":");
    try out.write(if (job.kind() == .absent) "null" else job.text);
    try out.write(",\"kind\":");
    try out.write(call.kind.text);
    try out.write(",\"settings\":");
    try out.write(call.settings.text);
    try out.write("}");
    try out.end();
}
