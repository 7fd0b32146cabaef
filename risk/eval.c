/*
 * eval.c - tile functions and reductions for base values, the sensitivity grid and scenario
 * P&L (see eval.h for cells, records and the order of sums).
 *
 * A tile is (one chunk) x (a range of states). For each state the tile gathers the
 * state-dependent model inputs of the chunk's slots (spot, rate, vol) into worker scratch,
 * prices each kind segment with the model table's batch entry, and multiplies by quantity.
 * Everything else (strike, expiry...) is read in place from the chunk. No allocation per tile.
 *
 * Sums go into per-worker exact accumulators (xsum.h): worker w adds its cells into row w of
 * the task's accumulator table, and rsk_task_finish adds the rows. Exact integer sums make the
 * result independent of which worker added what, in which order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"
#include "eval.h"
#include "xsum.h"

/* Price calls are cut so that the stop flag is polled at least every ~10 µs of estimated work
 * (rsk_price_cost_ns), which keeps cancel-to-return and deadline overshoot well under 1 ms;
 * CRR trees also poll from inside. */
#define POLL_EVERY_NS 10000.0

typedef enum job_kind { JOB_VALUES, JOB_GRID, JOB_PNL } job_kind;

/* Worker scratch, followed by the tree work area. Owner worker only. */
typedef struct scratch {
    double S[RSK_CHUNK], r[RSK_CHUNK], sigma[RSK_CHUNK], price[RSK_CHUNK];
    double va[RSK_CHUNK], vb[RSK_CHUNK];
    double delta[RSK_CHUNK], gamma[RSK_CHUNK]; /* grid: per slot, from va and vb */
    double base[RSK_CHUNK];                    /* grid: per slot, the base value */
    double pl[RSK_CHUNK];                      /* pnl: per slot, va less the base value */
    int64_t xhi[RSK_CHUNK];                    /* per slot: the delta's (pl's) fixed point, */
    uint64_t xlo[RSK_CHUNK];                   /* as the halves of rsk_cells' split */
    uint8_t fa[RSK_CHUNK], fb[RSK_CHUNK];
    /* a subset of slots gathered contiguously (grid with reuse of unmoved positions) */
    /* (both bumps of one factor: up in [0, m), down in [m, 2m)) */
    double cS[2 * RSK_CHUNK], cr[2 * RSK_CHUNK], csig[2 * RSK_CHUNK], cK[2 * RSK_CHUNK];
    double cT[2 * RSK_CHUNK], cq[2 * RSK_CHUNK], ccoup[2 * RSK_CHUNK], cfreq[2 * RSK_CHUNK];
    double cprice[2 * RSK_CHUNK];
    uint32_t csteps[2 * RSK_CHUNK];
    uint16_t cidx[RSK_CHUNK];
    uint8_t cflags[2 * RSK_CHUNK];
    double tail[];
} scratch;

struct rsk_task {
    rsk_workspace *ws; /* where the task goes back when released; NULL: freed */
    job_kind kind;
    eng_job_desc ej;
    eng_job *req;
    const rsk_layout *layout;
    const rsk_states *st;
    size_t nbooks, nfactors, ncols;
    size_t tree_len;             /* doubles of tree work in scratch */
    _Atomic uint64_t cells_done; /* for progress; relaxed: only a rough count */
    /* values */
    size_t state;
    rsk_values *vals;
    /* grid */
    double h;
    const rsk_values *base;
    rsk_grid *grid;
    bool reuse_unmoved; /* price only the slots a bump moves (see rsk_submit) */
    const rsk_cells *cells; /* the pricing level's copy */
    /* pnl */
    size_t first;
    rsk_pnl *pnl;
    uint16_t *chunk_done; /* nchunks x ncols: slots priced in that state, a prefix (nslots
                             when the tile finished it; fewer when it stopped there) */
    /* grid and pnl: per-worker sums and OK-cell counts, nworkers x ncols x (nbooks + 1); row w
     * is written only by worker w */
    size_t nworkers;
    rsk_xsum *wsum;
    uint64_t *wcnt;
    size_t wcap;    /* entries allocated in wsum and wcnt (kept when the task is reused) */
    size_t donecap; /* entries allocated in chunk_done */
};

/* ---- pricing one chunk in one state ---- */

static bool poll_stop(void *arg)
{
    return eng_should_stop(arg);
}

static bool is_option(mdl_kind k)
{
    return k == MDL_EURO_CALL || k == MDL_EURO_PUT || k == MDL_AMER_CALL || k == MDL_AMER_PUT;
}

/* Gathers the state-dependent inputs of slots [a, b) of kind k from state x. */
static void gather(const rsk_chunk *c, mdl_kind k, uint32_t a, uint32_t b, const double *x,
                   scratch *sc)
{
    if (k == MDL_BOND) {
        for (uint32_t s = a; s < b; s++)
            sc->r[s] = x[c->und[s]];
        return;
    }
    for (uint32_t s = a; s < b; s++)
        sc->S[s] = x[c->und[s]];
    if (k == MDL_SPOT)
        return;
    for (uint32_t s = a; s < b; s++)
        sc->r[s] = c->rate[s] == DAT_NONE ? c->rate_lit[s] : x[c->rate[s]];
    if (!is_option(k))
        return;
    for (uint32_t s = a; s < b; s++)
        sc->sigma[s] = c->vol[s] == DAT_NONE ? c->vol_lit[s] : x[c->vol[s]];
}

static bool is_american(mdl_kind k)
{
    return k == MDL_AMER_CALL || k == MDL_AMER_PUT;
}

/* Slots per batch call of kind k, so that the stop flag is polled every POLL_EVERY_NS of
 * estimated work. The american kernels poll between their own blocks, and trees from inside,
 * so an american run is cut only where closed forms and trees alternate. */
static uint32_t batch_step(mdl_kind k)
{
    if (is_american(k))
        return UINT32_MAX;
    double each = rsk_price_cost_ns(k, 0);
    return each >= POLL_EVERY_NS ? 1u : (uint32_t)(POLL_EVERY_NS / each);
}

