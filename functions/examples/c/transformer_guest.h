/*
 * transformer_guest.h: guest ABI v1 of the transformer service for C (docs/wasm-abi.md), header-only.
 *
 * Include it in exactly one .c file and define
 *
 *     void tg_handle(const tg_call *call, tg_json event, tg_json metadata, tg_buf *out);
 *
 * which writes exactly one result for `event` into `out` (tg_event, tg_drop, tg_error, or
 * tg_begin ... tg_end around a value you write yourself). The header provides the exports the
 * service calls (alloc, dealloc, transform), splits the batch it is given into events, and joins
 * the results into the answer. JSON is read in place: a tg_json is a span of the input, found with
 * tg_get (object member) and tg_items/tg_next (array items); nothing is copied or decoded unless you
 * ask (tg_unescape). printf and fprintf(stderr, ...) go to the function's log (stdout is flushed
 * when the call ends).
 *
 * Build (the `ziglang` Python package bundles clang and wasi-libc):
 *
 *     python -m ziglang cc --target=wasm32-wasi -mexec-model=reactor -O2 -s \
 *         -Wl,-z,stack-size=262144 -o fn.wasm fn.c
 */
#ifndef TRANSFORMER_GUEST_H
#define TRANSFORMER_GUEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A JSON value as it appears in the input (p == NULL: absent). */
typedef struct {
    const char *p;
    size_t n;
} tg_json;

/* The answer being written. */
typedef struct {
    char *p;
    size_t n, cap;
} tg_buf;

/* What every event of a call shares. */
typedef struct {
    tg_json kind;     /* "transformation", "destination" or "source" */
    tg_json settings; /* the destination's or source's settings object ({} for transformations) */
    size_t index;     /* the event's position in the batch */
} tg_call;

enum { TG_ABSENT, TG_OBJECT, TG_ARRAY, TG_STRING, TG_NUMBER, TG_BOOL, TG_NULL };

void tg_handle(const tg_call *call, tg_json event, tg_json metadata, tg_buf *out);

/* --- reading JSON -------------------------------------------------------------------------- */

static const char *tg__ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static const char *tg__string_end(const char *p, const char *e) { /* p at the opening quote */
    for (p++; p < e; p++) {
        if (*p == '\\') p++;
        else if (*p == '"') return p + 1;
    }
    return NULL;
}

/* The end of the value starting at p (after whitespace), or NULL if it is cut short. */
static const char *tg__value_end(const char *p, const char *e) {
    p = tg__ws(p, e);
    if (p >= e) return NULL;
    if (*p == '"') return tg__string_end(p, e);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < e) {
            char c = *p;
            if (c == '"') {
                p = tg__string_end(p, e);
                if (!p) return NULL;
                continue;
            }
            if (c == '{' || c == '[') depth++;
            else if ((c == '}' || c == ']') && --depth == 0) return p + 1;
            p++;
        }
        return NULL;
    }
    while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' && *p != '\t' &&
           *p != '\r')
        p++;
    return p;
}

static int tg_type(tg_json v) {
    if (!v.p || !v.n) return TG_ABSENT;
    switch (v.p[0]) {
    case '{': return TG_OBJECT;
    case '[': return TG_ARRAY;
    case '"': return TG_STRING;
    case 't': case 'f': return TG_BOOL;
    case 'n': return TG_NULL;
    default: return TG_NUMBER;
    }
}

/* Items of an array, or members of an object (tg_next_member). */
typedef struct {
    const char *p, *e;
} tg_iter;

static tg_iter tg_items(tg_json v) {
    tg_iter it = {NULL, NULL};
    if (tg_type(v) == TG_ARRAY || tg_type(v) == TG_OBJECT) {
        it.p = v.p + 1;
        it.e = v.p + v.n - 1;
    }
    return it;
}

