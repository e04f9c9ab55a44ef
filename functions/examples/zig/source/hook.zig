//! A source function in Zig: each delivery's body is JSON {"events": ["name", ...]}; every name
//! becomes a track event whose context names the source (settings.name).
//!
//! Build: python -m ziglang build-exe -target wasm32-wasi -fno-entry -rdynamic -O ReleaseFast -fstrip \
//!            --stack 262144 -femit-bin=hook.wasm --dep guest -Mroot=hook.zig -Mguest=../guest.zig
//! Upload: kind SOURCE, language WASM; call SourceTransform with function = "<name>" (docs/wasm-abi.md).
const std = @import("std");
const guest = @import("guest");

comptime {
    _ = guest; // its exports
}

const Body = struct { events: []const []const u8 };

pub fn handle(call: *const guest.Call, request: guest.Value, metadata: guest.Value) !guest.Result {
    _ = metadata;
    const text = guest.string(guest.get(request, "body")) orelse
        return .{ .failure = .{ .type = .ValidationError, .message = "the request has no body" } };
    const body = std.json.parseFromSliceLeaky(Body, call.arena, text, .{ .ignore_unknown_fields = true }) catch
        return .{ .failure = .{ .type = .ValidationError, .message = "the body must be a JSON object with an \"events\" array of names" } };
    const source = guest.get(call.settings, "name") orelse .null;
    const events = try call.arena.alloc(guest.Value, body.events.len);
    for (body.events, events) |name, *event| {
        event.* = try guest.toValue(call, .{ .type = "track", .event = name, .context = .{ .source = source } });
    }
    return .{ .events = events };
}
