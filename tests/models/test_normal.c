/*
 * test_normal.c - the univariate and bivariate normal distributions against exact identities,
 * published values and an independent numerical integration in long double.
 */
#include <math.h>

#include "harness.h"
#include "internal.h"
#include "model.h"

#define TOL_EXACT 1e-16     /* identities that hold to the last bit or two */
#define TOL_CDF_REL 1e-15   /* N(x) against 17-digit values (mpmath, 30 digits) */
#define TOL_TAIL_REL 1e-12  /* far tail, relative */
#define TOL_BVN 1e-13       /* bivariate CDF against the long double integral, absolute */
#define TOL_BVN_ID 2e-15    /* bivariate identities, absolute */
#define TOL_NODES 2e-15     /* tabulated quadrature nodes, relative (plus 1e-16 absolute) */

#define PI_L 3.141592653589793238462643383279503L

START_TEST(cdf_known_values)
{
    ck_assert_close(mdl_norm_cdf(0.0), 0.5, 0.0, TOL_EXACT);
    /* reference values: mpmath ncdf at 30 digits */
    ck_assert_close(mdl_norm_cdf(1.96), 0.97500210485177956, 0.0, TOL_CDF_REL);
    ck_assert_close(mdl_norm_cdf(-10.0), 7.6198530241605261e-24, 0.0, TOL_TAIL_REL);
    ck_assert_close(mdl_norm_cdf(-37.0), 5.7255712225246e-300, 0.0, TOL_TAIL_REL);
    ck_assert(mdl_norm_cdf(-37.0) > 0.0);
    ck_assert_close(mdl_norm_pdf(0.0), 0.398942280401432678, 0.0, TOL_CDF_REL);
    ck_assert_close(mdl_norm_pdf(1.5), 0.129517595665891728, 0.0, TOL_CDF_REL);
}
END_TEST

START_TEST(cdf_symmetry)
{
    for (double x = -8.0; x <= 8.0; x += 0.37)
        ck_assert_close(mdl_norm_cdf(x) + mdl_norm_cdf(-x), 1.0, 2e-16, 0.0);
}
END_TEST

/* ---- an independent bivariate reference: M(a,b,rho) = int_{-inf}^a phi(x)
 * N((b - rho x)/sqrt(1 - rho^2)) dx, integrated by adaptive Simpson in long double on unit
 * pieces (so that no bump is missed by a coarse first estimate). ---- */

typedef struct {
    long double b, rho, s;
} bvn_arg;

static long double integrand(const bvn_arg *g, long double x)
{
    long double phi = expl(-0.5L * x * x) / sqrtl(2.0L * PI_L);
    return phi * 0.5L * erfcl(-((g->b - g->rho * x) / g->s) / sqrtl(2.0L));
}

static long double simpson(const bvn_arg *g, long double a, long double fa, long double b,
                           long double fb, long double fm, long double whole, long double eps,
                           int depth)
{
    long double m = 0.5L * (a + b), lm = 0.5L * (a + m), rm = 0.5L * (m + b);
    long double flm = integrand(g, lm), frm = integrand(g, rm);
    long double left = (m - a) / 6.0L * (fa + 4.0L * flm + fm);
    long double right = (b - m) / 6.0L * (fm + 4.0L * frm + fb);
    long double diff = left + right - whole;
    if (depth <= 0 || fabsl(diff) <= 15.0L * eps)
        return left + right + diff / 15.0L;
    return simpson(g, a, fa, m, fm, flm, left, 0.5L * eps, depth - 1) +
           simpson(g, m, fm, b, fb, frm, right, 0.5L * eps, depth - 1);
}

static double bvn_reference(double a, double b, double rho)
{
    bvn_arg g = {b, rho, sqrtl(1.0L - (long double)rho * rho)};
    long double lo = -40.0L, total = 0.0L;
    while (lo < a) {
        long double hi = fminl(lo + 0.25L, a);
        long double fa = integrand(&g, lo), fb = integrand(&g, hi);
        long double fm = integrand(&g, 0.5L * (lo + hi));
        long double whole = (hi - lo) / 6.0L * (fa + 4.0L * fm + fb);
        total += simpson(&g, lo, fa, hi, fb, fm, whole, 1e-19L, 40);
        lo = hi;
    }
    return (double)total;
}

