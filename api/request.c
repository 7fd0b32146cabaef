/*
 * request.c - rk_request and rk_result: a request computes its measures through one flow
 * (risk/flow.h: values -> grid -> parametric VaR -> scenario P&L blocks, each engine job
 * submitted from the previous one's completion callback), the same path the riskengine program
 * takes, so that the numbers of both are the same by construction. This file holds the handle,
 * its options, the market snapshot a submission is pinned to, and the results.
 *
 * A submission: the owner takes a result from the portfolio's pool, pins the market snapshot,
 * copies the Cholesky factor of its covariance when Monte Carlo is asked for, prepares the
 * result's run (rsk_run_prepare: the states and buffers, reused once warm) and submits it to
 * the request's flow. The flow's completion (an engine thread, or the thread that waited or
 * cancelled) calls run_done: timings, statistics, the snapshot unpinned, the user's callback;
 * only then does the flow report DONE.
 *
 * Memory: results are recycled through the portfolio's pool with every buffer they own (the
 * run's values, grid, states, VaR arrays and task workspaces), engine requests through the
 * engine's cache, snapshots through the portfolio's spare list: once warm, nothing here
 * allocates.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

#define MEASURES_KNOWN                                                                             \
    (RK_MEASURE_VALUES | RK_MEASURE_GRID | RK_MEASURE_PARAMETRIC_VAR | RK_MEASURE_SCENARIO_VAR | \
     RK_MEASURE_STRESS)

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

    rsk_flow flow;          /* the submission in flight or done, and its lock */
    /* Copied at submit, read by run_done. [imm while running] */
    rk_request_done_fn run_cb;
    void *run_cb_arg;
};

/* ---- results: pool ---- */

static rk_result *result_of(rsk_run *run)
{
    return (rk_result *)(void *)((char *)run - offsetof(rk_result, run));
}

static void result_free(rk_result *r)
{
    if (r == NULL)
        return;
    rsk_run_free(&r->run);
    free(r->L);
    free(r);
}

static rk_result *result_new(rk_portfolio *pf)
{
    rk_result *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->pf = pf;
    r->view = pf->ds->ds.mkt; /* shallow: values and covariance are pointed at the snapshot's */
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
    rsk_run_release(&r->run);
    snap_unpin(r->pf, r->snap);
    r->snap = NULL;
    rk_portfolio *pf = r->pf;
    pthread_mutex_lock(&pf->pool_mu);
    r->next = pf->pool;
    pf->pool = r;
    pthread_mutex_unlock(&pf->pool_mu);
}

void result_pool_fini(rk_portfolio *pf)
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
    rsk_flow_init(&r->flow);
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

void rk_request_destroy(rk_request *req)
{
    if (req == NULL)
        return;
    rk_request_cancel(req);
    rk_request_wait(req, RK_DEADLINE_NONE);
    rsk_run *run;
    if (rsk_flow_take(&req->flow, true, &run) == RK_OK)
        result_recycle(result_of(run));
    rsk_flow_fini(&req->flow);
    atomic_fetch_sub_explicit(&req->pf->live_requests, 1, memory_order_relaxed);
    free(req);
}

