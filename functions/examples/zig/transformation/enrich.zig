//! A transformation in Zig: sets properties.transformed = true on every event (adding properties if
//! the event has none), drops "Spam Event"s (logging it) and refuses events without a type.
//!
//! Build: python -m ziglang build-exe -target wasm32-wasi -fno-entry -rdynamic -O ReleaseFast -fstrip \
//!            --stack 262144 -femit-bin=enrich.wasm --dep guest -Mroot=enrich.zig -Mguest=../guest.zig
//! Upload: kind TRANSFORMATION, language WASM (docs/wasm-abi.md).
const std = @import("std");
const guest = @import("guest");

comptime {
    _ = guest; // its exports
}

pub fn handle(call: *const guest.Call, event: guest.Value, metadata: guest.Value) !guest.Result {
    _ = metadata;
    if (event != .object) return .{ .failure = .{ .type = .ValidationError, .message = "the event is not a JSON object" } };
    var fields = event.object;
    if (guest.string(fields.get("type")) == null)
        return .{ .failure = .{ .type = .ValidationError, .message = "the event has no type" } };
    if (std.mem.eql(u8, guest.string(fields.get("event")) orelse "", "Spam Event")) {
        std.debug.print("dropped spam event {s}\n", .{guest.string(fields.get("messageId")) orelse "?"});
        return .{ .event = null };
    }
    const properties = fields.getPtr("properties") orelse blk: {
        try fields.put(call.arena, "properties", .{ .object = .empty });
        break :blk fields.getPtr("properties").?;
    };
    if (properties.* != .object)
        return .{ .failure = .{ .type = .ValidationError, .message = "properties is not an object" } };
    try properties.object.put(call.arena, "transformed", .{ .bool = true });
    return .{ .event = .{ .object = fields } };
}
