/*
 * test_cli.c - the riskengine program as a user runs it: help and exit statuses, the generator
 * reproducing the committed sample, bitwise-identical outputs across worker counts, topologies
 * and the reference evaluator, deadlines, replaying exported Monte Carlo scenarios as
 * historical ones, and the batch's outputs and report.
 *
 * The program under test is $RK_PROGRAM (set by `make test`), build/riskengine otherwise.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "model.h"

static char *slurp(const char *dir, const char *name)
{
    return rk_test_slurp(dir, name);
}

static void assert_same_file(const char *d1, const char *d2, const char *name)
{
    char *a = slurp(d1, name), *b = slurp(d2, name);
    ck_assert_msg(a != NULL, "%s/%s missing", d1, name);
    ck_assert_msg(b != NULL, "%s/%s missing", d2, name);
    ck_assert_msg(strcmp(a, b) == 0, "%s differs between %s and %s", name, d1, d2);
    free(a);
    free(b);
}

/* Occurrences of needle in text. A plain scan: strstr in a loop is quadratic under
 * AddressSanitizer, whose interceptor measures the whole haystack on every call, and these
 * texts are tens of megabytes. */
static size_t count(const char *text, const char *needle)
{
    size_t n = 0, m = strlen(needle);
    for (const char *p = text; *p != '\0'; p++) {
        if (*p != needle[0])
            continue;
        size_t k = 1;
        while (k < m && p[k] == needle[k])
            k++;
        if (k == m) {
            n++;
            p += m - 1;
        }
    }
    return n;
}

static char *tmp; /* the fixture's folder, rk_test_tmp */

static void setup(void)
{
    rk_test_tmp_setup();
    tmp = rk_test_tmp;
}

static char *sub(const char *name)
{
    return rk_test_tmp_path(name);
}

START_TEST(help_and_usage_errors)
{
    static const char *cmds[] = {"generate", "values", "grid", "var",
                                 "stress",   "batch",  "topology"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        ck_assert_int_eq(rk_test_run(tmp, cmds[i], "--help", NULL), 0);
        char *out = slurp(tmp, "stdout.txt");
        ck_assert_msg(out != NULL && strstr(out, "usage: riskengine") != NULL, "%s --help",
                      cmds[i]);
        free(out);
    }
    ck_assert_int_eq(rk_test_run(tmp, "--help", NULL), 0);
    ck_assert_int_eq(rk_test_run(tmp, "frobnicate", NULL), 2);
    ck_assert_int_eq(rk_test_run(tmp, "values", "--bogus", NULL), 2);
    /* a required option left out is a bad command line too */
    ck_assert_int_eq(rk_test_run(tmp, "values", "--data", "data/sample", NULL), 2);
    ck_assert_int_eq(rk_test_run(tmp, "var", "--out", tmp, NULL), 2);
    ck_assert_int_eq(rk_test_run(tmp, "grid", "--data", "data/sample", "--out", tmp, "--bump", "x",
                            NULL),
                     2);
    ck_assert_int_eq(rk_test_run(tmp, "var", "--data", "data/sample", "--out", tmp, "--method",
                            "guess", NULL),
                     2);
    /* a run that cannot be done: non-zero, one line naming the file */
    ck_assert_int_ne(rk_test_run(tmp, "values", "--data", "/nonexistent/rk", "--out", tmp, NULL), 0);
    char *err = slurp(tmp, "stderr.txt");
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "riskengine values:") != NULL, "stderr: %s", err);
    ck_assert_uint_eq(count(err, "\n"), 1);
    free(err);
}
END_TEST

