/*
 * scenarios.c - scenario P&L for the commands that need it (var, stress, batch): scenarios from
 * Monte Carlo or from scenarios.csv, evaluated in blocks through the engine while the next
 * block's shocks and market states are prepared on the calling thread. Under mpirun every rank
 * makes the same scenario states (Monte Carlo by (seed, scenario), or the file's) and revalues
 * its own share; the per-book P&L vectors are then combined as exact sums.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "measures.h"
#include "scenarios.h"
#include "states.h"

void cli_scen_name(const cli_scenarios *sc, const cli_run *r, size_t s, char *buf, size_t len)
{
    if (sc->kind == CLI_SCEN_FILE)
        snprintf(buf, len, "%s", r->ds.scen.name[s]);
    else
        snprintf(buf, len, "mc_%06zu", s + 1);
}

rk_status cli_scen_mc(cli_scenarios *sc, const cli_run *r, size_t n, uint64_t seed, double horizon)
{
    memset(sc, 0, sizeof *sc);
    size_t F = r->ds.mkt.nfactors;
    sc->kind = CLI_SCEN_MC;
    sc->n = n;
    sc->seed = seed;
    sc->horizon = horizon;
    sc->L = malloc((F * F > 0 ? F * F : 1) * sizeof(double));
    if (sc->L == NULL)
        return RK_NO_MEMORY;
    return rsk_cholesky(r->ds.mkt.cov, F, sc->L);
}

void cli_scen_file(cli_scenarios *sc, const cli_run *r)
{
    memset(sc, 0, sizeof *sc);
    sc->kind = CLI_SCEN_FILE;
    sc->n = r->ds.has_scenarios ? r->ds.scen.n : 0;
}

void cli_scen_free(cli_scenarios *sc)
{
    free(sc->L);
    sc->L = NULL;
}

/* Shocks of scenarios [first, first + n) into shock (n x F). */
static void block_shocks(const cli_scenarios *sc, const cli_run *r, size_t first, size_t n,
                         double *work, double *shock)
{
    size_t F = r->ds.mkt.nfactors;
    if (sc->kind == CLI_SCEN_FILE)
        memcpy(shock, r->ds.scen.shock + first * F, n * F * sizeof(double));
    else
        rsk_mc_shocks(sc->L, F, sc->seed, first, n, sc->horizon, work, shock);
}

rk_status cli_scen_shock(const cli_scenarios *sc, const cli_run *r, size_t s, double *shock)
{
    size_t F = r->ds.mkt.nfactors;
    double *work = malloc((F ? F : 1) * sizeof(double));
    if (work == NULL)
        return RK_NO_MEMORY;
    block_shocks(sc, r, s, 1, work, shock);
    free(work);
    return RK_OK;
}

static void export_block(FILE *f, const cli_scenarios *sc, const cli_run *r, size_t first, size_t n,
                         const double *shock)
{
    size_t F = r->ds.mkt.nfactors;
    char name[64];
    for (size_t s = 0; s < n; s++) {
        cli_scen_name(sc, r, first + s, name, sizeof name);
        fputs(name, f);
        for (size_t j = 0; j < F; j++) {
            /* %.17g reads back to the same double: the export replays exactly */
            fprintf(f, ",%.17g", shock[s * F + j]);
        }
        fputc('\n', f);
    }
}

typedef struct block {
    size_t first, n;
    rsk_states st;
} block;

static rk_status prepare(const cli_scenarios *sc, const cli_run *r, size_t first, size_t n,
                         double *work, double *shock, FILE *export_to, block *b)
{
    b->first = first;
    b->n = n;
    block_shocks(sc, r, first, n, work, shock);
    if (export_to != NULL)
        export_block(export_to, sc, r, first, n, shock);
    return rsk_states_from_shocks(&r->ds.mkt, shock, n, &b->st);
}

