/*
 * flow.c - the chain of engine jobs of one run: values, grid, parametric VaR, scenario blocks,
 * VaR/ES (see flow.h for the order of operations and why scenarios go in blocks).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flow.h"
#include "xsum.h"

#define BLOCK ((size_t)RSK_STATE_BLOCK)

/* ---- the run: memory and measures ---- */

static unsigned implied(unsigned s)
{
    if (s & RSK_DO_PARAMETRIC)
        s |= RSK_DO_GRID;
    if (s & (RSK_DO_GRID | RSK_DO_MC | RSK_DO_FILE | RSK_DO_FRTB))
        s |= RSK_DO_VALUES;
    return s;
}

/* Arrays whose size is the number of books: allocated once per run object (the book count of a
 * portfolio never changes, and a run serves one portfolio). */
static rk_status book_arrays(rsk_run *run, size_t nb, size_t F)
{
    if (run->val_ok != NULL)
        return RK_OK;
    size_t rows = nb + 1;
    run->pv.sigma = calloc(rows, sizeof(double));
    run->pv.var = calloc(rows, sizeof(double));
    run->pv.contrib = calloc(rows, sizeof(double));
    run->pv_work = calloc(rows * (F ? F : 1), sizeof(double));
    run->val_ok = calloc(rows, sizeof(uint64_t));
    run->val_req = calloc(rows, sizeof(uint64_t));
    bool ok = run->pv.sigma != NULL && run->pv.var != NULL && run->pv.contrib != NULL &&
              run->pv_work != NULL && run->val_ok != NULL && run->val_req != NULL;
    run->frtb_es = calloc(rows, sizeof(double));
    ok = ok && run->frtb_es != NULL;
    for (size_t k = 0; k < RSK_MAX_SETS; k++) {
        rsk_scen_set *s = &run->sets[k];
        s->var = calloc(rows, sizeof(double));
        s->es = calloc(rows, sizeof(double));
        s->cvar = calloc(rows, sizeof(double));
        s->ces = calloc(rows, sizeof(double));
        s->incr = calloc(rows, sizeof(double));
        ok = ok && s->var != NULL && s->es != NULL && s->cvar != NULL && s->ces != NULL &&
             s->incr != NULL;
    }
    return ok ? RK_OK : RK_NO_MEMORY;
}

/* The scenario sets of the run and their memory: P&L arrays (kept when the shape is the same),
 * two slots of block states, shock buffers and the VaR/ES scratch. */
