/*
 * clock.c - the engine's time base (CLOCK_MONOTONIC nanoseconds) and its always-on assertion
 * handler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "engine_internal.h"

int64_t eng_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

struct timespec eng_timespec(int64_t ns)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    return ts;
}

_Noreturn void eng_panic_(const char *file, int line, const char *what)
{
    fprintf(stderr, "riskengine: engine invariant broken at %s:%d: %s\n", file, line, what);
    abort();
}
