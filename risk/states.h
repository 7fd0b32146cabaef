/*
 * states.h - market states: the value of every underlying after a factor shock.
 *
 * A state is what a revaluation sees: for every underlying u, x_u' = x_u * exp(beta_u . df) for
 * spot and vol underlyings, x_u' = x_u + beta_u . df for rates (contract §1). The grid uses 1 + 2F
 * states (base, then +h and -h on each factor); scenario P&L uses one state per scenario.
 *
 * Determinism: the products beta_u . df for scenario shocks go through one dgemm per block of
 * RSK_STATE_BLOCK scenarios, blocks starting at scenario 0, with BLAS single-threaded; a given
 * scenario therefore always meets the same kernel in the same position and gets the same bits,
 * whether it came from Monte Carlo or from a file.
 */
#ifndef RSK_STATES_H
#define RSK_STATES_H

#include <stddef.h>

#include "dataset.h"

#define RSK_STATE_BLOCK 64u

typedef struct rsk_states {
    size_t n;    /* states */
    size_t nund; /* underlyings per state */
    double *x;   /* n x nund, state-major: x[s * nund + u] */
    size_t cap;  /* states x can hold (>= n) */
} rsk_states;

/* One state: the base market (x = the underlyings' values). */
rk_status rsk_states_base(const dat_market *m, rsk_states *st);

/* Grid states: [0] base, [1 + 2j] factor j bumped by +h, [2 + 2j] bumped by -h. */
rk_status rsk_states_grid(const dat_market *m, double h, rsk_states *st);
/* Recomputes grid states into st, which rsk_states_grid already sized for a market of this
 * shape (RK_BAD_ARGUMENT otherwise). No allocation: the API's real-time path. */
rk_status rsk_states_grid_fill(const dat_market *m, double h, rsk_states *st);

/* One state per row of shock (n x nfactors, row-major). n must be a multiple of RSK_STATE_BLOCK
 * or the last block of the scenario set (see above). */
rk_status rsk_states_from_shocks(const dat_market *m, const double *shock, size_t n,
                                 rsk_states *st);

/* Room for `cap` states of nund underlyings, for rsk_states_from_shocks_fill (st->n = 0).
 * Zero-initialise st first; an st that already has the room keeps its memory. */
rk_status rsk_states_reserve(rsk_states *st, size_t cap, size_t nund);
/* As rsk_states_from_shocks, into st's memory (rsk_states_reserve: n <= cap, same nund;
 * RK_BAD_ARGUMENT otherwise). The same kernel calls, so the same bits; no allocation. */
rk_status rsk_states_from_shocks_fill(const dat_market *m, const double *shock, size_t n,
                                      rsk_states *st);

void rsk_states_free(rsk_states *st);

/* Index of grid state for factor j, sign +1 or -1. */
static inline size_t rsk_grid_state(size_t j, int sign)
{
    return sign > 0 ? 1 + 2 * j : 2 + 2 * j;
}

/* Makes BLAS single-threaded (see states.h). Idempotent; called by every entry point that
 * uses BLAS. */
void rsk_blas_init(void);

#endif /* RSK_STATES_H */
