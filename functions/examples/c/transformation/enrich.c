/*
 * A transformation in C: sets properties.transformed = true on every event (adding properties if
 * the event has none), drops "Spam Event"s (logging it) and refuses events without a type.
 *
 * Build: python -m ziglang cc --target=wasm32-wasi -mexec-model=reactor -O2 -s \
 *            -Wl,-z,stack-size=262144 -o enrich.wasm enrich.c
 * Upload: kind TRANSFORMATION, language WASM (docs/wasm-abi.md).
 */
#include <stdio.h>

#include "../transformer_guest.h"

void tg_handle(const tg_call *call, tg_json event, tg_json metadata, tg_buf *out) {
    (void)call;
    (void)metadata;
    if (tg_type(event) != TG_OBJECT) {
        tg_error(out, "ValidationError", "the event is not a JSON object");
        return;
    }
    if (tg_type(tg_get(event, "type")) != TG_STRING) {
        tg_error(out, "ValidationError", "the event has no type");
        return;
    }
    if (tg_is(tg_get(event, "event"), "Spam Event")) {
        tg_json id = tg_get(event, "messageId");
        if (tg_type(id) == TG_STRING) printf("dropped spam event %.*s\n", (int)id.n - 2, id.p + 1);
        else printf("dropped spam event without a messageId\n");
        tg_drop(out);
        return;
    }
    const char *end = event.p + event.n;
    tg_json properties = tg_get(event, "properties");
    if (tg_type(properties) != TG_OBJECT && tg_type(properties) != TG_ABSENT) {
        tg_error(out, "ValidationError", "properties is not an object");
        return;
    }
    tg_begin(out, "event");
    if (properties.p) {
        tg_json flag = tg_get(properties, "transformed");
        if (flag.p) { /* replace the value it has */
            tg_put(out, event.p, (size_t)(flag.p - event.p));
            tg_puts(out, "true");
            tg_put(out, flag.p + flag.n, (size_t)(end - (flag.p + flag.n)));
        } else { /* insert it as the first member */
            const char *inside = properties.p + 1;
            tg_put(out, event.p, (size_t)(inside - event.p));
            tg_puts(out, tg_is_empty(properties) ? "\"transformed\":true" : "\"transformed\":true,");
            tg_put(out, inside, (size_t)(end - inside));
        }
    } else { /* add properties before the closing brace */
        tg_put(out, event.p, event.n - 1);
        tg_puts(out, ",\"properties\":{\"transformed\":true}}");
    }
    tg_end(out);
}
