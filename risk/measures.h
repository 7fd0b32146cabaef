/*
 * measures.h - risk measures over engine results (contract §3): parametric (delta-normal) VaR with
 * Euler contributions, VaR and ES from scenario P&L, and Monte Carlo scenario generation.
 *
 * Linear algebra goes through OpenBLAS/LAPACKE (dsymv, dgemm, dpotrf), single-threaded (see
 * states.h). Everything here is deterministic: Monte Carlo normals come from a counter-based
 * generator keyed by (seed, scenario), so scenario s is the same whoever computes it, in
 * whatever block, on whatever thread or process.
 */
#ifndef RSK_MEASURES_H
#define RSK_MEASURES_H

#include <stddef.h>
#include <stdint.h>

#include "rk_status.h"
#include "xsum.h"

/* Inverse standard normal CDF, relative error ~1e-15 on (0, 1); NaN outside. */
double rsk_norm_inv(double p);

/* k = max(1, ceil(S (1 - alpha))), computed so that rounding cannot add one (1000 scenarios at
 * 0.99 give 10). alpha in (0, 1). */
size_t rsk_tail_count(size_t nscen, double alpha);

/* VaR and ES from n P&L values (losses are -pnl; contract §3). var_alpha/es_alpha in (0,1).
 * work must hold n doubles. Returns RK_BAD_ARGUMENT when n == 0 or an alpha is out of range. */
rk_status rsk_var_es(const double *pnl, size_t n, double var_alpha, double es_alpha, double *work,
                     double *var, double *es);

/* ---- FRTB internal-models expected shortfall ---- */

/* The liquidity horizons LH_1..LH_5 in days, the base horizon T and the ES confidence. */
#define RSK_FRTB_NLH 5
#define RSK_FRTB_T 10.0
#define RSK_FRTB_ALPHA 0.975
extern const double rsk_frtb_lh[RSK_FRTB_NLH];

/* ES = sqrt(ES_T(P)^2 + sum_{j>=2} (ES_T(P, j) sqrt((LH_j - LH_{j-1}) / T))^2) from es[j] =
 * ES_T(P, j + 1), j = 0..4 (es[0] = ES_T(P), every factor shocked). */
double rsk_frtb_es(const double es[RSK_FRTB_NLH]);
/* One scenario's loss with its index, for ranking the tail (rsk_scen_components). */
typedef struct rsk_ranked {
    double loss;
    size_t s;
} rsk_ranked;

/* Ranks the n scenarios by the loss of tot (exact sums), largest first, ties by scenario. */
void rsk_tail_rank(const rsk_xsum *tot, size_t n, rsk_ranked *rank);

/*
 * Component and incremental risk of a scenario set, from the exact per-book P&L sums xpnl
 * ((nbooks + 1) x n, TOTAL last). The tail is the scenarios ranked by the TOTAL's loss,
 * largest first (ties by scenario index); the VaR scenario is the k_VaR-th, the ES tail the
 * first k_ES (contract §3). Per book b (TOTAL last):
 *   cvar[b] = -P&L_b in the VaR scenario: the Euler contribution to VaR. cvar[TOTAL] is the
 *             TOTAL's VaR bit for bit; the books' exact sums add up to the TOTAL's exactly, so
 *             the contributions add up to it but for the rounding of each (once).
 *   ces[b]  = the mean over the ES tail of -P&L_b (exact sum over the tail, divided once): the
 *             Euler contribution to ES; ces[TOTAL] is the TOTAL's tail mean from exact sums,
 *             which may differ from rsk_var_es's ES (a sum of rounded losses) in the last bits.
 *   incr[b] = VaR(TOTAL) - VaR(TOTAL without book b), that VaR from the exact difference of the
 *             sums: the book's incremental VaR; incr[TOTAL] = VaR(TOTAL).
 * var_total: the TOTAL's VaR (rsk_var_es). rank: n entries; work: n doubles (the book-less
 * P&L) and sort: n doubles. No allocation.
 */
rk_status rsk_scen_components(const rsk_xsum *xpnl, size_t nbooks, size_t n, double var_alpha,
                              double es_alpha, double var_total, rsk_ranked *rank, double *work,
                              double *sort, double *cvar, double *ces, double *incr);

/* ---- parametric VaR ---- */

typedef struct rsk_parametric {
    size_t nbooks;   /* books; index nbooks is TOTAL */
    double *sigma;   /* standalone sigma_P per book (TOTAL last), one day */
    double *var;     /* standalone VaR per book (TOTAL last) */
    double *contrib; /* Euler contribution per book to TOTAL VaR (TOTAL last = the total) */
    double z;        /* z_alpha */
} rsk_parametric;

/* exposure: (nbooks + 1) x F per-book exposures (TOTAL last), cov: F x F. VaR at confidence
 * alpha over horizon h days. Free with rsk_parametric_free. */
rk_status rsk_parametric_var(const double *exposure, size_t nbooks, const double *cov, size_t F,
                             double alpha, double horizon, rsk_parametric *out);
void rsk_parametric_free(rsk_parametric *p);
/* The same into out's arrays (sigma, var, contrib: nbooks + 1 each, allocated by the caller),
 * with work of (nbooks + 1) x F doubles. No allocation: the API's real-time path. */
rk_status rsk_parametric_var_into(const double *exposure, size_t nbooks, const double *cov,
                                  size_t F, double alpha, double horizon, double *work,
                                  rsk_parametric *out);

/* ---- Monte Carlo ---- */

/* Cholesky factor of a covariance: lower triangle of L (F x F, row-major, upper part zero).
 * RK_NUMERIC when not positive definite. */
rk_status rsk_cholesky(const double *cov, size_t F, double *L);

/* Standard normals z_s (F of them) for scenario s: Philox4x32-10 keyed by seed, counter
 * (s, pair of factors), Box-Muller. */
void rsk_mc_normals(uint64_t seed, uint64_t s, size_t F, double *z);

/* Shocks for scenarios [first, first + n): shock = sqrt(horizon) * L z_s, row-major n x F,
 * through dgemm. work holds n x F doubles. */
void rsk_mc_shocks(const double *L, size_t F, uint64_t seed, uint64_t first, size_t n,
                   double horizon, double *work, double *shock);

#endif /* RSK_MEASURES_H */