bool cli_scen_pnl(cli_run *r, const cli_scenarios *sc, const rsk_values *v, FILE *export_to,
                  const char *label, rsk_pnl *out)
{
    size_t F = r->ds.mkt.nfactors, nb = r->ds.pos.nbooks, N = sc->n;
    rk_status rc = rsk_pnl_init(out, r->ds.pos.n, nb, N);
    if (rc != RK_OK)
        dist_fail(r->command, "%s", rk_strerror(rc));
    if (!cli_ok(r, rc == RK_OK))
        return false;
    rsk_requested_cells(&r->ds.pos, nb, N, out->req_cells);
    if (export_to != NULL) {
        fputs("scenario", export_to);
        for (size_t j = 0; j < F; j++)
            fprintf(export_to, ",%s", r->ds.mkt.factor[j]);
        fputc('\n', export_to);
    }
    size_t B = RSK_STATE_BLOCK;
    double *work = malloc(B * (F ? F : 1) * sizeof(double));
    double *shock = malloc(B * (F ? F : 1) * sizeof(double));
    block cur = {0}, next = {0};
    bool ok = false;
    if (work == NULL || shock == NULL) {
        rc = RK_NO_MEMORY;
        goto done;
    }
    cli_progress pr;
    cli_progress_init(&pr, label, r->opt.quiet);
    pr.grand_total = (uint64_t)r->pf.nvalid * N;
    if (N > 0)
        rc = prepare(sc, r, 0, N < B ? N : B, work, shock, export_to, &cur);
    rsk_run_opts o = {
        .deadline_ns = r->deadline_ns, .progress = cli_progress_cb, .progress_arg = &pr};
    for (size_t first = 0; rc == RK_OK && first < N; first += B) {
        rsk_task *t;
        rc = rsk_pnl_start(r->eng, &r->pf, &cur.st, cur.first, v, r->deadline_ns, out, &t);
        if (rc != RK_OK)
            break;
        /* While the engine evaluates this block, the next one's shocks and states are made
         * here (BLAS, single-threaded). */
        size_t nf = first + B;
        if (nf < N)
            rc = prepare(sc, r, nf, N - nf < B ? N - nf : B, work, shock, export_to, &next);
        rsk_run_info info;
        rk_status frc = rsk_task_finish(t, &o, &info);
        if (frc == RK_OK)
            cli_note_request(r, &info);
        else if (rc == RK_OK)
            rc = frc;
        pr.offset += (uint64_t)r->pf.nvalid * cur.n;
        rsk_states_free(&cur.st);
        cur = next;
        memset(&next, 0, sizeof next);
    }
    cli_progress_done(&pr);
    ok = rc == RK_OK;
done:
    if (!ok)
        dist_fail(r->command, "scenario P&L: %s", rk_strerror(rc));
    rsk_states_free(&cur.st);
    rsk_states_free(&next.st);
    free(work);
    free(shock);
    if (!cli_ok(r, ok))
        return false;
    /* P&L per book per scenario over every share: exact sums added in rank order, rounded
     * once, the same bits as one process; cell counts are integers. */
    size_t nx = (nb + 1) * N;
    dist_sum_xsum(out->xpnl, nx);
    for (size_t k = 0; k < nx; k++)
        out->pnl[k] = rsk_xsum_value(out->xpnl[k]);
    dist_sum_u64(out->ok_scen, nx);
    dist_sum_u64(out->ok_cells, nb + 1);
    dist_sum_u64(out->req_cells, nb + 1);
    return true;
}

void cli_scen_errors(cli_run *r, const cli_scenarios *sc, const rsk_pnl *p)
{
    char name[64], msg[160];
    for (size_t i = 0; i < p->nrows; i++) {
        uint32_t nf = atomic_load_explicit(&p->nfail[i], memory_order_relaxed);
        if (nf > 0) {
            uint32_t first = atomic_load_explicit(&p->first_fail[i], memory_order_relaxed);
            cli_scen_name(sc, r, first, name, sizeof name);
            snprintf(msg, sizeof msg,
                     "value not finite in %" PRIu32 " of %zu scenarios (first: %s)", nf, p->nscen,
                     name);
            cli_error_row(r, i, NULL, nf == p->nscen ? NULL : name, RK_NUMERIC, msg);
        }
        if (p->nmissing[i] > 0) {
            snprintf(msg, sizeof msg, "%" PRIu32 " of %zu scenarios not computed: %s",
                     p->nmissing[i], p->nscen, rk_strerror((rk_status)p->miss_code[i]));
            cli_error_row(r, i, NULL, NULL, (rk_status)p->miss_code[i], msg);
        }
    }
    cli_errors_flush(r);
}

rk_status cli_scen_var(const rsk_pnl *p, size_t book, double var_alpha, double es_alpha,
                       double *var, double *es)
{
    double *work = malloc((p->nscen ? p->nscen : 1) * sizeof(double));
    if (work == NULL)
        return RK_NO_MEMORY;
    rk_status rc =
        rsk_var_es(p->pnl + book * p->nscen, p->nscen, var_alpha, es_alpha, work, var, es);
    free(work);
    return rc;
}
