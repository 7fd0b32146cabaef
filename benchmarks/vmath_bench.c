/*
 * vmath_bench.c - the kernels' own vector math (models/vmath.h) against glibc's vector math
 * library (libmvec) and scalar libm, at the AVX2 level (built with -march=x86-64-v3): ns per
 * value of exp, log and the normal CDF over arrays of 4096 values, the largest error in ulps of
 * each against long double libm over dense grids, and a hash of each one's result bits (equal
 * hashes on two machines mean bitwise equal results). Background for models/README.md.
 *
 *   build/<dir>/benchmarks/vmath_bench [reps]
 *
 * libmvec's AVX2 entry points are called directly, four values a call, through their vector
 * ABI names (declared below): the compiler would call them itself for an omp simd loop over
 * exp() only under -ffast-math.
 */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmath.h"

/* glibc's libmvec, AVX2 variants ("d": 256-bit, "N4": 4 lanes, unmasked, "v": vector arg). */
__m256d _ZGVdN4v_exp(__m256d x);
__m256d _ZGVdN4v_log(__m256d x);
__m256d _ZGVdN4v_erfc(__m256d x);

#define N 4096
#define SQRT1_2 0.70710678118654752440

static double xs[N], ys[N];

/* ---- the functions under test, over arrays (noinline: each is timed as a whole) ---- */

#define OWN(name, expr)                                                                            \
    __attribute__((noinline)) static void own_##name(double *restrict y,                          \
                                                     const double *restrict x, size_t n)          \
    {                                                                                              \
        _Pragma("omp simd") for (size_t i = 0; i < n; i++) y[i] = expr;                            \
    }
OWN(exp, vm_exp(x[i]))
OWN(log, vm_log(x[i]))
OWN(ncdf, vm_ncdf(x[i]))

#define MVEC(name, fn, pre, post)                                                                  \
    __attribute__((noinline)) static void mvec_##name(double *restrict y,                         \
                                                      const double *restrict x, size_t n)         \
    {                                                                                              \
        for (size_t i = 0; i < n; i += 4) {                                                        \
            __m256d v = _mm256_loadu_pd(x + i);                                                    \
            _mm256_storeu_pd(y + i, post(fn(pre(v))));                                             \
        }                                                                                          \
    }
#define ID(v) (v)
#define NEG_SQRT1_2(v) _mm256_mul_pd(v, _mm256_set1_pd(-SQRT1_2))
#define HALF(v) _mm256_mul_pd(v, _mm256_set1_pd(0.5))
MVEC(exp, _ZGVdN4v_exp, ID, ID)
MVEC(log, _ZGVdN4v_log, ID, ID)
MVEC(ncdf, _ZGVdN4v_erfc, NEG_SQRT1_2, HALF)

#define LIBM(name, expr)                                                                           \
    __attribute__((noinline)) static void libm_##name(double *restrict y,                         \
                                                      const double *restrict x, size_t n)         \
    {                                                                                              \
        for (size_t i = 0; i < n; i++)                                                             \
            y[i] = expr;                                                                           \
    }
LIBM(exp, exp(x[i]))
LIBM(log, log(x[i]))
LIBM(ncdf, 0.5 * erfc(-x[i] * SQRT1_2))

typedef void (*array_fn)(double *restrict, const double *restrict, size_t);

/* ---- references and measures ---- */

