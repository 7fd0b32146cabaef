/*
 * request.c - rk_request and rk_result: a request runs as a short chain of engine stages,
 * values -> grid -> parametric VaR -> scenario P&L blocks (scenario VaR, then stress), each
 * started from the previous stage's completion callback, so that an asynchronous request
 * completes (and its callback fires) without any thread waiting for it.
 *
 * Order of operations for one submission:
 *   submit (owner)      takes a result from the portfolio's pool, pins the market snapshot,
 *                       fills the grid states from it, and under req->mu submits the values
 *                       stage and records it as `cur`.
 *   values callback     (engine thread) under req->mu: reduces the values; unless cancelled,
 *                       cut short or past the deadline, submits the grid stage and records it
 *                       as `cur`; otherwise notes why the grid was skipped and completes.
 *   grid callback       reduces the grid, computes parametric VaR, completes.
 *   complete            status and timings, unpins the snapshot, calls the user's callback,
 *                       then under req->mu sets DONE and wakes waiters.
 *   scenario blocks      after values (and the grid, when asked): the callback that ends the
                       previous stage prepares block 0's and block 1's market states and
                       submits block 0. Each block's callback (pnl_done), under req->mu:
                       reduces its block into the set's P&L, releases the block before it,
                       submits the next block (its states are ready) and then prepares the
                       states of the one after, into the slot of the block just finished;
                       or, when cancelled, cut short or past the deadline, records every
                       block not submitted as missing and completes.
Holding req->mu while submitting a stage is safe: the engine never calls a completion
 * callback from inside eng_submit for a job with tiles (an empty job has no engine request and
 * is completed by the caller instead), and the engine's locks are never held around callbacks,
 * so the lock order is always req->mu -> engine lock.
 *
 * Scenario blocks: why a chain of blocks of RSK_STATE_BLOCK scenarios and not one engine request
 * over every scenario. One request would need the market states of all scenarios at once
 * (scenarios x underlyings) and per-worker accumulators for all of them (workers x scenarios x
 * books), both growing without bound with the scenario count; a block needs one block of each,
 * so a request's memory is its P&L (books x scenarios, the answer) plus two slots. Blocks are
 * also what the riskengine program evaluates (rsk_states_from_shocks over blocks from scenario
 * 0), which is what makes the numbers bitwise equal to its. Two slots give the overlap the
 * program gets (its thread makes block g+1's states while block g runs): here block g+2's
 * states are made right after block g+1 is submitted, while it runs; a block that finishes
 * first waits for req->mu until they are ready (making 64 states costs far less than revaluing
 * a book in them).
 * A block's engine request cannot be freed in its own callback; block g's task is released in
 * block g+1's callback, after the waiters and cancellers that took it as `cur` have left
 * (slot_users), so that slot g % 2 is free for block g+2.
 *
 * Engine requests of a submission stay alive (owned by the result's tasks) until the result is
 * recycled. A waiter or canceller reads `cur` under req->mu and then calls into the engine
 * without the lock; `users` counts such calls in progress, and recycling the result (take,
 * resubmit, destroy) first waits for users == 0, so `cur` never dangles.
 *
 * Memory: results are recycled through the portfolio's pool with every buffer they own
 * (values, grid, states, VaR arrays, task workspaces), engine requests through the engine's
 * cache, snapshots through the portfolio's spare list: once warm, nothing here allocates.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_internal.h"

#define MEASURES_KNOWN                                                                             \
    (RK_MEASURE_VALUES | RK_MEASURE_GRID | RK_MEASURE_PARAMETRIC_VAR | RK_MEASURE_SCENARIO_VAR | \
     RK_MEASURE_STRESS)
#define MEASURES_SCEN (RK_MEASURE_SCENARIO_VAR | RK_MEASURE_STRESS)
#define BLOCK ((size_t)RSK_STATE_BLOCK)

struct rk_request {
    rk_portfolio *pf;       /* [imm] */
    /* Options for the next submission. [owner] */
    unsigned measures;
    double bump, confidence, horizon, es_confidence;
    bool reuse_unmoved;     /* grid fast path (rk_request_set_reuse_unmoved) */
    bool scen_mc;           /* scenario VaR from Monte Carlo (else scenarios.csv) */
    size_t scen_n;          /* Monte Carlo scenarios */
    uint64_t seed;
    rk_request_done_fn cb;
    void *cb_arg;

    pthread_mutex_t mu;     /* the request lock */
    pthread_cond_t cv;      /* [mu] DONE and users == 0 are signalled here (CLOCK_MONOTONIC) */
    req_state state;        /* [mu] */
    bool cancelled;         /* [mu] cancel was asked during this submission */
    unsigned users;         /* [mu] waiters/cancellers using `cur` outside the lock */
    eng_request *cur;       /* [mu] the running (or last) stage's engine request; NULL between */
    int cur_slot;           /* [mu] the slot of `cur` when it is a scenario block, else -1 */
    unsigned slot_users[2]; /* [mu] of `users`, those that took `cur` while it was that slot's
                               block: the block may be released when its count is 0 */
    rk_result *res;         /* [mu] the submission's result until taken */
    /* Copied at submit, read by the stage callbacks. [imm while running] */
    rk_request_done_fn run_cb;
    void *run_cb_arg;
    int64_t deadline;
};

/* ---- results: pool ---- */

static void result_free(rk_result *r)
{
    if (r == NULL)
        return;
    rsk_values_free(&r->values);
    rsk_grid_free(&r->grid);
    rsk_states_free(&r->states);
    free(r->pv.sigma);
    free(r->pv.var);
    free(r->pv.contrib);
    free(r->pv_work);
    free(r->val_ok);
    free(r->val_req);
    rsk_workspace_fini(&r->ws_values);
    rsk_workspace_fini(&r->ws_grid);
    for (size_t k = 0; k < 2; k++) {
        rsk_pnl_free(&r->sets[k].pnl);
        rsk_states_free(&r->blk[k]);
        rsk_workspace_fini(&r->ws_pnl[k]);
    }
    free(r->L);
    free(r->shock);
    free(r->mc_work);
    free(r->sv_var);
    free(r->sv_es);
    free(r->sort_work);
    free(r);
}

