/*
 * whatif.c - the warm cache of a complete run and the evaluation of candidate positions
 * against it (see whatif.h for why the "after" figures are those of a full run).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "whatif.h"

#define BLOCK ((size_t)RSK_STATE_BLOCK)

/* ---- the cache ---- */

void rsk_wcache_free(rsk_wcache *c)
{
    if (c == NULL)
        return;
    free(c->cov);
    free(c->gx);
    free(c->sx);
    free(c->xexp);
    free(c->xpnl);
    free(c->pv_var);
    free(c->pv_contrib);
    free(c->s_var);
    free(c->s_es);
    memset(c, 0, sizeof *c);
}

/* n x elem bytes, 0 when it overflows (callers then fail with NO_MEMORY). */
static void *alloc_n(size_t n, size_t elem)
{
    if (n != 0 && elem > SIZE_MAX / n)
        return NULL;
    return malloc((n ? n : 1) * elem);
}

/* Every scenario's market state, made block by block exactly as the flow makes them
 * (rsk_run_shocks, then rsk_states_from_shocks_fill over blocks starting at scenario 0), so
 * each state has the bits the run priced in; stored underlying-major (see rsk_wcache.sx). */
static rk_status scenario_states(rsk_wcache *c, const rsk_run *run, const rsk_scen_set *s)
{
    size_t F = c->F, U = c->U;
    rsk_states st = {0};
    double *shock = alloc_n(BLOCK * (F ? F : 1), sizeof(double));
    double *work = alloc_n(BLOCK * (F ? F : 1), sizeof(double));
    rk_status rc = shock != NULL && work != NULL ? rsk_states_reserve(&st, BLOCK, U) : RK_NO_MEMORY;
    for (size_t first = 0; rc == RK_OK && first < s->n; first += BLOCK) {
        size_t count = s->n - first < BLOCK ? s->n - first : BLOCK;
        rsk_run_shocks(run, s, first, count, work, shock);
        rc = rsk_states_from_shocks_fill(run->mkt, shock, count, &st);
        for (size_t k = 0; rc == RK_OK && k < count; k++)
            for (size_t u = 0; u < U; u++)
                c->sx[u * s->n + first + k] = st.x[k * U + u];
    }
    rsk_states_free(&st);
    free(shock);
    free(work);
    return rc;
}

rk_status rsk_wcache_build(rsk_wcache *c, const rsk_run *run)
{
    const dat_dataset *ds = run->layout->ds;
    size_t nb = ds->pos.nbooks, F = ds->mkt.nfactors, U = ds->mkt.nund, rows = nb + 1;
    if (run->status != RK_OK)
        return RK_BAD_ARGUMENT;
    const rsk_scen_set *s = NULL;
    if (run->mc_set >= 0 && run->sets[run->mc_set].has_var)
        s = &run->sets[run->mc_set];
    else if (run->file_set >= 0 && run->sets[run->file_set].has_var)
        s = &run->sets[run->file_set];
    if (!run->has_pv && s == NULL)
        return RK_BAD_ARGUMENT;
    memset(c, 0, sizeof *c);
    c->layout = run->layout;
    c->nbooks = nb;
    c->F = F;
    c->U = U;
    c->bump = run->spec.bump;
    c->confidence = run->spec.confidence;
    c->es_confidence = run->spec.es_confidence;
    c->horizon = run->spec.horizon;
    c->has_pv = run->has_pv;
    c->has_scen = s != NULL;
    c->cov = alloc_n(F * F, sizeof(double));
    c->gx = alloc_n((1 + 2 * F) * U, sizeof(double));
    if (c->cov == NULL || c->gx == NULL)
        goto nomem;
    if (F > 0)
        memcpy(c->cov, run->mkt->cov, F * F * sizeof(double));
    size_t ng = 1 + 2 * F;
    for (size_t g = 0; g < ng; g++)
        for (size_t u = 0; u < U; u++)
            c->gx[u * ng + g] = run->states.x[g * U + u];
    if (c->has_pv) {
        c->xexp = alloc_n(rows * F, sizeof(rsk_xsum));
        c->pv_var = alloc_n(rows, sizeof(double));
        c->pv_contrib = alloc_n(rows, sizeof(double));
        if (c->xexp == NULL || c->pv_var == NULL || c->pv_contrib == NULL)
            goto nomem;
        memcpy(c->xexp, run->grid.xexposure, rows * F * sizeof(rsk_xsum));
        memcpy(c->pv_var, run->pv.var, rows * sizeof(double));
        memcpy(c->pv_contrib, run->pv.contrib, rows * sizeof(double));
    }
    if (c->has_scen) {
        c->mc = s->mc;
        c->nscen = s->n;
        c->seed = s->seed;
        c->sx = alloc_n(s->n * U, sizeof(double));
        c->xpnl = alloc_n(rows * s->n, sizeof(rsk_xsum));
        c->s_var = alloc_n(rows, sizeof(double));
        c->s_es = alloc_n(rows, sizeof(double));
        if (c->sx == NULL || c->xpnl == NULL || c->s_var == NULL || c->s_es == NULL)
            goto nomem;
        memcpy(c->xpnl, s->pnl.xpnl, rows * s->n * sizeof(rsk_xsum));
        memcpy(c->s_var, s->var, rows * sizeof(double));
        memcpy(c->s_es, s->es, rows * sizeof(double));
        rk_status rc = scenario_states(c, run, s);
        if (rc != RK_OK) {
            rsk_wcache_free(c);
            return rc;
        }
    }
    return RK_OK;
nomem:
    rsk_wcache_free(c);
    return RK_NO_MEMORY;
}

