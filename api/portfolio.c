/*
 * portfolio.c - rk_portfolio and the live market behind the public header.
 *
 * The market is a chain of immutable snapshots (underlying values and covariance) with a
 * version. An update copies the current snapshot into a spare one, changes the copy and
 * publishes it as current, all under the portfolio's market lock: readers never see a half
 * update, and a request pins (references) the snapshot current at submit and computes on it
 * alone. Pinning is a lock and an increment, not an atomic load of the pointer: with a plain
 * atomic pointer a reader could load a snapshot just before the writer drops its last
 * reference (the classic reclamation race); the lock is held for a few instructions only.
 * Released snapshots go to a spare list and are reused, so updates of values allocate nothing
 * once warm.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

/* ---- market snapshots ---- */

static void snap_free(api_snap *s)
{
    if (s == NULL)
        return;
    free(s->values);
    free(s->cov);
    free(s);
}

static api_snap *snap_new(size_t nund, size_t F)
{
    api_snap *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->values = malloc((nund ? nund : 1) * sizeof(double));
    s->cov = malloc((F ? F * F : 1) * sizeof(double));
    if (s->values == NULL || s->cov == NULL) {
        snap_free(s);
        return NULL;
    }
    return s;
}

api_snap *snap_pin(rk_portfolio *pf)
{
    pthread_mutex_lock(&pf->mkt_mu);
    api_snap *s = pf->cur;
    s->refs++;
    pthread_mutex_unlock(&pf->mkt_mu);
    return s;
}

static void unpin_locked(rk_portfolio *pf, api_snap *s)
{
    if (--s->refs == 0) {
        s->next = pf->spare;
        pf->spare = s;
    }
}

void snap_unpin(rk_portfolio *pf, api_snap *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&pf->mkt_mu);
    unpin_locked(pf, s);
    pthread_mutex_unlock(&pf->mkt_mu);
}

/* A spare snapshot, allocated when none is left. Market lock not held. */
static api_snap *snap_obtain(rk_portfolio *pf)
{
    pthread_mutex_lock(&pf->mkt_mu);
    api_snap *s = pf->spare;
    if (s != NULL)
        pf->spare = s->next;
    pthread_mutex_unlock(&pf->mkt_mu);
    if (s == NULL)
        s = snap_new(pf->ds->ds.mkt.nund, pf->ds->ds.mkt.nfactors);
    return s;
}

/* Copies the current snapshot into s, applies the change (values [first, first + n) and/or the
 * covariance), publishes s as current with the next version. */
static void publish(rk_portfolio *pf, api_snap *s, size_t first, size_t n, const double *values,
                    const double *cov)
{
    const dat_market *m = &pf->ds->ds.mkt;
    size_t F = m->nfactors;
    pthread_mutex_lock(&pf->mkt_mu);
    api_snap *old = pf->cur;
    memcpy(s->values, old->values, m->nund * sizeof(double));
    memcpy(s->cov, old->cov, F * F * sizeof(double));
    if (values != NULL)
        memcpy(s->values + first, values, n * sizeof(double));
    if (cov != NULL)
        memcpy(s->cov, cov, F * F * sizeof(double));
    s->version = ++pf->version;
    if (cov != NULL)
        ++pf->cov_gen;
    s->cov_gen = pf->cov_gen;
    s->refs = 1;
    s->next = NULL;
    pf->cur = s;
    /* relaxed: a hint for rk_portfolio_market_version; the lock orders everything else */
    atomic_store_explicit(&pf->version_hint, s->version, memory_order_relaxed);
    unpin_locked(pf, old);
    pthread_mutex_unlock(&pf->mkt_mu);
}

rk_status rk_portfolio_set_values(rk_portfolio *pf, size_t first, size_t n, const double *values)
{
    if (pf == NULL || (values == NULL && n > 0))
        return RK_BAD_ARGUMENT;
    const dat_market *m = &pf->ds->ds.mkt;
    if (first > m->nund || n > m->nund - first)
        return RK_NOT_FOUND;
    for (size_t k = 0; k < n; k++) {
        double v = values[k];
        bool rate = m->und_kind[first + k] == DAT_UND_RATE;
        if (!isfinite(v) || (!rate && !(v > 0)))
            return RK_BAD_ARGUMENT;
    }
    api_snap *s = snap_obtain(pf);
    if (s == NULL)
        return RK_NO_MEMORY;
    publish(pf, s, first, n, values, NULL);
    return RK_OK;
}

rk_status rk_portfolio_set_value(rk_portfolio *pf, size_t underlying, double value)
{
    if (pf == NULL)
        return RK_BAD_ARGUMENT;
    if (underlying >= pf->ds->ds.mkt.nund)
        return RK_NOT_FOUND;
    return rk_portfolio_set_values(pf, underlying, 1, &value);
}

rk_status rk_portfolio_set_covariance(rk_portfolio *pf, const double *cov, size_t nfactors)
{
    if (pf == NULL || nfactors != pf->ds->ds.mkt.nfactors || (cov == NULL && nfactors > 0))
        return RK_BAD_ARGUMENT;
    size_t F = nfactors;
    double *c = malloc((F > 0 ? 2 * F * F : 1) * sizeof *c); /* the matrix, then scratch */
    if (c == NULL)
        return RK_NO_MEMORY;
    if (F > 0)
        memcpy(c, cov, F * F * sizeof *c);
    rk_status rc = dat_cov_check(c, F, c + F * F, NULL); /* the loader's rule: symmetrises c */
    api_snap *s = rc == RK_OK ? snap_obtain(pf) : NULL;
    if (rc == RK_OK && s == NULL)
        rc = RK_NO_MEMORY;
    if (rc == RK_OK)
        publish(pf, s, 0, 0, NULL, F > 0 ? c : NULL);
    free(c);
    return rc;
}