static rk_result *result_new(rk_portfolio *pf)
{
    rk_result *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    const dat_dataset *ds = &pf->ds->ds;
    size_t rows = ds->pos.nbooks + 1, F = ds->mkt.nfactors;
    r->pf = pf;
    r->pv.sigma = calloc(rows, sizeof(double));
    r->pv.var = calloc(rows, sizeof(double));
    r->pv.contrib = calloc(rows, sizeof(double));
    r->pv_work = calloc(rows * (F ? F : 1), sizeof(double));
    r->val_ok = calloc(rows, sizeof(uint64_t));
    r->val_req = calloc(rows, sizeof(uint64_t));
    r->sv_var = calloc(rows, sizeof(double));
    r->sv_es = calloc(rows, sizeof(double));
    if (r->pv.sigma == NULL || r->pv.var == NULL || r->pv.contrib == NULL || r->pv_work == NULL ||
        r->val_ok == NULL || r->val_req == NULL || r->sv_var == NULL || r->sv_es == NULL) {
        result_free(r);
        return NULL;
    }
    rsk_requested_cells(&ds->pos, ds->pos.nbooks, 1, r->val_req);
    r->view = ds->mkt; /* shallow: values and covariance are pointed at the snapshot's */
    return r;
}

static rk_result *result_obtain(rk_portfolio *pf)
{
    pthread_mutex_lock(&pf->pool_mu);
    rk_result *r = pf->pool;
    if (r != NULL)
        pf->pool = r->next;
    pthread_mutex_unlock(&pf->pool_mu);
    return r != NULL ? r : result_new(pf);
}

/* Releases the result's engine requests and tasks and puts it back in the pool. */
static void result_recycle(rk_result *r)
{
    if (r == NULL)
        return;
    if (r->tv != NULL)
        rsk_task_release(r->tv);
    if (r->tg != NULL)
        rsk_task_release(r->tg);
    r->tv = r->tg = NULL;
    for (size_t k = 0; k < 2; k++) {
        if (r->tp[k] != NULL)
            rsk_task_release(r->tp[k]);
        r->tp[k] = NULL;
    }
    rk_snap_unpin(r->pf, r->snap);
    r->snap = NULL;
    rk_portfolio *pf = r->pf;
    pthread_mutex_lock(&pf->pool_mu);
    r->next = pf->pool;
    pf->pool = r;
    pthread_mutex_unlock(&pf->pool_mu);
}

void rk_result_pool_fini(rk_portfolio *pf)
{
    while (pf->pool != NULL) {
        rk_result *r = pf->pool;
        pf->pool = r->next;
        result_free(r);
    }
}

void rk_result_destroy(rk_result *res)
{
    result_recycle(res);
}

/* ---- requests: lifecycle and options ---- */

rk_status rk_request_create(rk_portfolio *pf, rk_request **out)
{
    if (out == NULL)
        return RK_BAD_ARGUMENT;
    *out = NULL;
    if (pf == NULL)
        return RK_BAD_ARGUMENT;
    rk_request *r = calloc(1, sizeof *r);
    if (r == NULL)
        return RK_NO_MEMORY;
    r->pf = pf;
    r->measures = RK_MEASURE_VALUES | RK_MEASURE_GRID | RK_MEASURE_PARAMETRIC_VAR;
    r->bump = 1e-4;
    r->confidence = 0.99;
    r->es_confidence = 0.975;
    r->horizon = 1.0;
    r->scen_mc = true;
    r->scen_n = 1000;
    r->seed = 1;
    r->cur_slot = -1;
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    r->state = REQ_IDLE;
    /* A request in flight holds at most two engine requests at once (a stage is submitted from
     * the previous one's completion, before that one is released): keep that many request
     * objects per live request in the engine's reserve, sized for the largest job of this
     * portfolio (chunks x the widest of factors and a scenario block), so that submitting
     * allocates nothing once warm however requests happen to overlap. */
    size_t live = atomic_fetch_add_explicit(&pf->live_requests, 1, memory_order_relaxed) + 1;
    size_t cols = pf->ds->ds.mkt.nfactors > RSK_STATE_BLOCK ? pf->ds->ds.mkt.nfactors
                                                             : RSK_STATE_BLOCK;
    size_t want = 2 * live + 1 < 64 ? 2 * live + 1 : 64;
    (void)eng_reserve(pf->eng->eng, want, (pf->pf.nchunks ? pf->pf.nchunks : 1) * cols);
    *out = r;
    return RK_OK;
}

/* Waits (req->mu held) until no waiter or canceller uses `cur`, then detaches the result. */
static rk_result *detach_locked(rk_request *req)
{
    while (req->users > 0)
        pthread_cond_wait(&req->cv, &req->mu);
    rk_result *res = req->res;
    req->res = NULL;
    req->cur = NULL;
    return res;
}

void rk_request_destroy(rk_request *req)
{
    if (req == NULL)
        return;
    rk_request_cancel(req);
    rk_request_wait(req, RK_DEADLINE_NONE);
    pthread_mutex_lock(&req->mu);
    rk_result *res = detach_locked(req);
    pthread_mutex_unlock(&req->mu);
    result_recycle(res);
    pthread_mutex_destroy(&req->mu);
    pthread_cond_destroy(&req->cv);
    atomic_fetch_sub_explicit(&req->pf->live_requests, 1, memory_order_relaxed);
    free(req);
}

/* RK_OK when options may change now, RK_BUSY while running. */
static rk_status idle(rk_request *req)
{
    pthread_mutex_lock(&req->mu);
    bool running = req->state == REQ_RUNNING;
    pthread_mutex_unlock(&req->mu);
    return running ? RK_BUSY : RK_OK;
}

/* Scenarios in the portfolio's data set's scenarios.csv (0 when none). */
static size_t file_scenarios(const rk_request *req)
{
    const dat_dataset *ds = &req->pf->ds->ds;
    return ds->has_scenarios ? ds->scen.n : 0;
}

rk_status rk_request_set_measures(rk_request *req, unsigned measures)
{
    if (req == NULL || measures == 0 || (measures & ~(unsigned)MEASURES_KNOWN) != 0)
        return RK_BAD_ARGUMENT;
    bool need_file = (measures & RK_MEASURE_STRESS) ||
                     ((measures & RK_MEASURE_SCENARIO_VAR) && !req->scen_mc);
    if (need_file && file_scenarios(req) == 0)
        return RK_NOT_FOUND;
    rk_status rc = idle(req);
    if (rc == RK_OK)
        req->measures = measures;
    return rc;
}