/* ---- scratch ---- */

void rsk_wscratch_free(rsk_wscratch *w)
{
    if (w == NULL)
        return;
    void *arrs[] = {w->S,       w->K,        w->T,      w->r,          w->sigma,   w->q,
                    w->coupon,  w->freq,     w->price,  w->steps,      w->flags,   w->tree,
                    w->xexp,    w->xpnl,     w->exp,    w->pnl,        w->pv_work, w->sort,
                    w->touched, w->pv.sigma, w->pv.var, w->pv.contrib, w->s_var,   w->s_es,
                    w->value,   w->status};
    for (size_t k = 0; k < sizeof arrs / sizeof arrs[0]; k++)
        free(arrs[k]);
    memset(w, 0, sizeof *w);
}

/* Replaces *p by an array of n elements (contents not kept). */
static bool renew(void **p, size_t n, size_t elem)
{
    free(*p);
    *p = alloc_n(n, elem);
    return *p != NULL;
}

uint32_t rsk_whatif_max_steps(const dat_positions *cand, size_t n)
{
    uint32_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (cand->kind[i] != MDL_AMER_CALL && cand->kind[i] != MDL_AMER_PUT)
            continue;
        uint32_t need = cand->steps[i] > 0 ? cand->steps[i] : MDL_FALLBACK_STEPS;
        if (need > m)
            m = need;
    }
    return m;
}

rk_status rsk_wscratch_reserve(rsk_wscratch *w, const rsk_wcache *c, size_t trades,
                               size_t nbooks_after, uint32_t max_steps)
{
    size_t F = c->F, ns = c->nscen, rows = nbooks_after + 1;
    size_t items = 1 + 2 * F > ns ? 1 + 2 * F : ns;
    bool ok = true;
    if (w->cap_items < items) {
        w->cap_items = 0;
        ok = renew((void **)&w->S, items, sizeof(double)) &&
             renew((void **)&w->K, items, sizeof(double)) &&
             renew((void **)&w->T, items, sizeof(double)) &&
             renew((void **)&w->r, items, sizeof(double)) &&
             renew((void **)&w->sigma, items, sizeof(double)) &&
             renew((void **)&w->q, items, sizeof(double)) &&
             renew((void **)&w->coupon, items, sizeof(double)) &&
             renew((void **)&w->freq, items, sizeof(double)) &&
             renew((void **)&w->price, items, sizeof(double)) &&
             renew((void **)&w->steps, items, sizeof(uint32_t)) &&
             renew((void **)&w->flags, items, sizeof(uint8_t)) &&
             renew((void **)&w->sort, ns ? ns : 1, sizeof(double));
        if (!ok)
            return RK_NO_MEMORY;
        w->cap_items = items;
        w->cap_books = 0; /* the per-book arrays depend on nscen too */
    }
    if (w->cap_books < rows) {
        w->cap_books = 0;
        ok = renew((void **)&w->xexp, rows * (F ? F : 1), sizeof(rsk_xsum)) &&
             renew((void **)&w->exp, rows * (F ? F : 1), sizeof(double)) &&
             renew((void **)&w->pv_work, rows * (F ? F : 1), sizeof(double)) &&
             renew((void **)&w->xpnl, rows * (ns ? ns : 1), sizeof(rsk_xsum)) &&
             renew((void **)&w->pnl, rows * (ns ? ns : 1), sizeof(double)) &&
             renew((void **)&w->touched, rows, sizeof(uint8_t)) &&
             renew((void **)&w->pv.sigma, rows, sizeof(double)) &&
             renew((void **)&w->pv.var, rows, sizeof(double)) &&
             renew((void **)&w->pv.contrib, rows, sizeof(double)) &&
             renew((void **)&w->s_var, rows, sizeof(double)) &&
             renew((void **)&w->s_es, rows, sizeof(double));
        if (!ok)
            return RK_NO_MEMORY;
        w->cap_books = rows;
    }
    if (w->cap_trades < trades) {
        w->cap_trades = 0;
        if (!renew((void **)&w->value, trades, sizeof(double)) ||
            !renew((void **)&w->status, trades, sizeof(uint8_t)))
            return RK_NO_MEMORY;
        w->cap_trades = trades;
    }
    size_t tree = max_steps > 0 ? mdl_work_needed(max_steps) : 0;
    if (w->tree_len < tree) {
        w->tree_len = 0;
        if (!renew((void **)&w->tree, tree, sizeof(double)))
            return RK_NO_MEMORY;
        w->tree_len = tree;
    }
    return RK_OK;
}

