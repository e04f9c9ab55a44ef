/*
 * The benchmark's trivial transformation in C, the equivalent of bench/user_transform.py's Python
 * one: sets properties.transformed = true on every event (adding properties if it has none).
 *
 * Build: python -m ziglang cc --target=wasm32-wasi -mexec-model=reactor -O2 -s \
 *            -Wl,-z,stack-size=262144 -o trivial.wasm trivial.c
 */
#include "../../functions/examples/c/transformer_guest.h"

void tg_handle(const tg_call *call, tg_json event, tg_json metadata, tg_buf *out) {
    (void)call;
    (void)metadata;
    tg_json properties = tg_get(event, "properties");
    tg_begin(out, "event");
    if (tg_type(properties) == TG_OBJECT) { /* insert the flag as the first member */
        const char *inside = properties.p + 1;
        tg_put(out, event.p, (size_t)(inside - event.p));
        tg_puts(out, tg_is_empty(properties) ? "\"transformed\":true" : "\"transformed\":true,");
        tg_put(out, inside, (size_t)(event.p + event.n - inside));
    } else { /* add properties before the closing brace */
        tg_put(out, event.p, event.n - 1);
        tg_puts(out, ",\"properties\":{\"transformed\":true}}");
    }
    tg_end(out);
}
