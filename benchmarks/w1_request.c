/*
 * w1_request.c - the W1 request path of the latency benchmarks (see w1_request.h), on the
 * internal layer: one request = grid states from the market, base values (one engine request),
 * the full-revaluation grid keeping every cell (a second engine request), then parametric VaR
 * on the calling thread. It is the sequence `riskengine grid` runs, without the files.
 *
 * Cancellation and the waiter: the waiter first waits for the engine request to complete
 * (eng_wait honours the request's deadline), then detaches it under the request's lock and only
 * then lets rsk_task_finish free it, so that a concurrent w1_cancel never touches a freed
 * engine request. A cancel that lands between the two phases stops the grid from starting.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine.h"
#include "eval.h"
#include "measures.h"
#include "portfolio.h"
#include "states.h"
#include "w1_request.h"

#define W1_BUMP 1e-4
#define W1_CONFIDENCE 0.99
#define W1_HORIZON 1.0

struct w1_ctx {
    const dat_dataset *ds; /* immutable after w1_open */
    eng_engine *eng;
    rsk_portfolio pf;
};

struct w1_request {
    w1_ctx *c;
    int64_t deadline;
    pthread_mutex_t mu;
    bool cancelled;  /* under mu */
    rsk_task *task;  /* the phase in flight, under mu; NULL between phases and at the end */
    rsk_states st;   /* owner thread */
    rsk_values v;
    rsk_grid g;
    int status;
};

w1_ctx *w1_open(const dat_dataset *ds, size_t threads, char *msg, size_t msglen)
{
    w1_ctx *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    c->ds = ds;
    mdl_init();
    rsk_blas_init();
    eng_config cfg = {.threads = threads};
    if (eng_create(&cfg, &c->eng, msg, msglen) != RK_OK) {
        free(c);
        return NULL;
    }
    if (rsk_portfolio_build(ds, c->eng, &c->pf) != RK_OK) {
        snprintf(msg, msglen, "laying out positions: out of memory");
        eng_destroy(c->eng);
        free(c);
        return NULL;
    }
    return c;
}

void w1_close(w1_ctx *c)
{
    if (c == NULL)
        return;
    rsk_portfolio_free(&c->pf);
    eng_destroy(c->eng);
    free(c);
}

size_t w1_workers(const w1_ctx *c)
{
    return eng_worker_count(c->eng);
}

uint64_t w1_cells(const w1_ctx *c)
{
    return (uint64_t)c->ds->pos.n * c->ds->mkt.nfactors;
}

w1_request *w1_start(w1_ctx *c, int64_t deadline_ns)
{
    w1_request *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->c = c;
    r->deadline = deadline_ns;
    pthread_mutex_init(&r->mu, NULL);
    if (rsk_states_grid(&c->ds->mkt, W1_BUMP, &r->st) != RK_OK ||
        rsk_values_start(c->eng, &c->pf, &r->st, 0, deadline_ns, &r->v, &r->task) != RK_OK) {
        r->status = RK_NO_MEMORY;
        r->task = NULL;
    }
    return r;
}

void w1_cancel(w1_request *r)
{
    pthread_mutex_lock(&r->mu);
    r->cancelled = true;
    if (r->task != NULL)
        eng_cancel(rsk_task_request(r->task));
    pthread_mutex_unlock(&r->mu);
}

/* Waits for the phase in flight, detaches it, then reduces. */
static rk_status finish_phase(w1_request *r)
{
    pthread_mutex_lock(&r->mu);
    rsk_task *t = r->task;
    pthread_mutex_unlock(&r->mu);
    eng_request *er = rsk_task_request(t);
    if (er != NULL)
        eng_wait(er, ENG_NO_DEADLINE);
    pthread_mutex_lock(&r->mu);
    r->task = NULL;
    pthread_mutex_unlock(&r->mu);
    rsk_run_info info;
    return rsk_task_finish(t, NULL, &info);
}

void w1_wait(w1_request *r, w1_result *res)
{
    const dat_dataset *ds = r->c->ds;
    size_t F = ds->mkt.nfactors, nb = ds->pos.nbooks;
    *res = (w1_result){.status = r->status, .var_total = NAN, .exposure_sum = NAN,
                       .cells_requested = w1_cells(r->c)};
    if (r->status != RK_OK)
        return;
    rk_status rc = finish_phase(r);
    if (rc != RK_OK) {
        res->status = rc;
        return;
    }
    pthread_mutex_lock(&r->mu);
    bool stop = r->cancelled;
    if (!stop) {
        rc = rsk_grid_start(r->c->eng, &r->c->pf, &r->st, W1_BUMP, &r->v, true, r->deadline, &r->g,
                            &r->task);
        if (rc != RK_OK)
            r->task = NULL;
    }
    pthread_mutex_unlock(&r->mu);
    if (stop)
        return; /* nothing of the grid was computed: every cell CANCELLED */
    if (rc != RK_OK) {
        res->status = rc;
        return;
    }
    /* The engine's overshoot of the grid request, read once it is complete. */
    eng_request_stats gs;
    pthread_mutex_lock(&r->mu);
    eng_request *er = rsk_task_request(r->task);
    pthread_mutex_unlock(&r->mu);
    eng_wait(er, ENG_NO_DEADLINE);
    eng_request_stats_get(er, &gs);
    res->engine_overshoot_ns = gs.overshoot_ns;
    rc = finish_phase(r);
    if (rc != RK_OK) {
        res->status = rc;
        return;
    }
    res->cells_ok = r->g.ok_cells[nb];
    rsk_parametric pv;
    if (rsk_parametric_var(r->g.exposure, nb, ds->mkt.cov, F, W1_CONFIDENCE, W1_HORIZON, &pv) ==
        RK_OK) {
        res->var_total = pv.var[nb];
        rsk_parametric_free(&pv);
    }
    double s = 0.0;
    for (size_t j = 0; j < F; j++)
        s += r->g.exposure[nb * F + j];
    res->exposure_sum = s;
}

void w1_free(w1_request *r)
{
    if (r == NULL)
        return;
    rsk_grid_free(&r->g);
    rsk_values_free(&r->v);
    rsk_states_free(&r->st);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
