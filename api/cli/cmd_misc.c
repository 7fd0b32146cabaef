/*
 * cmd_misc.c - `riskengine generate` (seeded data sets, contract §6) and `riskengine topology`
 * (what the engine sees and what it could bind).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char generate_help[] =
    "usage: riskengine generate --preset sample|w1|w2|w3 [--seed N] [--loadings sparse|dense]\n"
    "                           --out DIR\n"
    "\n"
    "Writes a data set: factors.csv, covariance.csv, underlyings.csv, positions.csv and, for\n"
    "presets with scenarios, scenarios.csv. The output is byte-identical for a given preset,\n"
    "seed (default 1) and loadings.\n"
    "\n"
    "loadings (of the spot underlyings on the factors):\n"
    "  sparse  market, one sector, maybe a style, a region and its FX (the default)\n"
    "  dense   the same plus a small loading on every other factor, as a statistical model\n"
    "          gives: every factor moves every spot. Only the loadings differ from sparse.\n"
    "\n"
    "presets:\n"
    "  sample  a few hundred positions with documented invalid rows (data/sample)\n"
    "  w1      10,000 positions, 2,000 underlyings, 50 factors: the real-time grid\n"
    "  w2      1,000,000 positions, 50,000 underlyings, 50 factors: the nightly batch\n"
    "  w3      100,000 positions, 10,000 underlyings, 500 historical scenarios\n";

int cmd_generate(int argc, char **argv)
{
    /* --loadings is this command's own option; strip it before the common parser. */
    const char *loadings_arg = NULL;
    int n = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp(argv[i], "--loadings") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "riskengine generate: --loadings needs a value (see --help)\n");
                return CLI_USAGE;
            }
            loadings_arg = argv[++i];
        } else if (i > 0 && strncmp(argv[i], "--loadings=", 11) == 0) {
            loadings_arg = argv[i] + 11;
        } else {
            argv[n++] = argv[i];
        }
    }
    dat_loadings loadings = DAT_LOADINGS_SPARSE;
    if (loadings_arg != NULL && !dat_loadings_parse(loadings_arg, &loadings)) {
        fprintf(stderr, "riskengine generate: unknown loadings '%s' (sparse, dense)\n",
                loadings_arg);
        return CLI_USAGE;
    }
    cli_opts o;
    if (!cli_parse(n, argv, "generate", "preset seed out quiet", generate_help, &o))
        return CLI_USAGE;
    if (o.preset == NULL || o.out == NULL) {
        fprintf(stderr, "riskengine generate: --preset and --out are required (see --help)\n");
        return CLI_USAGE;
    }
    const dat_preset *p = dat_preset_find(o.preset);
    if (p == NULL) {
        fprintf(stderr, "riskengine generate: unknown preset '%s' (sample, w1, w2, w3)\n",
                o.preset);
        return CLI_USAGE;
    }
    if (cli_parse_only)
        return CLI_FAIL;
    char msg[512] = "";
    int64_t t0 = eng_now_ns();
    rk_status rc = dat_generate_with(p, o.seed, loadings, o.out, msg, sizeof msg);
    if (rc != RK_OK) {
        fprintf(stderr, "riskengine generate: %s\n", msg[0] ? msg : rk_strerror(rc));
        return CLI_FAIL;
    }
    if (!o.quiet)
        fprintf(stderr,
                "generate: preset %s, seed %" PRIu64 ", %s loadings, %zu positions -> %s "
                "(%.2f s)\n",
                p->name, o.seed, dat_loadings_name(loadings), p->npositions, o.out,
                (double)(eng_now_ns() - t0) * 1e-9);
    return CLI_OK;
}

static const char topology_help[] =
    "usage: riskengine topology [--threads N] [--topology SPEC] [--no-pin] [--json]\n"
    "\n"
    "Shows the machine as the engine sees it: where the topology came from, NUMA nodes, cores,\n"
    "one pool per node, and for every worker the cores it asked for and the binding it got.\n"
    "SPEC is an hwloc synthetic description (e.g. \"node:2 core:4 pu:1\") or an XML file; a\n"
    "synthetic or XML topology plans the pools but binds nothing on this machine.\n";

int cmd_topology(int argc, char **argv)
{
    bool json = false;
    /* --json is this command's own flag; strip it before the common parser. */
    int n = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp(argv[i], "--json") == 0)
            json = true;
        else
            argv[n++] = argv[i];
    }
    cli_opts o;
    if (!cli_parse(n, argv, "topology", "threads topology no-pin", topology_help, &o))
        return CLI_USAGE;
    if (cli_parse_only)
        return CLI_FAIL;
    eng_config cfg = {.threads = o.threads, .no_pin = o.no_pin, .topology = o.topology};
    eng_engine *e = NULL;
    char msg[512] = "";
    rk_status rc = eng_create(&cfg, &e, msg, sizeof msg);
    if (rc != RK_OK) {
        fprintf(stderr, "riskengine topology: %s\n", msg[0] ? msg : rk_strerror(rc));
        return CLI_FAIL;
    }
    /* The machine as the engine plans it, and the pricing kernels' levels: which this CPU
     * can run, and which "auto" picks. */
    eng_topology_info topo;
    if (json && eng_topology_get(e, &topo) == RK_OK) {
        json_writer w;
        json_init(&w, stdout);
        json_object_begin(&w, NULL);
        json_object_begin(&w, "isa");
        json_string(&w, "auto", mdl_isa_name(mdl_isa_auto()));
        json_string(&w, "best", mdl_isa_name(mdl_isa_best()));
        json_array_begin(&w, "supported");
        for (int i = 0; i < (int)MDL_ISA_COUNT; i++)
            if (mdl_isa_supported((mdl_isa)i))
                json_string(&w, NULL, mdl_isa_name((mdl_isa)i));
        json_array_end(&w);
        json_object_end(&w);
        json_topology(&w, "engine", &topo);
        json_object_end(&w);
        fputc('\n', stdout);
        eng_topology_info_free(&topo);
    } else {
        eng_describe(e, stdout);
        printf("pricing kernels: %s (auto); this CPU runs", mdl_isa_name(mdl_isa_auto()));
        for (int i = 0; i < (int)MDL_ISA_COUNT; i++)
            if (mdl_isa_supported((mdl_isa)i))
                printf(" %s", mdl_isa_name((mdl_isa)i));
        fputc('\n', stdout);
    }
    eng_destroy(e);
    return CLI_OK;
}
