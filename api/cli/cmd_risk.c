/*
 * cmd_risk.c - `riskengine var`, `riskengine stress` and `riskengine batch`: VaR/ES per book
 * (parametric, Monte Carlo, historical), stress P&L, and the nightly job that runs them all and
 * writes the report. Under mpirun each rank revalues its share; every P&L vector and exposure
 * is combined exactly before VaR is taken, so the numbers do not depend on the process count.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_backtest.h"
#include "measures.h"
#include "report.h"
#include "states.h"

#define RUN_OPTS "data out threads topology no-pin deadline-ms quiet isa"
#define FRTB_OPTS "liquidity"
#define VAR_OPTS                                                                           \
    "confidence es-confidence horizon scenarios seed write-scenarios bump reuse-unmoved"

static const char var_help[] =
    "usage: riskengine var --data DIR --out DIR --method parametric|mc|historical [options]\n"
    "\n"
    "VaR and ES per book and in total (book TOTAL) -> OUT/var.csv\n"
    "(book,method,scenarios,var,es,coverage,contribution), errors.csv, summary.json.\n"
    "\n"
    "  parametric   delta-normal from the full-revaluation grid: VaR = z sigma_P sqrt(H), with\n"
    "               Euler contributions per book (they sum to the total)\n"
    "  mc           full revaluation under N Monte Carlo scenarios sqrt(H) L z, L = chol(Sigma),\n"
    "               z from a counter-based generator keyed by (seed, scenario)\n"
    "  historical   full revaluation under the scenarios of DIR/scenarios.csv, used as given\n"
    "\n"
    "options:\n"
    "  --scenarios N      Monte Carlo scenarios (default 1000)\n"
    "  --seed N           Monte Carlo seed (default 1)\n"
    "  --confidence A     VaR confidence (default 0.99)\n"
    "  --es-confidence A  ES confidence (default 0.975)\n"
    "  --horizon H        horizon in days for parametric and mc (default 1)\n"
    "  --bump H           grid bump for parametric (default 1e-4)\n"
    "  --write-scenarios  also write the scenarios used as OUT/scenarios.csv (replayable with\n"
    "                     --method historical)\n"
    "  --liquidity FILE   historical only: also FRTB internal-models ES -> OUT/frtb_es.csv\n"
    "                     (book,es_10,es_20,es_40,es_60,es_120,es_liquidity_adjusted,coverage).\n"
    "                     FILE maps every factor to a liquidity horizon in days, one of 10, 20,\n"
    "                     40, 60, 120 (header factor,liquidity_horizon). ES_10(P, j) at 97.5%%\n"
    "                     revalues under the scenarios with only the factors of horizon >= LH_j\n"
    "                     moving; the file's shocks are taken as --horizon-day moves (default 1)\n"
    "                     and scaled to 10 days by sqrt(10 / H): 10-day scenarios need\n"
    "                     --horizon 10. ES = sqrt(ES_10(P,1)^2 + sum_j>=2 (ES_10(P,j)\n"
    "                     sqrt((LH_j - LH_j-1) / 10))^2)\n"
    "  --data, --out, --threads, --topology, --no-pin, --deadline-ms, --isa, --quiet as for values\n";

static const char stress_help[] =
    "usage: riskengine stress --data DIR --out DIR [options]\n"
    "\n"
    "P&L per book and in total of each scenario of DIR/scenarios.csv, by full revaluation\n"
    "-> OUT/stress.csv (scenario,book,pnl,coverage), errors.csv, summary.json.\n"
    "\n"
    "options: --data, --out, --threads, --topology, --no-pin, --deadline-ms, --isa, --quiet\n";

static const char batch_help[] =
    "usage: riskengine batch --data DIR --out DIR [options]\n"
    "\n"
    "The nightly job: load and validate, base values, the sensitivity grid with parametric\n"
    "VaR, Monte Carlo VaR/ES, historical VaR/ES and stress when DIR/scenarios.csv exists, and a\n"
    "self-contained HTML report. Writes values.csv, exposures.csv, var.csv, stress.csv,\n"
    "worst_positions.csv, errors.csv, summary.json and report.html into OUT.\n"
    "\n"
    "options:\n"
    "  --scenarios N, --seed N, --confidence A, --es-confidence A, --horizon H, --bump H,\n"
    "  --write-scenarios    as for `riskengine var`\n"
    "  --liquidity FILE     also FRTB ES -> frtb_es.csv (as `riskengine var --liquidity`;\n"
    "                       needs DIR/scenarios.csv)\n"
    "  --pnl FILE           also backtest FILE's VaR against its P&L -> backtest.csv (as\n"
    "                       `riskengine backtest`, at --confidence over --window N days,\n"
    "                       default 250), with a backtesting section in the report\n"
    "  --data, --out, --threads, --topology, --no-pin, --deadline-ms, --isa, --quiet as for values\n";

static bool check_measure_opts(const cli_opts *o, const char *cmd)
{
    if (!(o->confidence > 0 && o->confidence < 1) ||
        !(o->es_confidence > 0 && o->es_confidence < 1)) {
        fprintf(stderr, "riskengine %s: confidences must lie strictly between 0 and 1\n", cmd);
        return false;
    }
    if (!(o->horizon > 0) || !(o->bump > 0)) {
        fprintf(stderr, "riskengine %s: --horizon and --bump must be > 0\n", cmd);
        return false;
    }
    return true;
}

static const char *book_label(const cli_run *r, size_t b)
{
    return b < r->ds.pos.nbooks ? r->ds.pos.books[b] : "TOTAL";
}

/* var.csv rows for a scenario method. */
static bool write_scen_var(cli_run *r, FILE *f, const char *method, const rsk_scen_set *s,
                           rep_var *rv)
{
    const rsk_pnl *p = &s->pnl;
    char var[40], es[40], cov[40];
    for (size_t b = 0; b <= p->nbooks; b++) {
        double v = s->var[b], e = s->es[b];
        double c = p->req_cells[b] ? (double)p->ok_cells[b] / (double)p->req_cells[b] : 1.0;
        cli_fmt_double(var, sizeof var, v);
        cli_fmt_double(es, sizeof es, e);
        cli_fmt_double(cov, sizeof cov, c);
        fprintf(f, "%s,%s,%zu,%s,%s,%s,\n", book_label(r, b), method, p->nscen, var, es, cov);
        if (rv != NULL && b == p->nbooks) {
            rv->var = v;
            rv->es = e;
            rv->coverage = c;
        }
    }
    if (ferror(f)) {
        dist_fail(r->command, "writing var.csv failed");
        return false;
    }
    return true;
}

