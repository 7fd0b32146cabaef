/*
 * compute.c - the program's one way to its numbers: a flow (risk/flow.h), the path the library's
 * requests take, over this process's share of the positions; then, under mpirun, the shares'
 * exact sums added in rank order; then the measures (parametric VaR, VaR/ES of the scenario
 * sets) from the combined sums, by the function a request calls on its own. Also what the
 * commands print about scenario sets: names, error rows, the replayable export.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_combine_values(cli_run *r, const rsk_values *v)
{
    r->values_ok_all = v->ok;
    dist_sum_u64(&r->values_ok_all, 1);
}

void cli_combine_grid(rsk_grid *g)
{
    /* Exposures and counts over every share: exact sums, so the rounded exposures are the
     * single-process ones bit for bit. */
    size_t nx = (g->nbooks + 1) * g->nfactors;
    dist_sum_xsum(g->xexposure, nx);
    for (size_t k = 0; k < nx; k++)
        g->exposure[k] = rsk_xsum_value(g->xexposure[k]);
    dist_sum_u64(g->ok_cells, g->nbooks + 1);
    dist_sum_u64(g->req_cells, g->nbooks + 1);
}

/* Adds the shares' exact sums and counts (no-op with one process). Collective. */
static void combine_shares(cli_run *r, rsk_run *run)
{
    cli_combine_values(r, &run->values);
    if (run->spec.stages & RSK_DO_GRID)
        cli_combine_grid(&run->grid);
    for (size_t k = 0; k < run->nsets; k++) {
        /* P&L per book per scenario over every share: exact sums added in rank order, rounded
         * once, the same bits as one process; cell counts are integers. */
        rsk_pnl *p = &run->sets[k].pnl;
        size_t nx = (p->nbooks + 1) * p->nscen;
        dist_sum_xsum(p->xpnl, nx);
        for (size_t i = 0; i < nx; i++)
            p->pnl[i] = rsk_xsum_value(p->xpnl[i]);
        dist_sum_u64(p->ok_scen, nx);
        dist_sum_u64(p->ok_cells, p->nbooks + 1);
        dist_sum_u64(p->req_cells, p->nbooks + 1);
    }
}

/* Waits for the flow, drawing progress per stage. */
static void wait_with_progress(cli_run *r, rsk_flow *f)
{
    cli_progress pr;
    const char *label = NULL;
    for (;;) {
        rk_status w = rsk_flow_wait(f, eng_now_ns() + 200000000);
        uint64_t done, total;
        const char *stage;
        rsk_flow_progress(f, &done, &total, &stage);
        if (w == RK_OK)
            break;
        if (label != stage) {
            if (label != NULL)
                cli_progress_done(&pr);
            cli_progress_init(&pr, stage, r->opt.quiet);
            label = stage;
        }
        cli_progress_cb(&pr, done, total);
    }
    if (label != NULL)
        cli_progress_done(&pr);
}

static double stage_seconds(const rsk_task_info *info)
{
    const eng_job_stats *s = &info->stats;
    return s->completed_ns > s->submitted_ns ? (double)(s->completed_ns - s->submitted_ns) * 1e-9
                                             : 0.0;
}

/* The engine's figures of the run into the run's totals (overshoot, deadline), and its stages
 * as phases of summary.json. */
static void note_run(cli_run *r, const rsk_run *run, const char *const set_phase[2])
{
    cli_note_request(r, &run->iv);
    cli_phase_add(r, "values", stage_seconds(&run->iv));
    if (run->spec.stages & RSK_DO_GRID) {
        cli_note_request(r, &run->ig);
        cli_phase_add(r, "grid", stage_seconds(&run->ig));
    }
    if (run->spec.stages & RSK_DO_PARAMETRIC)
        cli_phase_add(r, "parametric_var", (double)run->var_ns * 1e-9);
    double over = (double)run->scen_overshoot_ns * 1e-6;
    if (over > r->worst_overshoot_ms)
        r->worst_overshoot_ms = over;
    double frtb = 0; /* FRTB's sets, one per liquidity horizon, as one phase */
    for (size_t k = 0; k < run->nsets; k++) {
        if (run->sets[k].lh > 0)
            frtb += (double)run->sets[k].ns * 1e-9;
        else
            cli_phase_add(r, set_phase[k], (double)run->sets[k].ns * 1e-9);
    }
    if (run->frtb_set >= 0)
        cli_phase_add(r, "frtb_pnl", frtb);
    if (run->grid_skip == RK_DEADLINE || run->scen_stop == RK_DEADLINE ||
        run->status == RK_DEADLINE)
        r->deadline_hit = true;
}

bool cli_flow_run(cli_run *r, const rsk_run_spec *spec, const dat_market *mkt, const double *chol,
                  bool progress, rsk_run *run)
{
    rsk_run_spec sp = *spec;
    sp.deadline_ns = r->deadline_ns;
    sp.measures_later = true; /* from the sums of every share: cli_compute */
    sp.done = NULL;
    rk_status rc = rsk_run_prepare(run, r->eng, &r->layout, mkt, chol, &sp);
    if (rc == RK_OK) {
        rsk_flow f;
        rsk_flow_init(&f);
        rc = rsk_flow_submit(&f, run);
        if (rc == RK_OK) {
            if (progress)
                wait_with_progress(r, &f);
            else
                rsk_flow_wait(&f, ENG_NO_DEADLINE);
            rsk_run *taken;
            rsk_flow_take(&f, true, &taken);
            /* Partial results are results (every missing cell carries its code); anything
             * else that stopped the flow means the run could not be done. */
            if (run->status != RK_DEADLINE)
                rc = run->status;
        }
        rsk_flow_fini(&f);
    }
    if (rc != RK_OK)
        dist_fail(r->command, "%s", rk_strerror(rc));
    return cli_ok(r, rc == RK_OK);
}

