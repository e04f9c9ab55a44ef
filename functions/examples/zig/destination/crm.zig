//! A destination function in Zig: a track event becomes a POST of {"name": event, "userId": ...} to
//! the destination's Config.url; identify events are dropped on purpose (298); other types are not
//! supported (400).
//!
//! Build: python -m ziglang build-exe -target wasm32-wasi -fno-entry -rdynamic -O ReleaseFast -fstrip \
//!            --stack 262144 -femit-bin=crm.wasm --dep guest -Mroot=crm.zig -Mguest=../guest.zig
//! Upload: kind DESTINATION, language WASM; route to it with destination type "function" and
//! Config.functionRef = "<name>[@alias]" (docs/wasm-abi.md).
const std = @import("std");
const guest = @import("guest");

comptime {
    _ = guest; // its exports
}

const Empty = struct {};

pub fn handle(call: *const guest.Call, event: guest.Value, metadata: guest.Value) !guest.Result {
    _ = metadata;
    const kind = guest.string(guest.get(event, "type")) orelse "null";
    if (std.mem.eql(u8, kind, "identify"))
        return .{ .failure = .{ .type = .DropEvent, .message = "identifies are not sent" } };
    if (!std.mem.eql(u8, kind, "track")) {
        const message = try std.fmt.allocPrint(call.arena, "event type \"{s}\" is not supported", .{kind});
        return .{ .failure = .{ .type = .EventNotSupported, .message = message } };
    }
    const url = guest.string(guest.get(call.settings, "url")) orelse
        return .{ .failure = .{ .type = .ValidationError, .message = "the destination's Config.url must be a string" } };
    return .{ .request = try guest.toValue(call, .{
        .version = "1",
        .type = "REST",
        .method = "POST",
        .endpoint = url,
        .headers = .{ .@"Content-Type" = "application/json" },
        .params = Empty{},
        .body = .{
            .JSON = .{ .name = guest.get(event, "event") orelse .null, .userId = guest.get(event, "userId") orelse .null },
            .JSON_ARRAY = Empty{},
            .XML = Empty{},
            .FORM = Empty{},
        },
        .files = Empty{},
    }) };
}
