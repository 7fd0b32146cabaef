/*
 * test_backtest.c - the backtesting statistics against independent values: chi-square(1)
 * p-values at published critical values, the binomial probabilities of the Basel Committee's
 * 1996 backtesting table, the Basel zones and plus factors, Kupiec and Christoffersen ratios
 * computed by hand (the arithmetic is in the comments; the numbers were evaluated separately
 * with exact rational binomials), and the degenerate cases whose definitions the contract
 * states.
 */
#include <math.h>
#include <stdbool.h>

#include "backtest.h"
#include "harness.h"

#define TOL_CHI2 1e-12  /* erfc closed form at 16-digit critical values, relative */
#define TOL_BASEL 5e-5  /* the Basel table prints probabilities to 0.01% */
#define TOL_BINOM 1e-12 /* against exact rational sums, relative */
#define TOL_LR 1e-12    /* likelihood ratios against their hand-evaluated logs, relative */

START_TEST(chi2_critical_values)
{
    /* chi-square(1) upper quantiles as tabulated: 10%, 5%, 1%, 0.1% */
    ck_assert_close(rsk_chi2_1_sf(2.705543454095404), 0.10, 0, TOL_CHI2);
    ck_assert_close(rsk_chi2_1_sf(3.841458820694124), 0.05, 0, TOL_CHI2);
    ck_assert_close(rsk_chi2_1_sf(6.634896601021214), 0.01, 0, TOL_CHI2);
    ck_assert_close(rsk_chi2_1_sf(10.827566170662733), 0.001, 0, 1e-11);
    ck_assert_close(rsk_chi2_1_sf(0.0), 1.0, 0, 0);
    ck_assert_close(rsk_chi2_1_sf(-1.0), 1.0, 0, 0);
}
END_TEST

START_TEST(binomial_basel_table)
{
    /* Basel Committee (1996), "Supervisory framework for the use of backtesting", Table 1:
     * cumulative probability of k exceptions in 250 days at 99% */
    static const double published[11] = {0.0811, 0.2858, 0.5432, 0.7581, 0.8922, 0.9588,
                                         0.9863, 0.9960, 0.9989, 0.9997, 0.9999};
    for (size_t k = 0; k <= 10; k++)
        ck_assert_close(rsk_binom_cdf(k, 250, 0.01), published[k], TOL_BASEL, 0);
    /* exact sums (rational arithmetic): 500 days and 2000 days at 1% */
    ck_assert_close(rsk_binom_cdf(12, 500, 0.01), 0.9980995068161126, 0, TOL_BINOM);
    ck_assert_close(rsk_binom_cdf(8, 500, 0.01), 0.9328898400862953, 0, TOL_BINOM);
    ck_assert_close(rsk_binom_cdf(20, 2000, 0.01), 0.559093331998649, 0, 1e-11);
    ck_assert_close(rsk_binom_cdf(250, 250, 0.01), 1.0, 0, 0);
    /* P(X = 0) = (1 - p)^n */
    ck_assert_close(rsk_binom_cdf(0, 10, 0.5), 1.0 / 1024.0, 0, TOL_BINOM);
}
END_TEST

START_TEST(basel_zones_and_plus_factors)
{
    static const double plus[11] = {0, 0, 0, 0, 0, 0.40, 0.50, 0.65, 0.75, 0.85, 1.00};
    for (size_t x = 0; x <= 10; x++) {
        double pf = -1;
        rsk_zone z = rsk_basel_zone(250, x, 0.99, &pf, NULL);
        rsk_zone want = x <= 4 ? RSK_ZONE_GREEN : x <= 9 ? RSK_ZONE_YELLOW : RSK_ZONE_RED;
        ck_assert_int_eq(z, want);
        ck_assert_close(pf, plus[x], 0, 0);
    }
    double pf;
    ck_assert_int_eq(rsk_basel_zone(250, 40, 0.99, &pf, NULL), RSK_ZONE_RED);
    ck_assert_close(pf, 1.0, 0, 0);
    ck_assert_str_eq(rsk_zone_name(RSK_ZONE_YELLOW), "yellow");
}
END_TEST

