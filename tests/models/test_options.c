/*
 * test_options.c - european (Black-Scholes-Merton), american (Bjerksund-Stensland 2002 and the
 * CRR tree) against published values, high-precision references, parity and no-arbitrage
 * bounds, tree convergence and the stop poll.
 */
#include <math.h>
#include <stdlib.h>

#include "harness.h"
#include "model.h"

#define TOL_PUBLISHED_2DP 5e-3 /* values published to 2 decimals */
#define TOL_PUBLISHED_4DP 5e-5 /* values published to 4 decimals */
#define TOL_MPMATH_REL 1e-13   /* against mpmath at 30 digits, relative */
#define TOL_TAIL_REL 1e-9      /* far out of the money: two near-equal terms cancel */
#define TOL_PARITY 1e-12       /* put-call parity, absolute on prices near 1..100 */
/* BS2002 is an approximation and a lower bound: typically within 1% of a fine tree, up to
 * about 3% on this grid for low-volatility puts with a high rate. */
#define TOL_BS2002_VS_TREE 0.03
#define TOL_TREE_ABS 2e-3      /* discretisation error of the 5000-step tree, absolute */
#define TOL_BS2002_FORMULA 1e-11 /* against the same formula evaluated independently (mpmath,
                                    20 digits, bivariate normals by adaptive quadrature) */
#define TOL_ORDER 1e-12        /* slack on inequalities between prices */
/* Deep in the money the BS2002 flat boundary is worth slightly less than never exercising
 * early (a property of the approximation, not of the code): 0.15% at S=130, K=100, T=0.25,
 * r=q=5%, s=35%. Elsewhere american >= european holds to TOL_ORDER. */
#define TOL_BS2002_BELOW_EUROPEAN 2e-3
#define TREE_FINE 5000u

static double scratch[TREE_FINE + 1];
static const mdl_work work = {scratch, TREE_FINE + 1};

START_TEST(bsm_hull_example)
{
    /* Hull, Options Futures and Other Derivatives: S=42, K=40, r=10%, sigma=20%, T=0.5 */
    ck_assert_close(mdl_bsm(true, 42, 40, 0.5, 0.10, 0.20, 0.0), 4.76, TOL_PUBLISHED_2DP, 0.0);
    ck_assert_close(mdl_bsm(false, 42, 40, 0.5, 0.10, 0.20, 0.0), 0.81, TOL_PUBLISHED_2DP, 0.0);
}
END_TEST

START_TEST(bsm_haug_examples)
{
    /* Haug, The Complete Guide to Option Pricing Formulas (2nd ed.), chapter 1 examples */
    ck_assert_close(mdl_bsm(true, 60, 65, 0.25, 0.08, 0.30, 0.0), 2.1334, TOL_PUBLISHED_4DP, 0);
    ck_assert_close(mdl_bsm(false, 100, 95, 0.5, 0.10, 0.20, 0.05), 2.4648, TOL_PUBLISHED_4DP, 0);
    /* Garman-Kohlhagen: the foreign rate is the dividend yield */
    ck_assert_close(mdl_bsm(true, 1.56, 1.60, 0.5, 0.06, 0.12, 0.08), 0.0291, TOL_PUBLISHED_4DP,
                    0);
    /* Black 76 on a future: q = r */
    ck_assert_close(mdl_bsm(true, 19, 19, 0.75, 0.10, 0.28, 0.10), 1.7011, TOL_PUBLISHED_4DP, 0);
    ck_assert_close(mdl_bsm(false, 19, 19, 0.75, 0.10, 0.28, 0.10), 1.7011, TOL_PUBLISHED_4DP, 0);
}
END_TEST

