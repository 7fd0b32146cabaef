/*
 * test_measures.c - risk measures against hand computations and independent references:
 * the tail count k of contract §3, VaR/ES on hand-computed cases, the inverse normal against
 * published quantiles, parametric VaR in closed form with Euler contributions summing to the
 * total, and Monte Carlo shocks: reproducible by (seed, scenario) whatever the block, with the
 * covariance they were drawn from, and converging to parametric VaR for a linear portfolio.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "measures.h"

#define TOL_QUANTILE 1e-14    /* inverse normal against 16-digit published quantiles */
#define TOL_ALGEBRA 1e-12     /* closed-form parametric VaR, relative */
#define TOL_MC_COVARIANCE 0.02 /* sample covariance of 200k draws vs Sigma, relative to scale */
#define TOL_MC_VAR 0.02       /* MC VaR of a linear book vs parametric, 200k scenarios */

START_TEST(tail_count_spec_examples)
{
    /* contract §3: 1000 scenarios at 0.99 give k = 10, not 11 */
    ck_assert_uint_eq(rsk_tail_count(1000, 0.99), 10);
    ck_assert_uint_eq(rsk_tail_count(1000, 0.975), 25);
    ck_assert_uint_eq(rsk_tail_count(500, 0.99), 5);
    ck_assert_uint_eq(rsk_tail_count(100, 0.95), 5);
    ck_assert_uint_eq(rsk_tail_count(250, 0.99), 3); /* 2.5 -> 3 */
    ck_assert_uint_eq(rsk_tail_count(10, 0.99), 1);  /* 0.1 -> 1 */
    ck_assert_uint_eq(rsk_tail_count(1, 0.99), 1);   /* at least one */
    ck_assert_uint_eq(rsk_tail_count(3000, 0.999), 3);
    ck_assert_uint_eq(rsk_tail_count(7, 0.5), 4); /* 3.5 -> 4 */
}
END_TEST

START_TEST(var_es_hand_computed)
{
    /* P&L = -1, -2, ..., -100 in shuffled order: losses 1..100. At 0.95, k = 5: VaR is the 5th
     * largest loss (96), ES the mean of the 5 largest (98). At 0.99, k = 1: VaR = ES = 100. */
    double pnl[100], work[100], var, es;
    for (int i = 0; i < 100; i++)
        pnl[i] = -(double)((i * 37) % 100 + 1);
    ck_assert_int_eq(rsk_var_es(pnl, 100, 0.95, 0.95, work, &var, &es), RK_OK);
    ck_assert_close(var, 96.0, 0, 0);
    ck_assert_close(es, 98.0, 0, 0);
    ck_assert_int_eq(rsk_var_es(pnl, 100, 0.99, 0.97, work, &var, &es), RK_OK);
    ck_assert_close(var, 100.0, 0, 0);
    ck_assert_close(es, (100.0 + 99.0 + 98.0) / 3.0, 0, 1e-15);
    /* gains count as negative losses: all positive P&L gives a negative VaR */
    double up[4] = {1, 2, 3, 4};
    ck_assert_int_eq(rsk_var_es(up, 4, 0.75, 0.5, work, &var, &es), RK_OK);
    ck_assert_close(var, -1.0, 0, 0);
    ck_assert_close(es, -1.5, 0, 0);
    ck_assert_int_eq(rsk_var_es(up, 0, 0.99, 0.975, work, &var, &es), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rsk_var_es(up, 4, 1.0, 0.975, work, &var, &es), RK_BAD_ARGUMENT);
}
END_TEST

static int desc(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a < b) - (a > b);
}

/* VaR and ES take the tail by selection: the same bits as sorting every loss (ties, few
 * distinct values, sizes around the selection's cut-over, every pair of confidences). */