static int tg_next(tg_iter *it, tg_json *value) {
    if (!it->p) return 0;
    const char *p = tg__ws(it->p, it->e);
    if (p < it->e && *p == ',') p = tg__ws(p + 1, it->e);
    if (p >= it->e) return 0;
    const char *end = tg__value_end(p, it->e);
    if (!end) return 0;
    value->p = p;
    value->n = (size_t)(end - p);
    it->p = end;
    return 1;
}

static int tg_next_member(tg_iter *it, tg_json *key, tg_json *value) {
    if (!tg_next(it, key) || tg_type(*key) != TG_STRING) return 0;
    const char *p = tg__ws(it->p, it->e);
    if (p >= it->e || *p != ':') return 0;
    it->p = p + 1;
    return tg_next(it, value);
}

/* Whether v is the JSON string `text` (compared as written: escapes are not decoded). */
static int tg_is(tg_json v, const char *text) {
    size_t n = strlen(text);
    return tg_type(v) == TG_STRING && v.n == n + 2 && memcmp(v.p + 1, text, n) == 0;
}

/* The member `key` of an object (absent if v is not an object or has no such member). */
static tg_json tg_get(tg_json v, const char *key) {
    tg_json k, value, none = {NULL, 0};
    if (tg_type(v) != TG_OBJECT) return none;
    tg_iter it = tg_items(v);
    while (tg_next_member(&it, &k, &value))
        if (tg_is(k, key)) return value;
    return none;
}

static int tg_is_empty(tg_json v) { /* an empty object or array */
    tg_iter it = tg_items(v);
    return !it.p || tg__ws(it.p, it.e) >= it.e;
}

static void tg__utf8(char **d, uint32_t c) {
    char *o = *d;
    if (c < 0x80) *o++ = (char)c;
    else if (c < 0x800) { *o++ = (char)(0xC0 | c >> 6); *o++ = (char)(0x80 | (c & 0x3F)); }
    else if (c < 0x10000) {
        *o++ = (char)(0xE0 | c >> 12); *o++ = (char)(0x80 | (c >> 6 & 0x3F)); *o++ = (char)(0x80 | (c & 0x3F));
    } else {
        *o++ = (char)(0xF0 | c >> 18); *o++ = (char)(0x80 | (c >> 12 & 0x3F));
        *o++ = (char)(0x80 | (c >> 6 & 0x3F)); *o++ = (char)(0x80 | (c & 0x3F));
    }
    *d = o;
}