static rk_status scen_setup(rsk_run *run)
{
    const rsk_run_spec *sp = &run->spec;
    const dat_dataset *ds = run->layout->ds;
    size_t F = ds->mkt.nfactors, U = ds->mkt.nund, nb = ds->pos.nbooks;
    size_t nfile = ds->has_scenarios ? ds->scen.n : 0;
    run->nsets = 0;
    run->mc_set = run->file_set = run->frtb_set = -1;
    run->nblocks = 0;
    run->g_run = 0;
    if (sp->stages & RSK_DO_MC) {
        rsk_scen_set *s = &run->sets[run->nsets];
        s->mc = true;
        s->lh = 0;
        s->scale = 1;
        s->n = sp->mc_scenarios;
        s->seed = sp->seed;
        s->want_var = sp->mc_var;
        run->mc_set = (int)run->nsets++;
    }
    if (sp->stages & RSK_DO_FILE) {
        rsk_scen_set *s = &run->sets[run->nsets];
        s->mc = false;
        s->lh = 0;
        s->scale = 1;
        s->n = nfile;
        s->seed = 0;
        s->want_var = sp->file_var;
        run->file_set = (int)run->nsets++;
    }
    if (sp->stages & RSK_DO_FRTB) {
        /* ES_T(P, j) of FRTB: the file's scenarios as 10-day moves of the factors whose
         * horizon is at least LH_j, the others still; one set per horizon, by full
         * revaluation like every other set, so its sums are exact and its ES deterministic */
        run->frtb_set = (int)run->nsets;
        for (size_t j = 0; j < RSK_FRTB_NLH; j++) {
            rsk_scen_set *s = &run->sets[run->nsets++];
            s->mc = false;
            s->lh = rsk_frtb_lh[j];
            s->scale = sqrt(RSK_FRTB_T / sp->horizon);
            s->n = nfile;
            s->seed = 0;
            s->want_var = true;
        }
    }
    size_t sort = 0;
    for (size_t k = 0; k < run->nsets; k++) {
        rsk_scen_set *s = &run->sets[k];
        if (s->n == 0)
            return RK_NOT_FOUND; /* no scenarios.csv */
        s->has_var = false;
        s->ns = 0;
        s->nblocks = (s->n + BLOCK - 1) / BLOCK;
        run->nblocks += s->nblocks;
        rk_status rc = rsk_pnl_reuse(&s->pnl, ds->pos.n, nb, s->n);
        if (rc != RK_OK)
            return rc;
        rsk_requested_cells(&ds->pos, nb, s->n, s->pnl.req_cells);
        if (s->want_var && s->n > sort)
            sort = s->n;
    }
    if (run->nsets == 0)
        return RK_OK;
    size_t fb = BLOCK * (F ? F : 1);
    if (run->shock == NULL) {
        run->shock = malloc(fb * sizeof(double));
        run->mc_work = malloc(fb * sizeof(double));
        if (run->shock == NULL || run->mc_work == NULL)
            return RK_NO_MEMORY;
    }
    for (size_t k = 0; k < 2; k++) {
        rk_status rc = rsk_states_reserve(&run->blk[k], BLOCK, U);
        if (rc != RK_OK)
            return rc;
    }
    if (run->sort_cap < sort) {
        free(run->sort_work);
        free(run->comp_work);
        free(run->rank_work);
        run->sort_cap = 0;
        run->sort_work = malloc(sort * sizeof(double));
        run->comp_work = malloc(sort * sizeof(double));
        run->rank_work = malloc(sort * sizeof(rsk_ranked));
        if (run->sort_work == NULL || run->comp_work == NULL || run->rank_work == NULL)
            return RK_NO_MEMORY;
        run->sort_cap = sort;
    }
    return RK_OK;
}

rk_status rsk_run_prepare(rsk_run *run, eng_engine *e, const rsk_layout *layout,
                          const dat_market *mkt, const double *chol, const rsk_run_spec *spec)
{
    const dat_dataset *ds = layout->ds;
    size_t nb = ds->pos.nbooks, F = ds->mkt.nfactors;
    run->spec = *spec;
    run->spec.stages = implied(spec->stages);
    run->eng = e;
    run->layout = layout;
    run->mkt = mkt;
    run->chol = chol;
    run->status = RK_OK;
    run->grid_skip = RK_OK;
    run->has_pv = false;
    run->has_frtb = false;
    run->tv = run->tg = NULL;
    memset(&run->iv, 0, sizeof run->iv);
    memset(&run->ig, 0, sizeof run->ig);
    run->scen_stop = RK_OK;
    run->scen_tiles = run->scen_tiles_ok = run->scen_chan = 0;
    run->scen_overshoot_ns = 0;
    run->var_ns = run->scen_t0 = run->scen_ns = 0;
    run->cells_before = 0;
    run->submitted_ns = eng_now_ns();
    if ((run->spec.stages & RSK_DO_MC) && chol == NULL)
        return RK_BAD_ARGUMENT;
    if ((run->spec.stages & RSK_DO_FRTB) && (spec->liq_horizon == NULL || !(spec->horizon > 0)))
        return RK_BAD_ARGUMENT;
    rk_status rc = book_arrays(run, nb, F);
    if (rc != RK_OK)
        return rc;
    rsk_requested_cells(&ds->pos, nb, 1, run->val_req);
    rc = run->states.x == NULL ? rsk_states_grid(mkt, spec->bump, &run->states)
                               : rsk_states_grid_fill(mkt, spec->bump, &run->states);
    if (rc == RK_OK && (run->spec.stages & RSK_DO_GRID))
        rc = rsk_grid_prepare(layout, spec->bump, spec->keep_cells, &run->grid);
    if (rc == RK_OK)
        rc = scen_setup(run);
    return rc;
}

void rsk_run_release(rsk_run *run)
{
    if (run == NULL)
        return;
    if (run->tv != NULL)
        rsk_task_release(run->tv);
    if (run->tg != NULL)
        rsk_task_release(run->tg);
    run->tv = run->tg = NULL;
    for (size_t k = 0; k < 2; k++) {
        if (run->tp[k] != NULL)
            rsk_task_release(run->tp[k]);
        run->tp[k] = NULL;
    }
}

