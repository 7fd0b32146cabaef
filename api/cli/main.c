/*
 * main.c - the riskengine program: joins the process group (MPI when started by mpirun, see
 * dist.h) and dispatches to a subcommand (contract §7).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: riskengine COMMAND [options]     (riskengine COMMAND --help for details)\n"
    "\n"
    "commands:\n"
    "  generate   write a data set (--preset sample|w1|w2|w3 --seed N --out DIR)\n"
    "  values     base values -> values.csv\n"
    "  grid       sensitivity grid by full revaluation, exposures, parametric VaR\n"
    "  var        VaR/ES per book: --method parametric|mc|historical\n"
    "  stress     P&L per book of each scenario in scenarios.csv\n"
    "  batch      the nightly job: values, VaR/ES, stress and an HTML report\n"
    "  topology   the machine as the engine sees it: nodes, cores, pools, binding\n"
    "  backtest   VaR backtesting per book: exceptions, Kupiec, Christoffersen, traffic light\n"
    "  whatif     VaR/ES per book before and after candidate trades (--trades FILE)\n"
    "  version    print the version\n";

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
} command;

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("riskengine %s\n", rk_version());
    return CLI_OK;
}

static const command commands[] = {
    {"generate", cmd_generate}, {"values", cmd_values},   {"grid", cmd_grid},
    {"var", cmd_var},           {"stress", cmd_stress},   {"batch", cmd_batch},
    {"topology", cmd_topology}, {"version", cmd_version}, {"backtest", cmd_backtest},
    {"whatif", cmd_whatif},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(argc, argv);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        if (!dist_tp_init(&argc, &argv))
            return CLI_FAIL;
        int status = commands[i].run(argc - 1, argv + 1);
        dist_tp_finalize();
        return status;
    }
    fprintf(stderr, "riskengine: unknown command '%s'\n\n%s", argv[1], usage);
    return CLI_USAGE;
}
