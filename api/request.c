/*
 * request.c - rk_request and rk_result: a request runs as a short chain of engine stages,
 * values -> grid -> parametric VaR, each started from the previous stage's completion
 * callback, so that an asynchronous request completes (and its callback fires) without any
 * thread waiting for it.
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
 * Holding req->mu while submitting a stage is safe: the engine never calls a completion
 * callback from inside eng_submit for a job with tiles (an empty job has no engine request and
 * is completed by the caller instead), and the engine's locks are never held around callbacks,
 * so the lock order is always req->mu -> engine lock.
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
#define MEASURES_OFFERED (RK_MEASURE_VALUES | RK_MEASURE_GRID | RK_MEASURE_PARAMETRIC_VAR)

struct rk_request {
    rk_portfolio *pf;       /* [imm] */
    /* Options for the next submission. [owner] */
    unsigned measures;
    double bump, confidence, horizon;
    rk_request_done_fn cb;
    void *cb_arg;

    pthread_mutex_t mu;     /* the request lock */
    pthread_cond_t cv;      /* [mu] DONE and users == 0 are signalled here (CLOCK_MONOTONIC) */
    req_state state;        /* [mu] */
    bool cancelled;         /* [mu] cancel was asked during this submission */
    unsigned users;         /* [mu] waiters/cancellers using `cur` outside the lock */
    eng_request *cur;       /* [mu] the running (or last) stage's engine request; NULL between */
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
    if (r->pv.sigma == NULL || r->pv.var == NULL || r->pv.contrib == NULL || r->pv_work == NULL ||
        r->val_ok == NULL || r->val_req == NULL) {
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
    r->horizon = 1.0;
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    r->state = REQ_IDLE;
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

rk_status rk_request_set_measures(rk_request *req, unsigned measures)
{
    if (req == NULL || measures == 0 || (measures & ~(unsigned)MEASURES_KNOWN) != 0)
        return RK_BAD_ARGUMENT;
    if ((measures & ~(unsigned)MEASURES_OFFERED) != 0)
        return RK_UNSUPPORTED;
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

rk_status rk_request_set_horizon(rk_request *req, double days)
{
    if (req == NULL || !isfinite(days) || !(days > 0))
        return RK_BAD_ARGUMENT;
    rk_status rc = idle(req);
    if (rc == RK_OK)
        req->horizon = days;
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
    if (m & RK_MEASURE_GRID)
        m |= RK_MEASURE_VALUES;
    return m;
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
    pthread_mutex_unlock(&req->mu);
    complete(req);
}

/* After the values stage: start the grid or complete. No lock held. */
static void after_values(rk_request *req)
{
    pthread_mutex_lock(&req->mu);
    rk_result *res = req->res;
    rsk_task_reduce(res->tv, &res->iv);
    if (!(res->measures & RK_MEASURE_GRID)) {
        pthread_mutex_unlock(&req->mu);
        complete(req);
        return;
    }
    rk_status why = RK_OK;
    if (req->cancelled)
        why = RK_CANCELLED;
    else if (res->iv.stop_code != RK_OK)
        why = res->iv.stop_code;
    else if (req->deadline != RK_DEADLINE_NONE && eng_now_ns() >= req->deadline)
        why = RK_DEADLINE;
    if (why == RK_OK) {
        rsk_submit sub = {.deadline_ns = req->deadline,
                          .ws = &res->ws_grid,
                          .done = grid_done,
                          .done_arg = req};
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
    pthread_mutex_unlock(&req->mu);
    complete(req);
}

static void values_done(eng_request *er, void *arg)
{
    (void)er;
    after_values(arg);
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
            req->users++;
            pthread_mutex_unlock(&req->mu);
            /* Drives the stage's deadline expiry too; returns once its callback has run. */
            rk_status w = eng_wait(er, until);
            pthread_mutex_lock(&req->mu);
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
    if (er != NULL)
        req->users++;
    pthread_mutex_unlock(&req->mu);
    if (er == NULL)
        return RK_OK; /* between stages: the next stage sees `cancelled` */
    eng_cancel(er); /* may run the stage's callback on this thread */
    pthread_mutex_lock(&req->mu);
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
        *out = (rk_error_info){c, RK_NONE, RK_NONE, code, cell_message(res, c, code, false)};
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
            *out = (rk_error_info){i, j, RK_NONE, code, cell_message(res, i, code, true)};
            *cursor = n + k + 1;
            return true;
        }
    }
    *cursor = n + n * F;
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
    out->tiles = v->tiles + g->tiles;
    out->tiles_ok = v->tiles_ok + g->tiles_ok;
    out->channel_max = v->channel_max > g->channel_max ? v->channel_max : g->channel_max;
    return RK_OK;
}
