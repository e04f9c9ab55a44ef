/*
 * A guest that misbehaves on request: each event's "mode" says how (tests/wasm). Every other event
 * comes back with "ok": true.
 *
 * Built by the tests with functions.build_guest (python -m ziglang cc --target=wasm32-wasi
 * -mexec-model=reactor -O2 -s -Wl,-z,stack-size=262144).
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "../../../functions/examples/c/transformer_guest.h"

static int mode(tg_json event, const char *name) { return tg_is(tg_get(event, "mode"), name); }

static int deep(int n) { /* never returns: exhausts the stack */
    volatile char pad[512];
    pad[n % 512] = (char)n;
    return deep(n + 1) + pad[0];
}

void tg_handle(const tg_call *call, tg_json event, tg_json metadata, tg_buf *out) {
    (void)call;
    (void)metadata;
    if (mode(event, "loop")) {
        volatile unsigned spin = 0;
        for (;;) spin++;
    }
    if (mode(event, "memory")) { /* grow until malloc fails, then abort as most C code would */
        for (;;) {
            char *volatile block = malloc(1 << 20);
            if (!block) abort();
            block[0] = 1;
        }
    }
    if (mode(event, "stack")) {
        tg_error(out, NULL, deep(0) ? "deep" : "deeper");
        return;
    }
    if (mode(event, "abort")) abort();
    if (mode(event, "divide")) {
        volatile int one = 1, zero = 0;
        int quotient = one / zero;
        tg_error(out, NULL, quotient ? "divided" : "by zero");
        return;
    }
    if (mode(event, "exit")) exit(3);
    if (mode(event, "output")) { /* a 200 KB string */
        tg_puts(out, "{\"event\":{\"big\":\"");
        for (int i = 0; i < 200000; i++) tg_put(out, "y", 1);
        tg_puts(out, "\"}}");
        return;
    }
    if (mode(event, "log")) {
        for (int i = 0; i < 100000; i++) printf("line %d\n", i);
    }
    if (mode(event, "notjson")) {
        tg_puts(out, "{\"event\": nope}");
        return;
    }
    if (mode(event, "twice")) {
        tg_event(out, event);
        tg_put(out, ",", 1);
        tg_event(out, event);
        return;
    }
    if (mode(event, "open")) {
        FILE *file = fopen("/etc/passwd", "r");
        char message[120];
        snprintf(message, sizeof message, "fopen: %s", file ? "opened" : strerror(errno));
        tg_error(out, NULL, message);
        return;
    }
    if (mode(event, "clock")) {
        struct timespec now;
        int failed = clock_gettime(CLOCK_REALTIME, &now);
        char text[80];
        snprintf(text, sizeof text, "{\"event\":{\"failed\":%d,\"seconds\":%lld}}", failed, (long long)now.tv_sec);
        tg_puts(out, text);
        return;
    }
    if (mode(event, "env")) {
        const char *home = getenv("HOME");
        tg_puts(out, home ? "{\"event\":{\"home\":true}}" : "{\"event\":{\"home\":false}}");
        return;
    }
    printf("fine\n");
    tg_begin(out, "event");
    tg_puts(out, tg_is_empty(event) ? "{\"ok\":true" : "{\"ok\":true,");
    tg_put(out, event.p + 1, event.n - 1);
    tg_end(out);
}