/* RK_OK when options may change now, RK_BUSY while running. */
static rk_status idle(rk_request *req)
{
    return rsk_flow_running(&req->flow) ? RK_BUSY : RK_OK;
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

/* ---- submitting ---- */

static unsigned implied(unsigned m)
{
    if (m & RK_MEASURE_PARAMETRIC_VAR)
        m |= RK_MEASURE_GRID;
    if (m & (RK_MEASURE_GRID | RK_MEASURE_SCENARIO_VAR | RK_MEASURE_STRESS))
        m |= RK_MEASURE_VALUES;
    return m;
}

/* The flow is over: timings, statistics, the snapshot, the user's callback. Runs once, on the
 * thread that completed the flow, before the flow reports DONE. */
static void run_done(rsk_run *run, void *arg)
{
    rk_request *req = arg;
    rk_result *res = result_of(run);
    res->completed_ns = eng_now_ns();
    rk_engine *e = req->pf->eng;
    /* relaxed: statistics */
    if (res->deadline_ns != RK_DEADLINE_NONE && res->completed_ns > res->deadline_ns)
        atomic_fetch_add_explicit(&e->misses, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&e->completed, 1, memory_order_relaxed);
    snap_unpin(req->pf, res->snap);
    res->snap = NULL;
    if (req->run_cb != NULL)
        req->run_cb(req, res, req->run_cb_arg);
}

/* The run's specification from the request's options. */
static rsk_run_spec run_spec(rk_request *req, unsigned m, int64_t deadline)
{
    bool svar = (m & RK_MEASURE_SCENARIO_VAR) != 0, stress = (m & RK_MEASURE_STRESS) != 0;
    bool mc = svar && req->scen_mc, file = stress || (svar && !req->scen_mc);
    return (rsk_run_spec){
        .stages = ((m & RK_MEASURE_VALUES) ? RSK_DO_VALUES : 0u) |
                  ((m & RK_MEASURE_GRID) ? RSK_DO_GRID : 0u) |
                  ((m & RK_MEASURE_PARAMETRIC_VAR) ? RSK_DO_PARAMETRIC : 0u) |
                  (mc ? RSK_DO_MC : 0u) | (file ? RSK_DO_FILE : 0u),
        .bump = req->bump,
        .confidence = req->confidence,
        .es_confidence = req->es_confidence,
        .horizon = req->horizon,
        .reuse_unmoved = req->reuse_unmoved,
        .keep_cells = true,
        .mc_scenarios = req->scen_n,
        .seed = req->seed,
        .mc_var = mc,
        .file_var = svar && !req->scen_mc,
        .deadline_ns = deadline,
        .done = run_done,
        .done_arg = req,
    };
}

rk_status rk_request_submit(rk_request *req, int64_t deadline)
{
    if (req == NULL)
        return RK_BAD_ARGUMENT;
    rsk_run *old;
    rk_status rc = rsk_flow_take(&req->flow, true, &old);
    if (rc == RK_BUSY)
        return RK_BUSY;
    if (rc == RK_OK)
        result_recycle(result_of(old));

    rk_portfolio *pf = req->pf;
    rk_result *res = result_obtain(pf);
    if (res == NULL)
        return RK_NO_MEMORY;
    res->measures = implied(req->measures);
    res->completed_ns = 0;
    res->deadline_ns = deadline;
    res->snap = snap_pin(pf);
    res->version = res->snap->version;
    res->view.und_value = res->snap->values;
    res->view.cov = res->snap->cov;
    rsk_run_spec spec = run_spec(req, res->measures, deadline);
    rc = RK_OK;
    if (spec.stages & RSK_DO_MC) {
        size_t F = pf->ds->ds.mkt.nfactors;
        if (res->L == NULL && (res->L = malloc((F ? F * F : 1) * sizeof(double))) == NULL)
            rc = RK_NO_MEMORY;
        else
            rc = snap_cholesky(pf, res->snap, res->L);
    }
    if (rc == RK_OK)
        rc = rsk_run_prepare(&res->run, pf->eng->eng, &pf->pf, &res->view, res->L, &spec);
    if (rc == RK_OK) {
        req->run_cb = req->cb;
        req->run_cb_arg = req->cb_arg;
        rc = rsk_flow_submit(&req->flow, &res->run);
    }
    if (rc != RK_OK) {
        result_recycle(res);
        return rc;
    }
    /* relaxed: statistics */
    atomic_fetch_add_explicit(&pf->eng->submitted, 1, memory_order_relaxed);
    return RK_OK;
}

rk_status rk_request_wait(rk_request *req, int64_t until)
{
    if (req == NULL)
        return RK_BAD_ARGUMENT;
    return rsk_flow_wait(&req->flow, until);
}

rk_status rk_request_cancel(rk_request *req)
{
    if (req == NULL)
        return RK_BAD_ARGUMENT;
    if (rsk_flow_cancel(&req->flow))
        /* relaxed: statistics */
        atomic_fetch_add_explicit(&req->pf->eng->cancels, 1, memory_order_relaxed);
    return RK_OK;
}

bool rk_request_done(const rk_request *req)
{
    if (req == NULL)
        return false;
    return rsk_flow_done(&((rk_request *)req)->flow);
}

rk_status rk_request_take_result(rk_request *req, rk_result **out)
{
    if (req == NULL || out == NULL)
        return RK_BAD_ARGUMENT;
    *out = NULL;
    rsk_run *run;
    rk_status rc = rsk_flow_take(&req->flow, false, &run);
    if (rc == RK_OK)
        *out = result_of(run);
    return rc;
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
    return res != NULL ? res->run.status : RK_BAD_ARGUMENT;
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
    rk_status code = (rk_status)res->run.values.status[position];
    if (code == RK_OK && value != NULL)
        *value = res->run.values.value[position];
    return code;
}

/* The code of grid cell (i, j), whether or not the grid stage ran. */
static rk_status grid_code(const rk_result *res, size_t i, size_t j)
{
    rk_status v = (rk_status)res->run.values.status[i];
    if (v != RK_OK)
        return v;
    if (res->run.tg == NULL || res->run.grid_skip != RK_OK)
        return res->run.grid_skip != RK_OK ? res->run.grid_skip : RK_INTERNAL;
    return (rk_status)res->run.grid.status[i * res->run.grid.nfactors + j];
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
        size_t c = position * res->run.grid.nfactors + factor;
        if (delta != NULL)
            *delta = res->run.grid.delta[c];
        if (gamma != NULL)
            *gamma = res->run.grid.gamma[c];
    }
    return code;
}

static bool grid_ran(const rk_result *res)
{
    return res->run.tg != NULL && res->run.grid_skip == RK_OK;
}