void rsk_run_free(rsk_run *run)
{
    if (run == NULL)
        return;
    rsk_run_release(run);
    rsk_values_free(&run->values);
    rsk_grid_free(&run->grid);
    rsk_states_free(&run->states);
    free(run->pv.sigma);
    free(run->pv.var);
    free(run->pv.contrib);
    free(run->pv_work);
    free(run->val_ok);
    free(run->val_req);
    rsk_workspace_fini(&run->ws_values);
    rsk_workspace_fini(&run->ws_grid);
    for (size_t k = 0; k < RSK_MAX_SETS; k++) {
        rsk_pnl_free(&run->sets[k].pnl);
        free(run->sets[k].var);
        free(run->sets[k].es);
        free(run->sets[k].cvar);
        free(run->sets[k].ces);
        free(run->sets[k].incr);
    }
    free(run->frtb_es);
    for (size_t k = 0; k < 2; k++) {
        rsk_states_free(&run->blk[k]);
        rsk_workspace_fini(&run->ws_pnl[k]);
    }
    free(run->shock);
    free(run->mc_work);
    free(run->sort_work);
    free(run->comp_work);
    free(run->rank_work);
    memset(run, 0, sizeof *run);
}

rk_status rsk_run_measures(rsk_run *run)
{
    const dat_dataset *ds = run->layout->ds;
    size_t nb = ds->pos.nbooks, F = ds->mkt.nfactors;
    bool grid_ran = run->tg != NULL && run->grid_skip == RK_OK;
    rk_status first = RK_OK;
    if ((run->spec.stages & RSK_DO_PARAMETRIC) && grid_ran) {
        int64_t t0 = eng_now_ns();
        rk_status rc =
            rsk_parametric_var_into(run->grid.exposure, nb, run->mkt->cov, F, run->spec.confidence,
                                    run->spec.horizon, run->pv_work, &run->pv);
        run->has_pv = rc == RK_OK;
        if (rc != RK_OK && first == RK_OK)
            first = rc;
        run->var_ns = eng_now_ns() - t0;
    }
    for (size_t k = 0; k < run->nsets; k++) {
        rsk_scen_set *s = &run->sets[k];
        if (!s->want_var)
            continue;
        /* over every scenario's P&L as summed; FRTB's ES is at its own fixed confidence */
        double va = s->lh > 0 ? RSK_FRTB_ALPHA : run->spec.confidence;
        double ea = s->lh > 0 ? RSK_FRTB_ALPHA : run->spec.es_confidence;
        rk_status rc = RK_OK;
        for (size_t b = 0; b <= nb && rc == RK_OK; b++)
            rc = rsk_var_es(s->pnl.pnl + b * s->n, s->n, va, ea, run->sort_work, &s->var[b],
                            &s->es[b]);
        /* from the exact sums, so that the books' shares add up to the TOTAL's (not for the
         * FRTB sets: their ES enters the liquidity-adjusted ES only) */
        if (rc == RK_OK && s->lh == 0)
            rc = rsk_scen_components(s->pnl.xpnl, nb, s->n, run->spec.confidence,
                                     run->spec.es_confidence, s->var[nb], run->rank_work,
                                     run->comp_work, run->sort_work, s->cvar, s->ces, s->incr);
        s->has_var = rc == RK_OK;
        if (rc != RK_OK && first == RK_OK)
            first = rc;
    }
    if (run->frtb_set >= 0) {
        const rsk_scen_set *fs = &run->sets[run->frtb_set];
        bool all = true;
        for (size_t j = 0; j < RSK_FRTB_NLH; j++)
            all = all && fs[j].has_var;
        for (size_t b = 0; all && b <= nb; b++) {
            double es[RSK_FRTB_NLH];
            for (size_t j = 0; j < RSK_FRTB_NLH; j++)
                es[j] = fs[j].es[b];
            run->frtb_es[b] = rsk_frtb_es(es);
        }
        run->has_frtb = all;
    }
    if (first != RK_OK && run->status == RK_OK)
        run->status = first;
    return first;
}

