//! The benchmark's trivial transformation in Zig, the equivalent of bench/user_transform.py's Python
//! one: sets properties.transformed = true on every event (adding properties if it has none).
//!
//! Build (guest.zig is functions/examples/zig/guest.zig):
//!     python -m ziglang build-exe -target wasm32-wasi -fno-entry -rdynamic -O ReleaseFast -fstrip \
//!         --stack 262144 -femit-bin=trivial.wasm --dep guest -Mroot=trivial.zig -Mguest=guest.zig
const guest = @import("guest");

comptime {
    _ = guest; // its exports
}

pub fn handle(call: *const guest.Call, event: guest.Value, metadata: guest.Value) !guest.Result {
    _ = metadata;
    if (event != .object) return .{ .event = event };
    var fields = event.object;
    const properties = fields.getPtr("properties") orelse blk: {
        try fields.put(call.arena, "properties", .{ .object = .empty });
        break :blk fields.getPtr("properties").?;
    };
    if (properties.* == .object) try properties.object.put(call.arena, "transformed", .{ .bool = true });
    return .{ .event = .{ .object = fields } };
}