rk_status rk_result_exposure(const rk_result *res, size_t book, size_t factor, double *exposure)
{
    set_nan(exposure);
    if (res == NULL || book > rk_result_books(res) || factor >= rk_result_factors(res))
        return RK_BAD_ARGUMENT;
    if (!(res->measures & RK_MEASURE_GRID))
        return RK_NOT_FOUND;
    if (exposure != NULL)
        *exposure = grid_ran(res) ? res->run.grid.exposure[book * res->run.grid.nfactors + factor] : 0.0;
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
    if (!res->run.has_pv)
        return res->run.status != RK_OK ? res->run.status : RK_INTERNAL;
    if (var != NULL)
        *var = res->run.pv.var[book];
    if (contribution != NULL)
        *contribution = res->run.pv.contrib[book];
    return RK_OK;
}

/* The set of a scenario measure, or NULL when not computed. */
static const rsk_scen_set *scen_set(const rk_result *res, unsigned measure)
{
    const rsk_run *run = &res->run;
    int k = -1;
    if (measure == RK_MEASURE_SCENARIO_VAR)
        k = run->mc_set >= 0 && run->sets[run->mc_set].want_var ? run->mc_set : run->file_set;
    else if (measure == RK_MEASURE_STRESS)
        k = run->file_set;
    return k >= 0 && (res->measures & measure) ? &run->sets[k] : NULL;
}

size_t rk_result_scenarios(const rk_result *res, unsigned measure)
{
    const rsk_scen_set *s = res != NULL ? scen_set(res, measure) : NULL;
    return s != NULL ? s->n : 0;
}

rk_status rk_result_scenario_pnl(const rk_result *res, size_t book, size_t scenario, double *pnl)
{
    set_nan(pnl);
    if (res == NULL || book > rk_result_books(res))
        return RK_BAD_ARGUMENT;
    const rsk_scen_set *s = scen_set(res, RK_MEASURE_SCENARIO_VAR);
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
    const rsk_scen_set *s = scen_set(res, RK_MEASURE_SCENARIO_VAR);
    if (s == NULL)
        return RK_NOT_FOUND;
    if (!s->has_var)
        return res->run.status != RK_OK ? res->run.status : RK_INTERNAL;
    if (var != NULL)
        *var = s->var[book];
    if (es != NULL)
        *es = s->es[book];
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
    const rsk_scen_set *s = scen_set(res, RK_MEASURE_STRESS);
    if (s == NULL)
        return RK_NOT_FOUND;
    if (scenario >= s->n)
        return RK_BAD_ARGUMENT;
    size_t k = book * s->n + scenario;
    if (pnl != NULL)
        *pnl = s->pnl.pnl[k];
    if (cov != NULL) {
        cov->cells_requested = res->run.val_req[book];
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
        out->cells_requested = res->run.val_req[book];
        out->cells_ok = res->run.val_ok[book];
    } else if (measure == RK_MEASURE_GRID || measure == RK_MEASURE_PARAMETRIC_VAR) {
        if (!(res->measures & measure))
            return RK_NOT_FOUND;
        if (grid_ran(res)) {
            out->cells_requested = res->run.grid.req_cells[book];
            out->cells_ok = res->run.grid.ok_cells[book];
        } else {
            out->cells_requested = res->run.val_req[book] * rk_result_factors(res);
        }
    } else if (measure == RK_MEASURE_SCENARIO_VAR || measure == RK_MEASURE_STRESS) {
        const rsk_scen_set *s = scen_set(res, measure);
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
static bool scen_record(const rk_result *res, const rsk_scen_set *s, unsigned measure, size_t i,
                        size_t r, rk_error_info *out)
{
    if (res->run.values.status[i] != RK_OK)
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
        rk_status code = (rk_status)res->run.values.status[c];
        if (code == RK_OK)
            continue;
        *out = (rk_error_info){c, RK_NONE, RK_NONE, code, cell_message(res, c, code, false), 0};
        *cursor = c + 1;
        return true;
    }
    if ((res->measures & RK_MEASURE_GRID) && F > 0) {
        for (size_t k = c - n; k < n * F; k++) {
            size_t i = k / F, j = k % F;
            if (res->run.values.status[i] != RK_OK) {
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
        const rsk_scen_set *s = scen_set(res, scen_measures[m]);
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
    out->submitted_ns = res->run.submitted_ns;
    out->completed_ns = res->completed_ns;
    out->deadline_ns = res->deadline_ns;
    out->overshoot_ns = res->deadline_ns != RK_DEADLINE_NONE && res->completed_ns > res->deadline_ns
                            ? res->completed_ns - res->deadline_ns
                            : 0;
    const eng_request_stats *v = &res->run.iv.stats, *g = &res->run.ig.stats;
    out->values_ns = v->completed_ns > v->submitted_ns ? v->completed_ns - v->submitted_ns : 0;
    out->grid_ns = g->completed_ns > g->submitted_ns ? g->completed_ns - g->submitted_ns : 0;
    out->var_ns = res->run.var_ns;
    out->tiles = v->tiles + g->tiles + res->run.scen_tiles;
    out->tiles_ok = v->tiles_ok + g->tiles_ok + res->run.scen_tiles_ok;
    out->channel_max = v->channel_max > g->channel_max ? v->channel_max : g->channel_max;
    if (res->run.scen_chan > out->channel_max)
        out->channel_max = res->run.scen_chan;
    out->scenarios_ns = res->run.scen_ns;
    return RK_OK;
}
