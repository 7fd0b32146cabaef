/*
 * baselines.c - the reference-evaluator and thread-per-job baselines and the scalar per-position
 * kernel they share with the OpenMP baseline (baseline_omp.c); see baselines.h.
 *
 * The thread-per-job design spawns every job's thread at once (no pool, no pinning), each job
 * prices its positions and appends its result to a list under a mutex, and the caller joins
 * them all: the shape of "one goroutine per cell, results over a channel". Threads get a small
 * stack so that thousands of them fit; a job that cannot get its thread fails the baseline.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "baselines.h"
#include "eval.h"
#include "measures.h"
#include "model.h"
#include "reference.h"

#define BL_BUMP 1e-4
#define BL_CONFIDENCE 0.99
#define BL_HORIZON 1.0
/* Stack of a spawned job thread: small, but above what the libraries' thread-local storage
 * takes from it (64 KiB is refused here with EINVAL). */
#define TPJ_STACK (512u * 1024u)

size_t bl_work_len(const dat_dataset *ds)
{
    uint32_t steps = MDL_FALLBACK_STEPS;
    for (size_t i = 0; i < ds->pos.n; i++)
        if (ds->pos.steps[i] > steps)
            steps = ds->pos.steps[i];
    return mdl_work_needed(steps);
}

/* Unit-price inputs of row i when the underlyings are worth x[] (contract §2). */
static mdl_in row_inputs(const dat_positions *p, size_t i, const double *x)
{
    mdl_in in = {.K = p->strike[i], .T = p->expiry[i], .q = p->dividend[i],
                 .coupon = p->coupon[i], .freq = p->frequency[i], .steps = p->steps[i]};
    if ((mdl_kind)p->kind[i] == MDL_BOND) {
        in.r = x[p->und[i]];
        return in;
    }
    in.S = x[p->und[i]];
    in.r = p->rate[i] != DAT_NONE ? x[p->rate[i]] : p->rate_lit[i];
    in.sigma = p->vol[i] != DAT_NONE ? x[p->vol[i]] : p->vol_lit[i];
    return in;
}

static double row_value(const dat_positions *p, size_t i, const double *x, const mdl_work *w)
{
    mdl_in in = row_inputs(p, i, x);
    return p->quantity[i] * mdl_price_ref((mdl_kind)p->kind[i], &in, w, NULL, NULL);
}

size_t bl_position_deltas(const dat_dataset *ds, const rsk_states *st, size_t i, double *delta,
                          double *work, size_t work_len)
{
    const dat_positions *p = &ds->pos;
    size_t F = ds->mkt.nfactors, ok = 0;
    mdl_work w = {.buf = work, .len = work_len};
    bool valid = p->status[i] == RK_OK && isfinite(row_value(p, i, st->x, &w));
    for (size_t j = 0; j < F; j++) {
        delta[j] = NAN;
        if (!valid)
            continue;
        double vp = row_value(p, i, st->x + rsk_grid_state(j, +1) * st->nund, &w);
        double vm = row_value(p, i, st->x + rsk_grid_state(j, -1) * st->nund, &w);
        double d = (vp - vm) / (2.0 * BL_BUMP);
        if (isfinite(d) && isfinite(vp) && isfinite(vm)) {
            delta[j] = d;
            ok++;
        }
    }
    return ok;
}

int bl_finish(const dat_dataset *ds, const double *delta, bl_result *res)
{
    size_t F = ds->mkt.nfactors, nb = ds->pos.nbooks, n = ds->pos.n;
    double *e = calloc((nb + 1) * F, sizeof *e);
    if (e == NULL)
        return -1;
    res->cells_ok = 0;
    for (size_t i = 0; i < n; i++) {
        if (ds->pos.book[i] == DAT_NONE)
            continue;
        for (size_t j = 0; j < F; j++) {
            double d = delta[i * F + j];
            if (!isfinite(d))
                continue;
            e[ds->pos.book[i] * F + j] += d;
            e[nb * F + j] += d;
            res->cells_ok++;
        }
    }
    res->exposure_sum = 0.0;
    for (size_t j = 0; j < F; j++)
        res->exposure_sum += e[nb * F + j];
    rsk_parametric pv;
    int rc = rsk_parametric_var(e, nb, ds->mkt.cov, F, BL_CONFIDENCE, BL_HORIZON, &pv) == RK_OK
                 ? 0
                 : -1;
    if (rc == 0) {
        res->var_total = pv.var[nb];
        rsk_parametric_free(&pv);
    }
    free(e);
    return rc;
}