void rsk_run_shocks(const rsk_run *run, const rsk_scen_set *s, size_t first, size_t n, double *work,
                    double *shock)
{
    const dat_dataset *ds = run->layout->ds;
    size_t F = ds->mkt.nfactors;
    if (s->mc) {
        rsk_mc_shocks(run->chol, F, s->seed, first, n, run->spec.horizon, work, shock);
    } else if (s->lh > 0) {
        const double *lh = run->spec.liq_horizon, *in = ds->scen.shock + first * F;
        for (size_t i = 0; i < n * F; i++)
            shock[i] = lh[i % F] >= s->lh ? in[i] * s->scale : 0.0;
    } else if (F > 0) {
        memcpy(shock, ds->scen.shock + first * F, n * F * sizeof(double));
    }
}

/* ---- the stages ---- */

/* Why the next stage or block must not start: cancelled, the last one cut short (`code`), or
 * the deadline passed; RK_OK to go on. f->mu held. */
static rk_status stop_reason(const rsk_flow *f, rk_status code)
{
    if (f->cancelled)
        return RK_CANCELLED;
    if (code != RK_OK)
        return code;
    int64_t dl = f->run->spec.deadline_ns;
    if (dl != ENG_NO_DEADLINE && eng_now_ns() >= dl)
        return RK_DEADLINE;
    return RK_OK;
}

/* The set, first scenario and count of block g (blocks of every set, in order). */
static rsk_scen_set *block_at(rsk_run *run, size_t g, size_t *first, size_t *count)
{
    *first = *count = 0;
    for (size_t k = 0; k < run->nsets; k++) {
        rsk_scen_set *s = &run->sets[k];
        if (g < s->nblocks) {
            *first = g * BLOCK;
            *count = s->n - *first < BLOCK ? s->n - *first : BLOCK;
            return s;
        }
        g -= s->nblocks;
    }
    return NULL;
}

/* Market states of block g into slot g % 2. */
static void block_prepare(rsk_run *run, size_t g)
{
    size_t first, count;
    const rsk_scen_set *s = block_at(run, g, &first, &count);
    rsk_run_shocks(run, s, first, count, run->mc_work, run->shock);
    /* cannot fail: the slot was reserved for BLOCK states of this market by rsk_run_prepare */
    rsk_states_from_shocks_fill(run->mkt, run->shock, count, &run->blk[g % 2]);
}

static void pnl_done(eng_job *er, void *arg);

/* Submits block g (its states ready in slot g % 2) and makes it `cur`. f->mu held. */
static rk_status block_submit(rsk_flow *f, size_t g)
{
    rsk_run *run = f->run;
    size_t first, count, slot = g % 2;
    rsk_scen_set *s = block_at(run, g, &first, &count);
    if (first == 0)
        s->ns = eng_now_ns(); /* start; made a duration when its last block is reduced */
    rsk_submit sub = {.deadline_ns = run->spec.deadline_ns,
                      .ws = &run->ws_pnl[slot],
                      .done = pnl_done,
                      .done_arg = f};
    rsk_task *t;
    rk_status rc = rsk_pnl_submit(run->eng, run->layout, &run->blk[slot], first, &run->values, &sub,
                                  &s->pnl, &t);
    if (rc != RK_OK)
        return rc;
    run->tp[slot] = t;
    run->g_run = g;
    f->cur = rsk_task_job(t);
    f->cur_slot = (int)slot;
    pthread_cond_broadcast(&f->cv); /* a waiter between blocks moves on to this one */
    return RK_OK;
}

/* Blocks g_from.. will not run: their cells are missing with `code`. */
static void blocks_skip(rsk_run *run, size_t g_from, rk_status code)
{
    for (size_t g = g_from; g < run->nblocks; g++) {
        size_t first, count;
        rsk_scen_set *s = block_at(run, g, &first, &count);
        rsk_pnl_skip(run->layout, count, code, &s->pnl);
    }
    if (g_from < run->nblocks && run->scen_stop == RK_OK)
        run->scen_stop = code;
}

/* After values and grid: starts the scenario blocks, or records why they will not run (`why`).
 * Returns true when a block is running (its callback continues). f->mu held. */
