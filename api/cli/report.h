/*
 * report.h - the nightly batch's self-contained HTML report: headline VaR/ES with coverage,
 * the P&L distribution with VaR and ES marked, VaR contributions by book, the positions losing
 * most in the worst scenario, and the error table. Figures are drawn by gnuplot (SVG, inlined).
 */
#ifndef RK_CLI_REPORT_H
#define RK_CLI_REPORT_H

#include "cli.h"
#include "measures.h"

typedef struct rep_var {
    double var, es, coverage;
} rep_var;

typedef struct rep_input {
    cli_run *run;
    const rsk_values *values;
    const rsk_grid *grid;
    const rsk_parametric *parametric;
    const rsk_pnl *mc;
    rep_var mc_var;
    const rsk_pnl *hist; /* NULL without scenarios.csv */
    rep_var hist_var;
    size_t worst_scen; /* MC scenario with the largest total loss */
    char worst_name[64];
    double *worst_pnl; /* per row: P&L in that scenario (NaN when not OK) */
} rep_input;

/* Writes OUT/report.html (and the figures' data under OUT/report/). Prints the reason and
 * returns false when it could not be written; missing gnuplot is not an error (the figures
 * are replaced by a note). */
bool rep_write(const rep_input *in);

#endif
