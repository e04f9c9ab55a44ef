//! Guest ABI v1 of the transformer service for Zig (docs/wasm-abi.md).
//!
//! The root file of a function imports this one and declares
//!
//!     pub fn handle(call: *const guest.Call, event: guest.Value, metadata: guest.Value) !guest.Result
//!
//! which says what becomes of one event, and references this file's exports with
//! `comptime { _ = guest; }` (Zig analyses only what is referenced). This file provides the exports the service calls (alloc,
//! dealloc, transform), parses the batch it is given with std.json, and writes the answer. Memory
//! comes from an arena that lives as long as the call (each call gets a fresh instance), so
//! handlers allocate freely with `call.arena` and never free (objects are `std.json.ObjectMap`s:
//! `map.put(call.arena, key, value)`). An error returned by `handle` fails
//! its event with the error's name. std.debug.print and writes to stdout/stderr go to the log.
//!
//! Build (this file as the module `guest`, imported with @import("guest")):
//!     python -m ziglang build-exe -target wasm32-wasi -fno-entry -rdynamic -O ReleaseFast -fstrip \
//!         --stack 262144 -femit-bin=fn.wasm --dep guest -Mroot=fn.zig -Mguest=guest.zig
const std = @import("std");
const root = @import("root");

pub const Value = std.json.Value;
pub const ObjectMap = std.json.ObjectMap;

/// What every event of a call shares.
pub const Call = struct {
    /// "transformation", "destination" or "source".
    kind: []const u8,
    /// The destination's or source's settings object (an empty object for transformations).
    settings: Value,
    /// The event's position in the batch.
    index: usize,
    /// Allocations that live until the call ends.
    arena: std.mem.Allocator,
};

/// One of the four exceptions a Python function may raise, by name.
pub const ErrorType = enum { ValidationError, RetryError, DropEvent, EventNotSupported };

/// What one event became.
pub const Result = union(enum) {
    /// The event, transformed (a transformation; null drops it).
    event: ?Value,
    /// Several events (a transformation that splits one, or a source function).
    events: []const Value,
    /// The destination request (a destination function).
    request: Value,
    /// The event fails: as an exception of that type when `type` is set, else as a function error.
    failure: struct { type: ?ErrorType = null, message: []const u8 },
};

const gpa = std.heap.wasm_allocator;

export fn alloc(size: i32) i32 {
    const buffer = gpa.alloc(u8, @intCast(@max(size, 1))) catch return 0;
    return @intCast(@intFromPtr(buffer.ptr));
}

export fn dealloc(pointer: i32, size: i32) void {
    const start: [*]u8 = @ptrFromInt(@as(usize, @intCast(pointer)));
    gpa.free(start[0..@intCast(@max(size, 1))]);
}

const Input = struct {
    kind: []const u8,
    events: []Value,
    metadata: []Value,
    settings: Value,
};

export fn transform(pointer: i32, length: i32) i64 {
    const start: [*]const u8 = @ptrFromInt(@as(usize, @intCast(pointer)));
    const answer = run(start[0..@intCast(length)]) catch |err| @panic(@errorName(err));
    return @as(i64, @intCast(@intFromPtr(answer.ptr))) << 32 | @as(i64, @intCast(answer.len));
}

fn run(input: []const u8) ![]const u8 {
    var arena_state = std.heap.ArenaAllocator.init(gpa);
    const arena = arena_state.allocator(); // never freed: the instance ends with the call
    const parsed = try std.json.parseFromSliceLeaky(Input, arena, input, .{});
    // room for the input: most answers never grow the buffer (the arena cannot reuse a smaller one)
    var out = try std.Io.Writer.Allocating.initCapacity(arena, input.len);
    var json: std.json.Stringify = .{ .writer = &out.writer };
    try json.beginObject();
    try json.objectField("results");
    try json.beginArray();
    for (parsed.events, 0..) |event, index| {
        const call: Call = .{ .kind = parsed.kind, .settings = parsed.settings, .index = index, .arena = arena };
        const metadata = if (index < parsed.metadata.len) parsed.metadata[index] else Value.null;
        const result = root.handle(&call, event, metadata) catch |err|
            Result{ .failure = .{ .message = @errorName(err) } };
        try writeResult(&json, result);
    }
    try json.endArray();
    try json.endObject();
    return out.written();
}

fn writeResult(json: *std.json.Stringify, result: Result) !void {
    try json.beginObject();
    switch (result) {
        .event => |event| {
            try json.objectField("event");
            if (event) |value| try json.write(value) else try json.write(null);
        },
        .events => |events| {
            try json.objectField("events");
            try json.write(events);
        },
        .request => |request| {
            try json.objectField("request");
            try json.write(request);
        },
        .failure => |failure| {
            try json.objectField("error");
            if (failure.type) |kind| {
                try json.beginObject();
                try json.objectField("type");
                try json.write(@tagName(kind));
                try json.objectField("message");
                try json.write(failure.message);
                try json.endObject();
            } else try json.write(failure.message);
        },
    }
    try json.endObject();
}

/// The member `key` of `value` when it is an object.
pub fn get(value: Value, key: []const u8) ?Value {
    return switch (value) {
        .object => |members| members.get(key),
        else => null,
    };
}

/// `value` if it is a string.
pub fn string(value: ?Value) ?[]const u8 {
    return if (value) |v| switch (v) {
        .string => |s| s,
        else => null,
    } else null;
}

/// Any value std.json can write (a struct, a slice, ...) as a `Value` (written, then read back).
pub fn toValue(call: *const Call, value: anytype) !Value {
    const text = try std.json.Stringify.valueAlloc(call.arena, value, .{});
    return std.json.parseFromSliceLeaky(Value, call.arena, text, .{});
}