START_TEST(bsm_high_precision)
{
    /* mpmath at 30 digits, inputs taken as the exact doubles */
    ck_assert_close(mdl_bsm(true, 100, 110, 2.0, 0.03, 0.35, 0.01), 17.037885252974056723, 0,
                    TOL_MPMATH_REL);
    ck_assert_close(mdl_bsm(false, 100, 110, 2.0, 0.03, 0.35, 0.01), 22.612116616565884821, 0,
                    TOL_MPMATH_REL);
    ck_assert_close(mdl_bsm(true, 42, 40, 0.5, 0.10, 0.20, 0.0), 4.759422393, 0, 1e-9);
    ck_assert_close(mdl_bsm(false, 250, 100, 0.25, 0.05, 0.2, 0.0), 1.3002025456159955657e-20,
                    0, TOL_TAIL_REL);
}
END_TEST

START_TEST(bsm_parity)
{
    srand(7);
    for (int i = 0; i < 2000; i++) {
        double S = 20 + 160 * (rand() / (double)RAND_MAX), K = 50 + 100 * (rand() / (double)RAND_MAX);
        double T = 0.01 + 5 * (rand() / (double)RAND_MAX), r = -0.02 + 0.12 * (rand() / (double)RAND_MAX);
        double sg = 0.05 + 0.8 * (rand() / (double)RAND_MAX), q = 0.08 * (rand() / (double)RAND_MAX);
        double c = mdl_bsm(true, S, K, T, r, sg, q), p = mdl_bsm(false, S, K, T, r, sg, q);
        ck_assert_close(c - p, S * exp(-q * T) - K * exp(-r * T), TOL_PARITY, 0.0);
    }
}
END_TEST

/* ---- Bjerksund-Stensland 2002 ---- */

static double amer(bool call, double S, double K, double T, double r, double sg, double q,
                   unsigned *flags)
{
    mdl_in in = {S, K, T, r, sg, q, 0, 0, 0};
    return mdl_price_ref(call ? MDL_AMER_CALL : MDL_AMER_PUT, &in, &work, NULL, flags);
}

START_TEST(bs2002_bounds_and_tree)
{
    static const double spots[] = {70, 85, 95, 100, 105, 115, 130};
    static const double vols[] = {0.15, 0.35};
    static const double mats[] = {0.25, 1.5};
    static const double rq[][2] = {{0.08, 0.03}, {0.03, 0.07}, {0.05, 0.05}};
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 7; i++)
            for (int v = 0; v < 2; v++)
                for (int m = 0; m < 2; m++)
                    for (int z = 0; z < 3; z++) {
                        double S = spots[i], K = 100, T = mats[m], sg = vols[v];
                        double r = rq[z][0], q = rq[z][1];
                        unsigned fl;
                        double a = amer(c, S, K, T, r, sg, q, &fl);
                        ck_assert_uint_eq(fl, 0);
                        double e = mdl_bsm(c, S, K, T, r, sg, q);
                        double intrinsic = fmax(c ? S - K : K - S, 0.0);
                        ck_assert_msg(a >= e * (1.0 - TOL_BS2002_BELOW_EUROPEAN) - TOL_ORDER,
                                      "american %g < european %g", a, e);
                        ck_assert_msg(a >= intrinsic - TOL_ORDER, "american %g < intrinsic", a);
                        double tree = mdl_crr(c, true, S, K, T, r, sg, q, TREE_FINE, &work,
                                              NULL, NULL);
                        ck_assert_close(a, tree, TOL_TREE_ABS, TOL_BS2002_VS_TREE);
                        ck_assert_msg(a <= tree + TOL_TREE_ABS, "not a lower bound: %g > %g",
                                      a, tree);
                    }
}
END_TEST