static bool write_stress(cli_run *r, const rsk_scen_set *s)
{
    const rsk_pnl *p = &s->pnl;
    FILE *f = cli_out_open(r, "stress.csv");
    if (f == NULL)
        return false;
    fputs("scenario,book,pnl,coverage\n", f);
    char name[64], pnl[40], cov[40];
    for (size_t i = 0; i < p->nscen; i++) {
        cli_scen_name(r, s, i, name, sizeof name);
        for (size_t b = 0; b <= p->nbooks; b++) {
            uint64_t req = p->req_cells[b] / (p->nscen ? p->nscen : 1);
            double c = req ? (double)p->ok_scen[b * p->nscen + i] / (double)req : 1.0;
            cli_fmt_double(pnl, sizeof pnl, p->pnl[b * p->nscen + i]);
            cli_fmt_double(cov, sizeof cov, c);
            cli_csv_field(f, name);
            fputc(',', f);
            cli_csv_field(f, book_label(r, b));
            fprintf(f, ",%s,%s\n", pnl, cov);
        }
    }
    return cli_out_close(r, f, "stress.csv");
}

/* The measures one run computed, for summary.json and the report. */
typedef struct risk_results {
    const cli_run *r;
    const rsk_values *v;
    const rsk_grid *g;
    const rsk_parametric *pv;
    const rsk_pnl *mc, *hist;
    rep_var mc_var, hist_var;
    size_t worst_scen;
    const rsk_run *frtb; /* the run holding FRTB's sets, or NULL */
    rep_var frtb_es;     /* TOTAL's liquidity-adjusted ES (var unused) */
    const cli_bt *bt;    /* the batch's --pnl backtest, or NULL */
} risk_results;

