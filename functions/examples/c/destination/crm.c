/*
 * A destination function in C: a track event becomes a POST of {"name": event, "userId": ...} to
 * the destination's Config.url; identify events are dropped on purpose (298); other types are
 * not supported (400).
 *
 * Build: python -m ziglang cc --target=wasm32-wasi -mexec-model=reactor -O2 -s \
 *            -Wl,-z,stack-size=262144 -o crm.wasm crm.c
 * Upload: kind DESTINATION, language WASM; route to it with destination type "function" and
 * Config.functionRef = "<name>[@alias]" (docs/wasm-abi.md).
 */
#include <stdio.h>

#include "../transformer_guest.h"

static void put_or_null(tg_buf *out, tg_json value) {
    if (value.p) tg_put_json(out, value);
    else tg_puts(out, "null");
}

void tg_handle(const tg_call *call, tg_json event, tg_json metadata, tg_buf *out) {
    (void)metadata;
    tg_json type = tg_get(event, "type");
    if (tg_is(type, "identify")) {
        tg_error(out, "DropEvent", "identifies are not sent");
        return;
    }
    if (!tg_is(type, "track")) {
        char message[160];
        int shown = type.p ? (int)(type.n < 100 ? type.n : 100) : 4;
        snprintf(message, sizeof message, "event type %.*s is not supported", shown, type.p ? type.p : "null");
        tg_error(out, "EventNotSupported", message);
        return;
    }
    tg_json url = tg_get(call->settings, "url");
    if (tg_type(url) != TG_STRING) {
        tg_error(out, "ValidationError", "the destination's Config.url must be a string");
        return;
    }
    tg_begin(out, "request");
    tg_puts(out, "{\"version\":\"1\",\"type\":\"REST\",\"method\":\"POST\",\"endpoint\":");
    tg_put_json(out, url);
    tg_puts(out, ",\"headers\":{\"Content-Type\":\"application/json\"},\"params\":{},"
                 "\"body\":{\"JSON\":{\"name\":");
    put_or_null(out, tg_get(event, "event"));
    tg_puts(out, ",\"userId\":");
    put_or_null(out, tg_get(event, "userId"));
    tg_puts(out, "},\"JSON_ARRAY\":{},\"XML\":{},\"FORM\":{}},\"files\":{}}");
    tg_end(out);
}
