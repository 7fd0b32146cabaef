/*
 * report.h - the nightly batch's self-contained HTML report: headline VaR/ES with coverage,
 * the P&L distribution with VaR and ES marked, VaR contributions by book, the positions losing
 * most in the worst scenario, and the error table. Figures are drawn by gnuplot (SVG, inlined).
 */
#ifndef RK_CLI_REPORT_H
#define RK_CLI_REPORT_H

#include "cli.h"
#include "cmd_backtest.h"
#include "measures.h"

typedef struct rep_var {
    double var, es, coverage;
} rep_var;

/* A position among those losing most in the worst scenario (row: global row number). */
typedef struct rep_loser {
    size_t row;
    double pnl;
    uint8_t kind; /* mdl_kind */
    char *id, *book;
} rep_loser;

#define REP_TOP_LOSERS 15

typedef struct rep_input {
    cli_run *run;
    const rsk_values *values;
    const rsk_grid *grid;
    const rsk_parametric *parametric;
    const rsk_pnl *mc;
    rep_var mc_var;
    const rsk_pnl *hist; /* NULL without scenarios.csv */
    rep_var hist_var;
    const rsk_scen_set *mc_set, *hist_set; /* the sets of mc and hist, with VaR/ES per book */
    size_t worst_scen; /* MC scenario with the largest total loss */
    char worst_name[64];
    rep_loser losers[REP_TOP_LOSERS]; /* most negative P&L first (ties: lower row first) */
    size_t nlosers;
    uint64_t errors_by_code[RK_STATUS_COUNT_]; /* over every rank */
    const rsk_run *frtb; /* the run with FRTB's sets and liquidity-adjusted ES, or NULL */
    const cli_bt *bt;    /* the backtest of --pnl, or NULL */
} rep_input;

/* Books drawn in the backtesting section (TOTAL first when present); the rest are in the
 * table. */
#define REP_BT_FIGURES 6

/* Picks the positions losing most in the worst scenario from this rank's share (pnl: per row
 * of the share, NaN when not OK) and, at rank 0, the overall top REP_TOP_LOSERS among every
 * rank's candidates. Collective. Returns false when out of memory (at any rank, agreed). */
bool rep_collect_losers(cli_run *r, const double *pnl, rep_input *in);
/* Frees what rep_collect_losers allocated. */
void rep_free(rep_input *in);

/* Writes OUT/report.html (and the figures' data under OUT/report/). Prints the reason and
 * returns false when it could not be written; missing gnuplot is not an error (the figures
 * are replaced by a note). Rank 0 only. */
bool rep_write(const rep_input *in);

#endif
