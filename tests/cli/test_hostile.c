/*
 * test_hostile.c - the program against careless and hostile input: bonds whose cash flows
 * cannot be counted, output files that cannot be written (a full disk through the
 * RISKENGINE_TEST_FAULT=full:NAME hook, a folder in a file's place), deadlines out of range,
 * VaR from zero scenarios, numbers that overflow, bad rows among good ones in positions.csv,
 * finished cells kept at a deadline, and the small ones: an empty market, a FIFO, a missing
 * column or folder, options out of range. Each case failed (hung, exited 0 or lost rows)
 * before the fix it guards.
 *
 * The program under test is $RK_PROGRAM (set by `make test`), build/riskengine otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static size_t count(const char *text, const char *needle)
{
    size_t n = 0, m = strlen(needle);
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += m)
        n++;
    return n;
}

static const char *const sample_files[] = {"factors.csv", "covariance.csv", "underlyings.csv",
                                           "positions.csv", "scenarios.csv"};

/* A copy of data/sample in rk_test_tmp/name; returns the folder (free it). */
static char *copy_sample(const char *name)
{
    char *d = rk_test_tmp_path(name);
    ck_assert_int_eq(mkdir(d, 0777), 0);
    for (size_t i = 0; i < sizeof sample_files / sizeof sample_files[0]; i++) {
        char *text = rk_test_slurp("data/sample", sample_files[i]);
        ck_assert_ptr_nonnull(text);
        ck_assert_int_eq(rk_test_write_file(d, sample_files[i], text), 0);
        free(text);
    }
    return d;
}

/* Replaces the first `from` in dir/name by `to`. */
static void edit(const char *dir, const char *name, const char *from, const char *to)
{
    char *text = rk_test_slurp(dir, name);
    ck_assert_ptr_nonnull(text);
    char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "%s lacks '%s'", name, from);
    size_t len = strlen(text) - strlen(from) + strlen(to) + 1;
    char *out = malloc(len);
    snprintf(out, len, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    ck_assert_int_eq(rk_test_write_file(dir, name, out), 0);
    free(out);
    free(text);
}

/* The text of rk_test_tmp/out/name, which must exist. */
static char *out_file(const char *out, const char *name)
{
    char *t = rk_test_slurp(out, name);
    ck_assert_msg(t != NULL, "%s/%s missing", out, name);
    return t;
}

/* stderr of the last run holds `want` on exactly one line. */
static void assert_reason(const char *want)
{
    char *err = rk_test_slurp(rk_test_tmp, "stderr.txt");
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, want) != NULL, "stderr '%s' lacks '%s'", err, want);
    ck_assert_msg(count(err, "\n") == 1, "stderr is not one line: '%s'", err);
    free(err);
}

static const char BOND_ROW[] = "P0000002,EQ_DERIVATIVES_NY,bond,-1750000,IR_USD_3M,,1.13,,,,0.05000,2,";

/* 1. A bond frequency or expiry near 1e17 made the cash-flow loop spin for ever, deadline or
 * not; now the row is refused at load, naming its cell. */
START_TEST(bond_beyond_countable_cash_flows)
{
    char *d = copy_sample("d"), *out = rk_test_tmp_path("o");
    edit(d, "positions.csv", BOND_ROW,
         "P0000002,EQ_DERIVATIVES_NY,bond,-1750000,IR_USD_3M,,1.13,,,,0.05000,1e17,");
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "values", "--data", d, "--out", out, "--deadline-ms", "500",
                            "--quiet", NULL),
                     0);
    char *errs = out_file(out, "errors.csv");
    ck_assert_msg(strstr(errs, "positions.csv:3:12: frequency must be at most 366") != NULL,
                  "%s", errs);
    free(errs);
    edit(d, "positions.csv", ",1.13,,,,0.05000,1e17,", ",1e17,,,,0.05000,2,");
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "values", "--data", d, "--out", out, "--quiet", NULL), 0);
    errs = out_file(out, "errors.csv");
    ck_assert_msg(strstr(errs, "positions.csv:3:7: expiry x frequency must be at most") != NULL,
                  "%s", errs);
    free(errs);
    free(d);
    free(out);
}
END_TEST

/* 2 and I/O faults. Every command: errors.csv on a full disk is exit 1 with the reason (it was
 * exit 0); a failed output leaves the previous complete file in place and no partial one. */