rk_status rk_request_set_bump(rk_request *req, double h)
{
    if (req == NULL || !isfinite(h) || !(h > 0))
        return RK_BAD_ARGUMENT;
    rk_status rc = idle(req);
    if (rc == RK_OK)
        req->bump = h;
    return rc;
}

rk_status rk_request_set_confidence(rk_request *req, double alpha)
{
    if (req == NULL || !(alpha > 0 && alpha < 1))
        return RK_BAD_ARGUMENT;
    rk_status rc = idle(req);
    if (rc == RK_OK)
        req->confidence = alpha;
    return rc;
}

rk_status rk_request_set_es_confidence(rk_request *req, double alpha)
{
    if (req == NULL || !(alpha > 0 && alpha < 1))
        return RK_BAD_ARGUMENT;
    rk_status rc = idle(req);
    if (rc == RK_OK)
        req->es_confidence = alpha;
    return rc;
}

rk_status rk_request_set_scenarios(rk_request *req, size_t n, uint64_t seed)
{
    if (req == NULL || n == 0 || n > RK_SCENARIOS_MAX)
        return RK_BAD_ARGUMENT;
    rk_status rc = idle(req);
    if (rc == RK_OK) {
        req->scen_mc = true;
        req->scen_n = n;
        req->seed = seed;
    }
    return rc;
}

rk_status rk_request_set_historical(rk_request *req)
{
    if (req == NULL)
        return RK_BAD_ARGUMENT;
    if (file_scenarios(req) == 0)
        return RK_NOT_FOUND;
    rk_status rc = idle(req);
    if (rc == RK_OK)
        req->scen_mc = false;
    return rc;
}

rk_status rk_request_set_horizon(rk_request *req, double days)
{
    if (req == NULL || !isfinite(days) || !(days > 0))
        return RK_BAD_ARGUMENT;
    rk_status rc = idle(req);
    if (rc == RK_OK)
        req->horizon = days;
    return rc;
}

rk_status rk_request_set_reuse_unmoved(rk_request *req, bool on)
{
    if (req == NULL)
        return RK_BAD_ARGUMENT;
    rk_status rc = idle(req);
    if (rc == RK_OK)
        req->reuse_unmoved = on;
    return rc;
}

rk_status rk_request_set_callback(rk_request *req, rk_request_done_fn fn, void *arg)
{
    if (req == NULL)
        return RK_BAD_ARGUMENT;
    rk_status rc = idle(req);
    if (rc == RK_OK) {
        req->cb = fn;
        req->cb_arg = arg;
    }
    return rc;
}

/* ---- the stages ---- */

static unsigned implied(unsigned m)
{
    if (m & RK_MEASURE_PARAMETRIC_VAR)
        m |= RK_MEASURE_GRID;
    if (m & (RK_MEASURE_GRID | MEASURES_SCEN))
        m |= RK_MEASURE_VALUES;
    return m;
}

/* Why the next stage or block must not start: cancelled, the last one cut short (`code`), or
 * the deadline passed; RK_OK to go on. req->mu held. */
static rk_status stop_reason(const rk_request *req, rk_status code)
{
    if (req->cancelled)
        return RK_CANCELLED;
    if (code != RK_OK)
        return code;
    if (req->deadline != RK_DEADLINE_NONE && eng_now_ns() >= req->deadline)
        return RK_DEADLINE;
    return RK_OK;
}

/* The set, first scenario and count of block g (blocks of every set, in order). */
static rk_scen_set *block_at(rk_result *res, size_t g, size_t *first, size_t *count)
{
    *first = *count = 0;
    for (size_t k = 0; k < res->nsets; k++) {
        rk_scen_set *s = &res->sets[k];
        if (g < s->nblocks) {
            *first = g * BLOCK;
            *count = s->n - *first < BLOCK ? s->n - *first : BLOCK;
            return s;
        }
        g -= s->nblocks;
    }
    return NULL;
}

/* Market states of block g into slot g % 2: shocks from Monte Carlo or from the file, then
 * rsk_states_from_shocks over the block, exactly as the riskengine program makes them. */
static void block_prepare(rk_result *res, size_t g)
{
    const dat_dataset *ds = &res->pf->ds->ds;
    size_t F = ds->mkt.nfactors, first, count;
    rk_scen_set *s = block_at(res, g, &first, &count);
    if (s->mc)
        rsk_mc_shocks(res->L, F, s->seed, first, count, res->horizon, res->mc_work, res->shock);
    else if (F > 0)
        memcpy(res->shock, ds->scen.shock + first * F, count * F * sizeof(double));
    /* cannot fail: the slot was reserved for BLOCK states of this market at submit */
    rsk_states_from_shocks_fill(&res->view, res->shock, count, &res->blk[g % 2]);
}

static void pnl_done(eng_request *er, void *arg);

/* Submits block g (its states ready in slot g % 2) and makes it `cur`. req->mu held. */
static rk_status block_submit(rk_request *req, size_t g)
{
    rk_result *res = req->res;
    size_t first, count, slot = g % 2;
    rk_scen_set *s = block_at(res, g, &first, &count);
    rsk_submit sub = {
        .deadline_ns = req->deadline, .ws = &res->ws_pnl[slot], .done = pnl_done, .done_arg = req};
    rsk_task *t;
    rk_status rc = rsk_pnl_submit(req->pf->eng->eng, &req->pf->pf, &res->blk[slot], first,
                                  &res->values, &sub, &s->pnl, &t);
    if (rc != RK_OK)
        return rc;
    res->tp[slot] = t;
    res->g_run = g;
    req->cur = rsk_task_request(t);
    req->cur_slot = (int)slot;
    pthread_cond_broadcast(&req->cv); /* a waiter between blocks moves on to this one */
    return RK_OK;
}

/* Blocks g_from.. will not run: their cells are missing with `code`. */
static void blocks_skip(rk_result *res, size_t g_from, rk_status code)
{
    for (size_t g = g_from; g < res->nblocks; g++) {
        size_t first, count;
        rk_scen_set *s = block_at(res, g, &first, &count);
        rsk_pnl_skip(&res->pf->pf, count, code, &s->pnl);
    }
    if (g_from < res->nblocks && res->scen_stop == RK_OK)
        res->scen_stop = code;
}