static bool scen_begin(rsk_flow *f, rk_status why)
{
    rsk_run *run = f->run;
    if (run->nsets == 0)
        return false;
    run->scen_t0 = eng_now_ns();
    if (why == RK_OK && run->layout->nchunks == 0)
        return false; /* no valid position: nothing to revalue, every sum is 0 */
    if (why == RK_OK) {
        block_prepare(run, 0);
        why = block_submit(f, 0);
        if (why == RK_OK) {
            if (run->nblocks > 1)
                block_prepare(run, 1);
            return true;
        }
    }
    blocks_skip(run, 0, why);
    return false;
}

/* The last stage is over: measures, status, the caller's callback, DONE. No lock held. */
static void complete(rsk_flow *f)
{
    rsk_run *run = f->run; /* stable while running: only the owner takes it */
    const dat_dataset *ds = run->layout->ds;
    size_t nb = ds->pos.nbooks;
    /* Values coverage per book. */
    memset(run->val_ok, 0, (nb + 1) * sizeof *run->val_ok);
    for (size_t i = 0; i < ds->pos.n; i++) {
        if (run->values.status[i] != RK_OK)
            continue;
        if (ds->pos.book[i] < nb)
            run->val_ok[ds->pos.book[i]]++;
        run->val_ok[nb]++;
    }
    if (run->status == RK_OK)
        run->status = run->iv.stop_code;
    if (run->status == RK_OK && (run->spec.stages & RSK_DO_GRID))
        run->status = run->grid_skip != RK_OK ? run->grid_skip : run->ig.stop_code;
    if (run->nsets > 0) {
        run->scen_ns = eng_now_ns() - run->scen_t0;
        if (run->status == RK_OK)
            run->status = run->scen_stop;
    }
    if (!run->spec.measures_later)
        rsk_run_measures(run);
    if (run->spec.done != NULL)
        run->spec.done(run, run->spec.done_arg);
    pthread_mutex_lock(&f->mu);
    f->state = RSK_FLOW_DONE;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* After values and grid: the scenario blocks (pnl_done continues), or completion. Called with
 * f->mu held; releases it. */
static void to_scenarios(rsk_flow *f, rk_status why)
{
    bool running = scen_begin(f, why);
    pthread_mutex_unlock(&f->mu);
    if (!running)
        complete(f);
}

static void grid_done(eng_job *er, void *arg)
{
    (void)er;
    rsk_flow *f = arg;
    pthread_mutex_lock(&f->mu); /* the values callback has finished recording tg */
    rsk_run *run = f->run;
    rsk_task_reduce(run->tg, &run->ig);
    run->cells_before += rsk_task_cells_total(run->tg);
    to_scenarios(f, stop_reason(f, run->ig.stop_code));
}

/* A scenario block is over: reduce it, release the one before, go on or complete. */
static void pnl_done(eng_job *er, void *arg)
{
    (void)er;
    rsk_flow *f = arg;
    pthread_mutex_lock(&f->mu);
    rsk_run *run = f->run;
    size_t g = run->g_run, slot = g % 2, other = slot ^ 1;
    rsk_task_info info;
    rsk_task_reduce(run->tp[slot], &info);
    run->cells_before += rsk_task_cells_total(run->tp[slot]);
    run->scen_tiles += info.stats.tiles;
    run->scen_tiles_ok += info.stats.tiles_ok;
    if (info.stats.channel_max > run->scen_chan)
        run->scen_chan = info.stats.channel_max;
    if (info.stats.overshoot_ns > run->scen_overshoot_ns)
        run->scen_overshoot_ns = info.stats.overshoot_ns;
    if (info.stop_code != RK_OK && run->scen_stop == RK_OK)
        run->scen_stop = info.stop_code;
    size_t first, count;
    rsk_scen_set *s = block_at(run, g, &first, &count);
    if (first + count == s->n)
        s->ns = eng_now_ns() - s->ns;
    if (run->tp[other] != NULL) {
        /* Block g - 1: its callback has left f->mu and only returns; whoever took it as
         * `cur` leaves promptly (it is complete). */
        while (f->slot_users[other] > 0)
            pthread_cond_wait(&f->cv, &f->mu);
        rsk_task_release(run->tp[other]);
        run->tp[other] = NULL;
    }
    size_t next = g + 1;
    if (next < run->nblocks) {
        rk_status why = stop_reason(f, info.stop_code);
        if (why == RK_OK)
            why = block_submit(f, next);
        if (why == RK_OK) {
            /* block next + 1 into this block's slot, while block next runs */
            if (next + 1 < run->nblocks)
                block_prepare(run, next + 1);
            pthread_mutex_unlock(&f->mu);
            return;
        }
        blocks_skip(run, next, why);
    }
    pthread_mutex_unlock(&f->mu);
    complete(f);
}

/* After the values stage: start the grid, or the scenario blocks, or complete. No lock held. */
static void after_values(rsk_flow *f)
{
    pthread_mutex_lock(&f->mu);
    rsk_run *run = f->run;
    rsk_task_reduce(run->tv, &run->iv);
    run->cells_before += rsk_task_cells_total(run->tv);
    rk_status why = stop_reason(f, run->iv.stop_code);
    if (run->spec.stages & RSK_DO_GRID) {
        if (why == RK_OK) {
            rsk_submit sub = {.deadline_ns = run->spec.deadline_ns,
                              .ws = &run->ws_grid,
                              .done = grid_done,
                              .done_arg = f,
                              .reuse_unmoved = run->spec.reuse_unmoved};
            why = rsk_grid_submit(run->eng, run->layout, &run->states, run->spec.bump, &run->values,
                                  run->spec.keep_cells, &sub, &run->grid, &run->tg);
            if (why == RK_OK) {
                f->cur = rsk_task_job(run->tg);
                f->cur_slot = -1;
                if (f->cur != NULL) {
                    pthread_mutex_unlock(&f->mu);
                    return; /* grid_done continues */
                }
                rsk_task_reduce(run->tg, &run->ig); /* an empty job: done already */
            } else {
                run->tg = NULL;
            }
        }
        if (why != RK_OK)
            rsk_grid_skip(run->layout, why, &run->grid);
        run->grid_skip = why;
    }
    to_scenarios(f, why);
}

static void values_done(eng_job *er, void *arg)
{
    (void)er;
    after_values(arg);
}

/* ---- the flow ---- */

void rsk_flow_init(rsk_flow *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cv, &ca);
    pthread_condattr_destroy(&ca);
    f->state = RSK_FLOW_IDLE;
    f->cur_slot = -1;
}