START_TEST(output_write_failures)
{
    char *out = rk_test_tmp_path("o");
    static const char *const cmds[][5] = {
        {"values", NULL},
        {"grid", NULL},
        {"var", "--method", "mc", "--scenarios", "20"},
        {"stress", NULL},
        {"batch", "--scenarios", "20", NULL},
    };
    ck_assert_int_eq(setenv("RISKENGINE_TEST_FAULT", "full:errors.csv", 1), 0);
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        int rc = rk_test_run(rk_test_tmp, cmds[i][0], "--data", "data/sample", "--out", out, "--quiet",
                        cmds[i][1], cmds[i][2], cmds[i][3], cmds[i][4], NULL);
        ck_assert_msg(rc == 1, "%s: exit %d", cmds[i][0], rc);
        assert_reason("errors.csv: "); /* ENOSPC, or EIO where an earlier flush met it */
    }
    unsetenv("RISKENGINE_TEST_FAULT");

    /* a complete values.csv, then a run whose values.csv cannot be written: the first stays */
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "values", "--data", "data/sample", "--out", out, "--quiet",
                            NULL),
                     0);
    char *before = out_file(out, "values.csv");
    ck_assert_int_eq(setenv("RISKENGINE_TEST_FAULT", "full:values.csv", 1), 0);
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "values", "--data", "data/sample", "--out", out, "--quiet",
                            NULL),
                     1);
    unsetenv("RISKENGINE_TEST_FAULT");
    assert_reason("values.csv: No space left on device");
    char *after = out_file(out, "values.csv");
    ck_assert_str_eq(before, after);
    char *partial = rk_test_slurp(out, ".values.csv.partial");
    ck_assert_ptr_null(partial);

    /* the report's files (data and figures, in OUT/report/) are written the same way: into a
     * new folder, so that no earlier run's file is there */
    char *fresh = rk_test_tmp_path("report-fault");
    ck_assert_int_eq(setenv("RISKENGINE_TEST_FAULT", "full:report/contrib.dat", 1), 0);
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "batch", "--data", "data/sample", "--out", fresh,
                                 "--quiet", "--scenarios", "20", NULL),
                     1);
    unsetenv("RISKENGINE_TEST_FAULT");
    assert_reason("report/contrib.dat: No space left on device");
    char *rdir = malloc(strlen(fresh) + 32);
    sprintf(rdir, "%s/report", fresh);
    ck_assert_ptr_null(rk_test_slurp(rdir, ".contrib.dat.partial"));
    ck_assert_ptr_null(rk_test_slurp(rdir, "contrib.dat"));
    char *pnl = rk_test_slurp(rdir, "pnl_mc.dat"); /* written before it, complete */
    ck_assert_ptr_nonnull(pnl);
    ck_assert_uint_eq(count(pnl, "\n"), 20);
    free(pnl);
    free(rdir);
    free(fresh);

    /* a folder where summary.json goes: the rename fails */
    char *sj = malloc(strlen(out) + 32);
    sprintf(sj, "%s/summary.json", out);
    ck_assert_int_eq(remove(sj), 0);
    ck_assert_int_eq(mkdir(sj, 0777), 0);
    sprintf(sj, "%s/summary.json/x", out);
    ck_assert_int_eq(mkdir(sj, 0777), 0);
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "values", "--data", "data/sample", "--out", out, "--quiet",
                            NULL),
                     1);
    assert_reason("summary.json: ");
    free(sj);
    free(before);
    free(after);
    free(out);
}
END_TEST

/* generate writes its files the same way: a file that cannot be renamed into place fails the
 * run naming it, and leaves no partial file. */
START_TEST(generate_write_failure)
{
    char *d = rk_test_tmp_path("g"), *p = rk_test_tmp_path("g/positions.csv"), *q = rk_test_tmp_path("g/positions.csv/x");
    ck_assert_int_eq(mkdir(d, 0777), 0);
    ck_assert_int_eq(mkdir(p, 0777), 0);
    ck_assert_int_eq(mkdir(q, 0777), 0);
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "generate", "--preset", "sample", "--out", d, NULL), 1);
    assert_reason("positions.csv: cannot write: ");
    ck_assert_ptr_null(rk_test_slurp(d, ".positions.csv.partial"));
    char *f = rk_test_slurp(d, "factors.csv"); /* written before, complete */
    ck_assert_ptr_nonnull(f);
    free(f);
    free(q);
    free(p);
    free(d);
}
END_TEST