/* After values and grid: starts the scenario blocks, or records why they will not run (`why`).
 * Returns true when a block is running (its callback continues). req->mu held. */
static bool scen_begin(rk_request *req, rk_status why)
{
    rk_result *res = req->res;
    if (res->nsets == 0)
        return false;
    res->scen_t0 = eng_now_ns();
    if (why == RK_OK && req->pf->pf.nchunks == 0)
        return false; /* no valid position: nothing to revalue, every sum is 0 */
    if (why == RK_OK) {
        block_prepare(res, 0);
        why = block_submit(req, 0);
        if (why == RK_OK) {
            if (res->nblocks > 1)
                block_prepare(res, 1);
            return true;
        }
    }
    blocks_skip(res, 0, why);
    return false;
}

/* The last stage is over: VaR, status, timings, callback, DONE. No lock held. */
static void complete(rk_request *req)
{
    rk_result *res = req->res; /* stable while running: only the owner detaches it */
    const dat_dataset *ds = &req->pf->ds->ds;
    size_t nb = ds->pos.nbooks, F = ds->mkt.nfactors;
    bool grid_ran = res->tg != NULL && res->grid_skip == RK_OK;
    if ((res->measures & RK_MEASURE_PARAMETRIC_VAR) && grid_ran) {
        int64_t t0 = eng_now_ns();
        rk_status rc = rsk_parametric_var_into(res->grid.exposure, nb, res->snap->cov, F,
                                               res->confidence, res->horizon, res->pv_work,
                                               &res->pv);
        res->has_pv = rc == RK_OK;
        if (rc != RK_OK && res->status == RK_OK)
            res->status = rc;
        res->var_ns = eng_now_ns() - t0;
    }
    /* Values coverage per book. */
    memset(res->val_ok, 0, (nb + 1) * sizeof *res->val_ok);
    for (size_t i = 0; i < ds->pos.n; i++) {
        if (res->values.status[i] != RK_OK)
            continue;
        if (ds->pos.book[i] < nb)
            res->val_ok[ds->pos.book[i]]++;
        res->val_ok[nb]++;
    }
    if (res->status == RK_OK)
        res->status = res->iv.stop_code;
    if (res->status == RK_OK && (res->measures & RK_MEASURE_GRID))
        res->status = res->grid_skip != RK_OK ? res->grid_skip : res->ig.stop_code;
    if (res->var_set >= 0) {
        /* over every scenario's P&L as summed, as the riskengine program does */
        const rk_scen_set *s = &res->sets[res->var_set];
        rk_status rc = RK_OK;
        for (size_t b = 0; b <= nb && rc == RK_OK; b++)
            rc = rsk_var_es(s->pnl.pnl + b * s->n, s->n, res->confidence, res->es_confidence,
                            res->sort_work, &res->sv_var[b], &res->sv_es[b]);
        res->has_sv = rc == RK_OK;
        if (rc != RK_OK && res->status == RK_OK)
            res->status = rc;
    }
    if (res->nsets > 0) {
        res->scen_ns = eng_now_ns() - res->scen_t0;
        if (res->status == RK_OK)
            res->status = res->scen_stop;
    }
    res->completed_ns = eng_now_ns();
    rk_engine *e = req->pf->eng;
    /* relaxed: statistics */
    if (res->deadline_ns != RK_DEADLINE_NONE && res->completed_ns > res->deadline_ns)
        atomic_fetch_add_explicit(&e->misses, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&e->completed, 1, memory_order_relaxed);
    rk_snap_unpin(req->pf, res->snap);
    res->snap = NULL;
    if (req->run_cb != NULL)
        req->run_cb(req, res, req->run_cb_arg);
    pthread_mutex_lock(&req->mu);
    req->state = REQ_DONE;
    pthread_cond_broadcast(&req->cv);
    pthread_mutex_unlock(&req->mu);
}

static void grid_done(eng_request *er, void *arg)
{
    (void)er;
    rk_request *req = arg;
    pthread_mutex_lock(&req->mu); /* the values callback has finished recording tg */
    rk_result *res = req->res;
    rsk_task_reduce(res->tg, &res->ig);
    if (scen_begin(req, stop_reason(req, res->ig.stop_code))) {
        pthread_mutex_unlock(&req->mu);
        return; /* pnl_done continues */
    }
    pthread_mutex_unlock(&req->mu);
    complete(req);
}

/* A scenario block is over: reduce it, release the one before, go on or complete. */
static void pnl_done(eng_request *er, void *arg)
{
    (void)er;
    rk_request *req = arg;
    pthread_mutex_lock(&req->mu);
    rk_result *res = req->res;
    size_t g = res->g_run, slot = g % 2, other = slot ^ 1;
    rsk_run_info info;
    rsk_task_reduce(res->tp[slot], &info);
    res->scen_tiles += info.stats.tiles;
    res->scen_tiles_ok += info.stats.tiles_ok;
    if (info.stats.channel_max > res->scen_chan)
        res->scen_chan = info.stats.channel_max;
    if (info.stop_code != RK_OK && res->scen_stop == RK_OK)
        res->scen_stop = info.stop_code;
    if (res->tp[other] != NULL) {
        /* Block g - 1: its callback has left req->mu and only returns; whoever took it as
         * `cur` leaves promptly (it is complete). */
        while (req->slot_users[other] > 0)
            pthread_cond_wait(&req->cv, &req->mu);
        rsk_task_release(res->tp[other]);
        res->tp[other] = NULL;
    }
    size_t next = g + 1;
    if (next < res->nblocks) {
        rk_status why = stop_reason(req, info.stop_code);
        if (why == RK_OK)
            why = block_submit(req, next);
        if (why == RK_OK) {
            /* block next + 1 into this block's slot, while block next runs */
            if (next + 1 < res->nblocks)
                block_prepare(res, next + 1);
            pthread_mutex_unlock(&req->mu);
            return;
        }
        blocks_skip(res, next, why);
    }
    pthread_mutex_unlock(&req->mu);
    complete(req);
}