START_TEST(bvn_independence_and_orthant)
{
    static const double xs[] = {-3.0, -1.2, 0.0, 0.4, 2.5};
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++)
            ck_assert_close(mdl_bvn_cdf(xs[i], xs[j], 0.0),
                            mdl_norm_cdf(xs[i]) * mdl_norm_cdf(xs[j]), TOL_BVN_ID, 0.0);
    /* M(0,0,rho) = 1/4 + asin(rho)/(2 pi), exactly (Sheppard) */
    static const double rhos[] = {-0.999, -0.95, -0.7, -0.3, 0.1, 0.5, 0.8, 0.93, 0.9999};
    for (int k = 0; k < 9; k++)
        ck_assert_close(mdl_bvn_cdf(0.0, 0.0, rhos[k]),
                        0.25 + asin(rhos[k]) / (2.0 * 3.14159265358979323846), TOL_BVN_ID,
                        0.0);
}
END_TEST

START_TEST(bvn_limits_and_symmetries)
{
    static const double xs[] = {-2.5, -0.7, 0.0, 0.3, 1.9};
    static const double rhos[] = {-0.97, -0.6, -0.2, 0.25, 0.77, 0.95};
    for (int i = 0; i < 5; i++) {
        for (int j = 0; j < 5; j++) {
            double a = xs[i], b = xs[j];
            /* rho = 1: P(X <= min(a,b)); rho = -1: P(-b <= X <= a) */
            ck_assert_close(mdl_bvn_cdf(a, b, 1.0), mdl_norm_cdf(fmin(a, b)), TOL_BVN_ID, 0.0);
            ck_assert_close(mdl_bvn_cdf(a, b, -1.0),
                            fmax(0.0, mdl_norm_cdf(a) - mdl_norm_cdf(-b)), TOL_BVN_ID, 0.0);
            for (int k = 0; k < 6; k++) {
                double r = rhos[k];
                ck_assert_close(mdl_bvn_cdf(a, b, r), mdl_bvn_cdf(b, a, r), TOL_BVN_ID, 0.0);
                ck_assert_close(mdl_bvn_cdf(a, b, r) + mdl_bvn_cdf(a, -b, -r),
                                mdl_norm_cdf(a), TOL_BVN_ID, 0.0);
            }
        }
    }
}
END_TEST

START_TEST(bvn_against_integration)
{
    static const double xs[] = {-3.0, -1.0, -0.3, 0.0, 0.5, 1.5, 3.0};
    static const double rhos[] = {-0.99, -0.9, -0.5, -0.1, 0.2, 0.6, 0.8, 0.95, 0.999};
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < 7; j++)
            for (int k = 0; k < 9; k++)
                ck_assert_close(mdl_bvn_cdf(xs[i], xs[j], rhos[k]),
                                bvn_reference(xs[i], xs[j], rhos[k]), TOL_BVN, 0.0);
}
END_TEST

START_TEST(bs2002_nodes_match)
{
    /* bs2002.c tabulates the nodes of rho = sqrt((sqrt 5 - 1)/2); recompute them. */
    mdl_bvn_nodes nd;
    mdl_bvn_nodes_init(&nd, sqrt(0.5 * (sqrt(5.0) - 1.0)));
    const mdl_bvn_nodes *tab = mdl_bs2002_rho_nodes();
    ck_assert_int_eq(tab->n, nd.n);
    for (int j = 0; j < nd.n; j++) {
        ck_assert_close(tab->W[j], nd.W[j], 1e-16, TOL_NODES);
        ck_assert_close(tab->A[j], nd.A[j], 1e-16, TOL_NODES);
        ck_assert_close(tab->B[j], nd.B[j], 1e-16, TOL_NODES);
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("normal");
    TCase *tc = tcase_create("normal");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, cdf_known_values);
    tcase_add_test(tc, cdf_symmetry);
    tcase_add_test(tc, bvn_independence_and_orthant);
    tcase_add_test(tc, bvn_limits_and_symmetries);
    tcase_add_test(tc, bvn_against_integration);
    tcase_add_test(tc, bs2002_nodes_match);
    suite_add_tcase(s, tc);
    return s;
}