int bl_reference(const dat_dataset *ds, bl_result *res)
{
    rsk_values v;
    rsk_grid g;
    if (rsk_ref_values(ds, &v) != RK_OK)
        return -1;
    if (rsk_ref_grid(ds, BL_BUMP, &v, &g) != RK_OK) {
        rsk_values_free(&v);
        return -1;
    }
    size_t F = g.nfactors, nb = g.nbooks;
    rsk_parametric pv;
    int rc = rsk_parametric_var(g.exposure, nb, ds->mkt.cov, F, BL_CONFIDENCE, BL_HORIZON, &pv) ==
                     RK_OK
                 ? 0
                 : -1;
    if (rc == 0) {
        res->var_total = pv.var[nb];
        res->cells_ok = g.ok_cells[nb];
        res->exposure_sum = 0.0;
        for (size_t j = 0; j < F; j++)
            res->exposure_sum += g.exposure[nb * F + j];
        rsk_parametric_free(&pv);
    }
    rsk_grid_free(&g);
    rsk_values_free(&v);
    return rc;
}

/* ---- thread per job ---- */

typedef struct tpj_item {
    struct tpj_item *next;
    size_t first, count;
    double delta[]; /* count x F */
} tpj_item;

typedef struct tpj_shared {
    const dat_dataset *ds;
    const rsk_states *st;
    size_t work_len;
    pthread_mutex_t mu;
    tpj_item *head; /* the "channel": finished jobs, under mu */
    int failed;     /* under mu */
} tpj_shared;

typedef struct tpj_job {
    tpj_shared *sh;
    size_t first, count;
} tpj_job;

static void *tpj_run(void *arg)
{
    tpj_job *j = arg;
    tpj_shared *sh = j->sh;
    size_t F = sh->ds->mkt.nfactors;
    tpj_item *it = malloc(sizeof *it + j->count * F * sizeof(double));
    double *work = malloc(sh->work_len * sizeof(double));
    if (it != NULL && work != NULL) {
        it->first = j->first;
        it->count = j->count;
        for (size_t k = 0; k < j->count; k++)
            bl_position_deltas(sh->ds, sh->st, j->first + k, it->delta + k * F, work,
                               sh->work_len);
    }
    free(work);
    pthread_mutex_lock(&sh->mu);
    if (it != NULL && work != NULL) {
        it->next = sh->head;
        sh->head = it;
    } else {
        free(it);
        sh->failed = 1;
    }
    pthread_mutex_unlock(&sh->mu);
    return NULL;
}

int bl_thread_per_job(const dat_dataset *ds, size_t block, bl_result *res)
{
    size_t n = ds->pos.n, F = ds->mkt.nfactors;
    if (block == 0)
        block = 1;
    size_t njobs = (n + block - 1) / block;
    rsk_states st;
    if (rsk_states_grid(&ds->mkt, BL_BUMP, &st) != RK_OK)
        return -1;
    tpj_shared sh = {.ds = ds, .st = &st, .work_len = bl_work_len(ds)};
    pthread_mutex_init(&sh.mu, NULL);
    tpj_job *jobs = calloc(njobs, sizeof *jobs);
    pthread_t *tid = calloc(njobs, sizeof *tid);
    double *delta = malloc(n * F * sizeof *delta);
    int rc = -1;
    if (jobs == NULL || tid == NULL || delta == NULL)
        goto free_all;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, TPJ_STACK);
    size_t started = 0;
    for (size_t k = 0; k < njobs; k++) {
        jobs[k] = (tpj_job){.sh = &sh, .first = k * block,
                            .count = k * block + block <= n ? block : n - k * block};
        if (pthread_create(&tid[k], &attr, tpj_run, &jobs[k]) != 0)
            break;
        started++;
    }
    pthread_attr_destroy(&attr);
    for (size_t k = 0; k < started; k++)
        pthread_join(tid[k], NULL);
    if (started == njobs && !sh.failed) {
        for (tpj_item *it = sh.head; it != NULL; it = it->next)
            memcpy(delta + it->first * F, it->delta, it->count * F * sizeof(double));
        rc = bl_finish(ds, delta, res);
    }
free_all:
    while (sh.head != NULL) {
        tpj_item *next = sh.head->next;
        free(sh.head);
        sh.head = next;
    }
    pthread_mutex_destroy(&sh.mu);
    free(delta);
    free(tid);
    free(jobs);
    rsk_states_free(&st);
    return rc;
}