static void risk_extra(json_writer *w, void *arg)
{
    const risk_results *rr = arg;
    uint64_t n = rr->r->npos_all;
    if (rr->v != NULL) {
        json_object_begin(w, "values");
        json_uint(w, "positions", n);
        json_uint(w, "ok", rr->r->values_ok_all);
        json_number(w, "coverage", n ? (double)rr->r->values_ok_all / (double)n : 1.0);
        json_object_end(w);
    }
    json_object_begin(w, "coverage");
    if (rr->g != NULL) {
        size_t nb = rr->g->nbooks;
        json_number(w, "grid",
                    rr->g->req_cells[nb]
                        ? (double)rr->g->ok_cells[nb] / (double)rr->g->req_cells[nb]
                        : 1.0);
    }
    if (rr->mc != NULL)
        json_number(w, "mc", rr->mc_var.coverage);
    if (rr->hist != NULL)
        json_number(w, "historical", rr->hist_var.coverage);
    if (rr->frtb != NULL)
        json_number(w, "frtb_es", rr->frtb_es.coverage);
    json_object_end(w);
    json_object_begin(w, "var_total");
    if (rr->pv != NULL)
        json_number(w, "parametric", rr->pv->var[rr->pv->nbooks]);
    if (rr->mc != NULL) {
        json_number(w, "mc", rr->mc_var.var);
        json_number(w, "mc_es", rr->mc_var.es);
        json_uint(w, "mc_scenarios", rr->mc->nscen);
    }
    if (rr->hist != NULL) {
        json_number(w, "historical", rr->hist_var.var);
        json_number(w, "historical_es", rr->hist_var.es);
        json_uint(w, "historical_scenarios", rr->hist->nscen);
    }
    if (rr->frtb != NULL)
        json_number(w, "frtb_es_liquidity_adjusted", rr->frtb_es.es);
    json_object_end(w);
    uint64_t revals = 0;
    if (rr->v != NULL)
        revals += n;
    if (rr->g != NULL)
        revals += 2 * n * rr->g->nfactors;
    if (rr->mc != NULL)
        revals += n * rr->mc->nscen;
    if (rr->hist != NULL)
        revals += n * rr->hist->nscen;
    if (rr->frtb != NULL)
        revals += n * rr->frtb->sets[rr->frtb->frtb_set].n * RSK_FRTB_NLH;
    json_uint(w, "revaluations_requested", revals);
    if (rr->bt != NULL)
        cli_bt_json(w, rr->bt);
}

/* The run's specification from the measure options. */
static rsk_run_spec measure_spec(const cli_opts *o, unsigned stages)
{
    return (rsk_run_spec){.stages = stages,
                          .bump = o->bump,
                          .confidence = o->confidence,
                          .es_confidence = o->es_confidence,
                          .horizon = o->horizon,
                          .reuse_unmoved = o->reuse_unmoved,
                          .mc_scenarios = o->scenarios,
                          .seed = o->seed,
                          .mc_var = true,
                          .file_var = true};
}

/* The Cholesky factor of the covariance for Monte Carlo (F x F; free it), or NULL with the
 * reason printed. Collective. */
static double *cholesky(cli_run *r, const char *why)
{
    size_t F = r->ds.mkt.nfactors;
    double *L = malloc((F * F > 0 ? F * F : 1) * sizeof(double));
    rk_status rc = L != NULL ? rsk_cholesky(r->ds.mkt.cov, F, L) : RK_NO_MEMORY;
    if (rc != RK_OK)
        dist_fail(r->command, "%s: %s", why, rk_strerror(rc));
    if (!cli_ok(r, rc == RK_OK)) {
        free(L);
        return NULL;
    }
    return L;
}

/* var.csv rows (and, with --write-scenarios, the export) of a scenario set. */
static bool scenario_rows(cli_run *r, FILE *vf, const rsk_run *run, const rsk_scen_set *s,
                          rep_var *rv)
{
    if (r->opt.write_scenarios && s->mc && !cli_scen_export(r, run, s))
        return false;
    return cli_ok(r, write_scen_var(r, vf, s->mc ? "mc" : "historical", s, rv));
}

