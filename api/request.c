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
 * run's values, grid, states, VaR arrays and task workspaces), engine jobs through the
 * engine's cache, snapshots through the portfolio's spare list: once warm, nothing here
 * allocates.
 */
#include <math.h>
#include <stdlib.h>

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
    /* A request in flight holds at most two engine jobs at once (a stage is submitted from
     * the previous one's completion, before that one is released): keep that many request
     * objects per live request in the engine's reserve, sized for the largest job of this
     * portfolio (chunks x the widest of factors and a scenario block), so that submitting
     * allocates nothing once warm however requests happen to overlap. */
    size_t live = atomic_fetch_add_explicit(&pf->live_requests, 1, memory_order_relaxed) + 1;
    size_t cols = pf->ds->ds.mkt.nfactors > RSK_STATE_BLOCK ? pf->ds->ds.mkt.nfactors
                                                             : RSK_STATE_BLOCK;
    size_t want = 2 * live + 1 < 64 ? 2 * live + 1 : 64;
    (void)eng_reserve(pf->eng->eng, want, (pf->layout.nchunks ? pf->layout.nchunks : 1) * cols);
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
    if (req == NULL || !(h >= RK_BUMP_MIN && h <= RK_BUMP_MAX))
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
        rc = rsk_run_prepare(&res->run, pf->eng->eng, &pf->layout, &res->view, res->L, &spec);
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

