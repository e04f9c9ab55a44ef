/*
 * A source function in C: each delivery's body is JSON {"events": ["name", ...]}; every name
 * becomes a track event whose context names the source (settings.name).
 *
 * Build: python -m ziglang cc --target=wasm32-wasi -mexec-model=reactor -O2 -s \
 *            -Wl,-z,stack-size=262144 -o hook.wasm hook.c
 * Upload: kind SOURCE, language WASM; call SourceTransform with function = "<name>" (docs/wasm-abi.md).
 */
#include "../transformer_guest.h"

void tg_handle(const tg_call *call, tg_json request, tg_json metadata, tg_buf *out) {
    (void)metadata;
    tg_json raw = tg_get(request, "body");
    if (tg_type(raw) != TG_STRING) {
        tg_error(out, "ValidationError", "the request has no body");
        return;
    }
    /* the body is a JSON string holding a JSON document: decode it first */
    char *text = malloc(raw.n);
    tg_json body = {text, tg_unescape(raw, text)};
    tg_json names = tg_get(body, "events");
    if (tg_type(names) != TG_ARRAY) {
        free(text);
        tg_error(out, "ValidationError", "the body must be a JSON object with an \"events\" array of names");
        return;
    }
    tg_json source = tg_get(call->settings, "name"), name;
    tg_iter items = tg_items(names);
    int first = 1;
    tg_begin(out, "events");
    tg_put(out, "[", 1);
    while (tg_next(&items, &name)) {
        tg_puts(out, first ? "{\"type\":\"track\",\"event\":" : ",{\"type\":\"track\",\"event\":");
        tg_put_json(out, name);
        tg_puts(out, ",\"context\":{\"source\":");
        if (source.p) tg_put_json(out, source);
        else tg_puts(out, "null");
        tg_puts(out, "}}");
        first = 0;
    }
    tg_put(out, "]", 1);
    tg_end(out);
    free(text);
}