/* One factor is cached, for the latest generation asked for: market updates of values keep the
 * covariance's generation, so a stream of Monte Carlo requests between covariance updates
 * factors it once. The copy out costs F x F, far below the factorisation. */
rk_status snap_cholesky(rk_portfolio *pf, const api_snap *s, double *L)
{
    size_t F = pf->ds->ds.mkt.nfactors;
    rk_status rc;
    pthread_mutex_lock(&pf->chol_mu);
    if (pf->chol == NULL && (pf->chol = malloc((F ? F * F : 1) * sizeof(double))) == NULL) {
        rc = RK_NO_MEMORY;
        goto unlock;
    }
    if (pf->chol_gen != s->cov_gen) {
        pf->chol_rc = rsk_cholesky(s->cov, F, pf->chol);
        pf->chol_gen = s->cov_gen;
    }
    rc = pf->chol_rc;
    if (rc == RK_OK && F > 0)
        memcpy(L, pf->chol, F * F * sizeof(double));
unlock:
    pthread_mutex_unlock(&pf->chol_mu);
    return rc;
}

uint64_t rk_portfolio_market_version(const rk_portfolio *pf)
{
    if (pf == NULL)
        return 0;
    /* relaxed: see version_hint */
    return atomic_load_explicit(&((rk_portfolio *)pf)->version_hint, memory_order_relaxed);
}

const rk_dataset *rk_portfolio_dataset(const rk_portfolio *pf)
{
    return pf != NULL ? pf->ds : NULL;
}

/* ---- portfolios ---- */

rk_status rk_portfolio_create(rk_engine *e, rk_dataset *ds, rk_portfolio **out)
{
    if (out == NULL)
        return RK_BAD_ARGUMENT;
    *out = NULL;
    if (e == NULL || ds == NULL)
        return RK_BAD_ARGUMENT;
    const dat_market *m = &ds->ds.mkt;
    if (m->nfactors > 0 && (!ds->has_cov || m->cov == NULL))
        return RK_BAD_ARGUMENT;
    rk_portfolio *pf = calloc(1, sizeof *pf);
    if (pf == NULL)
        return RK_NO_MEMORY;
    /* acq_rel: seals the data set; see rk_dataset.users */
    atomic_fetch_add_explicit(&ds->users, 1, memory_order_acq_rel);
    pf->eng = e;
    pf->ds = ds;
    pthread_mutex_init(&pf->mkt_mu, NULL);
    pthread_mutex_init(&pf->pool_mu, NULL);
    pthread_mutex_init(&pf->chol_mu, NULL);
    pthread_mutex_init(&pf->wc_mu, NULL);
    rk_status rc = RK_NO_MEMORY;
    size_t n = ds->ds.pos.n;
    pf->pos_msg = calloc(n ? n : 1, sizeof *pf->pos_msg);
    pf->cur = snap_new(m->nund, m->nfactors);
    if (pf->pos_msg == NULL || pf->cur == NULL)
        goto fail;
    for (size_t k = 0; k < ds->ds.nerrors; k++) {
        size_t i = ds->ds.errors[k].position;
        if (i < n && pf->pos_msg[i] == NULL)
            pf->pos_msg[i] = ds->ds.errors[k].message;
    }
    if (m->nund > 0)
        memcpy(pf->cur->values, m->und_value, m->nund * sizeof(double));
    if (m->nfactors > 0)
        memcpy(pf->cur->cov, m->cov, m->nfactors * m->nfactors * sizeof(double));
    pf->cur->version = pf->version = 1;
    pf->cur->cov_gen = pf->cov_gen = 1;
    pf->cur->refs = 1;
    atomic_init(&pf->version_hint, 1);
    rc = rsk_layout_build(&ds->ds, e->eng, &pf->layout);
    if (rc == RK_OK)
        rc = rsk_layout_set_isa(&pf->layout, e->isa);
    if (rc != RK_OK)
        goto fail;
    *out = pf;
    return RK_OK;

fail:
    snap_free(pf->cur);
    free(pf->pos_msg);
    pthread_mutex_destroy(&pf->mkt_mu);
    pthread_mutex_destroy(&pf->pool_mu);
    pthread_mutex_destroy(&pf->chol_mu);
    pthread_mutex_destroy(&pf->wc_mu);
    atomic_fetch_sub_explicit(&ds->users, 1, memory_order_acq_rel);
    free(pf);
    return rc;
}

void rk_portfolio_destroy(rk_portfolio *pf)
{
    if (pf == NULL)
        return;
    result_pool_fini(pf);
    wcache_drop(pf);
    rsk_layout_free(&pf->layout);
    snap_free(pf->cur);
    while (pf->spare != NULL) {
        api_snap *s = pf->spare;
        pf->spare = s->next;
        snap_free(s);
    }
    free(pf->pos_msg);
    free(pf->chol);
    pthread_mutex_destroy(&pf->mkt_mu);
    pthread_mutex_destroy(&pf->pool_mu);
    pthread_mutex_destroy(&pf->chol_mu);
    pthread_mutex_destroy(&pf->wc_mu);
    /* acq_rel: pairs with the seal; the data set may be freed after this */
    atomic_fetch_sub_explicit(&pf->ds->users, 1, memory_order_acq_rel);
    free(pf);
}