/* How many of the n slots from `steps` on go into one american batch call: trees one at a
 * time (their cost varies, they poll from inside), closed forms in runs. */
static uint32_t american_run(const uint32_t *steps, uint32_t n)
{
    if (steps[0] > 0)
        return 1;
    uint32_t m = 1;
    while (m < n && steps[m] == 0)
        m++;
    return m;
}

/* a + i, for an input array a batch may leave NULL (a kind that does not use it) */
static const double *offset(const double *a, uint32_t i)
{
    return a != NULL ? a + i : NULL;
}

/* Prices the batch `all` (every array covering all->n items) with calls of kind k's batch
 * entry cut where batch_step and american_run say. Returns false when the request asked to
 * stop; *reached then counts the items priced, a prefix (all->n when it returns true). */
static bool price_runs(const mdl_entry *tab, mdl_kind k, const mdl_batch *all,
                       const mdl_work *work, const mdl_poll *poll, eng_worker *w,
                       uint32_t *reached)
{
    uint32_t step = batch_step(k), total = (uint32_t)all->n;
    *reached = total;
    for (uint32_t i = 0; i < total;) {
        *reached = i;
        if (eng_should_stop(w))
            return false;
        uint32_t n = total - i < step ? total - i : step;
        if (is_american(k))
            n = american_run(all->steps + i, n);
        mdl_batch bt = {
            .n = n,
            .S = offset(all->S, i),
            .K = offset(all->K, i),
            .T = offset(all->T, i),
            .r = offset(all->r, i),
            .sigma = offset(all->sigma, i),
            .q = offset(all->q, i),
            .coupon = offset(all->coupon, i),
            .freq = offset(all->freq, i),
            .steps = all->steps + i,
            .price = all->price + i,
            .flags = all->flags + i,
        };
        size_t got = tab[k].batch(&bt, work, poll);
        if (got < n) {
            *reached = i + (uint32_t)got;
            return false;
        }
        i += n;
    }
    *reached = total;
    return true;
}

/*
 * Prices slots [a, b) of kind k of chunk c in state x: v[s] = quantity x unit price (NaN when
 * not finite), flags[s] from the model. Returns false when the request asked to stop: v is then
 * set for the slots [a, *reached) priced before it, a prefix.
 */
static bool price_segment(const mdl_entry *tab, const rsk_chunk *c, mdl_kind k, uint32_t a,
                          uint32_t b, const double *x, scratch *sc, const mdl_work *work,
                          const mdl_poll *poll, eng_worker *w, double *v, uint8_t *flags,
                          uint32_t *reached)
{
    gather(c, k, a, b, x, sc);
    mdl_batch all = {
        .n = b - a,
        .S = sc->S + a,
        .K = c->K + a,
        .T = c->T + a,
        .r = sc->r + a,
        .sigma = sc->sigma + a,
        .q = c->q + a,
        .coupon = c->coupon + a,
        .freq = c->freq + a,
        .steps = c->steps + a,
        .price = sc->price + a,
        .flags = flags + a,
    };
    uint32_t got;
    bool done = price_runs(tab, k, &all, work, poll, w, &got);
    for (uint32_t s = a; s < a + got; s++) {
        double val = c->qty[s] * sc->price[s];
        v[s] = isfinite(val) ? val : NAN;
    }
    *reached = a + got;
    return done;
}

/* Prices every slot of chunk c in state x (see price_segment). On a stop, the slots
 * [0, *reached) are priced (the segments are in slot order). */
static bool price_chunk(const rsk_layout *layout, const rsk_chunk *c, const double *x,
                        scratch *sc, size_t tree_len, eng_worker *w, double *v, uint8_t *flags,
                        uint32_t *reached)
{
    mdl_work work = {sc->tail + 0, tree_len};
    mdl_poll poll = {poll_stop, w};
    *reached = 0;
    for (unsigned k = 0; k < MDL_KIND_COUNT; k++) {
        uint32_t a = c->seg[k], b = c->seg[k + 1];
        if (a < b && !price_segment(layout->models, c, (mdl_kind)k, a, b, x, sc, &work, &poll,
                                    w, v, flags, reached))
            return false;
        *reached = b;
    }
    return true;
}

/* Copies the inputs of the m slots listed in cidx into the compact arrays at offset `at`. */
static void compact(const rsk_chunk *c, scratch *sc, uint32_t m, uint32_t at)
{
    for (uint32_t i = 0; i < m; i++) {
        uint16_t s = sc->cidx[i];
        sc->cS[at + i] = sc->S[s];
        sc->cr[at + i] = sc->r[s];
        sc->csig[at + i] = sc->sigma[s];
        sc->cK[at + i] = c->K[s];
        sc->cT[at + i] = c->T[s];
        sc->cq[at + i] = c->q[s];
        sc->ccoup[at + i] = c->coupon[s];
        sc->cfreq[at + i] = c->freq[s];
        sc->csteps[at + i] = c->steps[s];
    }
}

/*
 * Prices the m slots of kind k (segment [a, b)) listed in cidx in both states xp and xm with
 * one run of batch calls: their inputs are gathered contiguously, up state then down state.
 * A model is a pure function of its inputs, lane for lane, so each value is the one
 * price_segment gives, bit for bit; what changes is that a short segment fills the kernels'
 * vector blocks twice as well. vp and vm receive the m slots' values. On a stop, *pairs of
 * them (the first ones listed) have both values, and the others none.
 */
static bool price_compact(const mdl_entry *tab, const rsk_chunk *c, mdl_kind k, uint32_t a,
                          uint32_t b, uint32_t m, const double *xp, const double *xm,
                          scratch *sc, const mdl_work *work, const mdl_poll *poll, eng_worker *w,
                          double *vp, double *vm, uint32_t *pairs)
{
    gather(c, k, a, b, xp, sc);
    compact(c, sc, m, 0);
    gather(c, k, a, b, xm, sc);
    compact(c, sc, m, m);
    mdl_batch all = {
        .n = 2 * m,
        .S = sc->cS,
        .K = sc->cK,
        .T = sc->cT,
        .r = sc->cr,
        .sigma = sc->csig,
        .q = sc->cq,
        .coupon = sc->ccoup,
        .freq = sc->cfreq,
        .steps = sc->csteps,
        .price = sc->cprice,
        .flags = sc->cflags,
    };
    uint32_t got;
    bool done = price_runs(tab, k, &all, work, poll, w, &got);
    /* up states are [0, m), down states [m, 2m): a pair is whole once its down state is */
    *pairs = got > m ? got - m : 0;
    for (uint32_t i = 0; i < *pairs; i++) {
        uint16_t s = sc->cidx[i];
        double up = c->qty[s] * sc->cprice[i], down = c->qty[s] * sc->cprice[m + i];
        vp[s] = isfinite(up) ? up : NAN;
        vm[s] = isfinite(down) ? down : NAN;
    }
    return done;
}