static uint32_t tg__hex4(const char *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v = v << 4 | (uint32_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* Decode the JSON string v into dst (room for v.n bytes is enough); returns the length. */
static size_t tg_unescape(tg_json v, char *dst) {
    if (tg_type(v) != TG_STRING) return 0;
    const char *p = v.p + 1, *e = v.p + v.n - 1;
    char *d = dst;
    while (p < e) {
        if (*p != '\\') { *d++ = *p++; continue; }
        if (++p >= e) break;
        char c = *p++;
        switch (c) {
        case 'b': *d++ = '\b'; break;
        case 'f': *d++ = '\f'; break;
        case 'n': *d++ = '\n'; break;
        case 'r': *d++ = '\r'; break;
        case 't': *d++ = '\t'; break;
        case 'u': {
            if (e - p < 4) return (size_t)(d - dst);
            uint32_t u = tg__hex4(p);
            p += 4;
            if (u >= 0xD800 && u < 0xDC00 && e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                uint32_t low = tg__hex4(p + 2);
                if (low >= 0xDC00 && low < 0xE000) { u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00); p += 6; }
            }
            tg__utf8(&d, u);
            break;
        }
        default: *d++ = c; /* " \ / */
        }
    }
    return (size_t)(d - dst);
}

/* --- writing the answer -------------------------------------------------------------------- */

static void tg_put(tg_buf *out, const char *p, size_t n) {
    if (out->n + n > out->cap) {
        size_t cap = out->cap ? out->cap : 4096;
        while (cap < out->n + n) cap *= 2;
        char *grown = realloc(out->p, cap);
        if (!grown) abort(); /* out of memory: the service reports the memory limit */
        out->p = grown;
        out->cap = cap;
    }
    memcpy(out->p + out->n, p, n);
    out->n += n;
}

static void tg_puts(tg_buf *out, const char *s) { tg_put(out, s, strlen(s)); }
static void tg_put_json(tg_buf *out, tg_json v) { tg_put(out, v.p, v.n); }

/* Write bytes as a JSON string (quoted, escaped). */
static void tg_put_string(tg_buf *out, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    tg_put(out, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        tg_put(out, s + start, i - start);
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        if (c == '"' || c == '\\') { esc[1] = (char)c; tg_put(out, esc, 2); }
        else if (c == '\n') tg_put(out, "\\n", 2);
        else tg_put(out, esc, 6);
        start = i + 1;
    }
    tg_put(out, s + start, n - start);
    tg_put(out, "\"", 1);
}

/* {"<key>": ... }: key is "event", "events", "request" or "error"; write the value, then tg_end. */
static void tg_begin(tg_buf *out, const char *key) {
    tg_puts(out, "{\"");
    tg_puts(out, key);
    tg_puts(out, "\":");
}
static void tg_end(tg_buf *out) { tg_put(out, "}", 1); }

static void tg_event(tg_buf *out, tg_json event) { tg_begin(out, "event"); tg_put_json(out, event); tg_end(out); }
static void tg_drop(tg_buf *out) { tg_puts(out, "{\"event\":null}"); }

/* type: NULL (the function failed: 400) or "ValidationError", "RetryError", "DropEvent",
   "EventNotSupported" (as the Python exceptions of the same names). */
static void tg_error(tg_buf *out, const char *type, const char *message) {
    tg_begin(out, "error");
    if (type) {
        tg_puts(out, "{\"type\":");
        tg_put_string(out, type, strlen(type));
        tg_puts(out, ",\"message\":");
        tg_put_string(out, message, strlen(message));
        tg_end(out);
    } else {
        tg_put_string(out, message, strlen(message));
    }
    tg_end(out);
}

/* --- the exports --------------------------------------------------------------------------- */

__attribute__((export_name("alloc"))) void *tg__alloc(int32_t size) { return malloc(size > 0 ? (size_t)size : 1); }
__attribute__((export_name("dealloc"))) void tg__dealloc(void *p, int32_t size) { (void)size; free(p); }

__attribute__((export_name("transform"))) int64_t tg__transform(const char *input, int32_t length) {
    tg_json doc = {input, (size_t)length}, key, value, all_events = {NULL, 0}, all_metadata = {NULL, 0};
    tg_call call = {{NULL, 0}, {NULL, 0}, 0};
    tg_iter members = tg_items(doc);
    while (tg_next_member(&members, &key, &value)) { /* one pass: each tg_get would walk the batch */
        if (tg_is(key, "kind")) call.kind = value;
        else if (tg_is(key, "events")) all_events = value;
        else if (tg_is(key, "metadata")) all_metadata = value;
        else if (tg_is(key, "settings")) call.settings = value;
    }
    tg_iter events = tg_items(all_events), metas = tg_items(all_metadata);
    tg_json event, meta, null = {"null", 4};
    /* room for the events as given and a little around each: most answers never grow the buffer */
    tg_buf out = {malloc(all_events.n + 4096), 0, all_events.n + 4096};
    if (!out.p) abort();
    tg_puts(&out, "{\"results\":[");
    while (tg_next(&events, &event)) {
        if (!tg_next(&metas, &meta)) meta = null;
        if (call.index) tg_put(&out, ",", 1);
        size_t before = out.n;
        tg_handle(&call, event, meta, &out);
        if (out.n == before) tg_error(&out, NULL, "tg_handle wrote no result for this event");
        call.index++;
    }
    tg_puts(&out, "]}");
    fflush(stdout); /* stdout is fully buffered (it is not a terminal): what is left goes to the log now */
    return (int64_t)((uint64_t)(uintptr_t)out.p << 32 | (uint32_t)out.n);
}

#endif