static const char *const var_phases[2] = {"mc_pnl", "historical_pnl"};

/* Coverage of a book over FRTB's sets: OK cells over requested cells of all five. */
static double frtb_coverage(const rsk_run *run, size_t b)
{
    uint64_t ok = 0, req = 0;
    for (size_t j = 0; j < RSK_FRTB_NLH; j++) {
        const rsk_pnl *p = &run->sets[run->frtb_set + (int)j].pnl;
        ok += p->ok_cells[b];
        req += p->req_cells[b];
    }
    return req ? (double)ok / (double)req : 1.0;
}

/* frtb_es.csv: ES_10(P, j) per liquidity horizon and the liquidity-adjusted ES, per book and
 * in total, with coverage. Collective (rank 0 writes). */
static bool write_frtb(cli_run *r, const rsk_run *run, rep_var *total)
{
    FILE *f = cli_out_open(r, "frtb_es.csv");
    if (!cli_ok(r, f != NULL))
        return false;
    fputs("book,es_10,es_20,es_40,es_60,es_120,es_liquidity_adjusted,coverage\n", f);
    const rsk_scen_set *fs = &run->sets[run->frtb_set];
    size_t nb = r->ds.pos.nbooks;
    char num[40];
    for (size_t b = 0; b <= nb; b++) {
        cli_csv_field(f, book_label(r, b));
        for (size_t j = 0; j < RSK_FRTB_NLH; j++) {
            /* + 0: a book that no scenario moves has ES -0 (the negated zero loss) */
            cli_fmt_double(num, sizeof num, fs[j].has_var ? fs[j].es[b] + 0.0 : NAN);
            fprintf(f, ",%s", num);
        }
        double c = frtb_coverage(run, b);
        cli_fmt_double(num, sizeof num, run->has_frtb ? run->frtb_es[b] : NAN);
        fprintf(f, ",%s", num);
        cli_fmt_double(num, sizeof num, c);
        fprintf(f, ",%s\n", num);
        if (b == nb) {
            total->es = run->has_frtb ? run->frtb_es[b] : NAN;
            total->var = NAN;
            total->coverage = c;
        }
    }
    return cli_ok(r, cli_out_close(r, f, "frtb_es.csv"));
}

