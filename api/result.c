/*
 * result.c - rk_result: the pool results are recycled through (so that a steady stream of
 * requests allocates nothing) and the accessors that read a complete result. A result is a run
 * of the flow (risk/flow.h) plus the snapshot it was pinned to; once complete it is read-only,
 * so every accessor may run on any thread.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

/* ---- results: pool ---- */

rk_result *result_of(rsk_run *run)
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

rk_result *result_obtain(rk_portfolio *pf)
{
    pthread_mutex_lock(&pf->pool_mu);
    rk_result *r = pf->pool;
    if (r != NULL)
        pf->pool = r->next;
    pthread_mutex_unlock(&pf->pool_mu);
    return r != NULL ? r : result_new(pf);
}

void result_recycle(rk_result *r)
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
    return (rk_status)res->run.grid.status[rsk_grid_cell(&res->run.grid, i, j)];
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
        size_t c = rsk_grid_cell(&res->run.grid, position, factor);
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
        *exposure =
            grid_ran(res) ? res->run.grid.exposure[book * res->run.grid.nfactors + factor] : 0.0;
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

/* The scenario VaR set of res with its VaR taken, for book `book`: RK_OK and *out, or the
 * accessor's code. */
static rk_status var_set(const rk_result *res, size_t book, const rsk_scen_set **out)
{
    if (res == NULL || book > rk_result_books(res))
        return RK_BAD_ARGUMENT;
    const rsk_scen_set *s = scen_set(res, RK_MEASURE_SCENARIO_VAR);
    if (s == NULL)
        return RK_NOT_FOUND;
    if (!s->has_var)
        return res->run.status != RK_OK ? res->run.status : RK_INTERNAL;
    *out = s;
    return RK_OK;
}

rk_status rk_result_scenario_var(const rk_result *res, size_t book, double *var, double *es)
{
    set_nan(var);
    set_nan(es);
    const rsk_scen_set *s;
    rk_status rc = var_set(res, book, &s);
    if (rc != RK_OK)
        return rc;
    if (var != NULL)
        *var = s->var[book];
    if (es != NULL)
        *es = s->es[book];
    return RK_OK;
}

rk_status rk_result_scenario_contribution(const rk_result *res, size_t book,
                                          double *var_contribution, double *es_contribution,
                                          double *incremental_var)
{
    set_nan(var_contribution);
    set_nan(es_contribution);
    set_nan(incremental_var);
    const rsk_scen_set *s;
    rk_status rc = var_set(res, book, &s);
    if (rc != RK_OK)
        return rc;
    if (var_contribution != NULL)
        *var_contribution = s->cvar[book];
    if (es_contribution != NULL)
        *es_contribution = s->ces[book];
    if (incremental_var != NULL)
        *incremental_var = s->incr[book];
    return RK_OK;
}

rk_status rk_result_position_contributions(const rk_result *res, double *var_contribution,
                                           double *es_contribution, size_t n)
{
    if (res == NULL || var_contribution == NULL || es_contribution == NULL ||
        n != rk_result_positions(res))
        return RK_BAD_ARGUMENT;
    const rsk_scen_set *s;
    rk_status rc = var_set(res, 0, &s);
    if (rc != RK_OK)
        return rc;
    return rsk_run_position_components(&res->run, s, var_contribution, es_contribution);
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
    const eng_job_stats *v = &res->run.iv.stats, *g = &res->run.ig.stats;
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
