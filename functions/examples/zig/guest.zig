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
//! A root file may declare `handleRaw` instead, which reads each event in place as JSON text and
//! writes its result itself (see "reading events in place" below): several times faster for
//! functions that pass most of an event on.
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
    const input = start[0..@intCast(length)];
    const answer = (if (@hasDecl(root, "handleRaw")) runRaw(input) else run(input)) catch |err| @panic(@errorName(err));
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

// --- reading events in place --------------------------------------------------------------------
//
// A root file that declares, instead of `handle`,
//
//     pub fn handleRaw(call: *const guest.RawCall, event: guest.Raw, metadata: guest.Raw, out: *guest.Out) !void
//
// gets each event as the JSON text it was given (nothing parsed or copied) and writes exactly one
// result into `out`: `out.event(raw)`, `out.drop()`, `out.fail(.ValidationError, "...")`, or
// `out.begin("event")`, `out.write(...)` pieces, `out.end()`. This is several times faster than
// `handle` for functions that pass most of an event on (the benchmark's transformation), at the
// price of reading JSON by hand. An error returned by `handleRaw` replaces what it wrote with a
// failure named after the error.

/// What every event of a call shares, as written in the input.
pub const RawCall = struct {
    /// The JSON string "transformation", "destination" or "source" (with its quotes).
    kind: Raw,
    /// The settings object.
    settings: Raw,
    /// The event's position in the batch.
    index: usize,
    /// Allocations that live until the call ends.
    arena: std.mem.Allocator,
};

/// A JSON value exactly as it appears in the input (`text` is empty when the value is absent).
pub const Raw = struct {
    text: []const u8,

    pub const absent: Raw = .{ .text = "" };
    pub const Kind = enum { absent, object, array, string, number, boolean, @"null" };

    pub fn kind(self: Raw) Kind {
        if (self.text.len == 0) return .absent;
        return switch (self.text[0]) {
            '{' => .object,
            '[' => .array,
            '"' => .string,
            't', 'f' => .boolean,
            'n' => .@"null",
            else => .number,
        };
    }

    /// Whether this is the JSON string `text` (compared as written: escapes are not decoded).
    pub fn is(self: Raw, text: []const u8) bool {
        return self.kind() == .string and self.text.len == text.len + 2 and
            std.mem.eql(u8, self.text[1 .. self.text.len - 1], text);
    }

    /// The member `key` of an object (absent if this is not an object or has no such member).
    pub fn get(self: Raw, key: []const u8) Raw {
        var members = self.iterate();
        while (members.nextMember()) |member| {
            if (member.key.is(key)) return member.value;
        }
        return absent;
    }

    /// The items of an array (`next`) or the members of an object (`nextMember`).
    pub fn iterate(self: Raw) Iterator {
        const k = self.kind();
        if (k != .object and k != .array) return .{ .text = "", .at = 0 };
        return .{ .text = self.text[0 .. self.text.len - 1], .at = 1 };
    }
};

pub const Member = struct { key: Raw, value: Raw };

pub const Iterator = struct {
    text: []const u8,
    at: usize,

    pub fn next(self: *Iterator) ?Raw {
        var at = skipSpace(self.text, self.at);
        if (at < self.text.len and self.text[at] == ',') at = skipSpace(self.text, at + 1);
        if (at >= self.text.len) return null;
        const end = valueEnd(self.text, at);
        self.at = end;
        return .{ .text = self.text[at..end] };
    }

    pub fn nextMember(self: *Iterator) ?Member {
        const key = self.next() orelse return null;
        const at = skipSpace(self.text, self.at);
        if (key.kind() != .string or at >= self.text.len or self.text[at] != ':') return null;
        self.at = at + 1;
        const value = self.next() orelse return null;
        return .{ .key = key, .value = value };
    }
};

fn skipSpace(text: []const u8, start: usize) usize {
    var at = start;
    while (at < text.len and (text[at] == ' ' or text[at] == '\n' or text[at] == '\r' or text[at] == '\t')) at += 1;
    return at;
}