START_TEST(generate_reproduces_sample)
{
    char *out = sub("gen");
    ck_assert_int_eq(rk_test_run(tmp, "generate", "--preset", "sample", "--seed", "1", "--out", out,
                            "--quiet", NULL),
                     0);
    static const char *files[] = {"factors.csv", "covariance.csv", "underlyings.csv",
                                  "positions.csv", "scenarios.csv"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        assert_same_file(out, "data/sample", files[i]);
    /* --loadings: sparse is the default; dense changes only the loadings */
    char *sparse = sub("gen-sparse"), *dense = sub("gen-dense");
    ck_assert_int_eq(rk_test_run(tmp, "generate", "--preset", "sample", "--loadings", "sparse",
                            "--out", sparse, "--quiet", NULL),
                     0);
    ck_assert_int_eq(rk_test_run(tmp, "generate", "--preset", "sample", "--loadings=dense", "--out",
                            dense, "--quiet", NULL),
                     0);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        assert_same_file(sparse, "data/sample", files[i]);
    assert_same_file(dense, "data/sample", "positions.csv");
    char *a = slurp(dense, "underlyings.csv"), *b = slurp("data/sample", "underlyings.csv");
    ck_assert(a != NULL && b != NULL && strcmp(a, b) != 0);
    free(a);
    free(b);
    ck_assert_int_eq(rk_test_run(tmp, "generate", "--preset", "sample", "--loadings", "pca", "--out",
                            dense, NULL),
                     2);
    ck_assert_int_eq(rk_test_run(tmp, "generate", "--preset", "sample", "--out", dense, "--loadings",
                            NULL),
                     2);
    free(sparse);
    free(dense);
    free(out);
}
END_TEST

/* --isa: every level this CPU runs gives the same files for 1 and 2 workers and reports
 * itself in summary.json; a level that does not exist is a bad command line. */
START_TEST(isa_levels_reproducible)
{
    for (int l = 0; l < (int)MDL_ISA_COUNT; l++) {
        const char *name = mdl_isa_name((mdl_isa)l);
        if (!mdl_isa_supported((mdl_isa)l)) {
            ck_assert_int_eq(rk_test_run(tmp, "values", "--data", "data/sample", "--out", tmp,
                                    "--isa", name, NULL),
                             1);
            continue;
        }
        char *d1 = sub("isa1"), *d2 = sub("isa2");
        ck_assert_int_eq(rk_test_run(tmp, "grid", "--data", "data/sample", "--out", d1, "--threads",
                                "1", "--isa", name, "--quiet", NULL),
                         0);
        ck_assert_int_eq(rk_test_run(tmp, "grid", "--data", "data/sample", "--out", d2, "--threads",
                                "2", "--isa", name, "--quiet", NULL),
                         0);
        static const char *files[] = {"sensitivities.csv", "values.csv", "exposures.csv",
                                      "var.csv", "errors.csv"};
        for (size_t f = 0; f < sizeof files / sizeof files[0]; f++)
            assert_same_file(d1, d2, files[f]);
        char *sum = slurp(d1, "summary.json");
        char want[64];
        snprintf(want, sizeof want, "\"isa\": \"%s\"", name);
        ck_assert_msg(sum != NULL && strstr(sum, want) != NULL, "summary.json lacks %s", want);
        free(sum);
        free(d1);
        free(d2);
    }
    ck_assert_int_eq(rk_test_run(tmp, "values", "--data", "data/sample", "--out", tmp, "--isa",
                            "sse9", NULL),
                     2);
}
END_TEST

START_TEST(grid_identical_across_workers_topologies_reference)
{
    static const char *outs[] = {"t1", "t2", "topo", "ref"};
    char *dirs[4];
    for (int i = 0; i < 4; i++)
        dirs[i] = sub(outs[i]);
    ck_assert_int_eq(rk_test_run(tmp, "grid", "--data", "data/sample", "--out", dirs[0], "--threads",
                            "1", "--quiet", NULL),
                     0);
    ck_assert_int_eq(rk_test_run(tmp, "grid", "--data", "data/sample", "--out", dirs[1], "--threads",
                            "2", "--quiet", NULL),
                     0);
    ck_assert_int_eq(rk_test_run(tmp, "grid", "--data", "data/sample", "--out", dirs[2], "--topology",
                            "node:2 core:2 pu:1", "--quiet", NULL),
                     0);
    ck_assert_int_eq(rk_test_run(tmp, "grid", "--data", "data/sample", "--out", dirs[3],
                            "--reference", "--quiet", NULL),
                     0);
    static const char *files[] = {"sensitivities.csv", "values.csv", "exposures.csv", "var.csv",
                                  "errors.csv"};
    for (int i = 1; i < 3; i++)
        for (size_t f = 0; f < sizeof files / sizeof files[0]; f++)
            assert_same_file(dirs[0], dirs[i], files[f]);
    /* the reference uses the scalar models; the engine the batch variants, equal within 1e-12:
     * statuses and the set of rows agree exactly */
    char *a = slurp(dirs[0], "sensitivities.csv"), *b = slurp(dirs[3], "sensitivities.csv");
    ck_assert_uint_eq(count(a, "\n"), count(b, "\n"));
    ck_assert_uint_eq(count(a, ",OK\n"), count(b, ",OK\n"));
    ck_assert_uint_eq(count(a, ",INVALID_INPUT\n"), count(b, ",INVALID_INPUT\n"));
    free(a);
    free(b);
    /* every documented bad row of the sample is one INVALID_INPUT record */
    char *err = slurp(dirs[0], "errors.csv");
    ck_assert_ptr_nonnull(err);
    ck_assert_uint_ge(count(err, ",INVALID_INPUT,"), 19);
    ck_assert_ptr_nonnull(strstr(err, "positions.csv:"));
    free(err);
    for (int i = 0; i < 4; i++)
        free(dirs[i]);
}
END_TEST

START_TEST(deadline_partial_exit_zero)
{
    char *data = sub("w1"), *out = sub("dl");
    ck_assert_int_eq(rk_test_run(tmp, "generate", "--preset", "w1", "--out", data, "--quiet", NULL), 0);
    /* The budget is a third of what the whole grid takes here and now, so that the deadline
     * falls inside the work however loaded the machine is. */
    ck_assert_int_eq(rk_test_run(tmp, "grid", "--data", data, "--out", out, "--quiet", NULL), 0);
    char *full = slurp(out, "summary.json");
    const char *g = strstr(full, "\"name\": \"grid\"");
    ck_assert_ptr_nonnull(g);
    double secs = strtod(strstr(g, "\"seconds\": ") + strlen("\"seconds\": "), NULL);
    free(full);
    char budget[32];
    snprintf(budget, sizeof budget, "%.1f", secs * 1000.0 / 3.0 > 5.0 ? secs * 1000.0 / 3.0 : 5.0);
    ck_assert_int_eq(rk_test_run(tmp, "grid", "--data", data, "--out", out, "--deadline-ms", budget,
                            "--quiet", NULL),
                     0);
    char *sum = slurp(out, "summary.json");
    ck_assert_ptr_nonnull(sum);
    ck_assert_msg(strstr(sum, "\"reached\": true") != NULL, "deadline not reported");
    const char *c = strstr(sum, "\"grid\": {");
    ck_assert_ptr_nonnull(c);
    c = strstr(c, "\"coverage\": ");
    ck_assert_ptr_nonnull(c);
    double cov = strtod(c + strlen("\"coverage\": "), NULL);
    ck_assert_msg(cov > 0.0 && cov < 1.0, "grid coverage %g", cov);
    free(sum);
    char *sens = slurp(out, "sensitivities.csv");
    ck_assert_uint_gt(count(sens, ",DEADLINE\n"), 0);
    ck_assert_uint_gt(count(sens, ",OK\n"), 0);
    free(sens);
    char *err = slurp(out, "errors.csv");
    ck_assert_uint_gt(count(err, ",DEADLINE,"), 0);
    free(err);
    free(data);
    free(out);
}
END_TEST

/* The numeric columns of var.csv rows for a method, as text ("book,var,es" per line). */
static char *var_rows(const char *csv, const char *method)
{
    char *res = calloc(1, strlen(csv) + 1);
    char pat[64];
    snprintf(pat, sizeof pat, ",%s,", method);
    for (const char *line = csv; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[512];
        if (len < sizeof buf) {
            memcpy(buf, line, len);
            buf[len] = '\0';
            if (strstr(buf, pat) != NULL) {
                /* book,method,scenarios,var,es,... -> book,var,es */
                char *f[8] = {0};
                int k = 0;
                for (char *p = buf; k < 8 && p != NULL; k++) {
                    f[k] = p;
                    p = strchr(p, ',');
                    if (p != NULL)
                        *p++ = '\0';
                }
                sprintf(res + strlen(res), "%s,%s,%s\n", f[0], f[3], f[4]);
            }
        }
        line += len + (end != NULL);
    }
    return res;
}

START_TEST(mc_export_replays_as_historical)
{
    char *mc = sub("mc"), *replay = sub("replay"), *hist = sub("hist");
    ck_assert_int_eq(rk_test_run(tmp, "var", "--data", "data/sample", "--out", mc, "--method", "mc",
                            "--scenarios", "300", "--seed", "9", "--write-scenarios", "--quiet",
                            NULL),
                     0);
    /* a data set: the sample's market and positions with the exported scenarios */
    mkdir(replay, 0777);
    static const char *files[] = {"factors.csv", "covariance.csv", "underlyings.csv",
                                  "positions.csv"};
    for (size_t i = 0; i < 4; i++) {
        char *t = slurp("data/sample", files[i]);
        ck_assert_int_eq(rk_test_write_file(replay, files[i], t), 0);
        free(t);
    }
    char *sc = slurp(mc, "scenarios.csv");
    ck_assert_ptr_nonnull(sc);
    ck_assert_uint_eq(count(sc, "\nmc_"), 300);
    ck_assert_int_eq(rk_test_write_file(replay, "scenarios.csv", sc), 0);
    free(sc);
    ck_assert_int_eq(rk_test_run(tmp, "var", "--data", replay, "--out", hist, "--method",
                            "historical", "--quiet", NULL),
                     0);
    char *a = slurp(mc, "var.csv"), *b = slurp(hist, "var.csv");
    char *ra = var_rows(a, "mc"), *rb = var_rows(b, "historical");
    ck_assert_uint_gt(strlen(ra), 0);
    ck_assert_str_eq(ra, rb);
    free(a);
    free(b);
    free(ra);
    free(rb);
    free(mc);
    free(replay);
    free(hist);
}
END_TEST

START_TEST(batch_outputs_and_report)
{
    char *out = sub("batch");
    ck_assert_int_eq(rk_test_run(tmp, "batch", "--data", "data/sample", "--out", out, "--quiet", NULL),
                     0);
    static const char *files[] = {"values.csv", "var.csv",     "exposures.csv", "stress.csv",
                                  "errors.csv", "summary.json", "report.html"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *t = slurp(out, files[i]);
        ck_assert_msg(t != NULL && strlen(t) > 0, "%s missing or empty", files[i]);
        free(t);
    }
    char *var = slurp(out, "var.csv");
    ck_assert_ptr_nonnull(strstr(var, "TOTAL,parametric,"));
    ck_assert_ptr_nonnull(strstr(var, "TOTAL,mc,1000,"));
    ck_assert_ptr_nonnull(strstr(var, "TOTAL,historical,"));
    free(var);
    char *html = slurp(out, "report.html");
    /* three figures drawn by gnuplot and inlined, and the tables */
    ck_assert_uint_eq(count(html, "<svg"), 3);
    ck_assert_uint_ge(count(html, "<table"), 4);
    ck_assert_ptr_nonnull(strstr(html, "Value at risk by book"));
    ck_assert_ptr_nonnull(strstr(html, "P&amp;L distribution"));
    ck_assert_ptr_nonnull(strstr(html, "Positions losing most"));
    ck_assert_ptr_nonnull(strstr(html, "INVALID_INPUT"));
    free(html);
    char *sum = slurp(out, "summary.json");
    ck_assert_ptr_nonnull(strstr(sum, "\"peak_memory_mib\""));
    ck_assert_ptr_nonnull(strstr(sum, "\"phases\""));
    ck_assert_ptr_nonnull(strstr(sum, "\"topology_used\""));
    free(sum);
    free(out);
}
END_TEST

START_TEST(batch_deadline_flags_partial)
{
    char *data = sub("w1"), *out = sub("bd");
    ck_assert_int_eq(rk_test_run(tmp, "generate", "--preset", "w1", "--out", data, "--quiet", NULL), 0);
    ck_assert_int_eq(rk_test_run(tmp, "batch", "--data", data, "--out", out, "--deadline-ms", "30",
                            "--scenarios", "200", "--quiet", NULL),
                     0);
    char *html = slurp(out, "report.html");
    ck_assert_ptr_nonnull(strstr(html, "PARTIAL RESULTS"));
    free(html);
    char *var = slurp(out, "var.csv");
    /* coverage below one on the TOTAL rows (book,method,scenarios,var,es,coverage,...) */
    const char *t = strstr(var, "TOTAL,mc,");
    ck_assert_ptr_nonnull(t);
    for (int c = 0; c < 5; c++)
        t = strchr(t, ',') + 1;
    ck_assert_msg(strncmp(t, "1,", 2) != 0, "coverage 1 in %s", var);
    free(var);
    free(data);
    free(out);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, setup, rk_test_tmp_teardown);
    tcase_add_test(tc, help_and_usage_errors);
    tcase_add_test(tc, generate_reproduces_sample);
    tcase_add_test(tc, grid_identical_across_workers_topologies_reference);
    tcase_add_test(tc, deadline_partial_exit_zero);
    tcase_add_test(tc, mc_export_replays_as_historical);
    tcase_add_test(tc, batch_outputs_and_report);
    tcase_add_test(tc, batch_deadline_flags_partial);
    tcase_add_test(tc, isa_levels_reproducible);
    suite_add_tcase(s, tc);
    return s;
}
