/*
 * internal.h - what the model files share among themselves and with tests/models/, and nothing
 * else includes: the stop poll helper, the bivariate normal kernel (normal.c, bs2002.c,
 * kern_american.c) and the declarations of every level's kernels (table.c, kern_*.c).
 *
 * The bivariate normal kernel.
 * For |rho| < 0.925 the bivariate normal is, after Plackett's identity and the substitution
 * t = sin(theta), a smooth one-dimensional integral over theta in [0, asin(rho)] that a fixed
 * Gauss-Legendre rule integrates to about 1e-15 (Genz 2004, after Drezner and Wesolowsky 1990):
 *
 *   P(X > h, Y > k; rho) = N(-h) N(-k) + sum_j W_j exp(A_j h k - B_j (h^2 + k^2))
 *
 * with, for each node theta_j of the rule and s_j = sin(theta_j),
 * A_j = s_j / (1 - s_j^2), B_j = 1 / (2 (1 - s_j^2)) and W_j = weight_j * asin(rho) / (4 pi).
 * The nodes depend on rho only, so a model that evaluates many probabilities at one correlation
 * (Bjerksund-Stensland 2002 uses only +-sqrt(t1/T), a constant) computes them once.
 */
#ifndef MDL_INTERNAL_H
#define MDL_INTERNAL_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "model.h"

/* True when the poll asks to stop; a NULL poll (or callback) never does. */
static inline bool mdl_poll_stop(const mdl_poll *poll)
{
    return poll != NULL && poll->should_stop != NULL && poll->should_stop(poll->arg);
}

#define MDL_BVN_MAX_NODES 20

typedef struct mdl_bvn_nodes {
    int n;                       /* nodes in use: 6, 12 or 20 */
    double W[MDL_BVN_MAX_NODES]; /* weight * asin(rho) / (4 pi) */
    double A[MDL_BVN_MAX_NODES]; /* s / (1 - s^2) */
    double B[MDL_BVN_MAX_NODES]; /* 1 / (2 (1 - s^2)) */
} mdl_bvn_nodes;

/* Fills the nodes for one correlation; |rho| < 0.925 (the quadrature's domain). */
void mdl_bvn_nodes_init(mdl_bvn_nodes *nd, double rho);

/* The quadrature part: sum_j W_j exp(A_j h k - B_j (h^2 + k^2)). Add N(-h) N(-k) to obtain
 * P(X > h, Y > k; rho). For the correlation -rho pass the nodes of rho, negate the result and
 * negate h k (i.e. call with -h, k and subtract). */
static inline double mdl_bvn_quad(const mdl_bvn_nodes *nd, double h, double k)
{
    double hk = h * k, hs = h * h + k * k, sum = 0.0;
    for (int j = 0; j < nd->n; j++)
        sum += nd->W[j] * exp(nd->A[j] * hk - nd->B[j] * hs);
    return sum;
}

/* The nodes bs2002.c tabulates for rho = sqrt((sqrt(5) - 1) / 2), exposed for the test that
 * checks them against mdl_bvn_nodes_init. */
const mdl_bvn_nodes *mdl_bs2002_rho_nodes(void);

/* Each level's kernels (kern.h): table.c fills a level's table with them; the american kernel
 * prices its european case (a call whose dividend yield is not positive) by the level's
 * european call. */
#define MDL_KERN_DECLARE_(id, name)                                                                \
    void mdl_kern_fill_linear_##name(mdl_entry *table);                                            \
    void mdl_kern_fill_american_##name(mdl_entry *table);                                          \
    size_t mdl_kern_euro_call_##name(const mdl_batch *b, const mdl_work *w, const mdl_poll *poll); \
    double mdl_crr_vec_##name(bool call, bool american, double S, double K, double T, double r,    \
                              double sigma, double q, uint32_t steps, const mdl_work *w,           \
                              const mdl_poll *poll, bool *stopped);
MDL_KERN_DECLARE_(BASELINE, baseline)
MDL_KERN_DECLARE_(AVX2, avx2)
MDL_KERN_DECLARE_(AVX512, avx512)
#undef MDL_KERN_DECLARE_

/* A CRR tree with mdl_crr's signature and meaning. */
typedef double (*mdl_crr_fn)(bool call, bool american, double S, double K, double T, double r,
                             double sigma, double q, uint32_t steps, const mdl_work *w,
                             const mdl_poll *poll, bool *stopped);
/* The level's vectorised tree (kern_crr.c), for tests and benchmarks; NULL when this build has
 * no copy for the level. Its scratch need is mdl_work_needed(steps). */
mdl_crr_fn mdl_crr_for(mdl_isa isa);

#endif /* MDL_INTERNAL_H */