int cmd_var(int argc, char **argv)
{
    cli_opts o;
    if (!cli_parse(argc, argv, "var", RUN_OPTS " method " VAR_OPTS " " FRTB_OPTS, var_help, &o))
        return CLI_USAGE;
    if (!cli_need_data_out(&o, "var"))
        return CLI_USAGE;
    if (!check_measure_opts(&o, "var"))
        return CLI_USAGE;
    bool param = strcmp(o.method, "parametric") == 0, mc = strcmp(o.method, "mc") == 0,
         hist = strcmp(o.method, "historical") == 0;
    if (!param && !mc && !hist) {
        fprintf(stderr, "riskengine var: --method must be parametric, mc or historical\n");
        return CLI_USAGE;
    }
    if (o.liquidity != NULL && !hist) {
        fprintf(stderr, "riskengine var: --liquidity goes with --method historical\n");
        return CLI_USAGE;
    }
    cli_run r;
    rsk_run run = {0};
    double *L = NULL, *lh = NULL;
    risk_results rr = {.r = &r};
    FILE *vf = NULL;
    int status = CLI_FAIL;
    if (!cli_run_open(&r, &o, "var", true))
        goto done;
    if (hist && !r.ds.has_scenarios) { /* the same on every rank: the files were compared */
        if (dist_is_root())
            fprintf(stderr, "riskengine var: --method historical needs %s/scenarios.csv\n",
                    o.data);
        goto done;
    }
    if (mc && (L = cholesky(&r, "Cholesky of the covariance")) == NULL)
        goto done;
    if (o.liquidity != NULL && (lh = cli_liquidity(&r)) == NULL)
        goto done;
    rsk_run_spec spec =
        measure_spec(&o, param ? RSK_DO_PARAMETRIC : mc ? RSK_DO_MC : RSK_DO_FILE);
    if (lh != NULL) {
        spec.stages |= RSK_DO_FRTB;
        spec.liq_horizon = lh;
    }
    if (!cli_compute(&r, &spec, L, mc ? var_phases : var_phases + 1, &run))
        goto done;
    rr.v = &run.values;
    vf = cli_out_open(&r, "var.csv");
    if (!cli_ok(&r, vf != NULL))
        goto done;
    fputs("book,method,scenarios,var,es,coverage,contribution\n", vf);
    if (param) {
        bool ok = cli_write_parametric(&r, vf, &run.grid, &run.pv);
        if (!ok)
            dist_fail(r.command, "writing var.csv failed");
        if (!cli_ok(&r, ok))
            goto done;
        rr.g = &run.grid;
        rr.pv = &run.pv;
    } else {
        const rsk_scen_set *s = &run.sets[0];
        rep_var rv = {0};
        if (!scenario_rows(&r, vf, &run, s, &rv))
            goto done;
        if (mc) {
            rr.mc = &s->pnl;
            rr.mc_var = rv;
        } else {
            rr.hist = &s->pnl;
            rr.hist_var = rv;
        }
    }
    bool closed = cli_out_close(&r, vf, "var.csv");
    vf = NULL;
    if (!cli_ok(&r, closed))
        goto done;
    if (lh != NULL) {
        if (!write_frtb(&r, &run, &rr.frtb_es))
            goto done;
        rr.frtb = &run;
    }
    if (!cli_write_summary(&r, risk_extra, &rr))
        goto done;
    status = CLI_OK;
done:
    if (vf != NULL)
        fclose(vf);
    free(L);
    free(lh);
    rsk_run_free(&run);
    cli_run_close(&r);
    return status;
}

int cmd_stress(int argc, char **argv)
{
    cli_opts o;
    if (!cli_parse(argc, argv, "stress", RUN_OPTS, stress_help, &o))
        return CLI_USAGE;
    if (!cli_need_data_out(&o, "stress"))
        return CLI_USAGE;
    cli_run r;
    rsk_run run = {0};
    risk_results rr = {.r = &r};
    int status = CLI_FAIL;
    if (!cli_run_open(&r, &o, "stress", true))
        goto done;
    if (!r.ds.has_scenarios) { /* the same on every rank: the files were compared */
        if (dist_is_root())
            fprintf(stderr, "riskengine stress: %s/scenarios.csv is required\n", o.data);
        goto done;
    }
    static const char *const stress_phase[2] = {"stress_pnl", NULL};
    rsk_run_spec spec = {.stages = RSK_DO_FILE};
    if (!cli_compute(&r, &spec, NULL, stress_phase, &run))
        goto done;
    rr.v = &run.values;
    if (!cli_ok(&r, write_stress(&r, &run.sets[0])) || !cli_write_summary(&r, risk_extra, &rr))
        goto done;
    status = CLI_OK;
done:
    rsk_run_free(&run);
    cli_run_close(&r);
    return status;
}

/* Index of the scenario with the largest total loss. */
static size_t worst_scenario(const rsk_pnl *p)
{
    const double *tot = p->pnl + p->nbooks * p->nscen;
    size_t w = 0;
    for (size_t s = 1; s < p->nscen; s++)
        if (tot[s] < tot[w])
            w = s;
    return w;
}

/* Per-position P&L in one scenario, for the report's "who lost most": each rank values its
 * share in the scenario's market (through the flow, as every other number), rank 0 keeps the
 * largest losses over all shares. Collective. */
