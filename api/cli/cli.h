/*
 * cli.h - what the subcommands of the riskengine program share: common options, the run
 * context (data set, engine, portfolio), output files, summary.json and progress reporting.
 */
#ifndef RK_CLI_H
#define RK_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dataset.h"
#include "dist.h"
#include "engine.h"
#include "flow.h" /* the measures: tasks (eval.h) chained into runs */
#include "json.h"
#include "layout.h"
#include "riskengine.h"

/* Exit statuses: 0 success (also with per-position errors), 1 the run could not be done,
 * 2 bad command line. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

typedef struct cli_opts {
    const char *data, *out;
    size_t threads;
    const char *topology;
    bool no_pin;
    double deadline_ms; /* 0: none (--deadline-ms itself must be > 0) */
    bool deadline_given;
    bool quiet;
    /* measure options */
    double bump;
    const char *method; /* var: parametric | mc | historical */
    size_t scenarios;
    uint64_t seed;
    double confidence, es_confidence, horizon;
    bool write_scenarios;
    bool reference; /* values/grid: the single-threaded reference evaluator */
    bool reuse_unmoved; /* grid: take the base value where a bump moves no input */
    const char *isa;    /* pricing kernels' level: baseline, avx2, avx512 or auto (NULL) */
    /* generate */
    const char *preset;
    /* regulatory measures */
    const char *liquidity; /* var historical, batch: FRTB liquidity horizons file */
    const char *pnl;       /* backtest, batch: P&L and VaR history to backtest */
    size_t window;         /* backtest: days per book (the last ones) */
    /* whatif: candidate positions, positions.csv's format */
    const char *trades;
} cli_opts;

/* Option ranges (a value outside is a bad command line). */
#define CLI_MAX_THREADS 4096 /* the engine's limit on workers */

/* Parses argv for a subcommand. `allowed` lists the long options (without "--") the
 * subcommand accepts, space-separated. Prints the help text and exits 0 on --help; prints a
 * one-line reason and returns false on a bad command line. */
bool cli_parse(int argc, char **argv, const char *cmd, const char *allowed, const char *help,
               cli_opts *o);

/* When set, every command checks its command line and stops where its work would begin
 * (before creating a folder, loading or computing), returning CLI_FAIL; a bad command line is
 * still CLI_USAGE. For the command line's fuzzing harness (tests/fuzz/fuzz_cli.c). */
extern bool cli_parse_only;

/* A phase's timing, for summary.json. */
typedef struct cli_phase {
    const char *name;
    double seconds;
} cli_phase;

/* Everything a run holds. Under mpirun each rank holds one: its own share of the positions
 * (ds.pos.first is the share's first row), its own engine and portfolio; the *_all counts and
 * every combined aggregate are the whole portfolio's, the same on every rank. */
typedef struct cli_run {
    cli_opts opt;
    const char *command;
    dat_dataset ds;
    eng_engine *eng;
    rsk_layout layout;
    int64_t t0, deadline_ns;
    cli_phase phases[16];
    size_t nphases;
    int64_t phase_start;
    FILE *errors; /* errors.csv, open for the whole run; on ranks other than 0 an in-memory
                     stream sent to rank 0 at each cli_errors_flush() */
    char *errbuf; /* ranks other than 0: the in-memory stream's buffer */
    size_t errlen;
    size_t npos_all, nvalid_all; /* positions, valid positions over all shares */
    uint64_t values_ok_all;      /* base values OK over all shares */
    size_t nerror_rows;
    uint64_t errors_by_code[RK_STATUS_COUNT_];
    double worst_overshoot_ms;
    bool deadline_hit;
} cli_run;

/* Loads the data set (this rank's share of the positions), creates the engine and the
 * portfolio, opens errors.csv (writing the load-time error records). On failure prints
 * "riskengine CMD: reason" ("riskengine CMD: rank R: reason" under mpirun) and returns false,
 * on every rank. Collective. */
bool cli_run_open(cli_run *r, const cli_opts *o, const char *command, bool need_engine);
/* Finishes errors.csv and releases the run; false (with the reason printed) when errors.csv
 * could not be written: the command then exits 1. */
bool cli_run_close(cli_run *r);
/* A run without a data set or engine (backtest): the output folder and errors.csv only.
 * Collective; false with the reason printed. Close with cli_run_close. */
bool cli_run_open_bare(cli_run *r, const cli_opts *o, const char *command);

/* Collective status check after a step (dist_agree): true when the step succeeded on every
 * rank. A failing step reports its reason with dist_fail() first. */
bool cli_ok(cli_run *r, bool ok);

/* Sends the error rows written since the last flush to rank 0, which appends them to
 * errors.csv in rank order (so the file reads as one process would have written it: each
 * group of rows in global row order). Collective; called after each group of error rows. */
void cli_errors_flush(cli_run *r);
/* Error rows and rows by code over every rank. Collective. */
void cli_error_totals(const cli_run *r, uint64_t by_code[RK_STATUS_COUNT_], uint64_t *rows);

/* A file with one line per position (values.csv, sensitivities.csv): each rank writes its
 * share's lines into f (rank 0 the file, the others memory); cli_rows_close appends the other
 * ranks' lines at rank 0 in rank order and closes. Both collective; cli_rows_close returns the
 * agreed outcome. */
typedef struct cli_rows {
    FILE *f;
    char *buf;
    size_t len;
} cli_rows;
bool cli_rows_open(cli_run *r, const char *name, cli_rows *rows);
bool cli_rows_close(cli_run *r, cli_rows *rows, const char *name);

