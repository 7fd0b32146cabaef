/*
 * kern_cells.c - cells.h's arithmetic, compiled once per instruction-set level like the pricing
 * kernels (the Makefile's kernel files): the AVX-512 copy divides eight cells an instruction and
 * converts eight terms to fixed point with vcvttpd2qq and vcvtqq2pd, where the baseline has no
 * packed 64-bit conversion. Every step is exact or one correctly rounded operation, the same at
 * every level, so every copy gives the same bits.
 */
#include <math.h>

#include "cells.h"

#ifndef MDL_ISA_SUFFIX
#error "kern_*.c are compiled once per level: the Makefile passes -DMDL_ISA_SUFFIX=<level>"
#endif
#define CELLS_CAT2_(a, b) a##_##b
#define CELLS_CAT_(a, b) CELLS_CAT2_(a, b)

static void greeks(size_t n, const double *restrict vp, const double *restrict vm,
                   const double *restrict base, double h2, double hh, double *restrict d,
                   double *restrict g)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        d[i] = (vp[i] - vm[i]) / h2;
        g[i] = (vp[i] - 2.0 * base[i] + vm[i]) / hh;
    }
}

/* Terms per pass: the magnitudes are screened into a local array first, in a loop of their own
 * (one loop with the screen and the conversions does not vectorise with GCC). */
#define PASS 64

static void split(const double *restrict x, size_t n, int64_t *restrict hi, uint64_t *restrict lo)
{
    for (size_t i0 = 0; i0 < n; i0 += PASS) {
        size_t m = n - i0 < PASS ? n - i0 : PASS;
        const double *xs = x + i0;
        double a[PASS];
        /* a term that rsk_xsum_term_ok refuses (the caller's test) is converted as 0, so that
         * no conversion below leaves the range of int64_t */
#pragma omp simd
        for (size_t i = 0; i < m; i++) {
            double v = fabs(xs[i]);
            a[i] = v < RSK_XSUM_LIMIT ? v : 0.0;
        }
#pragma omp simd
        for (size_t i = 0; i < m; i++) {
            int64_t ip = (int64_t)a[i];
            double f = (a[i] - (double)ip) * 0x1p32;
            int64_t j = (int64_t)f;
            int64_t k = (int64_t)((f - (double)j) * 0x1p32);
            uint64_t l = (uint64_t)j << 32 | (uint64_t)k;
            /* -(ip 2^64 + l) in two's complement, with s all ones for a negative term: low
             * half -l, high half ~ip plus the carry of ~l + 1, which is 1 exactly when l = 0 */
            uint64_t s = 0 - (uint64_t)(xs[i] < 0.0);
            lo[i0 + i] = (l ^ s) - s;
            hi[i0 + i] = (int64_t)(((uint64_t)ip ^ s) + (s & (uint64_t)(l == 0)));
        }
    }
}

const rsk_cells CELLS_CAT_(rsk_cells, MDL_ISA_SUFFIX) = {greeks, split};