/// The end of the JSON value that starts at `start`.
fn valueEnd(text: []const u8, start: usize) usize {
    var at = start;
    var depth: usize = 0;
    while (at < text.len) {
        switch (text[at]) {
            '"' => {
                at += 1;
                while (at < text.len and text[at] != '"') : (at += 1) {
                    if (text[at] == '\\') at += 1;
                }
            },
            '{', '[' => depth += 1,
            '}', ']' => depth -|= 1,
            else => if (depth == 0) { // a number, true, false or null: up to its last character
                while (at + 1 < text.len) : (at += 1) {
                    switch (text[at + 1]) {
                        ',', ']', '}', ' ', '\n', '\r', '\t' => break,
                        else => {},
                    }
                }
            },
        }
        at += 1;
        if (depth == 0) break;
    }
    return @min(at, text.len);
}

/// The answer being written: one result per event.
pub const Out = struct {
    bytes: std.ArrayList(u8),
    arena: std.mem.Allocator,

    /// Raw bytes of the answer (the value of a result, between `begin` and `end`).
    pub fn write(self: *Out, bytes: []const u8) !void {
        try self.bytes.appendSlice(self.arena, bytes);
    }

    /// `{"<key>":` (key: "event", "events", "request" or "error"); write the value, then `end`.
    pub fn begin(self: *Out, key: []const u8) !void {
        try self.write("{\"");
        try self.write(key);
        try self.write("\":");
    }

    pub fn end(self: *Out) !void {
        try self.write("}");
    }

    /// The event as given (or any value, e.g. one assembled from pieces of it).
    pub fn event(self: *Out, value: Raw) !void {
        try self.begin("event");
        try self.write(value.text);
        try self.end();
    }

    /// Dropped on purpose.
    pub fn drop(self: *Out) !void {
        try self.write("{\"event\":null}");
    }

    /// The event fails: as an exception of that type when `kind` is set, else as a function error.
    pub fn fail(self: *Out, kind: ?ErrorType, message: []const u8) !void {
        try self.begin("error");
        const text = try std.json.Stringify.valueAlloc(self.arena, message, .{});
        if (kind) |k| {
            try self.write("{\"type\":\"");
            try self.write(@tagName(k));
            try self.write("\",\"message\":");
            try self.write(text);
            try self.write("}");
        } else try self.write(text);
        try self.end();
    }
};

fn runRaw(input: []const u8) ![]const u8 {
    var arena_state = std.heap.ArenaAllocator.init(gpa);
    const arena = arena_state.allocator(); // never freed: the instance ends with the call
    var call: RawCall = .{ .kind = Raw.absent, .settings = Raw.absent, .index = 0, .arena = arena };
    var events = Raw.absent;
    var metadata = Raw.absent;
    var members = (Raw{ .text = input }).iterate();
    while (members.nextMember()) |member| { // one pass: each `get` would walk the whole batch
        if (member.key.is("kind")) {
            call.kind = member.value;
        } else if (member.key.is("events")) {
            events = member.value;
        } else if (member.key.is("metadata")) {
            metadata = member.value;
        } else if (member.key.is("settings")) {
            call.settings = member.value;
        }
    }
    // room for the events as given and a little around each: most answers never grow the buffer
    var out: Out = .{ .bytes = try std.ArrayList(u8).initCapacity(arena, events.text.len + 4096), .arena = arena };
    try out.write("{\"results\":[");
    var items = events.iterate();
    var metas = metadata.iterate();
    while (items.next()) |item| : (call.index += 1) {
        const meta = metas.next() orelse Raw{ .text = "null" };
        if (call.index > 0) try out.write(",");
        const before = out.bytes.items.len;
        root.handleRaw(&call, item, meta, &out) catch |err| {
            out.bytes.shrinkRetainingCapacity(before);
            try out.fail(null, @errorName(err));
        };
        if (out.bytes.items.len == before) try out.fail(null, "handleRaw wrote no result for this event");
    }
    try out.write("]}");
    return out.bytes.items;
}