void rsk_flow_fini(rsk_flow *f)
{
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
}

/* Waits (f->mu held) until no waiter or canceller uses `cur`, then detaches the run. */
static rsk_run *detach_locked(rsk_flow *f)
{
    while (f->users > 0)
        pthread_cond_wait(&f->cv, &f->mu);
    rsk_run *run = f->run;
    f->run = NULL;
    f->cur = NULL;
    return run;
}

rk_status rsk_flow_submit(rsk_flow *f, rsk_run *run)
{
    pthread_mutex_lock(&f->mu);
    if (f->state == RSK_FLOW_RUNNING || f->run != NULL) {
        pthread_mutex_unlock(&f->mu);
        return RK_BUSY;
    }
    f->state = RSK_FLOW_RUNNING;
    f->cancelled = false;
    f->run = run;
    f->cur_slot = -1;
    rsk_submit sub = {.deadline_ns = run->spec.deadline_ns,
                      .ws = &run->ws_values,
                      .done = values_done,
                      .done_arg = f};
    rk_status rc =
        rsk_values_submit(run->eng, run->layout, &run->states, 0, &sub, &run->values, &run->tv);
    if (rc != RK_OK) {
        f->state = RSK_FLOW_IDLE;
        f->run = NULL;
        run->tv = NULL;
        pthread_mutex_unlock(&f->mu);
        return rc;
    }
    f->cur = rsk_task_job(run->tv);
    bool empty = f->cur == NULL;
    pthread_mutex_unlock(&f->mu);
    if (empty)
        after_values(f); /* no engine job, no callback: continue here */
    return RK_OK;
}

/* A waiter or canceller starts (use_cur) and stops (leave_cur) using `cur`, of slot `slot`
 * (-1 for a stage), outside the lock: while counted, its job is not released. f->mu held. */
static void use_cur(rsk_flow *f, int slot)
{
    f->users++;
    if (slot >= 0)
        f->slot_users[slot]++;
}

static void leave_cur(rsk_flow *f, int slot)
{
    if (slot >= 0 && --f->slot_users[slot] == 0)
        pthread_cond_broadcast(&f->cv);
    if (--f->users == 0)
        pthread_cond_broadcast(&f->cv);
}

