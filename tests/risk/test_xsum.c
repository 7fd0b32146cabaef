/*
 * test_xsum.c - exact sums: conversions are exact where they should be, truncation is toward
 * zero at 2^-64, and a sum is bitwise the same whatever the order of its terms and however they
 * were split into partial sums; every level's cell arithmetic (cells.h) gives the same bits.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "cells.h"
#include "harness.h"
#include "xsum.h"

#define TOL_VS_LONG_DOUBLE 1e-15 /* rounded exact sum vs a long double sum, relative */

START_TEST(conversions)
{
    ck_assert(rsk_xsum_from(1.0) == (rsk_xsum)1 << 64);
    ck_assert(rsk_xsum_from(-3.25) == -(((rsk_xsum)13) << 62));
    ck_assert(rsk_xsum_from(0x1p-64) == 1);
    ck_assert(rsk_xsum_from(0x1p-65) == 0);     /* below the resolution */
    ck_assert(rsk_xsum_from(-0x1.8p-64) == -1); /* toward zero */
    ck_assert(rsk_xsum_from(0.0) == 0);
    ck_assert(rsk_xsum_from(-0.0) == 0);
    ck_assert(rsk_xsum_from(5e-324) == 0); /* subnormal */
    ck_assert(rsk_xsum_from(0x1.fffffffffffffp61) == (rsk_xsum)0x1fffffffffffffLL << 73);
    ck_assert(rsk_xsum_term_ok(0x1.fffffffffffffp61));
    ck_assert(!rsk_xsum_term_ok(0x1p62));
    ck_assert(!rsk_xsum_term_ok(NAN));
    ck_assert(rk_test_same_bits(rsk_xsum_value(rsk_xsum_from(123.456)), 123.456));
    ck_assert(rk_test_same_bits(rsk_xsum_value(rsk_xsum_from(-1e15)), -1e15));
}
END_TEST

/* trunc(x 2^64) by another route: x 2^64 is exact in long double (64-bit significand), whose
 * conversion to a 128-bit integer truncates toward zero (C11 6.3.1.4). */
static rsk_xsum xsum_by_long_double(double x)
{
    return (rsk_xsum)((long double)x * 0x1p64L);
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Term n of binade [2^e, 2^(e+1)): the power of two and its neighbours (n < 4), then random
 * significands. */
static double binade_term(int e, int n)
{
    double p2 = ldexp(1.0, e);
    if (n < 4) {
        double edge[4] = {p2, nextafter(p2, 0.0), nextafter(p2, INFINITY),
                          nextafter(nextafter(p2, 0.0), 0.0)};
        return edge[n];
    }
    return p2 * (1.0 + (double)(next() >> 11) * 0x1p-53);
}

/* Every binade the conversion accepts, from below the resolution to the limit, both signs,
 * random significands, and the neighbours of each power of two. */
START_TEST(conversion_matches_long_double)
{
    long checked = 0;
    for (int e = -80; e < 62; e++) {
        for (int n = 0; n < 2004; n++) {
            double m = binade_term(e, n);
            if (!rsk_xsum_term_ok(m))
                continue;
            for (int sgn = 0; sgn < 2; sgn++) {
                double x = sgn ? -m : m;
                ck_assert_msg(rsk_xsum_from(x) == xsum_by_long_double(x), "x = %a", x);
                checked++;
            }
        }
    }
    ck_assert_int_gt(checked, 500000);
}
END_TEST

/* Every level's array conversion against the long double route, on the same binades and edges,
 * at lengths that leave every kind of remainder (of a vector, of a pass); terms the scalar test
 * refuses (2^62 and beyond, infinities, NaN) come out as 0. */
START_TEST(array_conversion_every_level)
{
    enum { N = 142 * 131 + 9 };
    double *x = malloc(N * sizeof *x);
    int64_t *hi = malloc(N * sizeof *hi);
    uint64_t *lo = malloc(N * sizeof *lo);
    ck_assert(x != NULL && hi != NULL && lo != NULL);
    size_t n = 0;
    for (int e = -80; e < 62; e++) {
        for (int k = 0; k < 131; k++) {
            double m = binade_term(e, k);
            x[n++] = (k & 1) ? -m : m;
        }
    }
    const double odd[9] = {0x1p62, -0x1p62, INFINITY, -INFINITY, NAN, 0.0, -0.0, 5e-324, -1.0};
    for (int k = 0; k < 9; k++)
        x[n++] = odd[k];
    ck_assert_uint_eq(n, N);
    int levels = 0;
    for (int isa = 0; isa < (int)MDL_ISA_COUNT; isa++) {
        if (!mdl_isa_supported((mdl_isa)isa))
            continue;
        levels++;
        rsk_xsum_split_fn split = rsk_cells_for((mdl_isa)isa)->split;
        const size_t lengths[] = {N, N - 1, 65, 64, 63, 9, 8, 7, 1, 0};
        for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
            size_t len = lengths[li], off = N - len; /* the tail, so the odd terms come too */
            for (size_t i = 0; i < len; i++)
                hi[i] = 0x5a5a5a5a5a5a5a5aLL, lo[i] = 0xa5a5a5a5a5a5a5a5ULL;
            split(x + off, len, hi, lo);
            for (size_t i = 0; i < len; i++) {
                double v = x[off + i];
                rsk_xsum want = rsk_xsum_term_ok(v) ? xsum_by_long_double(v) : 0;
                ck_assert_msg(rsk_xsum_join(hi[i], lo[i]) == want, "%s: x = %a (length %zu)",
                              mdl_isa_name((mdl_isa)isa), v, len);
                if (rsk_xsum_term_ok(v))
                    ck_assert(rsk_xsum_join(hi[i], lo[i]) == rsk_xsum_from(v));
            }
        }
    }
    ck_assert_int_ge(levels, 1);
    free(x);
    free(hi);
    free(lo);
}
END_TEST

