/*
 * normal.c - the univariate and bivariate standard normal distributions.
 *
 * N(x) goes through erfc so that both tails keep full relative accuracy (1 - N(x) is never
 * formed). The bivariate CDF follows Genz (2004), "Numerical computation of rectangular
 * bivariate and trivariate normal and t probabilities", itself a refinement of Drezner and
 * Wesolowsky (1990): for |rho| < 0.925 a 6, 12 or 20 point Gauss-Legendre rule on the
 * asin(rho) form of Plackett's integral (internal.h); for |rho| >= 0.925 the integral from rho to
 * +-1 written in x = sqrt(1 - t^2), whose singular part is integrated in closed form after a
 * second order expansion, the smooth rest by the 20 point rule. Absolute error about 1e-15.
 */
#include <math.h>

#include "internal.h"
#include "model.h"

#define MDL_SQRT1_2 0.70710678118654752440   /* 1/sqrt(2) */
#define MDL_1_SQRT2PI 0.39894228040143267794 /* 1/sqrt(2 pi) */
#define MDL_SQRT2PI 2.50662827463100050242   /* sqrt(2 pi) */
#define MDL_PI 3.14159265358979323846

/* Gauss-Legendre rules on [-1, 1]: the positive half of the nodes (the rule is symmetric) and
 * their weights, computed to 40 digits by Newton's method on the Legendre polynomials. */
static const double gl6_x[3] = {9.3246951420315203e-1, 6.6120938646626451e-1,
                                2.3861918608319691e-1};
static const double gl6_w[3] = {1.7132449237917035e-1, 3.6076157304813861e-1,
                                4.6791393457269105e-1};
static const double gl12_x[6] = {9.8156063424671925e-1, 9.0411725637047486e-1,
                                 7.6990267419430469e-1, 5.8731795428661745e-1,
                                 3.6783149899818019e-1, 1.2523340851146892e-1};
static const double gl12_w[6] = {4.7175336386511827e-2, 1.0693932599531843e-1,
                                 1.6007832854334623e-1, 2.0316742672306592e-1,
                                 2.3349253653835481e-1, 2.4914704581340279e-1};
static const double gl20_x[10] = {9.9312859918509492e-1, 9.6397192727791379e-1,
                                  9.1223442825132591e-1, 8.3911697182221882e-1,
                                  7.4633190646015079e-1, 6.3605368072651503e-1,
                                  5.108670019508271e-1,  3.7370608871541956e-1,
                                  2.2778585114164508e-1, 7.6526521133497334e-2};
static const double gl20_w[10] = {1.7614007139152118e-2, 4.0601429800386941e-2,
                                  6.2672048334109064e-2, 8.3276741576704749e-2,
                                  1.0193011981724044e-1, 1.1819453196151842e-1,
                                  1.3168863844917663e-1, 1.4209610931838205e-1,
                                  1.4917298647260375e-1, 1.5275338713072585e-1};

double mdl_norm_cdf(double x)
{
    return 0.5 * erfc(-x * MDL_SQRT1_2);
}

double mdl_norm_pdf(double x)
{
    return MDL_1_SQRT2PI * exp(-0.5 * x * x);
}

/* The rule for a correlation: more nodes as |rho| grows, since the integrand in theta gets
 * steeper near asin(rho) (Genz's thresholds). */
static void pick_rule(double arho, const double **x, const double **w, int *half)
{
    if (arho < 0.3) {
        *x = gl6_x, *w = gl6_w, *half = 3;
    } else if (arho < 0.75) {
        *x = gl12_x, *w = gl12_w, *half = 6;
    } else {
        *x = gl20_x, *w = gl20_w, *half = 10;
    }
}