START_TEST(binomial_zones_outside_the_table)
{
    /* 500 days at 99%: P(X <= 8) = 0.9329 green; P(X <= 9) = 0.9689 yellow, above the 250-day
     * 5 (0.9588) only: plus 0.40; P(X <= 12) = 0.99810, above 7 (0.99597) but not 8 (0.99894):
     * 0.65; P(X <= 14) = 0.999794, above 9 (0.999750): 0.85; P(X <= 15) = 0.999939 >= 0.9999
     * red */
    double pf, c;
    ck_assert_int_eq(rsk_basel_zone(500, 8, 0.99, &pf, &c), RSK_ZONE_GREEN);
    ck_assert_close(pf, 0.0, 0, 0);
    ck_assert_close(c, 0.9328898400862953, 0, TOL_BINOM);
    ck_assert_int_eq(rsk_basel_zone(500, 9, 0.99, &pf, NULL), RSK_ZONE_YELLOW);
    ck_assert_close(pf, 0.40, 0, 0);
    ck_assert_int_eq(rsk_basel_zone(500, 12, 0.99, &pf, NULL), RSK_ZONE_YELLOW);
    ck_assert_close(pf, 0.65, 0, 0);
    ck_assert_int_eq(rsk_basel_zone(500, 14, 0.99, &pf, NULL), RSK_ZONE_YELLOW);
    ck_assert_close(pf, 0.85, 0, 0);
    ck_assert_int_eq(rsk_basel_zone(500, 15, 0.99, &pf, NULL), RSK_ZONE_RED);
    ck_assert_close(pf, 1.0, 0, 0);
    /* 100 days at 95%: P(X <= 8) = 0.9369 green, P(X <= 9) = 0.9718 yellow */
    ck_assert_int_eq(rsk_basel_zone(100, 8, 0.95, &pf, NULL), RSK_ZONE_GREEN);
    ck_assert_int_eq(rsk_basel_zone(100, 9, 0.95, &pf, NULL), RSK_ZONE_YELLOW);
    /* 3 days at 99%: P(X <= 0) = 0.99^3 = 0.970299, yet no exception stays green; one in
     * three: P(X <= 1) = 0.970299 + 3 (0.01)(0.99^2) = 0.999702, between 8 (0.99894) and 9
     * (0.99975) of the table: yellow, 0.75 */
    ck_assert_int_eq(rsk_basel_zone(3, 0, 0.99, &pf, &c), RSK_ZONE_GREEN);
    ck_assert_close(c, 0.970299, 0, TOL_BINOM);
    ck_assert_close(pf, 0.0, 0, 0);
    ck_assert_int_eq(rsk_basel_zone(3, 1, 0.99, &pf, &c), RSK_ZONE_YELLOW);
    ck_assert_close(c, 0.999702, 0, 1e-12);
    ck_assert_close(pf, 0.75, 0, 0);
}
END_TEST

START_TEST(kupiec_by_hand)
{
    /* n = 250, x = 5, p = 0.01: the MLE rate is 0.02, so
     * LR = -2 [245 ln 0.99 + 5 ln 0.01 - 245 ln 0.98 - 5 ln 0.02]
     *    = 2 [245 ln(98/99) + 5 ln 2] = 2 [-2.4873449 + 3.4657359] = 1.9568098 */
    ck_assert_close(rsk_kupiec_lr(250, 5, 0.01), 1.956809788230652, 0, TOL_LR);
    /* n = 500, x = 12: -2 [488 ln 0.99 + 12 ln 0.01 - 488 ln 0.976 - 12 ln 0.024] = 7.1107095 */
    ck_assert_close(rsk_kupiec_lr(500, 12, 0.01), 7.110709542123487, 0, TOL_LR);
    /* x = n p: the null is the MLE, LR = 0 */
    ck_assert_close(rsk_kupiec_lr(200, 2, 0.01), 0.0, 1e-12, 0);
    /* no exception: 0 ln 0 = 0 leaves -2 n ln(1 - p) = -500 ln 0.99 = 5.0251679 */
    ck_assert_close(rsk_kupiec_lr(250, 0, 0.01), 5.025167926750726, 0, TOL_LR);
    /* every day an exception: -2 n ln p */
    ck_assert_close(rsk_kupiec_lr(10, 10, 0.01), -20.0 * log(0.01), 0, TOL_LR);
    ck_assert_close(rsk_kupiec_lr(0, 0, 0.01), 0.0, 0, 0);
}
END_TEST