/* After the values stage: start the grid, or the scenario blocks, or complete. No lock held. */
static void after_values(rk_request *req)
{
    pthread_mutex_lock(&req->mu);
    rk_result *res = req->res;
    rsk_task_reduce(res->tv, &res->iv);
    rk_status why = stop_reason(req, res->iv.stop_code);
    if (res->measures & RK_MEASURE_GRID) {
        if (why == RK_OK) {
            rsk_submit sub = {.deadline_ns = req->deadline,
                              .ws = &res->ws_grid,
                              .done = grid_done,
                              .done_arg = req,
                              .reuse_unmoved = res->reuse_unmoved};
            why = rsk_grid_submit(req->pf->eng->eng, &req->pf->pf, &res->states, res->bump,
                                  &res->values, true, &sub, &res->grid, &res->tg);
            if (why == RK_OK) {
                req->cur = rsk_task_request(res->tg);
                if (req->cur != NULL) {
                    pthread_mutex_unlock(&req->mu);
                    return; /* grid_done continues */
                }
                rsk_task_reduce(res->tg, &res->ig); /* an empty job: done already */
            } else {
                res->tg = NULL;
            }
        }
        res->grid_skip = why;
    }
    if (scen_begin(req, why)) {
        pthread_mutex_unlock(&req->mu);
        return; /* pnl_done continues */
    }
    pthread_mutex_unlock(&req->mu);
    complete(req);
}

static void values_done(eng_request *er, void *arg)
{
    (void)er;
    after_values(arg);
}

/* The scenario sets of a submission and their memory: P&L arrays (kept when the shape is the
 * same), two slots of block states, shock buffers, the Cholesky factor for Monte Carlo and the
 * VaR/ES scratch. Allocates on first use and on a change of shape only. Owner thread. */
static rk_status scen_setup(const rk_request *req, rk_result *res)
{
    res->nsets = 0;
    res->var_set = res->stress_set = -1;
    res->nblocks = 0;
    res->g_run = 0;
    res->scen_stop = RK_OK;
    res->has_sv = false;
    res->scen_t0 = res->scen_ns = 0;
    res->scen_tiles = res->scen_tiles_ok = res->scen_chan = 0;
    res->es_confidence = req->es_confidence;
    unsigned m = res->measures;
    if (!(m & MEASURES_SCEN))
        return RK_OK;
    const dat_dataset *ds = &req->pf->ds->ds;
    size_t F = ds->mkt.nfactors, U = ds->mkt.nund, nb = ds->pos.nbooks, nfile = file_scenarios(req);
    bool any_mc = false;
    if (m & RK_MEASURE_SCENARIO_VAR) {
        rk_scen_set *set = &res->sets[res->nsets];
        set->mc = req->scen_mc;
        set->n = req->scen_mc ? req->scen_n : nfile;
        set->seed = req->seed;
        any_mc = set->mc;
        res->var_set = (int)res->nsets++;
    }
    if (m & RK_MEASURE_STRESS) {
        if (res->var_set >= 0 && !res->sets[res->var_set].mc) {
            res->stress_set = res->var_set; /* the same scenarios: computed once */
        } else {
            rk_scen_set *set = &res->sets[res->nsets];
            set->mc = false;
            set->n = nfile;
            set->seed = 0;
            res->stress_set = (int)res->nsets++;
        }
    }
    for (size_t k = 0; k < res->nsets; k++) {
        rk_scen_set *set = &res->sets[k];
        if (set->n == 0)
            return RK_NOT_FOUND; /* no scenarios.csv */
        set->nblocks = (set->n + BLOCK - 1) / BLOCK;
        res->nblocks += set->nblocks;
        rk_status rc = rsk_pnl_reuse(&set->pnl, ds->pos.n, nb, set->n);
        if (rc != RK_OK)
            return rc;
        rsk_requested_cells(&ds->pos, nb, set->n, set->pnl.req_cells);
    }
    size_t fb = BLOCK * (F ? F : 1);
    if (res->shock == NULL) {
        res->shock = malloc(fb * sizeof(double));
        res->mc_work = malloc(fb * sizeof(double));
        if (res->shock == NULL || res->mc_work == NULL)
            return RK_NO_MEMORY;
    }
    for (size_t k = 0; k < 2; k++) {
        rk_status rc = rsk_states_reserve(&res->blk[k], BLOCK, U);
        if (rc != RK_OK)
            return rc;
    }
    if (any_mc) {
        if (res->L == NULL && (res->L = malloc((F ? F * F : 1) * sizeof(double))) == NULL)
            return RK_NO_MEMORY;
        rk_status rc = rk_snap_cholesky(req->pf, res->snap, res->L);
        if (rc != RK_OK)
            return rc;
    }
    if (res->var_set >= 0) {
        size_t n = res->sets[res->var_set].n;
        if (res->sort_cap < n) {
            free(res->sort_work);
            res->sort_cap = 0;
            if ((res->sort_work = malloc(n * sizeof(double))) == NULL)
                return RK_NO_MEMORY;
            res->sort_cap = n;
        }
    }
    return RK_OK;
}