/*
 * Both bumps of one factor by full revaluation: vp and vm receive the values of every slot of
 * chunk c in states xp and xm. The american kinds, whose kernels work in blocks of 16 and are
 * costly per price, are priced for both states in one run (price_compact); the cheap kinds
 * state by state, with no copy. On a stop, the slots [0, *reached) have both values.
 */
static bool price_pair(const rsk_layout *layout, const rsk_chunk *c, const double *xp,
                       const double *xm, scratch *sc, size_t tree_len, eng_worker *w, double *vp,
                       double *vm, uint32_t *reached)
{
    const mdl_entry *tab = layout->models;
    mdl_work work = {sc->tail + 0, tree_len};
    mdl_poll poll = {poll_stop, w};
    for (unsigned k = 0; k < MDL_KIND_COUNT; k++) {
        uint32_t a = c->seg[k], b = c->seg[k + 1];
        if (a == b)
            continue;
        bool done;
        uint32_t got = a; /* slots of the segment with both values, from a */
        if (is_american((mdl_kind)k)) {
            for (uint32_t s = a; s < b; s++)
                sc->cidx[s - a] = (uint16_t)s;
            uint32_t pairs;
            done = price_compact(tab, c, (mdl_kind)k, a, b, b - a, xp, xm, sc, &work, &poll, w,
                                 vp, vm, &pairs);
            got = a + pairs;
        } else {
            /* the up state first, whole: then the down state's prefix is the pairs' */
            done = price_segment(tab, c, (mdl_kind)k, a, b, xp, sc, &work, &poll, w, vp,
                                 sc->fa, &got);
            if (!done)
                got = a;
            else
                done = price_segment(tab, c, (mdl_kind)k, a, b, xm, sc, &work, &poll, w, vm,
                                     sc->fb, &got);
        }
        if (!done) {
            *reached = got;
            return false;
        }
    }
    *reached = c->nslots;
    return true;
}

/*
 * As price_pair, with reuse of unmoved positions: only the slots whose inputs factor j moves
 * are priced (price_compact); every other slot takes its base value, which is what pricing its
 * unchanged inputs would give, bit for bit. vp and vm receive the values of every slot; on a
 * stop, those of the slots [0, *reached).
 */
static bool price_moved(const rsk_layout *layout, const rsk_chunk *c, size_t j, const double *xp,
                        const double *xm, const double *v0, scratch *sc, size_t tree_len,
                        eng_worker *w, double *vp, double *vm, uint32_t *reached)
{
    const mdl_entry *tab = layout->models;
    mdl_work work = {sc->tail + 0, tree_len};
    mdl_poll poll = {poll_stop, w};
    for (uint32_t s = 0; s < c->nslots; s++)
        vp[s] = vm[s] = v0[(size_t)c->row0 + c->row[s]];
    for (unsigned k = 0; k < MDL_KIND_COUNT; k++) {
        uint32_t a = c->seg[k], b = c->seg[k + 1], m = 0;
        for (uint32_t s = a; s < b; s++)
            if (rsk_slot_moves(layout, c, s, j))
                sc->cidx[m++] = (uint16_t)s;
        uint32_t pairs;
        if (m > 0 && !price_compact(tab, c, (mdl_kind)k, a, b, m, xp, xm, sc, &work, &poll, w,
                                    vp, vm, &pairs)) {
            /* the unmoved slots before the first moved one left unpriced are done too */
            *reached = sc->cidx[pairs];
            return false;
        }
    }
    *reached = c->nslots;
    return true;
}

static scratch *worker_scratch(eng_worker *w)
{
    return eng_worker_scratch(w);
}

/* Worker w's accumulators for column col. */
static rsk_xsum *wsum_at(rsk_task *t, eng_worker *w, size_t col)
{
    return t->wsum + ((size_t)eng_worker_id(w) * t->ncols + col) * (t->nbooks + 1);
}

static uint64_t *wcnt_at(rsk_task *t, eng_worker *w, size_t col)
{
    return t->wcnt + ((size_t)eng_worker_id(w) * t->ncols + col) * (t->nbooks + 1);
}

/* ---- tile functions ---- */

static void values_tile(rsk_task *t, const eng_tile *tl, eng_worker *w, eng_tile_result *res)
{
    scratch *sc = worker_scratch(w);
    const double *x = t->st->x + t->state * t->st->nund;
    for (uint32_t ci = tl->row0; ci < tl->row1; ci++) {
        const rsk_chunk *c = &t->layout->chunks[ci];
        uint32_t reached;
        bool done = price_chunk(t->layout, c, x, sc, t->tree_len, w, sc->va, sc->fa, &reached);
        /* On a stop the slots priced before it are kept: a deadline decides which cells are
         * present, and these are finished (rsk_task_reduce marks the rest). */
        for (uint32_t s = 0; s < reached; s++) {
            size_t row = (size_t)c->row0 + c->row[s];
            t->vals->value[row] = sc->va[s];
            t->vals->flags[row] = sc->fa[s];
            t->vals->status[row] = isfinite(sc->va[s]) ? RK_OK : RK_NUMERIC;
            res->cells_ok += isfinite(sc->va[s]);
        }
        atomic_fetch_add_explicit(&t->cells_done, reached, memory_order_relaxed);
        if (!done) {
            res->code = eng_stop_code(w);
            return;
        }
    }
}