/* Every level's greeks give the bits of the formula evaluated here one operation at a time (no
 * contraction), at every remainder of a vector. */
START_TEST(greeks_every_level)
{
    enum { N = 203 };
    double vp[N], vm[N], base[N], d[N], g[N];
    for (int i = 0; i < N; i++) {
        base[i] = (double)(next() >> 11) * 0x1p-40 - 4096.0;
        vp[i] = base[i] + (double)(next() >> 11) * 0x1p-43;
        vm[i] = base[i] - (double)(next() >> 11) * 0x1p-44;
    }
    const double h = 1e-4, h2 = 2.0 * h, hh = h * h;
    for (int isa = 0; isa < (int)MDL_ISA_COUNT; isa++) {
        if (!mdl_isa_supported((mdl_isa)isa))
            continue;
        for (size_t n = N; n + 8 > N; n--) {
            rsk_cells_for((mdl_isa)isa)->greeks(n, vp, vm, base, h2, hh, d, g);
            for (size_t i = 0; i < n; i++) {
                volatile double diff = vp[i] - vm[i], twice = 2.0 * base[i];
                volatile double up = vp[i] - twice, curv = up + vm[i];
                ck_assert_msg(rk_test_same_bits(d[i], diff / h2), "%s: delta %zu",
                              mdl_isa_name((mdl_isa)isa), i);
                ck_assert_msg(rk_test_same_bits(g[i], curv / hh), "%s: gamma %zu",
                              mdl_isa_name((mdl_isa)isa), i);
            }
        }
    }
}
END_TEST

static double draw(void)
{
    next();
    /* mixed magnitudes and signs, like P&L across positions */
    double u = (double)(rng >> 11) * 0x1p-53;
    double scale = (double)(1u << (rng % 30));
    return ((rng >> 3) & 1 ? -u : u) * scale;
}

START_TEST(order_and_split_independent)
{
    enum { N = 20000 };
    double *x = malloc(N * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (int i = 0; i < N; i++)
        x[i] = draw();
    rsk_xsum fwd = 0, back = 0;
    long double ld = 0;
    for (int i = 0; i < N; i++) {
        fwd += rsk_xsum_from(x[i]);
        back += rsk_xsum_from(x[N - 1 - i]);
        ld += x[i];
    }
    ck_assert(fwd == back);
    /* split into uneven partial sums, combined in another order */
    rsk_xsum parts[7] = {0};
    for (int i = 0; i < N; i++)
        parts[(i * 31 + i / 5) % 7] += rsk_xsum_from(x[i]);
    rsk_xsum comb = 0;
    for (int k = 6; k >= 0; k--)
        comb += parts[k];
    ck_assert(comb == fwd);
    ck_assert(rk_test_same_bits(rsk_xsum_value(comb), rsk_xsum_value(fwd)));
    /* the naive double sum in another order usually differs in the last bits; the exact sum
     * agrees with an extended-precision sum */
    ck_assert_close(rsk_xsum_value(fwd), (double)ld, 1e-9, TOL_VS_LONG_DOUBLE);
    free(x);
}
END_TEST

START_TEST(cancellation_is_exact)
{
    /* 1e15 + 1 - 1e15 in doubles in this order loses nothing, but 1e16 + 1 - 1e16 does; the
     * exact sum does not */
    rsk_xsum s = rsk_xsum_from(1e16) + rsk_xsum_from(1.0) + rsk_xsum_from(-1e16);
    ck_assert(rk_test_same_bits(rsk_xsum_value(s), 1.0));
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("xsum");
    TCase *tc = tcase_create("xsum");
    tcase_add_test(tc, conversions);
    tcase_add_test(tc, conversion_matches_long_double);
    tcase_add_test(tc, array_conversion_every_level);
    tcase_add_test(tc, greeks_every_level);
    tcase_add_test(tc, order_and_split_independent);
    tcase_add_test(tc, cancellation_is_exact);
    suite_add_tcase(s, tc);
    return s;
}