START_TEST(bs2002_special_cases)
{
    /* q <= 0: an american call is never exercised early */
    ck_assert(rk_test_same_bits(amer(true, 95, 100, 1, 0.05, 0.3, 0.0, NULL),
                                mdl_bsm(true, 95, 100, 1, 0.05, 0.3, 0.0)));
    ck_assert(rk_test_same_bits(amer(true, 95, 100, 1, 0.05, 0.3, -0.01, NULL),
                                mdl_bsm(true, 95, 100, 1, 0.05, 0.3, -0.01)));
    /* the put is the call with S<->K and r<->q */
    bool def;
    ck_assert(rk_test_same_bits(amer(false, 90, 100, 0.75, 0.06, 0.25, 0.02, NULL),
                                mdl_bs2002_call(100, 90, 0.75, 0.02, 0.25, 0.06, &def)));
    ck_assert(def);
    /* deep in the money, beyond the trigger: exercise now */
    ck_assert_close(amer(false, 20, 100, 1, 0.10, 0.2, 0.0, NULL), 80.0, 0, 0);
    ck_assert_close(amer(true, 300, 100, 1, 0.02, 0.2, 0.10, NULL), 200.0, 0, 0);
}
END_TEST

START_TEST(bs2002_formula_values)
{
    ck_assert_close(amer(true, 100, 100, 0.5, 0.05, 0.25, 0.08, NULL), 6.256955771179009, 0,
                    TOL_BS2002_FORMULA);
    ck_assert_close(amer(true, 90, 100, 1.0, 0.03, 0.3, 0.06, NULL), 5.9136999357213086, 0,
                    TOL_BS2002_FORMULA);
    ck_assert_close(amer(false, 100, 100, 0.25, 0.08, 0.15, 0.03, NULL), 2.462896722659575, 0,
                    TOL_BS2002_FORMULA);
    ck_assert_close(amer(false, 110, 100, 2.0, 0.06, 0.4, 0.01, NULL), 14.487510480899298, 0,
                    TOL_BS2002_FORMULA);
    /* deep in the money, where the formula is below the european price (30.2044): the formula
     * is what contract §2 asks for */
    ck_assert_close(amer(true, 130, 100, 0.25, 0.05, 0.35, 0.05, NULL), 30.159413881504124, 0,
                    TOL_BS2002_FORMULA);
}
END_TEST

START_TEST(bs2002_fallback)
{
    /* put with r = 50%, q = 0, sigma = 10%, T = 1: the transformed call has carry b = -50%, so
     * b t + 2 sigma sqrt(t) < 0, h(T) = +30 and the trigger I2 = B0 - (B_inf - B0) expm1(30)
     * is negative: the approximation is undefined. The 200-step tree is valid there. */
    bool def = true;
    double c = mdl_bs2002_call(100, 90, 1.0, 0.0, 0.1, 0.5, &def);
    ck_assert(!def);
    ck_assert(isnan(c));
    unsigned fl = 0;
    double p = amer(false, 90, 100, 1.0, 0.5, 0.1, 0.0, &fl);
    ck_assert_uint_eq(fl, MDL_FLAG_FALLBACK);
    ck_assert(rk_test_same_bits(p, mdl_crr(false, true, 90, 100, 1.0, 0.5, 0.1, 0.0,
                                           MDL_FALLBACK_STEPS, &work, NULL, NULL)));
    ck_assert(p >= 10.0 - TOL_ORDER);
}
END_TEST

/* ---- CRR ---- */

START_TEST(crr_converges_to_bsm)
{
    double S = 100, K = 100, T = 1, r = 0.05, sg = 0.2, q = 0.02;
    for (int c = 0; c < 2; c++) {
        double exact = mdl_bsm(c, S, K, T, r, sg, q);
        double e100 = fabs(mdl_crr(c, false, S, K, T, r, sg, q, 100, &work, NULL, NULL) - exact);
        double e1600 = fabs(mdl_crr(c, false, S, K, T, r, sg, q, 1600, &work, NULL, NULL) - exact);
        /* error ~ C/n: 16 times more steps, at least 8 times smaller */
        ck_assert_msg(e1600 < e100 / 8, "errors %g (100) %g (1600)", e100, e1600);
        ck_assert_msg(e1600 < 2e-3, "error %g at 1600 steps", e1600);
    }
}
END_TEST