/* 3. A huge budget is no deadline (it overflowed into "already expired"). */
START_TEST(deadline_huge_saturates)
{
    char *out = rk_test_tmp_path("o");
    static const char *const huge[] = {"1e13", "1e300"};
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(rk_test_run(rk_test_tmp, "values", "--data", "data/sample", "--out", out,
                                "--deadline-ms", huge[i], "--quiet", NULL),
                         0);
        char *v = out_file(out, "values.csv");
        ck_assert_uint_eq(count(v, "DEADLINE"), 0);
        ck_assert_uint_gt(count(v, ",OK,"), 150);
        free(v);
    }
    free(out);
}
END_TEST

/* 4 and 9. 0 and negative budgets (silently no deadline), and a deadline for the reference
 * evaluator (silently ignored), are bad command lines. */
START_TEST(deadline_refused)
{
    char *out = rk_test_tmp_path("o");
    static const char *const bad[] = {"0", "-5", "-0"};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(rk_test_run(rk_test_tmp, "values", "--data", "data/sample", "--out", out,
                                "--deadline-ms", bad[i], NULL),
                         2);
        assert_reason("--deadline-ms must be > 0");
    }
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "grid", "--data", "data/sample", "--out", out, "--reference",
                            "--deadline-ms", "1000", NULL),
                     2);
    assert_reason("--reference");
    free(out);
}
END_TEST

/* 5. Zero scenarios is never a VaR. */
START_TEST(var_from_zero_scenarios)
{
    char *out = rk_test_tmp_path("o");
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "var", "--data", "data/sample", "--out", out, "--method", "mc",
                            "--scenarios", "0", NULL),
                     2);
    assert_reason("--scenarios must be at least 1");
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "batch", "--data", "data/sample", "--out", out, "--scenarios",
                            "0", NULL),
                     2);
    free(out);
}
END_TEST

START_TEST(var_from_header_only_scenarios)
{
    char *out = rk_test_tmp_path("o");
    char *d = copy_sample("d");
    ck_assert_int_eq(rk_test_write_file(d, "scenarios.csv", "scenario,EQ_MARKET\n"), 0);
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "var", "--data", d, "--out", out, "--method", "historical",
                            NULL),
                     1);
    assert_reason("scenarios.csv:2:1: no scenarios");
    ck_assert_ptr_null(rk_test_slurp(out, "var.csv"));
    free(d);
    free(out);
}
END_TEST

/* 6. A bump that leaves the doubles' range is refused; a VaR that overflows says so (it was
 * blank with no record), as does a value that overflows, naming the column. */
START_TEST(bump_range)
{
    char *out = rk_test_tmp_path("o");
    static const char *const bumps[] = {"1e-300", "1e300", "0"};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(rk_test_run(rk_test_tmp, "grid", "--data", "data/sample", "--out", out, "--bump",
                                bumps[i], NULL),
                         2);
        assert_reason("--bump must lie in");
    }
    free(out);
}
END_TEST

START_TEST(parametric_var_overflow_recorded)
{
    char *out = rk_test_tmp_path("o");
    char *d = copy_sample("d");
    edit(d, "covariance.csv", "EQ_MARKET,9.570038197261285e-05", "EQ_MARKET,1.7e308");
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "grid", "--data", d, "--out", out, "--quiet", NULL), 0);
    char *errs = out_file(out, "errors.csv");
    ck_assert_msg(strstr(errs, ",,,NUMERIC,parametric VaR of book TOTAL is not finite") != NULL,
                  "%s", errs);
    free(errs);
    free(d);
    free(out);
}
END_TEST

/* 7. Bad rows among good ones: each is one INVALID_INPUT record naming file:line:col, the
 * rest loads and is valued as without them (a bad row sank the whole file). */