rk_status rk_request_submit(rk_request *req, int64_t deadline)
{
    if (req == NULL)
        return RK_BAD_ARGUMENT;
    pthread_mutex_lock(&req->mu);
    if (req->state == REQ_RUNNING) {
        pthread_mutex_unlock(&req->mu);
        return RK_BUSY;
    }
    rk_result *old = detach_locked(req);
    req->state = REQ_IDLE;
    pthread_mutex_unlock(&req->mu);
    result_recycle(old);

    rk_portfolio *pf = req->pf;
    rk_result *res = result_obtain(pf);
    if (res == NULL)
        return RK_NO_MEMORY;
    res->measures = implied(req->measures);
    res->bump = req->bump;
    res->reuse_unmoved = req->reuse_unmoved;
    res->confidence = req->confidence;
    res->horizon = req->horizon;
    res->status = RK_OK;
    res->grid_skip = RK_OK;
    res->has_pv = false;
    res->tv = res->tg = NULL;
    memset(&res->iv, 0, sizeof res->iv);
    memset(&res->ig, 0, sizeof res->ig);
    res->var_ns = 0;
    res->completed_ns = 0;
    res->deadline_ns = deadline;
    res->submitted_ns = eng_now_ns();
    res->snap = rk_snap_pin(pf);
    res->version = res->snap->version;
    res->view.und_value = res->snap->values;
    res->view.cov = res->snap->cov;
    rk_status rc = res->states.x == NULL ? rsk_states_grid(&res->view, res->bump, &res->states)
                                         : rsk_states_grid_fill(&res->view, res->bump, &res->states);
    if (rc == RK_OK)
        rc = scen_setup(req, res);
    if (rc != RK_OK) {
        result_recycle(res);
        return rc;
    }

    pthread_mutex_lock(&req->mu);
    req->state = REQ_RUNNING;
    req->cancelled = false;
    req->res = res;
    req->run_cb = req->cb;
    req->run_cb_arg = req->cb_arg;
    req->deadline = deadline;
    req->cur_slot = -1;
    rsk_submit sub = {
        .deadline_ns = deadline, .ws = &res->ws_values, .done = values_done, .done_arg = req};
    rc = rsk_values_submit(pf->eng->eng, &pf->pf, &res->states, 0, &sub, &res->values, &res->tv);
    if (rc != RK_OK) {
        req->state = REQ_IDLE;
        req->res = NULL;
        res->tv = NULL;
        pthread_mutex_unlock(&req->mu);
        result_recycle(res);
        return rc;
    }
    /* relaxed: statistics */
    atomic_fetch_add_explicit(&pf->eng->submitted, 1, memory_order_relaxed);
    req->cur = rsk_task_request(res->tv);
    bool empty = req->cur == NULL;
    pthread_mutex_unlock(&req->mu);
    if (empty)
        after_values(req); /* no engine request, no callback: continue here */
    return RK_OK;
}

static struct timespec to_timespec(int64_t ns)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    return ts;
}

rk_status rk_request_wait(rk_request *req, int64_t until)
{
    if (req == NULL)
        return RK_BAD_ARGUMENT;
    rk_status rc = RK_OK;
    pthread_mutex_lock(&req->mu);
    if (req->state == REQ_IDLE) {
        pthread_mutex_unlock(&req->mu);
        return RK_BAD_ARGUMENT;
    }
    while (req->state != REQ_DONE) {
        eng_request *er = req->cur;
        if (er != NULL) {
            int slot = req->cur_slot;
            req->users++;
            if (slot >= 0)
                req->slot_users[slot]++;
            pthread_mutex_unlock(&req->mu);
            /* Drives the stage's deadline expiry too; returns once its callback has run. */
            rk_status w = eng_wait(er, until);
            pthread_mutex_lock(&req->mu);
            if (slot >= 0 && --req->slot_users[slot] == 0)
                pthread_cond_broadcast(&req->cv);
            if (--req->users == 0)
                pthread_cond_broadcast(&req->cv);
            if (w == RK_TIMEOUT && req->state != REQ_DONE) {
                rc = RK_TIMEOUT;
                break;
            }
            if (req->cur == er && req->state != REQ_DONE) {
                /* the stage is over and its callback is completing the request: wait for it */
                pthread_cond_wait(&req->cv, &req->mu);
            }
            continue;
        }
        if (until != RK_DEADLINE_NONE && eng_now_ns() >= until) {
            rc = RK_TIMEOUT;
            break;
        }
        if (until == RK_DEADLINE_NONE) {
            pthread_cond_wait(&req->cv, &req->mu);
        } else {
            struct timespec ts = to_timespec(until);
            pthread_cond_timedwait(&req->cv, &req->mu, &ts);
        }
    }
    pthread_mutex_unlock(&req->mu);
    return rc;
}

rk_status rk_request_cancel(rk_request *req)
{
    if (req == NULL)
        return RK_BAD_ARGUMENT;
    pthread_mutex_lock(&req->mu);
    if (req->state != REQ_RUNNING) {
        pthread_mutex_unlock(&req->mu);
        return RK_OK;
    }
    if (!req->cancelled)
        /* relaxed: statistics */
        atomic_fetch_add_explicit(&req->pf->eng->cancels, 1, memory_order_relaxed);
    req->cancelled = true;
    eng_request *er = req->cur;
    int slot = req->cur_slot;
    if (er != NULL) {
        req->users++;
        if (slot >= 0)
            req->slot_users[slot]++;
    }
    pthread_mutex_unlock(&req->mu);
    if (er == NULL)
        return RK_OK; /* between stages: the next stage sees `cancelled` */
    eng_cancel(er); /* may run the stage's callback on this thread */
    pthread_mutex_lock(&req->mu);
    if (slot >= 0 && --req->slot_users[slot] == 0)
        pthread_cond_broadcast(&req->cv);
    if (--req->users == 0)
        pthread_cond_broadcast(&req->cv);
    pthread_mutex_unlock(&req->mu);
    return RK_OK;
}

bool rk_request_done(const rk_request *req)
{
    if (req == NULL)
        return false;
    rk_request *m = (rk_request *)req;
    pthread_mutex_lock(&m->mu);
    bool done = m->state == REQ_DONE;
    pthread_mutex_unlock(&m->mu);
    return done;
}

rk_status rk_request_take_result(rk_request *req, rk_result **out)
{
    if (req == NULL || out == NULL)
        return RK_BAD_ARGUMENT;
    *out = NULL;
    pthread_mutex_lock(&req->mu);
    if (req->state == REQ_RUNNING) {
        pthread_mutex_unlock(&req->mu);
        return RK_BUSY;
    }
    rk_result *res = req->state == REQ_DONE ? detach_locked(req) : NULL;
    pthread_mutex_unlock(&req->mu);
    if (res == NULL)
        return RK_NOT_FOUND;
    *out = res;
    return RK_OK;
}

rk_status rk_request_run(rk_request *req, int64_t deadline, rk_result **out)
{
    if (req == NULL || out == NULL)
        return RK_BAD_ARGUMENT;
    *out = NULL;
    rk_status rc = rk_request_submit(req, deadline);
    if (rc != RK_OK)
        return rc;
    rk_request_wait(req, RK_DEADLINE_NONE);
    return rk_request_take_result(req, out);
}

/* ---- result accessors ---- */

rk_status rk_result_status(const rk_result *res)
{
    return res != NULL ? res->status : RK_BAD_ARGUMENT;
}