START_TEST(crr_american_put_premium)
{
    double eu = mdl_crr(false, false, 90, 100, 1, 0.08, 0.25, 0.0, 500, &work, NULL, NULL);
    double am = mdl_crr(false, true, 90, 100, 1, 0.08, 0.25, 0.0, 500, &work, NULL, NULL);
    ck_assert(am > eu + 0.1);
    ck_assert(am >= 10.0);
    /* american call without dividends: same as european on the same tree */
    ck_assert_close(mdl_crr(true, true, 90, 100, 1, 0.08, 0.25, 0.0, 500, &work, NULL, NULL),
                    mdl_crr(true, false, 90, 100, 1, 0.08, 0.25, 0.0, 500, &work, NULL, NULL),
                    1e-12, 0);
}
END_TEST

START_TEST(crr_invalid)
{
    mdl_work small = {scratch, 10};
    ck_assert(isnan(mdl_crr(false, true, 90, 100, 1, 0.05, 0.2, 0, 10, &small, NULL, NULL)));
    ck_assert(isnan(mdl_crr(false, true, 90, 100, 1, 0.05, 0.2, 0, 0, &work, NULL, NULL)));
    /* p > 1: drift per step beyond the up move (r - q = 50%, sigma = 1%) */
    ck_assert(isnan(mdl_crr(true, true, 90, 100, 1, 0.5, 0.01, 0, 10, &work, NULL, NULL)));
}
END_TEST

static bool stop_now(void *arg)
{
    (void)arg;
    return true;
}

static bool count_polls(void *arg)
{
    (*(int *)arg)++;
    return false;
}

START_TEST(crr_stop_poll)
{
    mdl_poll stop = {stop_now, NULL};
    bool stopped = false;
    double p = mdl_crr(false, true, 90, 100, 1, 0.05, 0.2, 0, 2000, &work, &stop, &stopped);
    ck_assert(isnan(p));
    ck_assert(stopped);

    int calls = 0;
    mdl_poll counter = {count_polls, &calls};
    stopped = true;
    p = mdl_crr(false, true, 90, 100, 1, 0.05, 0.2, 0, 2000, &work, &counter, &stopped);
    ck_assert(!stopped);
    ck_assert(isfinite(p));
    /* 2000 steps are about 2 million node updates: the poll must come regularly */
    ck_assert_int_ge(calls, 100);

    mdl_in in = {95, 100, 1, 0.05, 0.2, 0, 0, 0, 200};
    unsigned fl;
    ck_assert(isnan(mdl_price_ref(MDL_AMER_PUT, &in, &work, &stop, &fl)));
    ck_assert_uint_eq(fl, MDL_FLAG_STOPPED);
}
END_TEST

START_TEST(steps_select_the_tree)
{
    mdl_in in = {95, 100, 1, 0.05, 0.2, 0.01, 0, 0, 300};
    unsigned fl;
    double p = mdl_price_ref(MDL_AMER_PUT, &in, &work, NULL, &fl);
    ck_assert_uint_eq(fl, 0);
    ck_assert(rk_test_same_bits(
        p, mdl_crr(false, true, 95, 100, 1, 0.05, 0.2, 0.01, 300, &work, NULL, NULL)));
    ck_assert_uint_ge(mdl_work_needed(0), MDL_FALLBACK_STEPS + 1);
    ck_assert_uint_ge(mdl_work_needed(300), 301);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("options");
    TCase *tc = tcase_create("options");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, bsm_hull_example);
    tcase_add_test(tc, bsm_haug_examples);
    tcase_add_test(tc, bsm_high_precision);
    tcase_add_test(tc, bsm_parity);
    tcase_add_test(tc, bs2002_bounds_and_tree);
    tcase_add_test(tc, bs2002_special_cases);
    tcase_add_test(tc, bs2002_formula_values);
    tcase_add_test(tc, bs2002_fallback);
    tcase_add_test(tc, crr_converges_to_bsm);
    tcase_add_test(tc, crr_american_put_premium);
    tcase_add_test(tc, crr_invalid);
    tcase_add_test(tc, crr_stop_poll);
    tcase_add_test(tc, steps_select_the_tree);
    suite_add_tcase(s, tc);
    return s;
}