static long double ref_exp(double x) { return expl(x); }
static long double ref_log(double x) { return logl(x); }
static long double ref_ncdf(double x)
{
    return 0.5L * erfcl(-(long double)x * 0.707106781186547524400844362104849L);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ns per value: the best of reps passes over the N inputs (the least disturbed). */
static double time_fn(array_fn f, int reps)
{
    double best = INFINITY;
    for (int r = 0; r < reps; r++) {
        double t0 = now_ns();
        f(ys, xs, N);
        double t = (now_ns() - t0) / N;
        if (t < best)
            best = t;
    }
    return best;
}

static long double ulp_at(long double v)
{
    double d = fabs((double)v);
    if (d < DBL_MIN)
        return 0x1p-1074L;
    int e;
    frexp(d, &e);
    return ldexpl(1.0L, e - 53);
}

typedef struct grid {
    double lo, hi;
    int logscale;
} grid;

#define GRID_N (N * 256) /* 1M points per grid, N at a time */

/* Largest error in ulps of the exact value over the grids (where it is x, in *at), and an FNV-1a
 * hash of the result bits. */
static double max_ulp(array_fn f, long double (*ref)(double), const grid *g, int ng,
                      uint64_t *hash, double *at)
{
    double worst = 0.0;
    uint64_t h = 1469598103934665603u;
    for (int k = 0; k < ng; k++)
        for (int b = 0; b < GRID_N / N; b++) {
            for (int i = 0; i < N; i++) {
                double u = ((double)(b * N + i) + 0.5) / GRID_N;
                xs[i] = g[k].logscale ? exp(log(g[k].lo) + (log(g[k].hi) - log(g[k].lo)) * u)
                                      : g[k].lo + (g[k].hi - g[k].lo) * u;
            }
            f(ys, xs, N);
            for (int i = 0; i < N; i++) {
                long double want = ref(xs[i]);
                double e = isinf((double)want) || isinf(ys[i])
                               ? (ys[i] == (double)want ? 0.0 : INFINITY)
                               : (double)(fabsl((long double)ys[i] - want) / ulp_at(want));
                if (!(e <= worst)) {
                    worst = e;
                    *at = xs[i];
                }
                uint64_t bits;
                memcpy(&bits, &ys[i], sizeof bits);
                for (int j = 0; j < 8; j++)
                    h = (h ^ ((bits >> (8 * j)) & 0xff)) * 1099511628211u;
            }
        }
    *hash = h;
    return worst;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 2000;
    static const grid g_exp[] = {{-745, 709.7, 0}, {-1, 1, 0}};
    static const grid g_log[] = {{1e-300, 1e300, 1}, {0.5, 2, 0}};
    /* the normal CDF relative to its value, for x <= 0 (the lower tail apart, from x = -10):
     * long double erfcl is exact there to x^2 2^-64 relative (0.05 ulp at x = -10, 0.7 at
     * -37.5); the upper half is 1 - N(-x), accurate absolutely whatever N(-x)'s last bits */
    static const grid g_ncdf[] = {{-10, 0, 0}};
    static const grid g_tail[] = {{-37.5, -10, 0}};
    struct {
        const char *fn;
        const grid *g;
        int ng;
        long double (*ref)(double);
        double lo, hi; /* timing inputs, evenly spread */
        array_fn impl[3];
    } rows[] = {
        {"exp", g_exp, 2, ref_exp, -50, 50, {own_exp, mvec_exp, libm_exp}},
        {"log", g_log, 2, ref_log, 0.01, 1000, {own_log, mvec_log, libm_log}},
        {"ncdf", g_ncdf, 1, ref_ncdf, -8, 8, {own_ncdf, mvec_ncdf, libm_ncdf}},
        {"ncdf tail", g_tail, 1, ref_ncdf, -8, 8, {own_ncdf, mvec_ncdf, libm_ncdf}},
    };
    static const char *impl_name[3] = {"vmath.h (omp simd)", "libmvec AVX2", "libm scalar"};
    printf("%-9s %-19s %9s %10s %14s  %s\n", "function", "implementation", "ns/value", "max ulp",
           "at x", "hash of the result bits");
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
        for (int m = 0; m < 3; m++) {
            for (int i = 0; i < N; i++)
                xs[i] = rows[r].lo + (rows[r].hi - rows[r].lo) * (i + 0.5) / N;
            double ns = time_fn(rows[r].impl[m], reps);
            uint64_t hash;
            double at = 0.0;
            double err = max_ulp(rows[r].impl[m], rows[r].ref, rows[r].g, rows[r].ng, &hash, &at);
            printf("%-9s %-19s %9.2f %10.3f %14.6g  %016llx\n", rows[r].fn, impl_name[m], ns, err,
                   at, (unsigned long long)hash);
        }
    return 0;
}
