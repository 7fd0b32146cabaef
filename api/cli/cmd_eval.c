/*
 * cmd_eval.c - `riskengine values` and `riskengine grid`: base values, the sensitivity grid,
 * per-book exposures and parametric VaR, through the engine (or, with --reference, through the
 * single-threaded reference evaluator). Under mpirun each rank evaluates its share; exposures
 * and counts are combined exactly and the per-position files gathered at rank 0.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "measures.h"
#include "reference.h"

#define COMMON_OPTS "data out threads topology no-pin deadline-ms quiet reference isa"
#define GRID_OPTS "bump confidence es-confidence horizon reuse-unmoved"

static const char values_help[] =
    "usage: riskengine values --data DIR --out DIR [options]\n"
    "\n"
    "Base value of every position (quantity x unit price) -> OUT/values.csv\n"
    "(position,book,value,status,message), plus errors.csv and summary.json.\n"
    "\n"
    "options:\n"
    "  --data DIR         data set folder (factors.csv, covariance.csv, underlyings.csv,\n"
    "                     positions.csv)\n"
    "  --out DIR          output folder (created if missing)\n"
    "  --threads N        workers (default: one per allowed core)\n"
    "  --topology SPEC    hwloc synthetic description (\"node:2 core:4 pu:1\") or XML file\n"
    "  --no-pin           do not bind workers to cores\n"
    "  --deadline-ms MS   return after MS milliseconds with what is done; the rest DEADLINE\n"
    "  --isa LEVEL        pricing kernels: baseline, avx2, avx512 or auto (default: the best\n"
    "                     this CPU supports; under mpirun the lowest of every rank's best)\n"
    "  --reference        use the single-threaded reference evaluator (no engine)\n"
    "  --quiet            no progress output\n";

static const char grid_help[] =
    "usage: riskengine grid --data DIR --out DIR [--bump H] [options]\n"
    "\n"
    "Sensitivity grid by full revaluation: for every position i and factor j,\n"
    "  delta = (V(+h e_j) - V(-h e_j)) / 2h,  gamma = (V(+h e_j) - 2 V(0) + V(-h e_j)) / h^2\n"
    "Writes OUT/sensitivities.csv (position,factor,delta,gamma,status), values.csv,\n"
    "exposures.csv (book,factor,exposure; TOTAL last), var.csv (parametric VaR per book with\n"
    "Euler contributions), errors.csv and summary.json.\n"
    "\n"
    "options:\n"
    "  --bump H           bump size in factor units (default 1e-4)\n"
    "  --confidence A     VaR confidence (default 0.99)\n"
    "  --es-confidence A  ES confidence (default 0.975)\n"
    "  --horizon H        horizon in days (default 1)\n"
    "  --reuse-unmoved    fast path, off by default: where a bump moves none of a position's\n"
    "                     inputs (no underlying of it loads on the factor), take its base value\n"
    "                     instead of revaluing; bitwise the same output, fewer revaluations\n"
    "  --data, --out, --threads, --topology, --no-pin, --deadline-ms, --isa, --reference, --quiet\n"
    "                     as for `riskengine values`\n";

/* Per-row load messages, indexed by row (pointers into the data set). */
static const char **load_messages(const cli_run *r)
{
    const char **m = calloc(r->ds.pos.n ? r->ds.pos.n : 1, sizeof *m);
    if (m == NULL)
        return NULL;
    for (size_t e = 0; e < r->ds.nerrors; e++)
        if (r->ds.errors[e].position < r->ds.pos.n && m[r->ds.errors[e].position] == NULL)
            m[r->ds.errors[e].position] = r->ds.errors[e].message;
    return m;
}

bool cli_write_values(cli_run *r, const rsk_values *v)
{
    const char **msgs = load_messages(r);
    if (msgs == NULL)
        dist_fail(r->command, "values.csv: out of memory");
    cli_rows rows;
    if (!cli_ok(r, msgs != NULL) || !cli_rows_open(r, "values.csv", &rows)) {
        free(msgs);
        return false;
    }
    FILE *f = rows.f;
    const dat_positions *p = &r->ds.pos;
    if (dist_is_root())
        fputs("position,book,value,status,message\n", f);
    char num[40];
    for (size_t i = 0; i < p->n; i++) {
        cli_fmt_double(num, sizeof num, v->value[i]);
        const char *book = p->book[i] != DAT_NONE ? p->books[p->book[i]] : "";
        rk_status code = (rk_status)v->status[i];
        const char *msg = "";
        if (code == RK_INVALID_INPUT)
            msg = msgs[i] != NULL ? msgs[i] : "invalid input";
        else if (code == RK_NUMERIC)
            msg = "unit price is not finite";
        else if (code != RK_OK)
            msg = rk_strerror(code);
        else if (v->flags[i] & MDL_FLAG_FALLBACK)
            msg = "Bjerksund-Stensland 2002 undefined for these inputs: priced with a 200-step "
                  "CRR tree";
        cli_csv_field(f, p->id[i]);
        fputc(',', f);
        cli_csv_field(f, book);
        fprintf(f, ",%s,%s,", num, rk_status_name(code));
        cli_csv_field(f, msg);
        fputc('\n', f);
    }
    free(msgs);
    return cli_rows_close(r, &rows, "values.csv");
}