static bool worst_positions(cli_run *r, const rsk_run *run, const rsk_scen_set *set, size_t s,
                            rep_input *rep)
{
    const rsk_values *v = &run->values;
    size_t F = r->ds.mkt.nfactors;
    double *shock = malloc((F ? F : 1) * sizeof(double));
    double *work = malloc((F ? F : 1) * sizeof(double));
    double *pnl = malloc((v->n ? v->n : 1) * sizeof(double));
    rsk_states st = {0};
    rsk_run in_scen = {0};
    rk_status rc = RK_NO_MEMORY;
    if (shock != NULL && work != NULL && pnl != NULL) {
        rsk_run_shocks(run, set, s, 1, work, shock);
        rc = rsk_states_from_shocks(&r->ds.mkt, shock, 1, &st);
    }
    if (rc != RK_OK)
        dist_fail(r->command, "worst scenario: %s", rk_strerror(rc));
    bool ok = cli_ok(r, rc == RK_OK);
    if (ok) {
        dat_market moved = r->ds.mkt; /* the scenario's underlying values, the same structure */
        moved.und_value = st.x;
        rsk_run_spec spec = {.stages = RSK_DO_VALUES};
        ok = cli_flow_run(r, &spec, &moved, NULL, false, &in_scen);
    }
    if (ok) {
        const rsk_values *vs = &in_scen.values;
        for (size_t i = 0; i < v->n; i++)
            pnl[i] = (v->status[i] == RK_OK && vs->status[i] == RK_OK)
                         ? vs->value[i] - v->value[i]
                         : NAN;
        ok = rep_collect_losers(r, pnl, rep);
    }
    free(shock);
    free(work);
    free(pnl);
    rsk_states_free(&st);
    rsk_run_free(&in_scen);
    return ok;
}

