/*
 * scenarios.h - scenario sets (Monte Carlo or scenarios.csv) and their P&L through the engine,
 * shared by `var`, `stress` and `batch`.
 */
#ifndef RK_CLI_SCENARIOS_H
#define RK_CLI_SCENARIOS_H

#include "cli.h"

typedef enum cli_scen_kind { CLI_SCEN_MC, CLI_SCEN_FILE } cli_scen_kind;

typedef struct cli_scenarios {
    cli_scen_kind kind;
    size_t n;
    /* Monte Carlo */
    double *L; /* chol(Sigma), F x F */
    uint64_t seed;
    double horizon;
} cli_scenarios;

/* n Monte Carlo scenarios (seed, horizon in days). RK_NUMERIC when Sigma is not positive
 * definite. Free with cli_scen_free. */
rk_status cli_scen_mc(cli_scenarios *sc, const cli_run *r, size_t n, uint64_t seed, double horizon);
/* The scenarios of scenarios.csv, used as given (no horizon scaling). */
void cli_scen_file(cli_scenarios *sc, const cli_run *r);
void cli_scen_free(cli_scenarios *sc);

/* Scenario s's name: the file's, or mc_000001... */
void cli_scen_name(const cli_scenarios *sc, const cli_run *r, size_t s, char *buf, size_t len);
/* Scenario s's shock vector (F doubles). */
rk_status cli_scen_shock(const cli_scenarios *sc, const cli_run *r, size_t s, double *shock);

/* P&L of every scenario per book (out is initialised here; free with rsk_pnl_free). When
 * export_to is not NULL the shocks are written there as a scenarios.csv that replays exactly.
 * Prints the reason and returns false when the run could not be done. */
bool cli_scen_pnl(cli_run *r, const cli_scenarios *sc, const rsk_values *v, FILE *export_to,
                  const char *label, rsk_pnl *out);

/* errors.csv rows for P&L cells that failed or were never computed. */
void cli_scen_errors(cli_run *r, const cli_scenarios *sc, const rsk_pnl *p);

/* VaR and ES of one book's (or TOTAL's, book = nbooks) P&L vector. */
rk_status cli_scen_var(const rsk_pnl *p, size_t book, double var_alpha, double es_alpha,
                       double *var, double *es);

#endif