/* Base values (and the grid, with `grid`) by the single-threaded reference evaluator: the
 * phases, sums and error rows that cli_compute gives the engine's. */
static bool reference_run(cli_run *r, bool grid, rsk_values *v, rsk_grid *g)
{
    cli_phase_begin(r);
    rk_status rc = rsk_ref_values(&r->ds, v);
    if (rc != RK_OK)
        dist_fail(r->command, "values: %s", rk_strerror(rc));
    if (!cli_ok(r, rc == RK_OK))
        return false;
    cli_combine_values(r, v);
    cli_phase_end(r, "values");
    cli_error_values(r, v);
    if (!grid)
        return true;
    cli_phase_begin(r);
    rc = rsk_ref_grid(&r->ds, r->opt.bump, v, g);
    if (rc != RK_OK)
        dist_fail(r->command, "grid: %s", rk_strerror(rc));
    if (!cli_ok(r, rc == RK_OK))
        return false;
    cli_combine_grid(g);
    cli_phase_end(r, "grid");
    cli_grid_errors(r, g, v);
    return true;
}

typedef struct values_summary {
    const cli_run *r;
} values_summary;

static void values_extra(json_writer *w, void *arg)
{
    const values_summary *s = arg;
    size_t n = s->r->npos_all;
    uint64_t ok = s->r->values_ok_all;
    json_object_begin(w, "coverage");
    json_uint(w, "cells_requested", n);
    json_uint(w, "cells_ok", ok);
    json_number(w, "coverage", n ? (double)ok / (double)n : 1.0);
    json_object_end(w);
}

int cmd_values(int argc, char **argv)
{
    cli_opts o;
    if (!cli_parse(argc, argv, "values", COMMON_OPTS, values_help, &o))
        return CLI_USAGE;
    cli_run r;
    rsk_values ref = {0};
    rsk_run run = {0};
    int status = CLI_FAIL;
    if (!cli_run_open(&r, &o, "values", !o.reference))
        goto done;
    rsk_run_spec spec = {.stages = RSK_DO_VALUES};
    if (o.reference ? !reference_run(&r, false, &ref, NULL)
                    : !cli_compute(&r, &spec, NULL, NULL, &run))
        goto done;
    cli_phase_begin(&r);
    if (!cli_write_values(&r, o.reference ? &ref : &run.values))
        goto done;
    cli_phase_end(&r, "write");
    values_summary vs = {&r};
    if (!cli_write_summary(&r, values_extra, &vs))
        goto done;
    if (!r.opt.quiet)
        fprintf(stderr, "values: %" PRIu64 " of %zu positions OK -> %s/values.csv\n",
                r.values_ok_all, r.npos_all, o.out);
    status = CLI_OK;
done:
    rsk_values_free(&ref);
    rsk_run_free(&run);
    if (!cli_run_close(&r))
        status = CLI_FAIL;
    return status;
}

/* ---- grid ---- */

/* errors.csv rows for the grid: a position whose cells all share one code gets one row (none
 * when that code was already reported with its base value); otherwise one row per cell. */