START_TEST(var_es_equals_full_sort)
{
    static const size_t sizes[] = {1, 2, 15, 16, 17, 40, 64, 257, 1000, 4096};
    static const double alphas[] = {0.5, 0.9, 0.975, 0.99, 0.999};
    unsigned seed = 12345;
    double *pnl = malloc(4096 * sizeof *pnl), *work = malloc(4096 * sizeof *work);
    double *sorted = malloc(4096 * sizeof *sorted);
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        size_t n = sizes[z];
        for (int kind = 0; kind < 3; kind++) {
            for (size_t s = 0; s < n; s++) {
                seed = seed * 1103515245u + 12345u;
                double u = (double)(seed >> 8) / 16777216.0 - 0.5;
                /* 0: continuous, 1: 7 distinct values (ties), 2: all equal */
                pnl[s] = kind == 0 ? 1e5 * u : kind == 1 ? (double)((seed >> 9) % 7) - 3 : 2.5;
            }
            for (size_t a = 0; a < 5; a++)
                for (size_t e = 0; e < 5; e++) {
                    double var, es;
                    ck_assert_int_eq(rsk_var_es(pnl, n, alphas[a], alphas[e], work, &var, &es),
                                     RK_OK);
                    for (size_t s = 0; s < n; s++)
                        sorted[s] = -pnl[s];
                    qsort(sorted, n, sizeof *sorted, desc);
                    size_t kv = rsk_tail_count(n, alphas[a]), ke = rsk_tail_count(n, alphas[e]);
                    double sum = 0;
                    for (size_t s = 0; s < ke; s++)
                        sum += sorted[s];
                    ck_assert(rk_test_same_bits(var, sorted[kv - 1]));
                    ck_assert(rk_test_same_bits(es, sum / (double)ke));
                }
        }
    }
    free(pnl);
    free(work);
    free(sorted);
}
END_TEST

START_TEST(inverse_normal_quantiles)
{
    /* standard normal quantiles as published (16 significant digits) */
    ck_assert_close(rsk_norm_inv(0.99), 2.326347874040841, 0, TOL_QUANTILE);
    ck_assert_close(rsk_norm_inv(0.975), 1.959963984540054, 0, TOL_QUANTILE);
    ck_assert_close(rsk_norm_inv(0.95), 1.644853626951473, 0, TOL_QUANTILE);
    ck_assert_close(rsk_norm_inv(0.999), 3.090232306167814, 0, TOL_QUANTILE);
    ck_assert_close(rsk_norm_inv(0.5), 0.0, 1e-16, 0);
    ck_assert_close(rsk_norm_inv(0.01), -2.326347874040841, 0, TOL_QUANTILE);
    ck_assert_close(rsk_norm_inv(1e-10), -6.361340902404056, 0, 1e-13);
    ck_assert(isnan(rsk_norm_inv(0.0)));
    ck_assert(isnan(rsk_norm_inv(1.0)));
}
END_TEST

START_TEST(parametric_closed_form)
{
    /* Two factors, two books. Sigma = [[s1^2, rho s1 s2], [rho s1 s2, s2^2]]. */
    const double s1 = 0.01, s2 = 0.02, rho = 0.3;
    const double cov[4] = {s1 * s1, rho * s1 * s2, rho * s1 * s2, s2 * s2};
    /* book A: exposure (100, 0); book B: (50, -40); TOTAL = sum */
    const double expo[6] = {100, 0, 50, -40, 150, -40};
    rsk_parametric pv;
    ck_assert_int_eq(rsk_parametric_var(expo, 2, cov, 2, 0.99, 10.0, &pv), RK_OK);
    double z = 2.326347874040841, sh = sqrt(10.0);
    double varA = z * sh * 100 * s1;
    double vB = 50 * 50 * s1 * s1 + 2 * 50 * -40 * rho * s1 * s2 + 40 * 40 * s2 * s2;
    double vT = 150 * 150 * s1 * s1 + 2 * 150 * -40 * rho * s1 * s2 + 40 * 40 * s2 * s2;
    ck_assert_close(pv.var[0], varA, 0, TOL_ALGEBRA);
    ck_assert_close(pv.var[1], z * sh * sqrt(vB), 0, TOL_ALGEBRA);
    ck_assert_close(pv.var[2], z * sh * sqrt(vT), 0, TOL_ALGEBRA);
    /* Euler: e_A' Sigma e / sigma_P */
    double cA = (100 * (150 * s1 * s1 - 40 * rho * s1 * s2)) / sqrt(vT) * z * sh;
    ck_assert_close(pv.contrib[0], cA, 0, TOL_ALGEBRA);
    ck_assert_close(pv.contrib[0] + pv.contrib[1], pv.var[2], 0, TOL_ALGEBRA);
    ck_assert_close(pv.contrib[2], pv.var[2], 0, TOL_ALGEBRA);
    rsk_parametric_free(&pv);
    rsk_parametric_free(NULL);
}
END_TEST

