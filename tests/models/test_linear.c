/*
 * test_linear.c - bonds, forwards and spot: closed identities derived by hand, cash-flow
 * counting at the edges, and the bond kernel of every level (its geometric series, its
 * cash-flow count) against them and against the literal sum.
 */
#include <math.h>
#include <stdlib.h>

#include "harness.h"
#include "model.h"

#define TOL_EXACT_REL 4e-16  /* one or two roundings */
#define TOL_SUM_REL 1e-15    /* a few terms summed by hand */
#define TOL_PAR 1e-14        /* par identity over up to 60 cash flows */
#define TOL_BOND_CLOSED 1e-13 /* geometric series against the literal sum (up to 720 flows) */
/* A zero-yield bond with coupon 1 is worth 1 + n/f: summing up to 146,000 flows rounds within
 * 1e-11 relative, while a count off by one moves the price by 1/(f + n) >= 6.8e-6 relative. */
#define TOL_COUNT_REL 1e-9

/* The bond kernel of every level this CPU runs, one price (the closed form of kern_linear.c). */
static void check_bond_kernels(double y, double T, double c, double f, double want, double abs,
                               double rel)
{
    for (int l = 0; l < (int)MDL_ISA_COUNT; l++) {
        const mdl_entry *tab = mdl_table_isa((mdl_isa)l);
        if (tab == NULL)
            continue;
        double price = NAN;
        uint8_t fl = 0xFF;
        mdl_batch b = {.n = 1, .r = &y, .T = &T, .coupon = &c, .freq = &f, .price = &price,
                       .flags = &fl};
        ck_assert_uint_eq(tab[MDL_BOND].batch(&b, NULL, NULL), 1);
        ck_assert_uint_eq(fl, 0);
        ck_assert_close(price, want, abs, rel);
    }
}

START_TEST(zero_coupon)
{
    static const double ys[] = {-0.01, 0.0, 1e-12, 0.03, 0.15};
    static const double Ts[] = {0.01, 0.5, 1.0, 7.3, 30.0};
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) {
            ck_assert_close(mdl_bond(ys[i], Ts[j], 0.0, 2.0), exp(-ys[i] * Ts[j]), 0,
                            TOL_EXACT_REL);
            check_bond_kernels(ys[i], Ts[j], 0.0, 2.0, exp(-ys[i] * Ts[j]), 0, TOL_EXACT_REL);
        }
}
END_TEST

START_TEST(par_bond)
{
    /* With T = N/f and c/f = e^{y/f} - 1, sum_{k=1..N} (c/f) g^k + g^N = 1 for g = e^{-y/f}:
     * (c/f) g = 1 - g, so the coupons sum to 1 - g^N. */
    static const double ys[] = {0.001, 0.03, 0.07, 0.12};
    static const double fs[] = {1.0, 2.0, 4.0, 12.0};
    static const int Ns[] = {1, 7, 20, 60};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 4; k++) {
                double f = fs[j], c = f * expm1(ys[i] / f), T = Ns[k] / f;
                ck_assert_close(mdl_bond(ys[i], T, c, f), 1.0, TOL_PAR, 0);
                check_bond_kernels(ys[i], T, c, f, 1.0, TOL_PAR, 0);
            }
}
END_TEST

START_TEST(cash_flow_edges)
{
    double y = 0.04, c = 0.06;
    /* T f integer: flows at 1 and 0.5; the one at 0 is not paid */
    double want = c / 2 * (exp(-y) + exp(-0.5 * y)) + exp(-y);
    ck_assert_close(mdl_bond(y, 1.0, c, 2.0), want, 0, TOL_SUM_REL);
    check_bond_kernels(y, 1.0, c, 2.0, want, 0, TOL_SUM_REL);
    /* T not a multiple of 1/f: flows at 1.2, 0.7 and 0.2 */
    want = c / 2 * (exp(-1.2 * y) + exp(-0.7 * y) + exp(-0.2 * y)) + exp(-1.2 * y);
    ck_assert_close(mdl_bond(y, 1.2, c, 2.0), want, 0, TOL_SUM_REL);
    check_bond_kernels(y, 1.2, c, 2.0, want, 0, TOL_SUM_REL);
    /* shorter than one period: the final coupon only */
    want = c / 4 * exp(-0.1 * y) + exp(-0.1 * y);
    ck_assert_close(mdl_bond(y, 0.1, c, 4.0), want, 0, TOL_SUM_REL);
    check_bond_kernels(y, 0.1, c, 4.0, want, 0, TOL_SUM_REL);
    /* 0.3 - 3/10 is exactly 0 in doubles: three flows (0.3, 0.2, 0.1), not four */
    want = c / 10 * (exp(-0.3 * y) + exp(-0.2 * y) + exp(-0.1 * y)) + exp(-0.3 * y);
    ck_assert_close(mdl_bond(y, 0.3, c, 10.0), want, 0, TOL_SUM_REL);
    check_bond_kernels(y, 0.3, c, 10.0, want, 0, TOL_SUM_REL);
}
END_TEST