uint64_t rk_result_market_version(const rk_result *res)
{
    return res != NULL ? res->version : 0;
}

unsigned rk_result_measures(const rk_result *res)
{
    return res != NULL ? res->measures : 0;
}

size_t rk_result_positions(const rk_result *res)
{
    return res != NULL ? res->pf->ds->ds.pos.n : 0;
}

size_t rk_result_factors(const rk_result *res)
{
    return res != NULL ? res->pf->ds->ds.mkt.nfactors : 0;
}

size_t rk_result_books(const rk_result *res)
{
    return res != NULL ? res->pf->ds->ds.pos.nbooks : 0;
}

static void set_nan(double *p)
{
    if (p != NULL)
        *p = NAN;
}

rk_status rk_result_value(const rk_result *res, size_t position, double *value)
{
    set_nan(value);
    if (res == NULL || position >= rk_result_positions(res))
        return RK_BAD_ARGUMENT;
    rk_status code = (rk_status)res->values.status[position];
    if (code == RK_OK && value != NULL)
        *value = res->values.value[position];
    return code;
}

/* The code of grid cell (i, j), whether or not the grid stage ran. */
static rk_status grid_code(const rk_result *res, size_t i, size_t j)
{
    rk_status v = (rk_status)res->values.status[i];
    if (v != RK_OK)
        return v;
    if (res->tg == NULL || res->grid_skip != RK_OK)
        return res->grid_skip != RK_OK ? res->grid_skip : RK_INTERNAL;
    return (rk_status)res->grid.status[i * res->grid.nfactors + j];
}

rk_status rk_result_sensitivity(const rk_result *res, size_t position, size_t factor,
                                double *delta, double *gamma)
{
    set_nan(delta);
    set_nan(gamma);
    if (res == NULL || position >= rk_result_positions(res) || factor >= rk_result_factors(res))
        return RK_BAD_ARGUMENT;
    if (!(res->measures & RK_MEASURE_GRID))
        return RK_NOT_FOUND;
    rk_status code = grid_code(res, position, factor);
    if (code == RK_OK) {
        size_t c = position * res->grid.nfactors + factor;
        if (delta != NULL)
            *delta = res->grid.delta[c];
        if (gamma != NULL)
            *gamma = res->grid.gamma[c];
    }
    return code;
}

static bool grid_ran(const rk_result *res)
{
    return res->tg != NULL && res->grid_skip == RK_OK;
}

rk_status rk_result_exposure(const rk_result *res, size_t book, size_t factor, double *exposure)
{
    set_nan(exposure);
    if (res == NULL || book > rk_result_books(res) || factor >= rk_result_factors(res))
        return RK_BAD_ARGUMENT;
    if (!(res->measures & RK_MEASURE_GRID))
        return RK_NOT_FOUND;
    if (exposure != NULL)
        *exposure = grid_ran(res) ? res->grid.exposure[book * res->grid.nfactors + factor] : 0.0;
    return RK_OK;
}

rk_status rk_result_parametric_var(const rk_result *res, size_t book, double *var,
                                   double *contribution)
{
    set_nan(var);
    set_nan(contribution);
    if (res == NULL || book > rk_result_books(res))
        return RK_BAD_ARGUMENT;
    if (!(res->measures & RK_MEASURE_PARAMETRIC_VAR))
        return RK_NOT_FOUND;
    if (!res->has_pv)
        return res->status != RK_OK ? res->status : RK_INTERNAL;
    if (var != NULL)
        *var = res->pv.var[book];
    if (contribution != NULL)
        *contribution = res->pv.contrib[book];
    return RK_OK;
}

/* The set of a scenario measure, or NULL when not computed. */
static const rk_scen_set *scen_set(const rk_result *res, unsigned measure)
{
    int k = measure == RK_MEASURE_SCENARIO_VAR ? res->var_set
            : measure == RK_MEASURE_STRESS     ? res->stress_set
                                               : -1;
    return k >= 0 && (res->measures & measure) ? &res->sets[k] : NULL;
}

size_t rk_result_scenarios(const rk_result *res, unsigned measure)
{
    const rk_scen_set *s = res != NULL ? scen_set(res, measure) : NULL;
    return s != NULL ? s->n : 0;
}

rk_status rk_result_scenario_pnl(const rk_result *res, size_t book, size_t scenario, double *pnl)
{
    set_nan(pnl);
    if (res == NULL || book > rk_result_books(res))
        return RK_BAD_ARGUMENT;
    const rk_scen_set *s = scen_set(res, RK_MEASURE_SCENARIO_VAR);
    if (s == NULL)
        return RK_NOT_FOUND;
    if (scenario >= s->n)
        return RK_BAD_ARGUMENT;
    if (pnl != NULL)
        *pnl = s->pnl.pnl[book * s->n + scenario];
    return RK_OK;
}

rk_status rk_result_scenario_var(const rk_result *res, size_t book, double *var, double *es)
{
    set_nan(var);
    set_nan(es);
    if (res == NULL || book > rk_result_books(res))
        return RK_BAD_ARGUMENT;
    if (scen_set(res, RK_MEASURE_SCENARIO_VAR) == NULL)
        return RK_NOT_FOUND;
    if (!res->has_sv)
        return res->status != RK_OK ? res->status : RK_INTERNAL;
    if (var != NULL)
        *var = res->sv_var[book];
    if (es != NULL)
        *es = res->sv_es[book];
    return RK_OK;
}

rk_status rk_result_stress(const rk_result *res, size_t scenario, size_t book, double *pnl,
                           rk_coverage *cov)
{
    set_nan(pnl);
    if (cov != NULL)
        memset(cov, 0, sizeof *cov);
    if (res == NULL || book > rk_result_books(res))
        return RK_BAD_ARGUMENT;
    const rk_scen_set *s = scen_set(res, RK_MEASURE_STRESS);
    if (s == NULL)
        return RK_NOT_FOUND;
    if (scenario >= s->n)
        return RK_BAD_ARGUMENT;
    size_t k = book * s->n + scenario;
    if (pnl != NULL)
        *pnl = s->pnl.pnl[k];
    if (cov != NULL) {
        cov->cells_requested = res->val_req[book];
        cov->cells_ok = s->pnl.ok_scen[k];
        cov->coverage = cov->cells_requested
                            ? (double)cov->cells_ok / (double)cov->cells_requested
                            : 1.0;
    }
    return RK_OK;
}