/* Marks columns [j0, j1) of chunk c as not computed (code) for every row: their status only (a
 * cell's delta and gamma are written only when it is RK_OK). */
static void grid_mark_cells(const rsk_layout *layout, rsk_grid *g, const rsk_chunk *c, uint32_t j0,
                            uint32_t j1, uint8_t code)
{
    const dat_positions *pos = &layout->ds->pos;
    for (uint32_t j = j0; j < j1; j++)
        memset(g->status + rsk_grid_cell(g, c->row0, j), code, c->nrows);
    if (c->nslots == c->nrows)
        return; /* every row valid */
    /* a position invalid at load (one without a slot) keeps its own code in every cell */
    for (uint32_t r = 0; r < c->nrows; r++) {
        size_t row = (size_t)c->row0 + r;
        if (pos->status[row] != RK_OK)
            for (uint32_t j = j0; j < j1; j++)
                g->status[rsk_grid_cell(g, row, j)] = pos->status[row];
    }
}

static void grid_mark(rsk_task *t, const rsk_chunk *c, uint32_t j0, uint32_t j1, uint8_t code)
{
    grid_mark_cells(t->layout, t->grid, c, j0, j1, code);
}

/* A stopped tile marks what it did not reach: the rest of the current chunk, then whole
 * chunks. */
static void grid_stop(rsk_task *t, const eng_tile *tl, uint32_t ci, uint32_t j, uint8_t code)
{
    grid_mark(t, &t->layout->chunks[ci], j, tl->col1, code);
    for (uint32_t cj = ci + 1; cj < tl->row1; cj++)
        grid_mark(t, &t->layout->chunks[cj], tl->col0, tl->col1, code);
}

/* Every grid cell is written by exactly one tile (or, for a tile that never ran, by
 * rsk_task_finish), so the output needs no initialisation pass on the caller's thread: its pages
 * are first touched by the workers of the node that computes them. */
static void grid_tile(rsk_task *t, const eng_tile *tl, eng_worker *w, eng_tile_result *res)
{
    const uint8_t *pst = t->layout->ds->pos.status;
    scratch *sc = worker_scratch(w);
    size_t nb = t->nbooks, U = t->st->nund;
    const double h2 = 2.0 * t->h, hh = t->h * t->h;
    const double *v0 = t->base->value;
    const uint8_t *v0s = t->base->status;
    const bool reuse = t->reuse_unmoved;
    /* the grid's arrays in locals: the status bytes written below may alias anything */
    const rsk_grid *grid = t->grid;
    uint8_t *gst = grid->status;
    double *gd = grid->delta, *gg = grid->gamma;
    for (uint32_t ci = tl->row0; ci < tl->row1; ci++) {
        const rsk_chunk *c = &t->layout->chunks[ci];
        const uint16_t *slot_of_row = c->slot_of_row;
        const uint32_t *book = c->book;
        for (uint32_t s = 0; s < c->nslots; s++)
            sc->base[s] = v0[(size_t)c->row0 + c->row[s]];
        for (uint32_t j = tl->col0; j < tl->col1; j++) {
            const double *xp = t->st->x + rsk_grid_state(j, +1) * U;
            const double *xm = t->st->x + rsk_grid_state(j, -1) * U;
            uint32_t reached;
            bool done = reuse ? price_moved(t->layout, c, j, xp, xm, v0, sc, t->tree_len, w,
                                            sc->va, sc->vb, &reached)
                              : price_pair(t->layout, c, xp, xm, sc, t->tree_len, w, sc->va,
                                           sc->vb, &reached);
            t->cells->greeks(reached, sc->va, sc->vb, sc->base, h2, hh, sc->delta, sc->gamma);
            t->cells->split(sc->delta, reached, sc->xhi, sc->xlo);
            const double *dl = sc->delta, *gm = sc->gamma;
            /* on a stop, the cells of the slots priced before it are kept, the others of this
             * column get the stop's code (below), then the rest of the tile (grid_stop) */
            uint8_t stop = done ? RK_OK : (uint8_t)eng_stop_code(w);
            rsk_xsum *sum = wsum_at(t, w, j), total = 0;
            uint64_t *cnt = wcnt_at(t, w, j);
            uint64_t ok_here = 0;
            for (uint32_t r = 0; r < c->nrows; r++) {
                uint16_t s = slot_of_row[r];
                size_t row = (size_t)c->row0 + r;
                size_t cell = rsk_grid_cell(grid, row, j);
                uint8_t code;
                if (s == UINT16_MAX) {
                    code = pst[row];
                } else if (v0s[row] != RK_OK) {
                    /* base not OK: the position's whole row of cells shares its code */
                    code = v0s[row];
                } else if (s >= reached) {
                    code = stop;
                } else if (reuse && !rsk_slot_moves(t->layout, c, s, j)) {
                    /* vp = vm = v0 exactly: delta and gamma are +0 */
                    code = RK_OK;
                    if (gd != NULL)
                        gd[cell] = gg[cell] = 0.0;
                    cnt[book[s]]++;
                    ok_here++;
                } else if (!rsk_xsum_term_ok(dl[s]) || !isfinite(gm[s])) {
                    /* rsk_xsum_term_ok is false for a delta that is not finite */
                    code = RK_NUMERIC;
                } else {
                    code = RK_OK;
                    if (gd != NULL) {
                        gd[cell] = dl[s];
                        gg[cell] = gm[s];
                    }
                    rsk_xsum x = rsk_xsum_join(sc->xhi[s], sc->xlo[s]);
                    sum[book[s]] += x;
                    total += x;
                    cnt[book[s]]++;
                    ok_here++;
                }
                gst[cell] = code;
            }
            sum[nb] += total;
            cnt[nb] += ok_here;
            res->cells_ok += ok_here;
            atomic_fetch_add_explicit(&t->cells_done, reached, memory_order_relaxed);
            if (!done) {
                res->code = stop;
                grid_stop(t, tl, ci, j + 1, stop);
                return;
            }
        }
    }
}

/* Keeps the smallest failing scenario of a row: a CAS loop on a plain minimum (relaxed: the
 * value is read after the request completes). */