/* ---- evaluation ---- */

static bool is_option(mdl_kind k)
{
    return k == MDL_EURO_CALL || k == MDL_EURO_PUT || k == MDL_AMER_CALL || k == MDL_AMER_PUT;
}

/*
 * Values of candidate i in the n states of xt (U x n, underlying-major: the states' values of
 * one underlying are contiguous): v[s] = quantity x unit price, NaN when not finite. The inputs are
 * gathered as a tile gathers a chunk's (eval.c: spot, rate or its literal, vol or its literal; the
 * rest as loaded), one item per state, and priced in one call of the kind's batch entry: an item
 * gets the bits it gets in any batch.
 */
static void price_states(const rsk_wcache *c, const dat_positions *cand, size_t i, const double *xt,
                         size_t stride, size_t n, rsk_wscratch *w, double *v)
{
    mdl_kind k = (mdl_kind)cand->kind[i];
    const double *xu = xt + (size_t)cand->und[i] * stride;
    const double *xr = cand->rate[i] == DAT_NONE ? NULL : xt + (size_t)cand->rate[i] * stride;
    const double *xv = cand->vol[i] == DAT_NONE ? NULL : xt + (size_t)cand->vol[i] * stride;
    for (size_t s = 0; s < n; s++) {
        if (k == MDL_BOND) {
            w->r[s] = xu[s];
        } else {
            w->S[s] = xu[s];
            if (k != MDL_SPOT)
                w->r[s] = xr == NULL ? cand->rate_lit[i] : xr[s];
            if (is_option(k))
                w->sigma[s] = xv == NULL ? cand->vol_lit[i] : xv[s];
        }
        w->K[s] = cand->strike[i];
        w->T[s] = cand->expiry[i];
        w->q[s] = cand->dividend[i];
        w->coupon[s] = cand->coupon[i];
        w->freq[s] = cand->frequency[i];
        w->steps[s] = cand->steps[i];
    }
    mdl_batch b = {.n = n,
                   .S = w->S,
                   .K = w->K,
                   .T = w->T,
                   .r = w->r,
                   .sigma = w->sigma,
                   .q = w->q,
                   .coupon = w->coupon,
                   .freq = w->freq,
                   .steps = w->steps,
                   .price = w->price,
                   .flags = w->flags};
    mdl_work work = {w->tree, w->tree_len};
    size_t done = c->layout->models[k].batch(&b, &work, NULL);
    for (size_t s = 0; s < n; s++) {
        double val = s < done ? cand->quantity[i] * w->price[s] : NAN;
        v[s] = isfinite(val) ? val : NAN;
    }
}