START_TEST(bad_rows_keep_the_rest)
{
    char *out = rk_test_tmp_path("o"), *d = copy_sample("d");
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "values", "--data", d, "--out", out, "--quiet", NULL), 0);
    char *v0 = out_file(out, "values.csv");
    size_t ok0 = count(v0, ",OK,");
    free(v0);
    char *pos = rk_test_slurp(d, "positions.csv");
    size_t lines = count(pos, "\n");
    size_t len = strlen(pos) + 512;
    char *bad = malloc(len);
    snprintf(bad, len,
             "%sPBAD1,MACRO_LDN,sp\"ot,1,EQ_TECHNOLOGY_00007,,,,,,,,\n"
             "PBAD2,MACRO_LDN,spot\n"
             "P0000004,RATES_NY,spot,1,EQ_TECHNOLOGY_00007,,,,,,,,\n"
             ",RATES_NY,spot,1,EQ_TECHNOLOGY_00007,,,,,,,,\n",
             pos);
    ck_assert_int_eq(rk_test_write_file(d, "positions.csv", bad), 0);
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "values", "--data", d, "--out", out, "--quiet", NULL), 0);
    char *v = out_file(out, "values.csv");
    ck_assert_uint_eq(count(v, ",OK,"), ok0);
    free(v);
    char *errs = out_file(out, "errors.csv");
    char want[4][160];
    snprintf(want[0], sizeof want[0], "positions.csv:%zu:3: quote inside an unquoted field",
             lines + 1);
    snprintf(want[1], sizeof want[1], "positions.csv:%zu:4: expected 13 fields, found 3",
             lines + 2);
    snprintf(want[2], sizeof want[2],
             "P0000004,,,INVALID_INPUT,positions.csv:%zu:1: duplicate position id 'P0000004' "
             "(first on line 5)",
             lines + 3);
    snprintf(want[3], sizeof want[3], "positions.csv:%zu:1: position id is empty", lines + 4);
    for (int k = 0; k < 4; k++)
        ck_assert_msg(strstr(errs, want[k]) != NULL, "errors.csv lacks '%s'", want[k]);
    free(errs);
    free(bad);
    free(pos);
    free(d);
    free(out);
}
END_TEST

/* 8. A deadline keeps the cells finished before it: one endless tree no longer turns the
 * cheap positions of its tile into DEADLINE. */
START_TEST(deadline_keeps_finished_cells)
{
    char *out = rk_test_tmp_path("o"), *d = copy_sample("d");
    edit(d, "positions.csv",
         "P0000003,EQ_DERIVATIVES_NY,american_put,2800,EQ_FINANCIALS_00003,263.14,1.5934,0.0521,"
         "0.2441,0.0291,,,200",
         "P0000003,EQ_DERIVATIVES_NY,american_put,2800,EQ_FINANCIALS_00003,263.14,1.5934,0.0521,"
         "0.2441,0.0291,,,1000000");
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "values", "--data", d, "--out", out, "--deadline-ms", "1000",
                            "--threads", "1", "--quiet", NULL),
                     0);
    char *v = out_file(out, "values.csv");
    ck_assert_msg(strstr(v, "P0000003,EQ_DERIVATIVES_NY,,DEADLINE,") != NULL, "%s", v);
    /* the spots, forwards and european options come before the trees in a chunk */
    ck_assert_uint_gt(count(v, ",OK,"), 100);
    free(v);

    /* the grid's and scenario P&L's tiles keep their finished cells too: the values stage
     * takes the whole deadline here, so tests/risk/test_eval.c shows those */
    free(d);
    free(out);
}
END_TEST

START_TEST(numeric_record_names_column)
{
    char *out = rk_test_tmp_path("o"), *d = copy_sample("d");
    char *pos = rk_test_slurp(d, "positions.csv");
    size_t lines = count(pos, "\n"), len = strlen(pos) + 128;
    char *more = malloc(len);
    snprintf(more, len, "%sPQ,MACRO_LDN,spot,1e308,EQ_TECHNOLOGY_00007,,,,,,,,\n", pos);
    ck_assert_int_eq(rk_test_write_file(d, "positions.csv", more), 0);
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "values", "--data", d, "--out", out, "--quiet", NULL), 0);
    char *errs = out_file(out, "errors.csv");
    char want[128];
    snprintf(want, sizeof want,
             "PQ,,,NUMERIC,positions.csv:%zu:4: base value is not finite: quantity 1e+308 x",
             lines + 1);
    ck_assert_msg(strstr(errs, want) != NULL, "errors.csv lacks '%s'", want);
    free(errs);
    free(more);
    free(pos);
    free(d);
    free(out);
}
END_TEST

/* 10. The small ones. An empty market: every position invalid, and the run still completes
 * (UBSan saw memcpy from NULL). */
START_TEST(empty_market)
{
    char *out = rk_test_tmp_path("o"), *d = copy_sample("d");
    ck_assert_int_eq(rk_test_write_file(d, "underlyings.csv",
                                        "underlying,kind,value,EQ_MARKET\n"),
                     0);
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "batch", "--data", d, "--out", out, "--scenarios", "10",
                            "--quiet", NULL),
                     0);
    free(d);
    free(out);
}
END_TEST