void cli_grid_errors(cli_run *r, const rsk_grid *g, const rsk_values *v)
{
    size_t F = g->nfactors;
    for (size_t i = 0; i < g->n; i++) {
        uint8_t st0 = F > 0 ? g->status[rsk_grid_cell(g, i, 0)] : RK_OK;
        bool same = true;
        for (size_t j = 1; j < F; j++)
            same = same && g->status[rsk_grid_cell(g, i, j)] == st0;
        if (F == 0 || (same && st0 == RK_OK))
            continue;
        if (same) {
            if (st0 == v->status[i])
                continue; /* reported with the base value */
            char msg[96];
            snprintf(msg, sizeof msg, "all %zu factors: %s", F, rk_strerror((rk_status)st0));
            cli_error_row(r, i, NULL, NULL, (rk_status)st0, msg);
            continue;
        }
        for (size_t j = 0; j < F; j++) {
            uint8_t st = g->status[rsk_grid_cell(g, i, j)];
            if (st == RK_OK)
                continue;
            const char *msg =
                st == RK_NUMERIC ? "bumped value is not finite" : rk_strerror((rk_status)st);
            cli_error_row(r, i, r->ds.mkt.factor[j], NULL, (rk_status)st, msg);
        }
    }
    cli_errors_flush(r);
}

static bool write_sensitivities(cli_run *r, const rsk_grid *g)
{
    cli_rows rows;
    if (!cli_rows_open(r, "sensitivities.csv", &rows))
        return false;
    FILE *f = rows.f;
    if (dist_is_root())
        fputs("position,factor,delta,gamma,status\n", f);
    size_t F = g->nfactors;
    char d[40], gm[40];
    for (size_t i = 0; i < g->n; i++) {
        for (size_t j = 0; j < F; j++) {
            size_t c = rsk_grid_cell(g, i, j);
            bool ok = g->status[c] == RK_OK;
            cli_fmt_double(d, sizeof d, ok ? g->delta[c] : NAN);
            cli_fmt_double(gm, sizeof gm, ok ? g->gamma[c] : NAN);
            fprintf(f, "%s,%s,%s,%s,%s\n", r->ds.pos.id[i], r->ds.mkt.factor[j], d, gm,
                    rk_status_name((rk_status)g->status[c]));
        }
    }
    return cli_rows_close(r, &rows, "sensitivities.csv");
}

static const char *book_name(const cli_run *r, size_t b)
{
    return b < r->ds.pos.nbooks ? r->ds.pos.books[b] : "TOTAL";
}

static bool write_exposures(cli_run *r, const rsk_grid *g)
{
    FILE *f = cli_out_open(r, "exposures.csv");
    if (f == NULL)
        return false;
    fputs("book,factor,exposure,coverage\n", f);
    char num[40], cov[40];
    for (size_t b = 0; b <= g->nbooks; b++) {
        double c = g->req_cells[b] ? (double)g->ok_cells[b] / (double)g->req_cells[b] : 1.0;
        cli_fmt_double(cov, sizeof cov, c);
        for (size_t j = 0; j < g->nfactors; j++) {
            cli_fmt_double(num, sizeof num, g->exposure[b * g->nfactors + j]);
            fprintf(f, "%s,%s,%s,%s\n", book_name(r, b), r->ds.mkt.factor[j], num, cov);
        }
    }
    return cli_out_close(r, f, "exposures.csv");
}

/* Parametric ES under the same normal model: sigma sqrt(H) phi(z_es) / (1 - es_alpha). */
static double normal_es(double sigma, double horizon, double es_alpha)
{
    double z = rsk_norm_inv(es_alpha);
    double phi = exp(-0.5 * z * z) / sqrt(2.0 * 3.14159265358979323846);
    return sigma * sqrt(horizon) * phi / (1.0 - es_alpha);
}

/* Rows of var.csv for the parametric method. */
bool cli_write_parametric(cli_run *r, FILE *f, const rsk_grid *g, const rsk_parametric *pv)
{
    char var[40], es[40], cov[40], con[40];
    for (size_t b = 0; b <= g->nbooks; b++) {
        double c = g->req_cells[b] ? (double)g->ok_cells[b] / (double)g->req_cells[b] : 1.0;
        cli_fmt_double(var, sizeof var, pv->var[b]);
        cli_fmt_double(es, sizeof es,
                       normal_es(pv->sigma[b], r->opt.horizon, r->opt.es_confidence));
        cli_fmt_double(cov, sizeof cov, c);
        cli_fmt_double(con, sizeof con, pv->contrib[b]);
        fprintf(f, "%s,parametric,,%s,%s,%s,%s\n", book_name(r, b), var, es, cov, con);
        /* a blank VaR says why (once: every rank holds the combined numbers) */
        if (!isfinite(pv->var[b]) && dist_is_root()) {
            char msg[200];
            snprintf(msg, sizeof msg,
                     "parametric VaR of book %s is not finite: e'Sigma e overflows (exposures "
                     "or covariance.csv entries too large)",
                     book_name(r, b));
            cli_error_row(r, SIZE_MAX, NULL, NULL, RK_NUMERIC, msg);
        }
    }
    return !ferror(f);
}