int cmd_batch(int argc, char **argv)
{
    cli_opts o;
    if (!cli_parse(argc, argv, "batch", RUN_OPTS " " VAR_OPTS " " FRTB_OPTS " pnl window",
                   batch_help, &o))
        return CLI_USAGE;
    if (!cli_need_data_out(&o, "batch"))
        return CLI_USAGE;
    if (!check_measure_opts(&o, "batch"))
        return CLI_USAGE;
    if (o.window == 0) {
        fprintf(stderr, "riskengine batch: --window must be at least 1\n");
        return CLI_USAGE;
    }
    cli_run r;
    rsk_run run = {0};
    double *L = NULL, *lh = NULL;
    cli_bt bt = {0};
    risk_results rr = {.r = &r};
    rep_input rep = {0};
    FILE *vf = NULL;
    int status = CLI_FAIL;
    if (!cli_run_open(&r, &o, "batch", true))
        goto done;
    if (!r.opt.quiet)
        fprintf(stderr,
                "batch: %zu positions (%zu valid), %zu underlyings, %zu factors, %zu books%s\n",
                r.npos_all, r.nvalid_all, r.ds.mkt.nund, r.ds.mkt.nfactors, r.ds.pos.nbooks,
                dist_size() > 1 ? ", over MPI ranks" : "");
    if ((L = cholesky(&r, "the covariance has no Cholesky factor")) == NULL)
        goto done;
    if (o.liquidity != NULL && !r.ds.has_scenarios) { /* the same on every rank */
        if (dist_is_root())
            fprintf(stderr, "riskengine batch: --liquidity needs %s/scenarios.csv\n", o.data);
        goto done;
    }
    if (o.liquidity != NULL && (lh = cli_liquidity(&r)) == NULL)
        goto done;
    rsk_run_spec spec = measure_spec(
        &o, RSK_DO_PARAMETRIC | RSK_DO_MC | (r.ds.has_scenarios ? RSK_DO_FILE : 0u));
    if (lh != NULL) {
        spec.stages |= RSK_DO_FRTB;
        spec.liq_horizon = lh;
    }
    if (!cli_compute(&r, &spec, L, var_phases, &run))
        goto done;
    const rsk_values *v = &run.values;
    const rsk_grid *g = &run.grid;
    const rsk_scen_set *mc = &run.sets[run.mc_set];
    const rsk_scen_set *hist = run.file_set >= 0 ? &run.sets[run.file_set] : NULL;
    rr.v = v;
    rr.g = g;
    rr.pv = &run.pv;
    cli_phase_begin(&r);
    if (!cli_write_values(&r, v))
        goto done;
    cli_phase_end(&r, "write_values");

    vf = cli_out_open(&r, "var.csv");
    if (!cli_ok(&r, vf != NULL))
        goto done;
    fputs("book,method,scenarios,var,es,coverage,contribution\n", vf);
    bool wrote = cli_write_parametric(&r, vf, g, &run.pv);
    if (!wrote)
        dist_fail(r.command, "writing var.csv failed");
    if (!cli_ok(&r, wrote) || !scenario_rows(&r, vf, &run, mc, &rr.mc_var))
        goto done;
    rr.mc = &mc->pnl;
    if (hist != NULL) {
        if (!scenario_rows(&r, vf, &run, hist, &rr.hist_var))
            goto done;
        rr.hist = &hist->pnl;
    }
    bool closed = cli_out_close(&r, vf, "var.csv");
    vf = NULL;
    if (!cli_ok(&r, closed))
        goto done;

    cli_phase_begin(&r);
    FILE *ef = cli_out_open(&r, "exposures.csv");
    if (!cli_ok(&r, ef != NULL))
        goto done;
    fputs("book,factor,exposure,coverage\n", ef);
    char num[40], cov[40];
    for (size_t b = 0; b <= g->nbooks; b++) {
        double c = g->req_cells[b] ? (double)g->ok_cells[b] / (double)g->req_cells[b] : 1.0;
        cli_fmt_double(cov, sizeof cov, c);
        for (size_t j = 0; j < g->nfactors; j++) {
            cli_fmt_double(num, sizeof num, g->exposure[b * g->nfactors + j]);
            fprintf(ef, "%s,%s,%s,%s\n", book_label(&r, b), r.ds.mkt.factor[j], num, cov);
        }
    }
    closed = cli_out_close(&r, ef, "exposures.csv");
    if (!cli_ok(&r, closed && (hist == NULL || write_stress(&r, hist))))
        goto done;
    if (lh != NULL) {
        if (!write_frtb(&r, &run, &rr.frtb_es))
            goto done;
        rr.frtb = &run;
        rep.frtb = &run;
    }
    if (o.pnl != NULL) {
        if (!cli_bt_run(&r, o.pnl, o.confidence, o.window, &bt))
            goto done;
        rr.bt = &bt;
        rep.bt = &bt;
    }

    /* The report: pictures and tables a risk manager reads first. */
    rr.worst_scen = mc->n > 0 ? worst_scenario(&mc->pnl) : 0;
    rep.run = &r;
    rep.values = v;
    rep.grid = g;
    rep.parametric = &run.pv;
    rep.mc = &mc->pnl;
    rep.mc_var = rr.mc_var;
    rep.hist = rr.hist;
    rep.hist_var = rr.hist_var;
    rep.mc_set = mc;
    rep.hist_set = hist;
    rep.worst_scen = rr.worst_scen;
    cli_scen_name(&r, mc, rr.worst_scen, rep.worst_name, sizeof rep.worst_name);
    if (mc->n > 0 && !worst_positions(&r, &run, mc, rr.worst_scen, &rep))
        goto done;
    cli_phase_end(&r, "reports_data");
    cli_phase_begin(&r);
    uint64_t error_rows;
    cli_error_totals(&r, rep.errors_by_code, &error_rows);
    r.deadline_hit = dist_any(r.deadline_hit);
    if (!cli_ok(&r, !dist_is_root() || rep_write(&rep)))
        goto done;
    cli_phase_end(&r, "report");
    if (!cli_write_summary(&r, risk_extra, &rr))
        goto done;
    if (!r.opt.quiet) {
        fprintf(stderr, "batch: VaR %.4g parametric, %.4g mc (ES %.4g)", run.pv.var[run.pv.nbooks],
                rr.mc_var.var, rr.mc_var.es);
        if (rr.hist != NULL)
            fprintf(stderr, ", %.4g historical (ES %.4g)", rr.hist_var.var, rr.hist_var.es);
        fprintf(stderr, "%s -> %s/report.html\n", r.deadline_hit ? " [PARTIAL: deadline]" : "",
                o.out);
    }
    status = CLI_OK;
done:
    if (vf != NULL)
        fclose(vf);
    rep_free(&rep);
    cli_bt_free(&bt);
    free(L);
    free(lh);
    rsk_run_free(&run);
    cli_run_close(&r);
    return status;
}