void mdl_bvn_nodes_init(mdl_bvn_nodes *nd, double rho)
{
    const double *x, *w;
    int half;
    pick_rule(fabs(rho), &x, &w, &half);
    double asr = asin(rho);
    nd->n = 2 * half;
    for (int i = 0; i < half; i++) {
        /* theta = asr (1 -+ x_i) / 2 maps [-1, 1] onto [0, asr] */
        for (int s = 0; s < 2; s++) {
            double sn = sin(asr * (1.0 + (s ? x[i] : -x[i])) * 0.5);
            double c = 1.0 / ((1.0 - sn) * (1.0 + sn));
            nd->W[2 * i + s] = w[i] * asr / (4.0 * MDL_PI);
            nd->A[2 * i + s] = sn * c;
            nd->B[2 * i + s] = 0.5 * c;
        }
    }
}

/*
 * P(X > h, Y > k) for |rho| >= 0.925. With y = sqrt(1 - rho^2) the probability is
 * N(-max(h, k)) (rho = 1) minus the integral of the density from rho to 1; in x = sqrt(1 - t^2)
 * that integral is
 *   (1/2pi) int_0^y exp(-(h-k)^2/(2x^2) - hk/2) exp(-hk(1-t)/(2(1+t)))/t dx,  t = sqrt(1-x^2).
 * The second factor is 1 + c x^2 + c d x^4 + O(x^6) with c = (4-hk)/8, d = (12-hk)/16; that part
 * is integrated exactly (the exp and N terms below), the remainder by the 20 point rule.
 * A negative rho is reduced to a positive one by reflecting Y (k -> -k).
 */
static double bvn_upper_high(double h, double k, double rho)
{
    double kk = rho < 0 ? -k : k;
    double hk = h * kk;
    double sum = 0.0;
    if (fabs(rho) < 1.0) {
        double as = (1.0 - rho) * (1.0 + rho);
        double a = sqrt(as);
        double bs = (h - kk) * (h - kk);
        double c = (4.0 - hk) / 8.0;
        double d = (12.0 - hk) / 16.0;
        double e = -0.5 * (bs / as + hk);
        if (e > -100.0)
            sum = a * exp(e) *
                  (1.0 - c * (bs - as) * (1.0 - d * bs / 5.0) / 3.0 + c * d * as * as / 5.0);
        if (hk > -100.0) {
            double b = sqrt(bs);
            sum -= exp(-0.5 * hk) * MDL_SQRT2PI * mdl_norm_cdf(-b / a) * b *
                   (1.0 - c * bs * (1.0 - d * bs / 5.0) / 3.0);
        }
        double ha = 0.5 * a;
        for (int i = 0; i < 10; i++) {
            for (int s = 0; s < 2; s++) {
                double xr = ha * (1.0 + (s ? gl20_x[i] : -gl20_x[i]));
                double xs = xr * xr;
                double rs = sqrt(1.0 - xs);
                double ee = -0.5 * (bs / xs + hk);
                if (ee > -100.0)
                    sum += ha * gl20_w[i] * exp(ee) *
                           (exp(-hk * xs / (2.0 * (1.0 + rs) * (1.0 + rs))) / rs -
                            (1.0 + c * xs * (1.0 + d * xs)));
            }
        }
        sum = -sum / (2.0 * MDL_PI);
    }
    if (rho > 0)
        return sum + mdl_norm_cdf(-fmax(h, kk));
    /* rho < 0: with Y' = -Y the probability is P(h < X, Y' < kk): at rho = -1 the band
     * h < X < kk, from which the integral now comes off with the opposite sign. */
    double p = -sum;
    if (kk > h)
        p += h < 0 ? mdl_norm_cdf(kk) - mdl_norm_cdf(h) : mdl_norm_cdf(-h) - mdl_norm_cdf(-kk);
    return p;
}

double mdl_bvn_cdf(double a, double b, double rho)
{
    /* P(X <= a, Y <= b) = P(X > -a, Y > -b) by symmetry of the distribution. */
    double h = -a, k = -b, p;
    if (fabs(rho) < 0.925) {
        mdl_bvn_nodes nd;
        mdl_bvn_nodes_init(&nd, rho);
        p = mdl_bvn_quad(&nd, h, k) + mdl_norm_cdf(a) * mdl_norm_cdf(b);
    } else {
        p = bvn_upper_high(h, k, rho);
    }
    return fmin(1.0, fmax(0.0, p));
}