rk_status rk_result_coverage(const rk_result *res, unsigned measure, size_t book,
                             rk_coverage *out)
{
    if (res == NULL || out == NULL || book > rk_result_books(res))
        return RK_BAD_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (measure == RK_MEASURE_VALUES) {
        out->cells_requested = res->val_req[book];
        out->cells_ok = res->val_ok[book];
    } else if (measure == RK_MEASURE_GRID || measure == RK_MEASURE_PARAMETRIC_VAR) {
        if (!(res->measures & measure))
            return RK_NOT_FOUND;
        if (grid_ran(res)) {
            out->cells_requested = res->grid.req_cells[book];
            out->cells_ok = res->grid.ok_cells[book];
        } else {
            out->cells_requested = res->val_req[book] * rk_result_factors(res);
        }
    } else if (measure == RK_MEASURE_SCENARIO_VAR || measure == RK_MEASURE_STRESS) {
        const rk_scen_set *s = scen_set(res, measure);
        if (s == NULL)
            return RK_NOT_FOUND;
        out->cells_requested = s->pnl.req_cells[book];
        out->cells_ok = s->pnl.ok_cells[book];
    } else {
        return RK_BAD_ARGUMENT;
    }
    out->coverage =
        out->cells_requested ? (double)out->cells_ok / (double)out->cells_requested : 1.0;
    return RK_OK;
}

static const char *cell_message(const rk_result *res, size_t i, rk_status code, bool grid)
{
    if (code == RK_INVALID_INPUT && res->pf->pos_msg[i] != NULL)
        return res->pf->pos_msg[i];
    if (code == RK_NUMERIC)
        return grid ? "bumped value is not finite" : "unit price is not finite";
    return rk_strerror(code);
}

/* Record r (0: values not finite somewhere, 1: scenarios never computed) of position i in set
 * s, when it exists. */
static bool scen_record(const rk_result *res, const rk_scen_set *s, unsigned measure, size_t i,
                        size_t r, rk_error_info *out)
{
    if (res->values.status[i] != RK_OK)
        return false; /* reported with the base value */
    if (r == 0) {
        uint32_t nf = atomic_load_explicit(&s->pnl.nfail[i], memory_order_relaxed);
        if (nf == 0)
            return false;
        uint32_t first = atomic_load_explicit(&s->pnl.first_fail[i], memory_order_relaxed);
        *out = (rk_error_info){i, RK_NONE, first, RK_NUMERIC,
                               "revalued value is not finite in some scenarios (scenario: the "
                               "first)",
                               measure};
        return true;
    }
    if (s->pnl.nmissing[i] == 0)
        return false;
    rk_status code = (rk_status)s->pnl.miss_code[i];
    *out = (rk_error_info){i, RK_NONE, RK_NONE, code, rk_strerror(code), measure};
    return true;
}

bool rk_result_next_error(const rk_result *res, size_t *cursor, rk_error_info *out)
{
    if (res == NULL || cursor == NULL || out == NULL)
        return false;
    size_t n = rk_result_positions(res), F = rk_result_factors(res);
    size_t c = *cursor;
    for (; c < n; c++) {
        rk_status code = (rk_status)res->values.status[c];
        if (code == RK_OK)
            continue;
        *out = (rk_error_info){c, RK_NONE, RK_NONE, code, cell_message(res, c, code, false), 0};
        *cursor = c + 1;
        return true;
    }
    if ((res->measures & RK_MEASURE_GRID) && F > 0) {
        for (size_t k = c - n; k < n * F; k++) {
            size_t i = k / F, j = k % F;
            if (res->values.status[i] != RK_OK) {
                k = (i + 1) * F - 1; /* reported with the base value */
                continue;
            }
            rk_status code = grid_code(res, i, j);
            if (code == RK_OK)
                continue;
            *out = (rk_error_info){i, j, RK_NONE, code, cell_message(res, i, code, true),
                                   RK_MEASURE_GRID};
            *cursor = n + k + 1;
            return true;
        }
    }
    /* Then two slots per position for each scenario measure. */
    size_t base = n + n * F;
    if (c < base)
        c = base;
    static const unsigned scen_measures[2] = {RK_MEASURE_SCENARIO_VAR, RK_MEASURE_STRESS};
    for (size_t m = 0; m < 2; m++) {
        size_t lo = base + m * 2 * n, hi = lo + 2 * n;
        const rk_scen_set *s = scen_set(res, scen_measures[m]);
        if (s == NULL || c >= hi) {
            if (c < hi)
                c = hi;
            continue;
        }
        for (; c < hi; c++) {
            size_t k = c - lo;
            if (scen_record(res, s, scen_measures[m], k / 2, k % 2, out)) {
                *cursor = c + 1;
                return true;
            }
        }
    }
    *cursor = c;
    return false;
}

rk_status rk_result_timings(const rk_result *res, rk_timings *out)
{
    if (res == NULL || out == NULL)
        return RK_BAD_ARGUMENT;
    memset(out, 0, sizeof *out);
    out->submitted_ns = res->submitted_ns;
    out->completed_ns = res->completed_ns;
    out->deadline_ns = res->deadline_ns;
    out->overshoot_ns = res->deadline_ns != RK_DEADLINE_NONE && res->completed_ns > res->deadline_ns
                            ? res->completed_ns - res->deadline_ns
                            : 0;
    const eng_request_stats *v = &res->iv.stats, *g = &res->ig.stats;
    out->values_ns = v->completed_ns > v->submitted_ns ? v->completed_ns - v->submitted_ns : 0;
    out->grid_ns = g->completed_ns > g->submitted_ns ? g->completed_ns - g->submitted_ns : 0;
    out->var_ns = res->var_ns;
    out->tiles = v->tiles + g->tiles + res->scen_tiles;
    out->tiles_ok = v->tiles_ok + g->tiles_ok + res->scen_tiles_ok;
    out->channel_max = v->channel_max > g->channel_max ? v->channel_max : g->channel_max;
    if (res->scen_chan > out->channel_max)
        out->channel_max = res->scen_chan;
    out->scenarios_ns = res->scen_ns;
    return RK_OK;
}
