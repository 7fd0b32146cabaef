/*
 * fuzz.h - what the libFuzzer harnesses of tests/fuzz share: the entry point's prototype, a
 * failed check that stops the run with a message, and a reader that turns the input's bytes
 * into the numbers, names and choices a harness drives the library with.
 */
#ifndef RK_FUZZ_H
#define RK_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise of the code under test: the message, then abort() (libFuzzer keeps the
 * input as a crash). */
__attribute__((format(printf, 1, 2), noreturn)) static inline void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz check failed: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* The input consumed front to back; past its end every read gives zeros. */
typedef struct fuzz_bytes {
    const uint8_t *p;
    size_t n;
} fuzz_bytes;

static inline uint8_t fuzz_u8(fuzz_bytes *b)
{
    if (b->n == 0)
        return 0;
    b->n--;
    return *b->p++;
}

static inline size_t fuzz_below(fuzz_bytes *b, size_t n)
{
    size_t v = (size_t)fuzz_u8(b) | (size_t)fuzz_u8(b) << 8;
    return n ? v % n : 0;
}

/* A double: mostly one of the values that find edges (zeros, signs, NaN, infinities, the
 * extremes, subnormals, the magnitudes of prices, rates and variances), else raw bits. */
static inline double fuzz_double(fuzz_bytes *b)
{
    static const double table[] = {0.0,
                                   -0.0,
                                   1.0,
                                   -1.0,
                                   0.5,
                                   2.0,
                                   100.0,
                                   1e-4,
                                   0.01,
                                   0.2,
                                   1e-12,
                                   1e12,
                                   1e300,
                                   -1e300,
                                   5e-324,
                                   1e-310,
                                   1.7976931348623157e308,
                                   0.05,
                                   -0.02,
                                   3.0,
                                   0.25,
                                   1e6,
                                   123.456};
    uint8_t k = fuzz_u8(b);
    if (k < 128)
        return table[k % (sizeof table / sizeof table[0])];
    if (k < 144) {
        static const double special[] = {__builtin_nan(""), __builtin_inf(), -__builtin_inf()};
        return special[k % 3];
    }
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)fuzz_u8(b) << (8 * i);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* A NUL-terminated string of up to max - 1 bytes (any bytes but NUL), into buf. */
static inline const char *fuzz_str(fuzz_bytes *b, char *buf, size_t max)
{
    size_t n = fuzz_u8(b) % max;
    size_t k = 0;
    for (size_t i = 0; i < n && b->n > 0; i++) {
        uint8_t c = fuzz_u8(b);
        if (c != 0)
            buf[k++] = (char)c;
    }
    buf[k] = '\0';
    return buf;
}

#endif