typedef struct grid_summary {
    const cli_run *r;
    const rsk_values *v;
    const rsk_grid *g;
    const rsk_parametric *pv;
} grid_summary;

static void grid_extra(json_writer *w, void *arg)
{
    const grid_summary *s = arg;
    values_summary vs = {s->r};
    values_extra(w, &vs);
    json_object_begin(w, "grid");
    json_number(w, "bump", s->g->h);
    json_uint(w, "revaluations", 2 * (uint64_t)s->r->npos_all * s->g->nfactors);
    json_uint(w, "cells_requested", s->g->req_cells[s->g->nbooks]);
    json_uint(w, "cells_ok", s->g->ok_cells[s->g->nbooks]);
    json_number(w, "coverage",
                s->g->req_cells[s->g->nbooks]
                    ? (double)s->g->ok_cells[s->g->nbooks] / (double)s->g->req_cells[s->g->nbooks]
                    : 1.0);
    json_object_end(w);
    if (s->pv != NULL) {
        json_object_begin(w, "parametric_var");
        json_number(w, "total", s->pv->var[s->pv->nbooks]);
        json_number(w, "z", s->pv->z);
        json_object_end(w);
    }
}

int cmd_grid(int argc, char **argv)
{
    cli_opts o;
    if (!cli_parse(argc, argv, "grid", COMMON_OPTS " " GRID_OPTS,
                   grid_help, &o))
        return CLI_USAGE;
    cli_run r;
    rsk_values ref_v = {0};
    rsk_grid ref_g = {0};
    rsk_parametric ref_pv = {0};
    rsk_run run = {0};
    const rsk_values *vp = &run.values;
    const rsk_grid *gp = &run.grid;
    const rsk_parametric *pvp = &run.pv;
    int status = CLI_FAIL;
    if (!cli_run_open(&r, &o, "grid", !o.reference))
        goto done;
    if (o.reference) {
        if (!reference_run(&r, true, &ref_v, &ref_g))
            goto done;
        cli_phase_begin(&r);
        rk_status rc = rsk_parametric_var(ref_g.exposure, ref_g.nbooks, r.ds.mkt.cov,
                                          ref_g.nfactors, o.confidence, o.horizon, &ref_pv);
        if (rc != RK_OK)
            dist_fail("grid", "parametric VaR: %s", rk_strerror(rc));
        if (!cli_ok(&r, rc == RK_OK))
            goto done;
        cli_phase_end(&r, "parametric_var");
        vp = &ref_v;
        gp = &ref_g;
        pvp = &ref_pv;
    } else {
        rsk_run_spec spec = {.stages = RSK_DO_PARAMETRIC,
                             .bump = o.bump,
                             .confidence = o.confidence,
                             .es_confidence = o.es_confidence,
                             .horizon = o.horizon,
                             .reuse_unmoved = o.reuse_unmoved,
                             .keep_cells = true};
        if (!cli_compute(&r, &spec, NULL, NULL, &run))
            goto done;
    }
    cli_phase_begin(&r);
    FILE *vf = cli_out_open(&r, "var.csv");
    bool wrote = vf != NULL;
    if (wrote) {
        fputs("book,method,scenarios,var,es,coverage,contribution\n", vf);
        cli_write_parametric(&r, vf, gp, pvp);
        wrote = cli_out_close(&r, vf, "var.csv");
    }
    wrote = wrote && write_exposures(&r, gp);
    if (!cli_ok(&r, wrote) || !cli_write_values(&r, vp) || !write_sensitivities(&r, gp))
        goto done;
    cli_phase_end(&r, "write");
    grid_summary gs = {&r, vp, gp, pvp};
    if (!cli_write_summary(&r, grid_extra, &gs))
        goto done;
    if (!r.opt.quiet)
        fprintf(stderr,
                "grid: %" PRIu64 " of %" PRIu64 " cells OK, parametric VaR(%.3g) %.6g -> %s\n",
                gp->ok_cells[gp->nbooks], gp->req_cells[gp->nbooks], o.confidence,
                pvp->var[gp->nbooks], o.out);
    status = CLI_OK;
done:
    rsk_parametric_free(&ref_pv);
    rsk_grid_free(&ref_g);
    rsk_values_free(&ref_v);
    rsk_run_free(&run);
    if (!cli_run_close(&r))
        status = CLI_FAIL;
    return status;
}