START_TEST(christoffersen_by_hand)
{
    /* 0 1 1 1 0 0 0 0: transitions 01, 11, 11, 10, 00, 00, 00: n00 = 3, n01 = 1, n10 = 1,
     * n11 = 2; pi01 = 1/4, pi11 = 2/3, pi = 3/7.
     * LR = -2 [4 ln(4/7) + 3 ln(3/7) - 3 ln(3/4) - ln(1/4) - ln(1/3) - 2 ln(2/3)] = 1.2429473 */
    const bool clustered[8] = {0, 1, 1, 1, 0, 0, 0, 0};
    ck_assert_close(rsk_christoffersen_lr(clustered, 8), 1.242947299087259, 0, TOL_LR);
    /* 0 0 1 1 0 0 0 1 0 0: n00 = 4, n01 = 2, n10 = 2, n11 = 1: pi01 = pi11 = pi = 1/3, so the
     * two models coincide and LR = 0 */
    const bool even[10] = {0, 0, 1, 1, 0, 0, 0, 1, 0, 0};
    ck_assert_close(rsk_christoffersen_lr(even, 10), 0.0, 1e-12, 0);
    /* degenerate: no exception, all exceptions, one day: 0 */
    const bool none[5] = {0, 0, 0, 0, 0}, all[5] = {1, 1, 1, 1, 1};
    ck_assert_close(rsk_christoffersen_lr(none, 5), 0.0, 0, 0);
    ck_assert_close(rsk_christoffersen_lr(all, 5), 0.0, 0, 0);
    ck_assert_close(rsk_christoffersen_lr(all, 1), 0.0, 0, 0);
    /* one exception on the last day: n00 = 3, n01 = 1, no transition from an exception;
     * pi01 = pi = 1/4: LR = 0 */
    const bool last[5] = {0, 0, 0, 0, 1};
    ck_assert_close(rsk_christoffersen_lr(last, 5), 0.0, 1e-12, 0);
}
END_TEST

START_TEST(backtest_summary)
{
    /* 250 days, exceptions on days 10, 11, 100, 200, 201, 202 (6): yellow, plus 0.50 */
    bool exc[250] = {0};
    const int days[6] = {10, 11, 100, 200, 201, 202};
    for (int k = 0; k < 6; k++)
        exc[days[k]] = true;
    rsk_backtest_stats st;
    rsk_backtest(exc, 250, 0.99, &st);
    ck_assert_uint_eq(st.days, 250);
    ck_assert_uint_eq(st.exceptions, 6);
    ck_assert_close(st.expected, 2.5, 0, 1e-14);
    ck_assert_close(st.rate, 0.024, 0, 1e-15);
    ck_assert_int_eq(st.zone, RSK_ZONE_YELLOW);
    ck_assert_close(st.plus_factor, 0.50, 0, 0);
    ck_assert_close(st.cum_prob, 0.9863, TOL_BASEL, 0);
    /* Kupiec: -2 [244 ln 0.99 + 6 ln 0.01 - 244 ln 0.976 - 6 ln 0.024] = 3.5553548, its
     * p-value erfc(sqrt(LR / 2)) */
    double lr = -2.0 * (244 * log(0.99) + 6 * log(0.01) - 244 * log(0.976) - 6 * log(0.024));
    ck_assert_close(st.kupiec_lr, lr, 0, TOL_LR);
    ck_assert_close(st.kupiec_p, erfc(sqrt(lr / 2)), 0, TOL_CHI2);
    /* Christoffersen: transitions n01 = 3, n11 = 3, n10 = 3, n00 = 240 (249 in all);
     * pi01 = 3/243, pi11 = 3/6, pi = 6/249 */
    double l0 = 243 * log(243.0 / 249) + 6 * log(6.0 / 249);
    double l1 = 240 * log(240.0 / 243) + 3 * log(3.0 / 243) + 3 * log(0.5) + 3 * log(0.5);
    ck_assert_close(st.christoffersen_lr, -2.0 * (l0 - l1), 0, TOL_LR);
    /* = 15.915297, p = 6.6e-5: clustered exceptions, independence rejected */
    ck_assert_close(st.christoffersen_lr, 15.915296651119732, 0, 1e-9);
    ck_assert(st.christoffersen_p < 1e-4);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("backtest");
    TCase *tc = tcase_create("backtest");
    tcase_add_test(tc, chi2_critical_values);
    tcase_add_test(tc, binomial_basel_table);
    tcase_add_test(tc, basel_zones_and_plus_factors);
    tcase_add_test(tc, binomial_zones_outside_the_table);
    tcase_add_test(tc, kupiec_by_hand);
    tcase_add_test(tc, christoffersen_by_hand);
    tcase_add_test(tc, backtest_summary);
    suite_add_tcase(s, tc);
    return s;
}
