/*
 * backtest.c - likelihood-ratio tests, the binomial distribution and the traffic-light zones
 * of VaR backtesting (see backtest.h).
 */
#include <math.h>

#include "backtest.h"

double rsk_chi2_1_sf(double x)
{
    if (!(x > 0.0))
        return 1.0;
    return erfc(sqrt(0.5 * x));
}

double rsk_binom_cdf(size_t k, size_t n, double p)
{
    if (k >= n)
        return 1.0;
    if (p <= 0.0)
        return 1.0;
    if (p >= 1.0)
        return 0.0;
    /* Term by term in logs: (1-p)^n underflows for long windows, lgamma does not. */
    double lp = log(p), lq = log1p(-p), ln1 = lgamma((double)n + 1.0), sum = 0.0;
    for (size_t i = 0; i <= k; i++)
        sum += exp(ln1 - lgamma((double)i + 1.0) - lgamma((double)(n - i) + 1.0) + (double)i * lp +
                   (double)(n - i) * lq);
    return sum < 1.0 ? sum : 1.0;
}

/* c ln q with 0 ln 0 = 0: the limit, which makes the likelihood of a model that puts
 * probability 0 on an event that never happened 1. */
static double xlog(double c, double q)
{
    return c > 0.0 ? c * log(q) : 0.0;
}

double rsk_kupiec_lr(size_t n, size_t x, double p)
{
    if (n == 0)
        return 0.0;
    double dn = (double)n, dx = (double)x, r = dx / dn;
    double l0 = xlog(dn - dx, 1.0 - p) + xlog(dx, p);
    double l1 = xlog(dn - dx, 1.0 - r) + xlog(dx, r);
    double lr = -2.0 * (l0 - l1);
    return lr > 0.0 ? lr : 0.0; /* l1 is the maximum: only rounding makes it negative */
}

double rsk_christoffersen_lr(const bool *exc, size_t n)
{
    double c[2][2] = {{0, 0}, {0, 0}};
    for (size_t t = 1; t < n; t++)
        c[exc[t - 1]][exc[t]] += 1.0;
    double n0 = c[0][0] + c[0][1], n1 = c[1][0] + c[1][1], all = n0 + n1;
    if (all == 0.0)
        return 0.0;
    double pi = (c[0][1] + c[1][1]) / all;
    double l0 = xlog(c[0][0] + c[1][0], 1.0 - pi) + xlog(c[0][1] + c[1][1], pi);
    double l1 = 0.0;
    if (n0 > 0.0)
        l1 += xlog(c[0][0], c[0][0] / n0) + xlog(c[0][1], c[0][1] / n0);
    if (n1 > 0.0)
        l1 += xlog(c[1][0], c[1][0] / n1) + xlog(c[1][1], c[1][1] / n1);
    double lr = -2.0 * (l0 - l1);
    return lr > 0.0 ? lr : 0.0;
}

const char *rsk_zone_name(rsk_zone z)
{
    switch (z) {
    case RSK_ZONE_GREEN:
        return "green";
    case RSK_ZONE_YELLOW:
        return "yellow";
    case RSK_ZONE_RED:
        return "red";
    }
    return "?";
}

/* The Basel plus factors of 5..9 exceptions in 250 days at 99%. */
static const double basel_plus[5] = {0.40, 0.50, 0.65, 0.75, 0.85};

rsk_zone rsk_basel_zone(size_t n, size_t x, double confidence, double *plus_factor, double *cum)
{
    double p = 1.0 - confidence;
    double c = rsk_binom_cdf(x, n, p);
    if (cum != NULL)
        *cum = c;
    rsk_zone z;
    double plus;
    if (n == 250 && fabs(confidence - 0.99) < 1e-12) {
        z = x <= 4 ? RSK_ZONE_GREEN : x <= 9 ? RSK_ZONE_YELLOW : RSK_ZONE_RED;
        plus = z == RSK_ZONE_GREEN ? 0.0 : z == RSK_ZONE_RED ? 1.0 : basel_plus[x - 5];
    } else if (c < 0.95 || x == 0) {
        /* no exception is never evidence against the model, even where the window is so short
         * that P(X = 0) itself reaches 95% (fewer than 6 days at 99%) */
        z = RSK_ZONE_GREEN;
        plus = 0.0;
    } else if (c >= 0.9999) {
        z = RSK_ZONE_RED;
        plus = 1.0;
    } else {
        z = RSK_ZONE_YELLOW;
        plus = basel_plus[0];
        for (size_t k = 6; k <= 9; k++)
            if (rsk_binom_cdf(k, 250, 0.01) <= c)
                plus = basel_plus[k - 5];
    }
    if (plus_factor != NULL)
        *plus_factor = plus;
    return z;
}

void rsk_backtest(const bool *exc, size_t n, double confidence, rsk_backtest_stats *out)
{
    double p = 1.0 - confidence;
    size_t x = 0;
    for (size_t t = 0; t < n; t++)
        x += exc[t] ? 1 : 0;
    out->days = n;
    out->exceptions = x;
    /* n - n c, not n (1 - c): 1 - 0.99 is not 0.01 in binary, 250 * 0.99 rounds to 247.5 */
    out->expected = (double)n - (double)n * confidence;
    out->rate = n > 0 ? (double)x / (double)n : 0.0;
    out->kupiec_lr = rsk_kupiec_lr(n, x, p);
    out->kupiec_p = rsk_chi2_1_sf(out->kupiec_lr);
    out->christoffersen_lr = rsk_christoffersen_lr(exc, n);
    out->christoffersen_p = rsk_chi2_1_sf(out->christoffersen_lr);
    out->zone = rsk_basel_zone(n, x, confidence, &out->plus_factor, &out->cum_prob);
}