/* Adds candidate i's cells into the after sums (the checks of grid_tile and pnl_tile). */
static void add_candidate(const rsk_wcache *c, const dat_positions *cand, size_t i, uint32_t b,
                          size_t nba, rsk_wscratch *w)
{
    size_t F = c->F, ns = c->nscen;
    double *v = w->price; /* the batch's prices become the values, item for item */
    price_states(c, cand, i, c->gx, 1 + 2 * F, 1 + (c->has_pv ? 2 * F : 0), w, v);
    double v0 = v[0];
    w->value[i] = v0;
    if (!isfinite(v0)) {
        w->status[i] = RK_NUMERIC;
        return;
    }
    if (!w->touched[b]) {
        /* the book's P&L row, from the cache (a new book: none yet) */
        w->touched[b] = 1;
        if (c->has_scen && b < c->nbooks)
            memcpy(w->xpnl + b * ns, c->xpnl + b * ns, ns * sizeof(rsk_xsum));
        else if (c->has_scen)
            memset(w->xpnl + b * ns, 0, ns * sizeof(rsk_xsum));
    }
    if (c->has_pv) {
        const double h2 = 2.0 * c->bump, hh = c->bump * c->bump;
        for (size_t j = 0; j < F; j++) {
            double vp = v[rsk_grid_state(j, +1)], vm = v[rsk_grid_state(j, -1)];
            double d = (vp - vm) / h2;
            double g = (vp - 2.0 * v0 + vm) / hh;
            if (!isfinite(d) || !isfinite(g) || !rsk_xsum_term_ok(d))
                continue;
            rsk_xsum x = rsk_xsum_from(d);
            w->xexp[b * F + j] += x;
            w->xexp[nba * F + j] += x;
        }
    }
    if (c->has_scen) {
        price_states(c, cand, i, c->sx, ns, ns, w, v);
        for (size_t s = 0; s < ns; s++) {
            double pl = v[s] - v0;
            if (!isfinite(pl) || !rsk_xsum_term_ok(pl))
                continue;
            rsk_xsum x = rsk_xsum_from(pl);
            w->xpnl[b * ns + s] += x;
            w->xpnl[nba * ns + s] += x;
        }
    }
}

/* The before exposures in the after numbering: existing books keep their rows, new books
 * start at zero, TOTAL moves to the end. (P&L rows are copied only for the books candidates
 * touch, in add_candidate: the others keep their figures.) */
static void copy_before(const rsk_xsum *before, size_t nb, size_t nba, size_t cols, rsk_xsum *after)
{
    memcpy(after, before, nb * cols * sizeof(rsk_xsum));
    memset(after + nb * cols, 0, (nba - nb) * cols * sizeof(rsk_xsum));
    memcpy(after + nba * cols, before + nb * cols, cols * sizeof(rsk_xsum));
}

rk_status rsk_whatif_eval(const rsk_wcache *c, const dat_positions *cand, size_t n,
                          const uint32_t *book, size_t nbooks_after, rsk_wscratch *w)
{
    size_t nb = c->nbooks, nba = nbooks_after, F = c->F, ns = c->nscen;
    w->nbooks = nba;
    memset(w->touched, 0, nba + 1);
    if (c->has_pv)
        copy_before(c->xexp, nb, nba, F, w->xexp);
    w->touched[nba] = 1;
    if (c->has_scen)
        memcpy(w->xpnl + nba * ns, c->xpnl + nb * ns, ns * sizeof(rsk_xsum));
    for (size_t i = 0; i < n; i++) {
        w->value[i] = NAN;
        w->status[i] = cand->status[i];
        if (cand->status[i] == RK_OK)
            add_candidate(c, cand, i, book[i], nba, w);
    }
    rk_status rc = RK_OK;
    if (c->has_pv) {
        for (size_t k = 0; k < (nba + 1) * F; k++)
            w->exp[k] = rsk_xsum_value(w->xexp[k]);
        rc = rsk_parametric_var_into(w->exp, nba, c->cov, F, c->confidence, c->horizon, w->pv_work,
                                     &w->pv);
    }
    if (c->has_scen) {
        for (size_t b = 0; b <= nba && rc == RK_OK; b++) {
            if (!w->touched[b] && b < nb) {
                /* no candidate in it: the same sums, so the same figures */
                w->s_var[b] = c->s_var[b];
                w->s_es[b] = c->s_es[b];
                continue;
            }
            if (!w->touched[b]) /* a new book whose candidates are all invalid: empty */
                memset(w->xpnl + b * ns, 0, ns * sizeof(rsk_xsum));
            double *pnl = w->pnl + b * ns;
            for (size_t s = 0; s < ns; s++)
                pnl[s] = rsk_xsum_value(w->xpnl[b * ns + s]);
            rc = rsk_var_es(pnl, ns, c->confidence, c->es_confidence, w->sort, &w->s_var[b],
                            &w->s_es[b]);
        }
    }
    return rc;
}
