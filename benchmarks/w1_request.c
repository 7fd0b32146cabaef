/*
 * w1_request.c - the W1 request path of the latency benchmarks (see w1_request.h), through the
 * public C API: one request = an rk_request computing the grid and parametric VaR
 * (RK_MEASURE_GRID | RK_MEASURE_PARAMETRIC_VAR, which imply the base values), submitted with
 * its deadline, waited for with rk_request_wait, cancelled with rk_request_cancel, read with
 * rk_result_coverage / rk_result_parametric_var / rk_result_exposure. What a client of the
 * library would write, and what the benchmarks therefore measure.
 *
 * The context loads the data set's folder with rk_dataset_load (the benchmark's dat_dataset
 * tells which folder) and keeps idle rk_requests in a small stack, so that a steady stream of
 * w1_start/w1_free reuses requests and results the way a long-lived client does: the request
 * path then makes no heap allocation (api/README.md, "Memory on the real-time path").
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "riskengine.h"
#include "w1_request.h"

#define W1_BUMP 1e-4
#define W1_CONFIDENCE 0.99
#define W1_HORIZON 1.0

struct w1_ctx {
    rk_dataset *ds;    /* immutable once the portfolio exists */
    rk_engine *eng;
    rk_portfolio *pf;
    pthread_mutex_t mu;
    w1_request *idle; /* [mu] requests to reuse */
    _Atomic bool reuse_unmoved; /* the grid's fast path for the next requests (relaxed: set
                                   between runs, read at submit) */
};

struct w1_request {
    w1_ctx *c;
    rk_request *rq;  /* owner thread, except rk_request_cancel (any thread) */
    w1_request *next; /* [c->mu] link in c->idle */
    rk_status submit_rc;
};

w1_ctx *w1_open(const dat_dataset *ds, size_t threads, char *msg, size_t msglen)
{
    if (ds->dir == NULL) {
        snprintf(msg, msglen, "the C API path loads data sets from their folder; this one has none");
        return NULL;
    }
    w1_ctx *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    rk_engine_config cfg;
    rk_engine_config_init(&cfg);
    cfg.threads = threads;
    rk_status rc = rk_dataset_load(ds->dir, &c->ds, msg, msglen);
    if (rc == RK_OK)
        rc = rk_engine_create(&cfg, &c->eng, msg, msglen);
    if (rc == RK_OK && (rc = rk_portfolio_create(c->eng, c->ds, &c->pf)) != RK_OK)
        snprintf(msg, msglen, "portfolio: %s", rk_strerror(rc));
    if (rc != RK_OK) {
        w1_close(c);
        return NULL;
    }
    return c;
}

void w1_close(w1_ctx *c)
{
    if (c == NULL)
        return;
    while (c->idle != NULL) {
        w1_request *r = c->idle;
        c->idle = r->next;
        rk_request_destroy(r->rq);
        free(r);
    }
    rk_portfolio_destroy(c->pf);
    rk_engine_destroy(c->eng);
    rk_dataset_destroy(c->ds);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

size_t w1_workers(const w1_ctx *c)
{
    return rk_engine_workers(c->eng);
}

uint64_t w1_cells(const w1_ctx *c)
{
    return (uint64_t)rk_dataset_positions(c->ds) * rk_dataset_factors(c->ds);
}

/* An idle request of the context, or a new one with the W1 options. */
static w1_request *obtain(w1_ctx *c)
{
    pthread_mutex_lock(&c->mu);
    w1_request *r = c->idle;
    if (r != NULL)
        c->idle = r->next;
    pthread_mutex_unlock(&c->mu);
    if (r != NULL)
        return r;
    r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->c = c;
    if (rk_request_create(c->pf, &r->rq) != RK_OK ||
        rk_request_set_measures(r->rq, RK_MEASURE_GRID | RK_MEASURE_PARAMETRIC_VAR) != RK_OK ||
        rk_request_set_bump(r->rq, W1_BUMP) != RK_OK ||
        rk_request_set_confidence(r->rq, W1_CONFIDENCE) != RK_OK ||
        rk_request_set_horizon(r->rq, W1_HORIZON) != RK_OK) {
        rk_request_destroy(r->rq);
        free(r);
        return NULL;
    }
    return r;
}

void w1_set_reuse_unmoved(w1_ctx *c, bool on)
{
    atomic_store_explicit(&c->reuse_unmoved, on, memory_order_relaxed);
}

w1_request *w1_start(w1_ctx *c, int64_t deadline_ns)
{
    w1_request *r = obtain(c);
    if (r == NULL)
        return NULL;
    r->submit_rc = rk_request_set_reuse_unmoved(
        r->rq, atomic_load_explicit(&c->reuse_unmoved, memory_order_relaxed));
    /* INT64_MAX (the engine's "no deadline") is RK_DEADLINE_NONE */
    if (r->submit_rc == RK_OK)
        r->submit_rc = rk_request_submit(r->rq, deadline_ns);
    return r;
}

void w1_cancel(w1_request *r)
{
    rk_request_cancel(r->rq);
}

void w1_wait(w1_request *r, w1_result *res)
{
    *res = (w1_result){.status = r->submit_rc, .var_total = NAN, .exposure_sum = NAN,
                       .cells_requested = w1_cells(r->c)};
    if (r->submit_rc != RK_OK)
        return;
    rk_result *out = NULL;
    rk_request_wait(r->rq, RK_DEADLINE_NONE);
    rk_status rc = rk_request_take_result(r->rq, &out);
    if (rc != RK_OK) {
        res->status = rc;
        return;
    }
    rk_status st = rk_result_status(out);
    if (st != RK_OK && st != RK_DEADLINE && st != RK_CANCELLED)
        res->status = st; /* it could not run; partial results are status 0 */
    size_t total = rk_result_books(out), F = rk_result_factors(out);
    rk_coverage cov;
    if (rk_result_coverage(out, RK_MEASURE_GRID, total, &cov) == RK_OK) {
        res->cells_ok = cov.cells_ok;
        res->cells_requested = cov.cells_requested;
    }
    double var;
    if (rk_result_parametric_var(out, total, &var, NULL) == RK_OK)
        res->var_total = var;
    double s = 0.0;
    for (size_t j = 0; j < F; j++) {
        double x;
        if (rk_result_exposure(out, total, j, &x) == RK_OK)
            s += x;
    }
    res->exposure_sum = s;
    rk_timings tm;
    if (rk_result_timings(out, &tm) == RK_OK)
        res->engine_overshoot_ns = tm.overshoot_ns;
    rk_result_destroy(out);
}

void w1_free(w1_request *r)
{
    if (r == NULL)
        return;
    w1_ctx *c = r->c;
    pthread_mutex_lock(&c->mu);
    r->next = c->idle;
    c->idle = r;
    pthread_mutex_unlock(&c->mu);
}