rk_status rsk_flow_wait(rsk_flow *f, int64_t until)
{
    rk_status rc = RK_OK;
    pthread_mutex_lock(&f->mu);
    if (f->state == RSK_FLOW_IDLE) {
        pthread_mutex_unlock(&f->mu);
        return RK_BAD_ARGUMENT;
    }
    while (f->state != RSK_FLOW_DONE) {
        eng_job *er = f->cur;
        if (er != NULL) {
            int slot = f->cur_slot;
            use_cur(f, slot);
            pthread_mutex_unlock(&f->mu);
            /* Drives the job's deadline expiry too; returns once its callback has run. */
            rk_status w = eng_wait(er, until);
            pthread_mutex_lock(&f->mu);
            leave_cur(f, slot);
            if (w == RK_TIMEOUT && f->state != RSK_FLOW_DONE) {
                rc = RK_TIMEOUT;
                break;
            }
            if (f->cur == er && f->state != RSK_FLOW_DONE) {
                /* the job is over and its callback is completing the run: wait for it */
                pthread_cond_wait(&f->cv, &f->mu);
            }
            continue;
        }
        if (until != ENG_NO_DEADLINE && eng_now_ns() >= until) {
            rc = RK_TIMEOUT;
            break;
        }
        if (until == ENG_NO_DEADLINE) {
            pthread_cond_wait(&f->cv, &f->mu);
        } else {
            struct timespec ts = eng_timespec(until);
            pthread_cond_timedwait(&f->cv, &f->mu, &ts);
        }
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

bool rsk_flow_cancel(rsk_flow *f)
{
    pthread_mutex_lock(&f->mu);
    if (f->state != RSK_FLOW_RUNNING) {
        pthread_mutex_unlock(&f->mu);
        return false;
    }
    bool first = !f->cancelled;
    f->cancelled = true;
    eng_job *er = f->cur;
    int slot = f->cur_slot;
    if (er != NULL)
        use_cur(f, slot);
    pthread_mutex_unlock(&f->mu);
    if (er == NULL)
        return first; /* between stages: the next stage sees `cancelled` */
    eng_cancel(er);   /* may run the job's callback on this thread */
    pthread_mutex_lock(&f->mu);
    leave_cur(f, slot);
    pthread_mutex_unlock(&f->mu);
    return first;
}

bool rsk_flow_running(rsk_flow *f)
{
    pthread_mutex_lock(&f->mu);
    bool running = f->state == RSK_FLOW_RUNNING;
    pthread_mutex_unlock(&f->mu);
    return running;
}

bool rsk_flow_done(rsk_flow *f)
{
    pthread_mutex_lock(&f->mu);
    bool done = f->state == RSK_FLOW_DONE;
    pthread_mutex_unlock(&f->mu);
    return done;
}

rk_status rsk_flow_take(rsk_flow *f, bool forget, rsk_run **out)
{
    *out = NULL;
    pthread_mutex_lock(&f->mu);
    if (f->state == RSK_FLOW_RUNNING) {
        pthread_mutex_unlock(&f->mu);
        return RK_BUSY;
    }
    rsk_run *run = detach_locked(f);
    if (forget)
        f->state = RSK_FLOW_IDLE;
    pthread_mutex_unlock(&f->mu);
    if (run == NULL)
        return RK_NOT_FOUND;
    *out = run;
    return RK_OK;
}

void rsk_flow_progress(rsk_flow *f, uint64_t *done, uint64_t *total, const char **stage)
{
    *done = *total = 0;
    *stage = "values";
    pthread_mutex_lock(&f->mu);
    const rsk_run *run = f->run;
    if (run != NULL) {
        uint64_t nv = run->layout->nvalid, F = run->layout->ds->mkt.nfactors;
        *total = nv;
        if (run->spec.stages & RSK_DO_GRID)
            *total += nv * F;
        for (size_t k = 0; k < run->nsets; k++)
            *total += nv * run->sets[k].n;
        *done = run->cells_before;
        const rsk_task *t = NULL;
        if (f->cur != NULL && f->state == RSK_FLOW_RUNNING) {
            if (f->cur_slot >= 0) {
                t = run->tp[f->cur_slot];
                size_t first, count;
                const rsk_scen_set *s = block_at((rsk_run *)run, run->g_run, &first, &count);
                *stage = s->mc ? "mc" : s->lh > 0 ? "frtb" : "historical";
            } else if (run->tg != NULL && f->cur == rsk_task_job(run->tg)) {
                t = run->tg;
                *stage = "grid";
            } else {
                t = run->tv;
            }
        }
        if (t != NULL)
            *done += rsk_task_cells_done(t);
        if (*done > *total)
            *done = *total;
    }
    pthread_mutex_unlock(&f->mu);
}

/* ---- per-position components ---- */

rk_status rsk_run_position_components(const rsk_run *run, const rsk_scen_set *s, double *cvar,
                                      double *ces)
{
    const dat_dataset *ds = run->layout->ds;
    size_t n = s->n, N = ds->pos.n, U = ds->mkt.nund, F = ds->mkt.nfactors;
    size_t nb = ds->pos.nbooks;
    if (n == 0 || !s->has_var)
        return RK_BAD_ARGUMENT;
    size_t kv = rsk_tail_count(n, run->spec.confidence);
    size_t ke = rsk_tail_count(n, run->spec.es_confidence), m = kv > ke ? kv : ke;
    size_t fb = BLOCK * (F ? F : 1);
    rsk_ranked *rank = malloc(n * sizeof *rank);
    rsk_xsum *acc = calloc(N ? N : 1, sizeof *acc);
    double *shock = malloc(fb * sizeof(double)), *work = malloc(fb * sizeof(double));
    rsk_states st = {0};
    rsk_run vr = {0};
    rk_status rc = rank != NULL && acc != NULL && shock != NULL && work != NULL
                       ? rsk_states_reserve(&st, BLOCK, U)
                       : RK_NO_MEMORY;
    if (rc == RK_OK)
        rsk_tail_rank(s->pnl.xpnl + nb * n, n, rank);
    /* the base market as the run valued it: its grid's state 0 */
    dat_market base = *run->mkt, moved;
    base.und_value = run->states.x;
    for (size_t i = 0; i < N; i++)
        cvar[i] = ces[i] = run->values.status[i] == RK_OK ? 0.0 : NAN;
    for (size_t k = 0; rc == RK_OK && k < m; k++) {
        /* scenario rank[k]'s state, made in its block as the run made it */
        size_t sc = rank[k].s, first = sc / BLOCK * BLOCK;
        size_t count = n - first < BLOCK ? n - first : BLOCK;
        rsk_run_shocks(run, s, first, count, work, shock);
        rc = rsk_states_from_shocks_fill(&base, shock, count, &st);
        if (rc != RK_OK)
            break;
        moved = base;
        moved.und_value = st.x + (sc - first) * U;
        rsk_run_spec spec = {.stages = RSK_DO_VALUES,
                             .bump = run->spec.bump,
                             .deadline_ns = ENG_NO_DEADLINE};
        rc = rsk_run_prepare(&vr, run->eng, run->layout, &moved, NULL, &spec);
        if (rc != RK_OK)
            break;
        rsk_flow f;
        rsk_flow_init(&f);
        rc = rsk_flow_submit(&f, &vr);
        if (rc == RK_OK) {
            rsk_run *taken;
            rsk_flow_wait(&f, ENG_NO_DEADLINE);
            rsk_flow_take(&f, true, &taken);
            rc = vr.status;
        }
        rsk_flow_fini(&f);
        rsk_run_release(&vr);
        for (size_t i = 0; rc == RK_OK && i < N; i++) {
            if (run->values.status[i] != RK_OK || vr.values.status[i] != RK_OK)
                continue; /* a cell not finite adds nothing, as in the sums */
            double pl = vr.values.value[i] - run->values.value[i];
            if (!isfinite(pl) || !rsk_xsum_term_ok(pl))
                continue;
            if (k == kv - 1)
                cvar[i] = -pl;
            if (k < ke)
                acc[i] += rsk_xsum_from(pl);
        }
    }
    for (size_t i = 0; rc == RK_OK && i < N; i++)
        if (run->values.status[i] == RK_OK)
            ces[i] = -rsk_xsum_value(acc[i]) / (double)ke;
    rsk_run_free(&vr);
    rsk_states_free(&st);
    free(rank);
    free(acc);
    free(shock);
    free(work);
    return rc;
}