/* The count the definition gives: k = 0, 1, ... while T - k/f > 0 in doubles. */
static double literal_count(double T, double f)
{
    double n = 0.0;
    while (T - n / f > 0.0)
        n += 1.0;
    return n;
}

/* The kernels' cash-flow count is the literal one (TOL_COUNT_REL), as the reference's is. */
START_TEST(count_matches_literal)
{
    static const double fs[] = {1, 2, 3, 4, 6, 10, 12, 52, 365, 0.5, 0.3, 7.7};
    for (int j = 0; j < 12; j++) {
        double f = fs[j];
        for (int i = 1; i <= 400; i++) {
            double Ts[] = {i / f, i * (1.0 / f), nextafter(i / f, 0.0), nextafter(i / f, 1e9),
                           (i + 0.5) / f, i * 0.1, i * 0.01 + 0.003};
            for (int m = 0; m < 7; m++) {
                double want = 1.0 + literal_count(Ts[m], f) / f;
                ck_assert_close(mdl_bond(0.0, Ts[m], 1.0, f), want, 0, TOL_COUNT_REL);
                check_bond_kernels(0.0, Ts[m], 1.0, f, want, 0, TOL_COUNT_REL);
            }
        }
    }
}
END_TEST

START_TEST(closed_form_matches_literal)
{
    srand(11);
    static const double fs[] = {1, 2, 4, 12, 0.5};
    for (int i = 0; i < 5000; i++) {
        double y = -0.02 + 0.2 * (rand() / (double)RAND_MAX);
        if (i % 50 == 0)
            y = 0.0;
        if (i % 50 == 1)
            y = 1e-15;
        double T = 0.01 + 60 * (rand() / (double)RAND_MAX);
        double c = 0.15 * (rand() / (double)RAND_MAX), f = fs[i % 5];
        double lit = mdl_bond(y, T, c, f);
        check_bond_kernels(y, T, c, f, lit, 0, TOL_BOND_CLOSED);
    }
}
END_TEST

START_TEST(forward_and_spot)
{
    /* hand values: e^{-0.02} = 0.98019867330675527, e^{-0.05} = 0.95122942450071400 */
    ck_assert_close(mdl_forward(100, 95, 1.0, 0.05, 0.02),
                    100 * 0.98019867330675527 - 95 * 0.95122942450071400, 1e-13, 0);
    ck_assert_close(mdl_forward(50, 50, 2.0, 0.03, 0.03), 0.0, 0, 0);
    mdl_in in = {123.5, 0, 0, 0, 0, 0, 0, 0, 0};
    unsigned fl = 99;
    ck_assert_double_eq(mdl_price_ref(MDL_SPOT, &in, NULL, NULL, &fl), 123.5);
    ck_assert_uint_eq(fl, 0);
}
END_TEST

/* Inputs past the cash-flow bound give NaN at once, in the reference and in every kernel; before,
 * T f near 1e17 made the reference's count loop spin for ever (k += 1 no longer moved k), and a
 * negative frequency made its times grow instead of reaching 0. */
static void check_nan_bond(double T, double f)
{
    double y = 0.05, c = 0.05;
    ck_assert_msg(isnan(mdl_bond(y, T, c, f)), "T %g f %g", T, f);
    for (int l = 0; l < (int)MDL_ISA_COUNT; l++) {
        const mdl_entry *tab = mdl_table_isa((mdl_isa)l);
        if (tab == NULL)
            continue;
        double price = 0;
        uint8_t fl = 0;
        mdl_batch b = {.n = 1, .r = &y, .T = &T, .coupon = &c, .freq = &f, .price = &price,
                       .flags = &fl};
        ck_assert_uint_eq(tab[MDL_BOND].batch(&b, NULL, NULL), 1);
        ck_assert_msg(isnan(price), "level %d T %g f %g", l, T, f);
    }
}

START_TEST(cash_flow_bound)
{
    check_nan_bond(1e17, 2.0);
    check_nan_bond(5.0, 1e17);
    check_nan_bond(5.0, -2.0);
    check_nan_bond(1e4, 100.0 * (1.0 + 1e-15));
    /* at the bound itself: still priced, 1 + n / f at zero yield with coupon 1 */
    ck_assert_close(mdl_bond(0.0, 1e4, 1.0, 100.0), 1.0 + 1e6 / 100.0, 0, TOL_COUNT_REL);
    check_bond_kernels(0.0, 1e4, 1.0, 100.0, 1.0 + 1e6 / 100.0, 0, TOL_COUNT_REL);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("linear");
    TCase *tc = tcase_create("linear");
    tcase_add_test(tc, zero_coupon);
    tcase_add_test(tc, par_bond);
    tcase_add_test(tc, cash_flow_edges);
    tcase_add_test(tc, count_matches_literal);
    tcase_add_test(tc, closed_form_matches_literal);
    tcase_add_test(tc, forward_and_spot);
    tcase_add_test(tc, cash_flow_bound);
    suite_add_tcase(s, tc);
    return s;
}
