/*
 * states.c - underlying values under factor shocks (see states.h).
 */
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "states.h"

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void blas_single_thread(void)
{
    /* The engine's workers own the cores; BLAS threads would fight them, and a split of the
     * inner products across threads could change their rounding. */
    openblas_set_num_threads(1);
}

void rsk_blas_init(void)
{
    pthread_once(&blas_once, blas_single_thread);
}

static double shocked(const dat_market *m, size_t u, double move)
{
    if (m->und_kind[u] == DAT_UND_RATE)
        return m->und_value[u] + move;
    /* exp(+-0) is 1 exactly: an underlying that does not load on the factor (most rates and
     * volatilities) skips the call, with the same bits */
    return m->und_value[u] * (move == 0.0 ? 1.0 : exp(move));
}

static rk_status states_alloc(rsk_states *st, size_t n, size_t nund)
{
    memset(st, 0, sizeof *st);
    if (nund != 0 && n > SIZE_MAX / sizeof(double) / nund)
        return RK_NO_MEMORY;
    st->x = malloc((n * nund > 0 ? n * nund : 1) * sizeof(double));
    if (st->x == NULL)
        return RK_NO_MEMORY;
    st->n = n;
    st->nund = nund;
    st->cap = n;
    return RK_OK;
}

rk_status rsk_states_base(const dat_market *m, rsk_states *st)
{
    rk_status rc = states_alloc(st, 1, m->nund);
    if (rc == RK_OK && m->nund > 0)
        memcpy(st->x, m->und_value, m->nund * sizeof(double));
    return rc;
}

rk_status rsk_states_grid(const dat_market *m, double h, rsk_states *st)
{
    rk_status rc = states_alloc(st, 1 + 2 * m->nfactors, m->nund);
    if (rc != RK_OK)
        return rc;
    return rsk_states_grid_fill(m, h, st);
}

rk_status rsk_states_grid_fill(const dat_market *m, double h, rsk_states *st)
{
    size_t F = m->nfactors, U = m->nund;
    if (st->x == NULL || st->n != 1 + 2 * F || st->nund != U)
        return RK_BAD_ARGUMENT;
    if (U > 0) /* und_value is NULL for a market of no underlyings */
        memcpy(st->x, m->und_value, U * sizeof(double));
    for (size_t j = 0; j < F; j++) {
        double *xp = st->x + rsk_grid_state(j, +1) * U;
        double *xm = st->x + rsk_grid_state(j, -1) * U;
        for (size_t u = 0; u < U; u++) {
            double b = m->beta[u * F + j];
            /* beta . (h e_j) is the single product b*h: the other terms are exact zeros. */
            xp[u] = shocked(m, u, b * h);
            xm[u] = shocked(m, u, b * -h);
        }
    }
    return RK_OK;
}

rk_status rsk_states_reserve(rsk_states *st, size_t cap, size_t nund)
{
    if (st->x != NULL && st->cap >= cap && st->nund == nund) {
        st->n = 0;
        return RK_OK;
    }
    rsk_states_free(st);
    rk_status rc = states_alloc(st, cap, nund);
    st->n = 0;
    return rc;
}

rk_status rsk_states_from_shocks_fill(const dat_market *m, const double *shock, size_t n,
                                      rsk_states *st)
{
    size_t F = m->nfactors, U = m->nund;
    if (st->x == NULL || n > st->cap || st->nund != U)
        return RK_BAD_ARGUMENT;
    st->n = n;
    rsk_blas_init();
    for (size_t s0 = 0; s0 < n; s0 += RSK_STATE_BLOCK) {
        size_t b = n - s0 < RSK_STATE_BLOCK ? n - s0 : RSK_STATE_BLOCK;
        double *x = st->x + s0 * U;
        if (F > 0 && U > 0) {
            /* x (b x U) = shock (b x F) * beta^T (F x U) */
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)U, (int)F, 1.0,
                        shock + s0 * F, (int)F, m->beta, (int)F, 0.0, x, (int)U);
        } else {
            memset(x, 0, b * U * sizeof(double));
        }
        for (size_t s = 0; s < b; s++)
            for (size_t u = 0; u < U; u++)
                x[s * U + u] = shocked(m, u, x[s * U + u]);
    }
    return RK_OK;
}

rk_status rsk_states_from_shocks(const dat_market *m, const double *shock, size_t n, rsk_states *st)
{
    rk_status rc = states_alloc(st, n, m->nund);
    if (rc != RK_OK)
        return rc;
    return rsk_states_from_shocks_fill(m, shock, n, st);
}

void rsk_states_free(rsk_states *st)
{
    if (st == NULL)
        return;
    free(st->x);
    memset(st, 0, sizeof *st);
}