static void note_failure(rsk_pnl *p, size_t row, uint32_t scen)
{
    atomic_fetch_add_explicit(&p->nfail[row], 1, memory_order_relaxed);
    uint32_t prev = atomic_load_explicit(&p->first_fail[row], memory_order_relaxed);
    while (scen < prev &&
           !atomic_compare_exchange_weak_explicit(&p->first_fail[row], &prev, scen,
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}

static void pnl_tile(rsk_task *t, const eng_tile *tl, eng_worker *w, eng_tile_result *res)
{
    scratch *sc = worker_scratch(w);
    size_t nb = t->nbooks, U = t->st->nund;
    const double *v0 = t->base->value;
    const uint8_t *v0s = t->base->status;
    rsk_pnl *p = t->pnl;
    for (uint32_t ci = tl->row0; ci < tl->row1; ci++) {
        const rsk_chunk *c = &t->layout->chunks[ci];
        for (uint32_t s = tl->col0; s < tl->col1; s++) {
            const double *x = t->st->x + (size_t)s * U;
            uint32_t reached;
            bool done = price_chunk(t->layout, c, x, sc, t->tree_len, w, sc->va, sc->fa, &reached);
            for (uint32_t sl = 0; sl < reached; sl++)
                sc->pl[sl] = sc->va[sl] - v0[(size_t)c->row0 + c->row[sl]];
            t->cells->split(sc->pl, reached, sc->xhi, sc->xlo);
            /* on a stop, the slots priced before it are summed: rsk_task_reduce counts the
             * rest as missing from this scenario */
            rsk_xsum *sum = wsum_at(t, w, s);
            uint64_t *cnt = wcnt_at(t, w, s);
            uint64_t ok_here = 0;
            uint32_t scen = (uint32_t)(t->first + s);
            for (uint32_t sl = 0; sl < reached; sl++) {
                size_t row = (size_t)c->row0 + c->row[sl];
                if (v0s[row] != RK_OK)
                    continue; /* reported once, with the base value */
                double pl = sc->pl[sl];
                if (!isfinite(pl) || !rsk_xsum_term_ok(pl)) {
                    note_failure(p, row, scen);
                    continue;
                }
                rsk_xsum xs = rsk_xsum_join(sc->xhi[sl], sc->xlo[sl]);
                sum[c->book[sl]] += xs;
                sum[nb] += xs;
                cnt[c->book[sl]]++;
                ok_here++;
            }
            cnt[nb] += ok_here;
            t->chunk_done[(size_t)ci * t->ncols + s] = (uint16_t)reached;
            res->cells_ok += ok_here;
            atomic_fetch_add_explicit(&t->cells_done, reached, memory_order_relaxed);
            if (!done) {
                res->code = eng_stop_code(w);
                return;
            }
        }
    }
}

static void run_tile(void *arg, const eng_tile *tl, eng_worker *w, eng_tile_result *res)
{
    rsk_task *t = arg;
    res->code = RK_OK;
    res->cells_ok = 0;
    res->message[0] = '\0';
    switch (t->kind) {
    case JOB_VALUES:
        values_tile(t, tl, w, res);
        break;
    case JOB_GRID:
        grid_tile(t, tl, w, res);
        break;
    case JOB_PNL:
        pnl_tile(t, tl, w, res);
        break;
    }
}

/* ---- submitting ---- */

static void task_free_memory(rsk_task *t)
{
    free(t->wsum);
    free(t->wcnt);
    free(t->chunk_done);
    free(t);
}

/* A task for a job: the workspace's spare one when there is one (keeping its accumulators), a
 * new one otherwise. */
static rk_status task_new(eng_engine *e, rsk_workspace *ws, job_kind kind, const rsk_layout *layout,
                          const rsk_states *st, size_t ncols, uint32_t max_tile_cols,
                          rsk_task **out)
{
    rsk_task *t = ws != NULL ? ws->spare : NULL;
    if (t != NULL) {
        ws->spare = NULL;
        rsk_task keep = *t;
        memset(t, 0, sizeof *t);
        t->wsum = keep.wsum;
        t->wcnt = keep.wcnt;
        t->wcap = keep.wcap;
        t->chunk_done = keep.chunk_done;
        t->donecap = keep.donecap;
    } else if ((t = calloc(1, sizeof *t)) == NULL) {
        return RK_NO_MEMORY;
    }
    t->ws = ws;
    t->kind = kind;
    t->layout = layout;
    t->st = st;
    t->nbooks = layout->ds->pos.nbooks;
    t->nfactors = layout->ds->mkt.nfactors;
    t->ncols = ncols;
    t->tree_len = layout->max_steps > 0 ? mdl_work_needed(layout->max_steps) : 0;
    t->cells = rsk_cells_for(layout->isa);
    atomic_init(&t->cells_done, 0);
    t->ej.nrows = (uint32_t)layout->nchunks;
    t->ej.ncols = (uint32_t)ncols;
    t->ej.row_node = layout->chunk_node;
    t->ej.row_cost = layout->chunk_cost;
    t->ej.max_tile_cols = max_tile_cols;
    t->ej.scratch_bytes = sizeof(scratch) + t->tree_len * sizeof(double);
    if (kind != JOB_VALUES) {
        t->nworkers = eng_worker_count(e);
        size_t n = t->nworkers * (ncols ? ncols : 1) * (t->nbooks + 1);
        if (n > t->wcap) {
            free(t->wsum);
            free(t->wcnt);
            t->wsum = calloc(n, sizeof *t->wsum);
            t->wcnt = calloc(n, sizeof *t->wcnt);
            t->wcap = n;
            if (t->wsum == NULL || t->wcnt == NULL) {
                task_free_memory(t);
                return RK_NO_MEMORY;
            }
        } else {
            memset(t->wsum, 0, n * sizeof *t->wsum);
            memset(t->wcnt, 0, n * sizeof *t->wcnt);
        }
    }
    t->ej.run = run_tile;
    t->ej.arg = t;
    *out = t;
    return RK_OK;
}

/* Frees the engine job and the task, or hands the task back to its workspace. */
static void task_free(rsk_task *t)
{
    if (t == NULL)
        return;
    eng_job_free(t->req);
    t->req = NULL;
    if (t->ws != NULL && t->ws->spare == NULL) {
        t->ws->spare = t;
        return;
    }
    task_free_memory(t);
}

void rsk_workspace_fini(rsk_workspace *ws)
{
    if (ws == NULL)
        return;
    if (ws->spare != NULL)
        task_free_memory(ws->spare);
    ws->spare = NULL;
}

static rk_status task_submit(eng_engine *e, rsk_task *t, const rsk_submit *sub)
{
    if (t->ej.nrows == 0 || t->ej.ncols == 0)
        return RK_OK; /* nothing to do: finish() sees no request */
    return eng_submit(e, &t->ej, sub->deadline_ns, sub->done, sub->done_arg, &t->req);
}

uint64_t rsk_task_cells_done(const rsk_task *t)
{
    /* relaxed: a progress figure */
    return atomic_load_explicit(&t->cells_done, memory_order_relaxed);
}

uint64_t rsk_task_cells_total(const rsk_task *t)
{
    return (uint64_t)t->layout->nvalid * t->ncols;
}

eng_job *rsk_task_job(rsk_task *t)
{
    return t != NULL ? t->req : NULL;
}

void rsk_requested_cells(const dat_positions *pos, size_t nbooks, uint64_t cols, uint64_t *req)
{
    memset(req, 0, (nbooks + 1) * sizeof *req);
    for (size_t i = 0; i < pos->n; i++) {
        if (pos->book[i] != DAT_NONE && pos->book[i] < nbooks)
            req[pos->book[i]] += cols;
        req[nbooks] += cols;
    }
}

rk_status rsk_values_submit(eng_engine *e, const rsk_layout *layout, const rsk_states *st,
                            size_t state, const rsk_submit *sub, rsk_values *out, rsk_task **tp)
{
    const dat_positions *pos = &layout->ds->pos;
    size_t n = pos->n ? pos->n : 1;
    if (out->value == NULL || out->n != pos->n) {
        rsk_values_free(out);
        out->n = pos->n;
        out->value = malloc(n * sizeof(double));
        out->status = malloc(n);
        out->flags = malloc(n);
        if (out->value == NULL || out->status == NULL || out->flags == NULL) {
            rsk_values_free(out);
            return RK_NO_MEMORY;
        }
    }
    out->ok = 0;
    memset(out->flags, 0, n);
    for (size_t i = 0; i < pos->n; i++) {
        out->value[i] = NAN;
        out->status[i] = pos->status[i] == RK_OK ? RSK_PENDING : pos->status[i];
    }
    rsk_task *t;
    rk_status rc = task_new(e, sub->ws, JOB_VALUES, layout, st, 1, 1, &t);
    if (rc != RK_OK)
        return rc;
    t->state = state;
    t->vals = out;
    rc = task_submit(e, t, sub);
    if (rc != RK_OK) {
        task_free(t);
        return rc;
    }
    *tp = t;
    return RK_OK;
}

rk_status rsk_grid_prepare(const rsk_layout *layout, double h, bool keep_cells, rsk_grid *out)
{
    const dat_positions *pos = &layout->ds->pos;
    size_t F = layout->ds->mkt.nfactors, nb = pos->nbooks, n = pos->n;
    size_t cells = n * F;
    if (F != 0 && cells / F != n)
        return RK_NO_MEMORY;
    bool fits = out->status != NULL && out->n == n && out->nfactors == F && out->nbooks == nb &&
                (!keep_cells || out->delta != NULL);
    if (!fits) {
        rsk_grid_free(out);
        if (keep_cells) {
            out->delta = malloc((cells ? cells : 1) * sizeof(double));
            out->gamma = malloc((cells ? cells : 1) * sizeof(double));
        }
        out->status = malloc(cells ? cells : 1);
        out->exposure = malloc((nb + 1) * (F ? F : 1) * sizeof(double));
        out->xexposure = malloc((nb + 1) * (F ? F : 1) * sizeof(rsk_xsum));
        out->ok_cells = malloc((nb + 1) * sizeof(uint64_t));
        out->req_cells = malloc((nb + 1) * sizeof(uint64_t));
        if ((keep_cells && (out->delta == NULL || out->gamma == NULL)) || out->status == NULL ||
            out->exposure == NULL || out->xexposure == NULL || out->ok_cells == NULL ||
            out->req_cells == NULL) {
            rsk_grid_free(out);
            return RK_NO_MEMORY;
        }
    }
    out->n = n;
    out->nfactors = F;
    out->nbooks = nb;
    out->h = h;
    memset(out->exposure, 0, (nb + 1) * (F ? F : 1) * sizeof(double));
    memset(out->xexposure, 0, (nb + 1) * (F ? F : 1) * sizeof(rsk_xsum));
    memset(out->ok_cells, 0, (nb + 1) * sizeof(uint64_t));
    rsk_requested_cells(pos, nb, F, out->req_cells);
    return RK_OK;
}

rk_status rsk_grid_submit(eng_engine *e, const rsk_layout *layout, const rsk_states *st, double h,
                          const rsk_values *v, bool keep_cells, const rsk_submit *sub,
                          rsk_grid *out, rsk_task **tp)
{
    rk_status rc = rsk_grid_prepare(layout, h, keep_cells, out);
    if (rc != RK_OK)
        return rc;
    rsk_task *t = NULL;
    rc = task_new(e, sub->ws, JOB_GRID, layout, st, layout->ds->mkt.nfactors, 0, &t);
    if (rc != RK_OK)
        return rc;
    t->h = h;
    t->base = v;
    t->grid = out;
    t->reuse_unmoved = sub->reuse_unmoved;
    rc = task_submit(e, t, sub);
    if (rc != RK_OK) {
        task_free(t);
        return rc;
    }
    *tp = t;
    return RK_OK;
}

void rsk_grid_skip(const rsk_layout *layout, rk_status code, rsk_grid *g)
{
    for (size_t ci = 0; ci < layout->nchunks; ci++)
        grid_mark_cells(layout, g, &layout->chunks[ci], 0, (uint32_t)g->nfactors, (uint8_t)code);
}

rk_status rsk_pnl_init(rsk_pnl *p, size_t nrows, size_t nbooks, size_t nscen)
{
    memset(p, 0, sizeof *p);
    p->nscen = nscen;
    p->nbooks = nbooks;
    p->nrows = nrows;
    p->pnl = calloc((nbooks + 1) * (nscen ? nscen : 1), sizeof(double));
    p->xpnl = calloc((nbooks + 1) * (nscen ? nscen : 1), sizeof(rsk_xsum));
    p->ok_scen = calloc((nbooks + 1) * (nscen ? nscen : 1), sizeof(uint64_t));
    p->ok_cells = calloc(nbooks + 1, sizeof *p->ok_cells);
    p->req_cells = calloc(nbooks + 1, sizeof *p->req_cells);
    p->nfail = calloc(nrows ? nrows : 1, sizeof *p->nfail);
    p->first_fail = malloc((nrows ? nrows : 1) * sizeof *p->first_fail);
    p->nmissing = calloc(nrows ? nrows : 1, sizeof *p->nmissing);
    p->miss_code = calloc(nrows ? nrows : 1, 1);
    if (p->pnl == NULL || p->xpnl == NULL || p->ok_scen == NULL || p->ok_cells == NULL ||
        p->req_cells == NULL || p->nfail == NULL || p->first_fail == NULL || p->nmissing == NULL ||
        p->miss_code == NULL) {
        rsk_pnl_free(p);
        return RK_NO_MEMORY;
    }
    for (size_t i = 0; i < nrows; i++)
        atomic_init(&p->first_fail[i], UINT32_MAX);
    return RK_OK;
}

rk_status rsk_pnl_submit(eng_engine *e, const rsk_layout *layout, const rsk_states *st,
                         size_t first, const rsk_values *v, const rsk_submit *sub, rsk_pnl *p,
                         rsk_task **tp)
{
    size_t nb = layout->ds->pos.nbooks;
    if (first + st->n > p->nscen || p->nbooks != nb || p->nrows != layout->ds->pos.n)
        return RK_BAD_ARGUMENT;
    rsk_task *t;
    rk_status rc = task_new(e, sub->ws, JOB_PNL, layout, st, st->n, 0, &t);
    if (rc != RK_OK)
        return rc;
    t->first = first;
    t->base = v;
    t->pnl = p;
    size_t cells = (layout->nchunks ? layout->nchunks : 1) * (st->n ? st->n : 1);
    if (cells > t->donecap) {
        free(t->chunk_done);
        t->chunk_done = calloc(cells, sizeof *t->chunk_done);
        t->donecap = t->chunk_done != NULL ? cells : 0;
        if (t->chunk_done == NULL) {
            task_free(t);
            return RK_NO_MEMORY;
        }
    } else {
        memset(t->chunk_done, 0, cells * sizeof *t->chunk_done);
    }
    rc = task_submit(e, t, sub);
    if (rc != RK_OK) {
        task_free(t);
        return rc;
    }
    *tp = t;
    return RK_OK;
}

rk_status rsk_pnl_reuse(rsk_pnl *p, size_t nrows, size_t nbooks, size_t nscen)
{
    if (p->pnl == NULL || p->nrows != nrows || p->nbooks != nbooks || p->nscen != nscen) {
        rsk_pnl_free(p);
        return rsk_pnl_init(p, nrows, nbooks, nscen);
    }
    size_t nx = (nbooks + 1) * (nscen ? nscen : 1), nr = nrows ? nrows : 1;
    memset(p->pnl, 0, nx * sizeof *p->pnl);
    memset(p->xpnl, 0, nx * sizeof *p->xpnl);
    memset(p->ok_scen, 0, nx * sizeof *p->ok_scen);
    memset(p->ok_cells, 0, (nbooks + 1) * sizeof *p->ok_cells);
    memset(p->req_cells, 0, (nbooks + 1) * sizeof *p->req_cells);
    memset(p->nmissing, 0, nr * sizeof *p->nmissing);
    memset(p->miss_code, 0, nr);
    for (size_t i = 0; i < nrows; i++) {
        atomic_init(&p->nfail[i], 0);
        atomic_init(&p->first_fail[i], UINT32_MAX);
    }
    return RK_OK;
}

void rsk_pnl_skip(const rsk_layout *layout, size_t nscen, rk_status code, rsk_pnl *p)
{
    if (nscen == 0)
        return;
    for (size_t ci = 0; ci < layout->nchunks; ci++) {
        const rsk_chunk *c = &layout->chunks[ci];
        for (uint32_t sl = 0; sl < c->nslots; sl++) {
            size_t row = (size_t)c->row0 + c->row[sl];
            p->nmissing[row] += (uint32_t)nscen;
            p->miss_code[row] = (uint8_t)code;
        }
    }
}

/* ---- finishing: wait, give pending cells their codes, reduce ---- */

static rk_status wait_with_progress(rsk_task *t, const rsk_finish_opts *o)
{
    if (t->req == NULL)
        return RK_OK;
    if (o == NULL || o->progress == NULL)
        return eng_wait(t->req, ENG_NO_DEADLINE);
    uint64_t total = (uint64_t)t->layout->nvalid * t->ncols;
    for (;;) {
        rk_status rc = eng_wait(t->req, eng_now_ns() + 200000000);
        o->progress(o->progress_arg, atomic_load_explicit(&t->cells_done, memory_order_relaxed),
                    total);
        if (rc != RK_TIMEOUT)
            return rc;
    }
}

/* Code of the first record that did not finish, for the caller's summary. */
static rk_status first_stop(const eng_record *rec, size_t nrec)
{
    for (size_t i = 0; i < nrec; i++)
        if (rec[i].code != RK_OK)
            return rec[i].code;
    return RK_OK;
}

static void finish_values(rsk_task *t, const eng_record *rec, size_t nrec)
{
    rsk_values *v = t->vals;
    for (size_t i = 0; i < nrec; i++) {
        if (rec[i].code == RK_OK)
            continue;
        for (uint32_t ci = rec[i].tile.row0; ci < rec[i].tile.row1; ci++) {
            const rsk_chunk *c = &t->layout->chunks[ci];
            for (uint32_t r = 0; r < c->nrows; r++)
                if (v->status[c->row0 + r] == RSK_PENDING)
                    v->status[c->row0 + r] = (uint8_t)rec[i].code;
        }
    }
    v->ok = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (v->status[i] == RSK_PENDING)
            v->status[i] = RK_INTERNAL; /* a tile reported OK without reaching the row */
        v->ok += v->status[i] == RK_OK;
    }
}

/* Gives the cells of the tiles that never ran their records' codes (tiles that ran marked what
 * they did not reach themselves). This runs on the completion path of a request stopped by its
 * deadline or a cancel, with up to every cell of the grid to mark: a tile's cells are one run of
 * bytes per factor (rsk_grid_cell), each written by one memset. */
static void grid_mark_unrun(rsk_task *t, const eng_record *rec, size_t nrec)
{
    for (size_t i = 0; i < nrec; i++) {
        if (rec[i].code == RK_OK || rec[i].worker != UINT32_MAX)
            continue;
        for (uint32_t ci = rec[i].tile.row0; ci < rec[i].tile.row1; ci++)
            grid_mark(t, &t->layout->chunks[ci], rec[i].tile.col0, rec[i].tile.col1,
                      (uint8_t)rec[i].code);
    }
}

static void finish_grid(rsk_task *t, const eng_record *rec, size_t nrec)
{
    rsk_grid *g = t->grid;
    size_t F = g->nfactors, nb = g->nbooks;
    grid_mark_unrun(t, rec, nrec);
    /* Exposures: the workers' exact sums added, then rounded once. */
    for (size_t w = 0; w < t->nworkers; w++)
        for (size_t j = 0; j < F; j++) {
            const rsk_xsum *sum = t->wsum + (w * F + j) * (nb + 1);
            const uint64_t *cnt = t->wcnt + (w * F + j) * (nb + 1);
            for (size_t b = 0; b <= nb; b++) {
                g->xexposure[b * F + j] += sum[b];
                g->ok_cells[b] += cnt[b];
            }
        }
    for (size_t k = 0; k < (nb + 1) * F; k++)
        g->exposure[k] = rsk_xsum_value(g->xexposure[k]);
}

static void finish_pnl(rsk_task *t, const eng_record *rec, size_t nrec)
{
    rsk_pnl *p = t->pnl;
    size_t nb = p->nbooks, ns = t->ncols;
    /* States a tile did not finish: every valid row of the chunk it did not reach misses that
     * cell. */
    for (size_t i = 0; i < nrec; i++) {
        if (rec[i].code == RK_OK)
            continue;
        for (uint32_t ci = rec[i].tile.row0; ci < rec[i].tile.row1; ci++) {
            const rsk_chunk *c = &t->layout->chunks[ci];
            for (uint32_t s = rec[i].tile.col0; s < rec[i].tile.col1; s++) {
                for (uint32_t sl = t->chunk_done[(size_t)ci * ns + s]; sl < c->nslots; sl++) {
                    size_t row = (size_t)c->row0 + c->row[sl];
                    p->nmissing[row]++;
                    p->miss_code[row] = (uint8_t)rec[i].code;
                }
            }
        }
    }
    for (size_t w = 0; w < t->nworkers; w++)
        for (size_t s = 0; s < ns; s++) {
            const rsk_xsum *sum = t->wsum + (w * ns + s) * (nb + 1);
            const uint64_t *cnt = t->wcnt + (w * ns + s) * (nb + 1);
            for (size_t b = 0; b <= nb; b++) {
                p->xpnl[b * p->nscen + t->first + s] += sum[b];
                p->ok_scen[b * p->nscen + t->first + s] += cnt[b];
                p->ok_cells[b] += cnt[b];
            }
        }
    for (size_t b = 0; b <= nb; b++)
        for (size_t s = 0; s < ns; s++) {
            size_t k = b * p->nscen + t->first + s;
            p->pnl[k] = rsk_xsum_value(p->xpnl[k]);
        }
}

void rsk_task_reduce(rsk_task *t, rsk_task_info *info)
{
    size_t nrec = 0;
    const eng_record *rec = t->req != NULL ? eng_job_records(t->req, &nrec) : NULL;
    switch (t->kind) {
    case JOB_VALUES:
        finish_values(t, rec, nrec);
        break;
    case JOB_GRID:
        finish_grid(t, rec, nrec);
        break;
    case JOB_PNL:
        finish_pnl(t, rec, nrec);
        break;
    }
    if (info != NULL) {
        memset(info, 0, sizeof *info);
        if (t->req != NULL)
            eng_job_stats_get(t->req, &info->stats);
        info->stop_code = first_stop(rec, nrec);
    }
}

void rsk_task_release(rsk_task *t)
{
    task_free(t);
}

rk_status rsk_task_finish(rsk_task *t, const rsk_finish_opts *o, rsk_task_info *info)
{
    rk_status rc = wait_with_progress(t, o);
    if (rc != RK_OK) {
        task_free(t);
        return rc;
    }
    rsk_task_reduce(t, info);
    task_free(t);
    return RK_OK;
}

/* ---- freeing ---- */

void rsk_values_free(rsk_values *v)
{
    if (v == NULL)
        return;
    free(v->value);
    free(v->status);
    free(v->flags);
    memset(v, 0, sizeof *v);
}

void rsk_grid_free(rsk_grid *g)
{
    if (g == NULL)
        return;
    free(g->delta);
    free(g->gamma);
    free(g->status);
    free(g->exposure);
    free(g->xexposure);
    free(g->ok_cells);
    free(g->req_cells);
    memset(g, 0, sizeof *g);
}

void rsk_pnl_free(rsk_pnl *p)
{
    if (p == NULL)
        return;
    free(p->pnl);
    free(p->xpnl);
    free(p->ok_scen);
    free(p->ok_cells);
    free(p->req_cells);
    free(p->nfail);
    free(p->first_fail);
    free(p->nmissing);
    free(p->miss_code);
    memset(p, 0, sizeof *p);
}