START_TEST(euler_contributions_sum_random)
{
    /* 6 factors, 9 books, random exposures and a random SPD covariance A A' + I/100 */
    enum { F = 6, B = 9 };
    double a[F * F], cov[F * F], expo[(B + 1) * F];
    unsigned s = 12345;
    for (int i = 0; i < F * F; i++) {
        s = s * 1103515245u + 12345u;
        a[i] = ((double)(s >> 8) / 16777216.0 - 0.5) * 0.02;
    }
    for (int i = 0; i < F; i++)
        for (int j = 0; j < F; j++) {
            double v = i == j ? 1e-4 : 0.0;
            for (int k = 0; k < F; k++)
                v += a[i * F + k] * a[j * F + k];
            cov[i * F + j] = v;
        }
    memset(expo + B * F, 0, F * sizeof(double));
    for (int b = 0; b < B; b++)
        for (int j = 0; j < F; j++) {
            s = s * 1103515245u + 12345u;
            expo[b * F + j] = ((double)(s >> 8) / 16777216.0 - 0.5) * 1000;
            expo[B * F + j] += expo[b * F + j];
        }
    rsk_parametric pv;
    ck_assert_int_eq(rsk_parametric_var(expo, B, cov, F, 0.975, 1.0, &pv), RK_OK);
    double sum = 0.0;
    for (int b = 0; b < B; b++)
        sum += pv.contrib[b];
    ck_assert_close(sum, pv.var[B], 0, TOL_ALGEBRA);
    /* subadditivity of standalone normal VaR */
    double standalone = 0.0;
    for (int b = 0; b < B; b++)
        standalone += pv.var[b];
    ck_assert(pv.var[B] <= standalone * (1 + 1e-12));
    rsk_parametric_free(&pv);
}
END_TEST

START_TEST(mc_reproducible_by_scenario)
{
    enum { F = 5 };
    double cov[F * F], L[F * F];
    for (int i = 0; i < F; i++)
        for (int j = 0; j < F; j++)
            cov[i * F + j] = (i == j ? 1.0 : 0.4) * 1e-4;
    ck_assert_int_eq(rsk_cholesky(cov, F, L), RK_OK);
    /* normals of scenario s do not depend on what else is generated */
    double z1[F], z2[F];
    rsk_mc_normals(42, 7, F, z1);
    double block[10 * F];
    for (int s = 0; s < 10; s++)
        rsk_mc_normals(42, (uint64_t)s, F, block + s * F);
    memcpy(z2, block + 7 * F, sizeof z2);
    for (int j = 0; j < F; j++)
        ck_assert(rk_test_same_bits(z1[j], z2[j]));
    /* different seeds differ */
    rsk_mc_normals(43, 7, F, z2);
    ck_assert(!rk_test_same_bits(z1[0], z2[0]));
    /* shocks of the same scenario from blocks of the same shape are the same bits */
    double work[64 * F], a[64 * F], b[64 * F];
    rsk_mc_shocks(L, F, 42, 0, 64, 1.0, work, a);
    rsk_mc_shocks(L, F, 42, 0, 64, 1.0, work, b);
    ck_assert_int_eq(memcmp(a, b, sizeof a), 0);
}
END_TEST