void cli_phase_begin(cli_run *r);
void cli_phase_end(cli_run *r, const char *name);
/* A phase timed elsewhere (a stage of a flow). */
void cli_phase_add(cli_run *r, const char *name, double seconds);

/* Appends an error row (factor, scenario may be NULL = empty). */
void cli_error_row(cli_run *r, size_t row, const char *factor, const char *scenario, rk_status code,
                   const char *message);
/* Writes the rows for values-level codes other than INVALID_INPUT (reported at load). */
void cli_error_values(cli_run *r, const rsk_values *v);

/* Opens output file name for writing; prints the reason and returns NULL on failure. It is
 * written as OUT/.name.partial (cli_out_partial; OUT/sub/.file.partial for a name "sub/file",
 * whose folder must exist) and renamed to OUT/name by cli_out_close once
 * complete and on the disk, so no half-written file ever carries the final name. Files of
 * aggregates are written by rank 0 only: other ranks get /dev/null, so that every rank runs
 * the same code. */
FILE *cli_out_open(cli_run *r, const char *name);
/* Flushes, syncs, closes and renames a file opened by cli_out_open; false, with "cannot write
 * OUT/name: reason" printed and the partial file removed, when any of it failed. */
bool cli_out_close(cli_run *r, FILE *f, const char *name);
/* Closes and removes an output file a failed run leaves unfinished. */
void cli_out_discard(cli_run *r, FILE *f, const char *name);
/* The path an output file has while it is written. */
void cli_out_partial(const cli_run *r, const char *name, char *buf, size_t len);

/* Engine statistics of an engine job into the run's totals (overshoot, deadline). */
void cli_note_request(cli_run *r, const rsk_task_info *info);

/* summary.json: the common head (command, inputs, counts, topology, phases, errors by code,
 * peak memory, deadline). `extra` is called between head and tail to add fields. Collective;
 * rank 0 writes it; returns the agreed outcome. */
bool cli_write_summary(cli_run *r, void (*extra)(json_writer *w, void *arg), void *arg);

/* Progress: a bar with rate and ETA on a terminal, a plain line every few seconds otherwise,
 * nothing with --quiet. Pass as rsk_finish_opts.progress with a cli_progress as argument. */
typedef struct cli_progress {
    const char *label;
    bool quiet, tty;
    int64_t start, last;
    uint64_t offset, grand_total; /* for work split into several requests */
} cli_progress;
void cli_progress_init(cli_progress *p, const char *label, bool quiet);
void cli_progress_cb(void *arg, uint64_t done, uint64_t total);
void cli_progress_done(cli_progress *p);

/* Writes one CSV field, quoted when it holds a separator, quote or line break. */
void cli_csv_field(FILE *f, const char *s);

/* Number formatting used by every CSV: shortest text that reads back to the same double. */
void cli_fmt_double(char *buf, size_t len, double x);

/* The measures of spec (compute.c): a flow over this rank's share (the path the library's
 * requests take), the shares' exact sums combined, then the measures from them, and the error
 * rows of every stage. chol: the covariance's Cholesky factor, with RSK_DO_MC. set_phase names
 * the summary.json phase of each scenario set, in the run's order (Monte Carlo first).
 * Partial results (deadline) are results; prints the reason and returns false when the run
 * could not be done. Collective. Free run with rsk_run_free. */
bool cli_compute(cli_run *r, const rsk_run_spec *spec, const double *chol,
                 const char *const set_phase[2], rsk_run *run);
/* The flow alone, on this rank's share, in market mkt (the data set's, or another with its
 * structure): no combination, no measures, no error rows. cli_compute's first step; also the
 * batch's values in its worst scenario. Collective (the outcome is agreed). */
bool cli_flow_run(cli_run *r, const rsk_run_spec *spec, const dat_market *mkt,
                  const double *chol, bool progress, rsk_run *run);
/* One step of that combination, for the reference evaluator's outputs too. Collective. */
void cli_combine_values(cli_run *r, const rsk_values *v);
void cli_combine_grid(rsk_grid *g);
/* errors.csv rows of the grid (cmd_eval.c) and of a scenario set. */
void cli_grid_errors(cli_run *r, const rsk_grid *g, const rsk_values *v);
void cli_scen_errors(cli_run *r, const rsk_scen_set *s);
/* Each factor's liquidity horizon from --liquidity (nfactors days; free it), the same on every
 * rank, or NULL with the reason printed. Collective. */
double *cli_liquidity(cli_run *r);

/* Scenario i's name: the file's, or mc_000001... */
void cli_scen_name(const cli_run *r, const rsk_scen_set *s, size_t i, char *buf, size_t len);
/* OUT/scenarios.csv with set s's shocks, replayable with --method historical. Collective. */
bool cli_scen_export(cli_run *r, const rsk_run *run, const rsk_scen_set *s);

/* Shared steps of the evaluation commands (cmd_eval.c). */
bool cli_write_values(cli_run *r, const rsk_values *v);
struct rsk_parametric;
bool cli_write_parametric(cli_run *r, FILE *f, const rsk_grid *g, const struct rsk_parametric *pv);

/* Subcommands. */
int cmd_generate(int argc, char **argv);
int cmd_values(int argc, char **argv);
int cmd_grid(int argc, char **argv);
int cmd_var(int argc, char **argv);
int cmd_stress(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_topology(int argc, char **argv);
int cmd_backtest(int argc, char **argv);
int cmd_whatif(int argc, char **argv);

#endif /* RK_CLI_H */