/* A FIFO as positions.csv is refused instead of blocking for ever. */
START_TEST(fifo_refused)
{
    char *out = rk_test_tmp_path("o"), *d = copy_sample("d2");
    char *fifo = malloc(strlen(d) + 32);
    sprintf(fifo, "%s/positions.csv", d);
    ck_assert_int_eq(remove(fifo), 0);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "values", "--data", d, "--out", out, NULL), 1);
    assert_reason("positions.csv:0:0: cannot open: not a regular file");
    free(fifo);
    free(d);
    free(out);
}
END_TEST

/* A column the file lacks is named, not called column 0. */
START_TEST(missing_column_named)
{
    char *out = rk_test_tmp_path("o"), *d = copy_sample("d3");
    ck_assert_int_eq(rk_test_write_file(d, "positions.csv",
                                        "position,book,instrument,quantity,underlying,expiry\n"
                                        "B1,MACRO_LDN,bond,100,IR_USD_3M,2\n"),
                     0);
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "values", "--data", d, "--out", out, "--quiet", NULL), 0);
    char *errs = out_file(out, "errors.csv");
    ck_assert_msg(strstr(errs, "positions.csv:2: frequency is missing (the file has no "
                               "'frequency' column)") != NULL,
                  "%s", errs);
    free(errs);
    free(d);
    free(out);
}
END_TEST

/* A missing data folder is named as such (it was "factors.csv:0:0"). */
START_TEST(missing_folder_named)
{
    char *out = rk_test_tmp_path("o");
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "values", "--data", "/nonexistent/rk-data", "--out", out, NULL),
                     1);
    assert_reason("/nonexistent/rk-data: cannot open the data folder");
    free(out);
}
END_TEST

/* var's --method is optional, as its help now says (it showed it as required). */
START_TEST(var_method_optional)
{
    char *out = rk_test_tmp_path("o");
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "var", "--help", NULL), 0);
    char *help = rk_test_slurp(rk_test_tmp, "stdout.txt");
    ck_assert_ptr_nonnull(strstr(help, "[--method parametric|mc|historical]"));
    free(help);
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "var", "--data", "data/sample", "--out", out, "--quiet", NULL),
                     0);
    char *var = out_file(out, "var.csv");
    ck_assert_ptr_nonnull(strstr(var, "TOTAL,parametric,"));
    free(var);
    free(out);
}
END_TEST

/* Bad command lines exit 2 (a missing --data or --out exited 1; --threads 100000 named an
 * internal function). */
START_TEST(usage_exits_2)
{
    char *out = rk_test_tmp_path("o");
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "values", "--out", out, NULL), 2);
    assert_reason("--data DIR and --out DIR are required");
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "grid", "--data", "data/sample", NULL), 2);
    ck_assert_int_eq(rk_test_run(rk_test_tmp, "values", "--data", "data/sample", "--out", out, "--threads",
                            "100000", NULL),
                     2);
    assert_reason("--threads must be at most 4096");
    free(out);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("cli_hostile");
    TCase *tc = tcase_create("hostile");
    tcase_add_checked_fixture(tc, rk_test_tmp_setup, rk_test_tmp_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, bond_beyond_countable_cash_flows);
    tcase_add_test(tc, output_write_failures);
    tcase_add_test(tc, generate_write_failure);
    tcase_add_test(tc, deadline_huge_saturates);
    tcase_add_test(tc, deadline_refused);
    tcase_add_test(tc, var_from_zero_scenarios);
    tcase_add_test(tc, var_from_header_only_scenarios);
    tcase_add_test(tc, bump_range);
    tcase_add_test(tc, parametric_var_overflow_recorded);
    tcase_add_test(tc, numeric_record_names_column);
    tcase_add_test(tc, bad_rows_keep_the_rest);
    tcase_add_test(tc, deadline_keeps_finished_cells);
    tcase_add_test(tc, empty_market);
    tcase_add_test(tc, fifo_refused);
    tcase_add_test(tc, missing_column_named);
    tcase_add_test(tc, missing_folder_named);
    tcase_add_test(tc, var_method_optional);
    tcase_add_test(tc, usage_exits_2);
    suite_add_tcase(s, tc);
    return s;
}