START_TEST(mc_matches_covariance_and_parametric)
{
    enum { F = 3, S = 200000, BLK = 64 };
    const double vol[F] = {0.01, 0.005, 0.02};
    const double corr[F][F] = {{1, 0.5, -0.3}, {0.5, 1, 0.2}, {-0.3, 0.2, 1}};
    double cov[F * F], L[F * F];
    for (int i = 0; i < F; i++)
        for (int j = 0; j < F; j++)
            cov[i * F + j] = corr[i][j] * vol[i] * vol[j];
    ck_assert_int_eq(rsk_cholesky(cov, F, L), RK_OK);
    const double e[F] = {1000, -500, 250};
    double *pnl = malloc(S * sizeof(double));
    double *work = malloc(S * sizeof(double));
    double shock[BLK * F], zw[BLK * F], m2[F * F] = {0};
    ck_assert_ptr_nonnull(pnl);
    ck_assert_ptr_nonnull(work);
    const double H = 4.0;
    for (int s0 = 0; s0 < S; s0 += BLK) {
        rsk_mc_shocks(L, F, 2024, (uint64_t)s0, BLK, H, zw, shock);
        for (int s = 0; s < BLK; s++) {
            double p = 0;
            for (int j = 0; j < F; j++) {
                p += e[j] * shock[s * F + j];
                for (int k = 0; k < F; k++)
                    m2[j * F + k] += shock[s * F + j] * shock[s * F + k];
            }
            pnl[s0 + s] = p;
        }
    }
    for (int j = 0; j < F; j++)
        for (int k = 0; k < F; k++)
            ck_assert_close(m2[j * F + k] / S, H * cov[j * F + k],
                            TOL_MC_COVARIANCE * H * vol[j] * vol[k], 0);
    /* linear book: MC VaR/ES converge to the normal closed forms */
    double var, es;
    ck_assert_int_eq(rsk_var_es(pnl, S, 0.99, 0.975, work, &var, &es), RK_OK);
    double expo[2 * F];
    memcpy(expo, e, sizeof e);
    memcpy(expo + F, e, sizeof e);
    rsk_parametric pv;
    ck_assert_int_eq(rsk_parametric_var(expo, 1, cov, F, 0.99, H, &pv), RK_OK);
    ck_assert_close(var, pv.var[1], 0, TOL_MC_VAR);
    double z = rsk_norm_inv(0.975);
    double es_normal = pv.sigma[1] * sqrt(H) * exp(-0.5 * z * z) / sqrt(2 * 3.14159265358979) /
                       0.025;
    ck_assert_close(es, es_normal, 0, TOL_MC_VAR);
    rsk_parametric_free(&pv);
    free(pnl);
    free(work);
}
END_TEST

START_TEST(cholesky_rejects_indefinite)
{
    const double bad[4] = {1, 2, 2, 1};
    double L[4];
    ck_assert_int_eq(rsk_cholesky(bad, 2, L), RK_NUMERIC);
    const double good[4] = {4, 2, 2, 3};
    ck_assert_int_eq(rsk_cholesky(good, 2, L), RK_OK);
    ck_assert_close(L[0], 2.0, 0, 1e-15);
    ck_assert_close(L[2], 1.0, 0, 1e-15);
    ck_assert_close(L[3], sqrt(2.0), 0, 1e-15);
    ck_assert_close(L[1], 0.0, 0, 0);
}
END_TEST

START_TEST(frtb_liquidity_adjusted_es)
{
    /* weights sqrt((LH_j - LH_{j-1}) / 10): 1, 1, sqrt(2), sqrt(2), sqrt(6) for j = 1..5 */
    const double only_base[RSK_FRTB_NLH] = {3, 0, 0, 0, 0};
    ck_assert_close(rsk_frtb_es(only_base), 3.0, 0, 0);
    const double ones[RSK_FRTB_NLH] = {1, 1, 1, 1, 1};
    ck_assert_close(rsk_frtb_es(ones), sqrt(1.0 + 1 + 2 + 2 + 6), 0, TOL_ALGEBRA);
    const double mixed[RSK_FRTB_NLH] = {3, 4, 0, 0, 2}; /* 9 + 16 + 4 * 6 = 49 */
    ck_assert_close(rsk_frtb_es(mixed), 7.0, 0, TOL_ALGEBRA);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("measures");
    TCase *tc = tcase_create("measures");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tail_count_spec_examples);
    tcase_add_test(tc, var_es_hand_computed);
    tcase_add_test(tc, var_es_equals_full_sort);
    tcase_add_test(tc, inverse_normal_quantiles);
    tcase_add_test(tc, parametric_closed_form);
    tcase_add_test(tc, euler_contributions_sum_random);
    tcase_add_test(tc, mc_reproducible_by_scenario);
    tcase_add_test(tc, mc_matches_covariance_and_parametric);
    tcase_add_test(tc, cholesky_rejects_indefinite);
    tcase_add_test(tc, frtb_liquidity_adjusted_es);
    suite_add_tcase(s, tc);
    return s;
}