bool cli_compute(cli_run *r, const rsk_run_spec *spec, const double *chol,
                 const char *const set_phase[2], rsk_run *run)
{
    if (!cli_flow_run(r, spec, &r->ds.mkt, chol, true, run))
        return false;
    note_run(r, run, set_phase);
    combine_shares(r, run);
    rk_status rc = rsk_run_measures(run);
    if (rc != RK_OK)
        dist_fail(r->command, "VaR: %s", rk_strerror(rc));
    if (!cli_ok(r, rc == RK_OK))
        return false;
    cli_error_values(r, &run->values);
    if (run->spec.stages & RSK_DO_GRID)
        cli_grid_errors(r, &run->grid, &run->values);
    for (size_t k = 0; k < run->nsets; k++)
        cli_scen_errors(r, &run->sets[k]);
    return true;
}

double *cli_liquidity(cli_run *r)
{
    size_t F = r->ds.mkt.nfactors, bytes = (F ? F : 1) * sizeof(double);
    double *lh = calloc(1, bytes), *root = malloc(bytes);
    char msg[512] = "";
    rk_status rc = RK_NO_MEMORY;
    if (lh != NULL && root != NULL)
        rc = dat_load_liquidity(r->opt.liquidity, &r->ds.mkt, rsk_frtb_lh, RSK_FRTB_NLH, lh, msg,
                                sizeof msg);
    if (rc != RK_OK)
        dist_fail(r->command, "%s", msg[0] ? msg : rk_strerror(rc));
    bool ok = cli_ok(r, rc == RK_OK);
    if (ok) {
        /* as with the market files: a rank reading another copy fails the job */
        memcpy(root, lh, bytes);
        dist_bcast(root, bytes);
        bool same = memcmp(root, lh, bytes) == 0;
        if (!same)
            dist_fail(r->command, "%s differs from rank 0's: every rank must read the same file",
                      r->opt.liquidity);
        ok = cli_ok(r, same);
    }
    free(root);
    if (!ok) {
        free(lh);
        return NULL;
    }
    return lh;
}

/* ---- scenario sets ---- */

void cli_scen_name(const cli_run *r, const rsk_scen_set *s, size_t i, char *buf, size_t len)
{
    if (!s->mc)
        snprintf(buf, len, "%s", r->ds.scen.name[i]);
    else
        snprintf(buf, len, "mc_%06zu", i + 1);
}

void cli_scen_errors(cli_run *r, const rsk_scen_set *s)
{
    const rsk_pnl *p = &s->pnl;
    char name[64], msg[256], set[48] = "";
    if (s->lh > 0) /* the same scenarios again: say which FRTB run the record is of */
        snprintf(set, sizeof set, "FRTB liquidity horizon %g: ", s->lh);
    for (size_t i = 0; i < p->nrows; i++) {
        uint32_t nf = atomic_load_explicit(&p->nfail[i], memory_order_relaxed);
        if (nf > 0) {
            uint32_t first = atomic_load_explicit(&p->first_fail[i], memory_order_relaxed);
            cli_scen_name(r, s, first, name, sizeof name);
            snprintf(msg, sizeof msg,
                     "%svalue not finite in %" PRIu32 " of %zu scenarios (first: %s)", set, nf,
                     p->nscen, name);
            cli_error_row(r, i, NULL, nf == p->nscen ? NULL : name, RK_NUMERIC, msg);
        }
        if (p->nmissing[i] > 0) {
            snprintf(msg, sizeof msg, "%s%" PRIu32 " of %zu scenarios not computed: %s", set,
                     p->nmissing[i], p->nscen, rk_strerror((rk_status)p->miss_code[i]));
            cli_error_row(r, i, NULL, NULL, (rk_status)p->miss_code[i], msg);
        }
    }
    cli_errors_flush(r);
}

bool cli_scen_export(cli_run *r, const rsk_run *run, const rsk_scen_set *s)
{
    FILE *f = cli_out_open(r, "scenarios.csv");
    if (!cli_ok(r, f != NULL))
        return false;
    size_t F = r->ds.mkt.nfactors, B = RSK_STATE_BLOCK;
    double *work = malloc(B * (F ? F : 1) * sizeof(double));
    double *shock = malloc(B * (F ? F : 1) * sizeof(double));
    bool ok = work != NULL && shock != NULL;
    fputs("scenario", f);
    for (size_t j = 0; j < F; j++)
        fprintf(f, ",%s", r->ds.mkt.factor[j]);
    fputc('\n', f);
    char name[64];
    /* in the flow's blocks, so that the shocks are those its states were made from */
    for (size_t first = 0; ok && first < s->n; first += B) {
        size_t n = s->n - first < B ? s->n - first : B;
        rsk_run_shocks(run, s, first, n, work, shock);
        for (size_t i = 0; i < n; i++) {
            cli_scen_name(r, s, first + i, name, sizeof name);
            fputs(name, f);
            for (size_t j = 0; j < F; j++) {
                /* %.17g reads back to the same double: the export replays exactly */
                fprintf(f, ",%.17g", shock[i * F + j]);
            }
            fputc('\n', f);
        }
    }
    free(work);
    free(shock);
    if (!ok)
        dist_fail(r->command, "scenarios.csv: out of memory");
    bool closed = cli_out_close(r, f, "scenarios.csv");
    return cli_ok(r, ok && closed);
}
