/*
 * backtest.h - the statistics of VaR backtesting (contract §3): Kupiec's proportion-of-failures
 * and Christoffersen's independence likelihood ratios with their chi-square(1) p-values, the
 * binomial distribution of the exception count, and the Basel traffic-light zones with their
 * plus factors. Pure functions of a sequence of exception flags: no engine, no files, any
 * thread.
 */
#ifndef RSK_BACKTEST_H
#define RSK_BACKTEST_H

#include <stdbool.h>
#include <stddef.h>

/* P(X > x) for X ~ chi-square with one degree of freedom: erfc(sqrt(x / 2)); 1 for x <= 0. */
double rsk_chi2_1_sf(double x);

/* P(X <= k) for X ~ Binomial(n, p), p in [0, 1]; 1 when k >= n. */
double rsk_binom_cdf(size_t k, size_t n, double p);

/* Kupiec's proportion-of-failures likelihood ratio for x exceptions in n days at exception
 * probability p = 1 - confidence: -2 ln[(1-p)^(n-x) p^x / ((1-x/n)^(n-x) (x/n)^x)], with
 * 0 ln 0 = 0, so that x = 0 gives -2 n ln(1-p) and x = n gives -2 n ln p. 0 when n = 0. */
double rsk_kupiec_lr(size_t n, size_t x, double p);

/* Christoffersen's independence likelihood ratio over the day-to-day transitions of the
 * exception flags (n00, n01, n10, n11: from no exception / an exception to each): the Markov
 * model with pi01 = n01/(n00+n01) and pi11 = n11/(n10+n11) against one probability
 * pi = (n01+n11)/(all transitions), 0 ln 0 = 0 again. With no exception, or an exception
 * every day, or fewer than two days, both models are the same and the ratio is 0 (p-value 1). */
double rsk_christoffersen_lr(const bool *exc, size_t n);

typedef enum rsk_zone { RSK_ZONE_GREEN, RSK_ZONE_YELLOW, RSK_ZONE_RED } rsk_zone;

/* "green", "yellow", "red". */
const char *rsk_zone_name(rsk_zone z);

/* The traffic-light zone of x exceptions in n days at `confidence`, and its plus factor.
 * 250 days at 99%: the Basel table (0-4 green; 5-9 yellow with 0.40, 0.50, 0.65, 0.75, 0.85;
 * 10 or more red, 1.00). Otherwise by the binomial probability c = P(X <= x) at
 * p = 1 - confidence: green when c < 0.95 (and always with no exception: in a window of
 * fewer than 6 days at 99%, P(X = 0) alone is above 0.95), red when c >= 0.9999, yellow
 * between. The plus
 * factor is 0 in green and 1 in red; in yellow outside the table it is the table's factor of
 * the largest 250-day count in 5..9 whose cumulative probability does not exceed c (0.40 when
 * none does), so that a yellow result is penalised as the Basel count of the same
 * improbability would be. cum: c, may be NULL. */
rsk_zone rsk_basel_zone(size_t n, size_t x, double confidence, double *plus_factor, double *cum);

/* One book's backtest over exception flags in date order. */
typedef struct rsk_backtest_stats {
    size_t days, exceptions;
    double expected; /* days * (1 - confidence) */
    double rate;     /* exceptions / days (0 when no days) */
    double kupiec_lr, kupiec_p;
    double christoffersen_lr, christoffersen_p;
    rsk_zone zone;
    double plus_factor;
    double cum_prob; /* P(X <= exceptions) */
} rsk_backtest_stats;

void rsk_backtest(const bool *exc, size_t n, double confidence, rsk_backtest_stats *out);

#endif /* RSK_BACKTEST_H */
