/*
 * test_whatif.c - `riskengine whatif` as a user runs it. The oracle is `riskengine var` on a
 * copy of the sample with the valid candidates appended to positions.csv: for every method the
 * after columns of whatif.csv equal its var and es columns as text (the program writes the
 * shortest text that reads back to the same double, so equal text is equal bits), and the
 * before columns those of `riskengine var` on the sample; trades.csv and errors.csv carry
 * the candidates' codes and the loader's messages naming the trades file; exit statuses.
 *
 * The program under test is $RK_PROGRAM (set by `make test`), build/riskengine otherwise.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define SAMPLE "data/sample"

static char *tmp;

static void setup(void)
{
    tmp = rk_test_tmpdir();
    ck_assert_ptr_nonnull(tmp);
}

static void teardown(void)
{
    rk_test_rmtree(tmp);
    free(tmp);
}

static char *sub(const char *name)
{
    return rk_test_path(tmp, name);
}

#define HEADER                                                                                     \
    "position,book,instrument,quantity,underlying,strike,expiry,rate,vol,dividend,coupon,"         \
    "frequency,steps\n"
/* Valid candidates: existing and new books, a tree and the closed-form american, literals. */
static const char valid_rows[] =
    "W1,MACRO_LDN,european_call,1500,EQ_TECHNOLOGY_00013,72,0.75,IR_USD_6M,"
    "VOL_EQ_TECHNOLOGY_00002,0.01,,,\n"
    "W2,NEW_DESK,american_put,-800,EQ_FINANCIALS_00001,280,1.2,0.05,VOL_EQ_FINANCIALS_00001,"
    "0.02,,,\n"
    "W3,RATES_NY,american_call,300,EQ_TECHNOLOGY_00006,330,0.5,IR_USD_1Y,0.31,,,,60\n"
    "W4,NEW_RATES,bond,2000000,IR_USD_2Y,,3.4,,,,0.045,2,\n"
    "W5,EQ_DELTA_ONE_LDN,forward,-5000,EQ_FINANCIALS_00015,110,0.4,IR_USD_3M,,0.015,,,\n";
/* An invalid one in a book of its own (the book exists after, empty), kept when appended. */
static const char invalid_row[] =
    "W6,EMPTY_DESK,european_put,100,EQ_TECHNOLOGY_00009,-5,0.5,IR_USD_6M,"
    "VOL_EQ_TECHNOLOGY_00002,,,,\n";
/* A duplicate of the sample's first id: refused alone (appended, the file would be refused). */
static const char duplicate_row[] = "P0000001,MACRO_LDN,spot,10,FX_EURUSD,,,,,,,,\n";

/* The sample copied into tmp/app with `extra` appended to positions.csv. */
static void appended_copy(const char *extra)
{
    char *app = sub("app");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cp -r %s %s", SAMPLE, app);
    ck_assert_int_eq(system(cmd), 0);
    char *pos = rk_test_slurp(app, "positions.csv");
    ck_assert_ptr_nonnull(pos);
    char *all = malloc(strlen(pos) + strlen(extra) + 1);
    strcpy(all, pos);
    strcat(all, extra);
    ck_assert_int_eq(rk_test_write_file(app, "positions.csv", all), 0);
    free(all);
    free(pos);
    free(app);
}

/* Field `col` (0-based) of the row of `csv` whose first field is `key` and second `method`
 * (var.csv) or whose first field is `key` (whatif.csv: method NULL); a malloc'd copy. */
static char *field(const char *csv, const char *key, const char *method, int col)
{
    const char *line = strchr(csv, '\n') + 1;
    size_t kl = strlen(key);
    for (; *line != '\0'; line = strchr(line, '\n') + 1) {
        if (strncmp(line, key, kl) != 0 || line[kl] != ',')
            continue;
        if (method != NULL && strncmp(line + kl + 1, method, strlen(method)) != 0)
            continue;
        const char *f = line;
        for (int c = 0; c < col; c++)
            f = strchr(f, ',') + 1;
        size_t n = strcspn(f, ",\n");
        char *out = malloc(n + 1);
        memcpy(out, f, n);
        out[n] = '\0';
        return out;
    }
    ck_abort_msg("no row %s in\n%s", key, csv);
    return NULL;
}

static void assert_field_eq(const char *a_csv, const char *key, int a_col, const char *b_csv,
                            const char *b_method, int b_col)
{
    char *a = field(a_csv, key, NULL, a_col), *b = field(b_csv, key, b_method, b_col);
    ck_assert_msg(strcmp(a, b) == 0, "%s: what-if %s, full run %s", key, a, b);
    free(a);
    free(b);
}

static const char *const books_before[] = {"MACRO_LDN", "EQ_DERIVATIVES_NY", "RATES_NY",
                                           "EQ_DELTA_ONE_LDN", "TOTAL"};
static const char *const books_after[] = {
    "MACRO_LDN", "EQ_DERIVATIVES_NY", "RATES_NY",   "EQ_DELTA_ONE_LDN",
    "NEW_DESK",  "NEW_RATES",         "EMPTY_DESK", "TOTAL"};

static void matches_var(const char *method)
{
    char trades[8192];
    snprintf(trades, sizeof trades, HEADER "%s%s%s", valid_rows, invalid_row, duplicate_row);
    ck_assert_int_eq(rk_test_write_file(tmp, "trades.csv", trades), 0);
    char app_rows[8192];
    snprintf(app_rows, sizeof app_rows, "%s%s", valid_rows, invalid_row);
    appended_copy(app_rows);
    char *tr = sub("trades.csv"), *o_w = sub("w"), *o_after = sub("after"), *o_before = sub("b");
    char *app = sub("app");
    ck_assert_int_eq(rk_test_run(tmp, "whatif", "--data", SAMPLE, "--trades", tr, "--out", o_w,
                                 "--method", method, "--horizon", "2", "--quiet", NULL),
                     0);
    ck_assert_int_eq(rk_test_run(tmp, "var", "--data", app, "--out", o_after, "--method", method,
                                 "--horizon", "2", "--quiet", NULL),
                     0);
    ck_assert_int_eq(rk_test_run(tmp, "var", "--data", SAMPLE, "--out", o_before, "--method",
                                 method, "--horizon", "2", "--quiet", NULL),
                     0);
    char *w = rk_test_slurp(o_w, "whatif.csv"), *va = rk_test_slurp(o_after, "var.csv");
    char *vb = rk_test_slurp(o_before, "var.csv");
    ck_assert_ptr_nonnull(w);
    ck_assert_ptr_nonnull(va);
    ck_assert_ptr_nonnull(vb);
    ck_assert_ptr_nonnull(strstr(w, "book,method,var_before,var_after,var_change,es_before,"
                                    "es_after,es_change\n"));
    bool scen = strcmp(method, "parametric") != 0;
    /* whatif.csv: var_before 2, var_after 3, es_before 5, es_after 6; var.csv: var 3, es 4 */
    for (size_t k = 0; k < sizeof books_after / sizeof books_after[0]; k++) {
        assert_field_eq(w, books_after[k], 3, va, method, 3);
        if (scen)
            assert_field_eq(w, books_after[k], 6, va, method, 4);
    }
    for (size_t k = 0; k < sizeof books_before / sizeof books_before[0]; k++) {
        assert_field_eq(w, books_before[k], 2, vb, method, 3);
        if (scen)
            assert_field_eq(w, books_before[k], 5, vb, method, 4);
    }
    char *es = field(w, "TOTAL", NULL, 6);
    ck_assert_int_eq(es[0] == '\0', !scen); /* es empty for parametric */
    free(es);
    char *nb = field(w, "NEW_DESK", NULL, 2);
    ck_assert_str_eq(nb, "0"); /* a new book's before */
    free(nb);
    /* rows: the header, the after books, nothing else */
    size_t lines = 0;
    for (const char *p = w; *p; p++)
        lines += *p == '\n';
    ck_assert_uint_eq(lines, 1 + sizeof books_after / sizeof books_after[0]);
    /* trades.csv: codes, the loader's messages naming the file */
    char *t = rk_test_slurp(o_w, "trades.csv");
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_nonnull(strstr(t, "position,book,value,status,message\n"));
    ck_assert_ptr_nonnull(strstr(t, "\nW4,NEW_RATES,"));
    ck_assert_ptr_nonnull(strstr(t, ",OK,\n"));
    char msg[512];
    snprintf(msg, sizeof msg, "W6,EMPTY_DESK,,INVALID_INPUT,%s:7:6: strike must be > 0", tr);
    ck_assert_msg(strstr(t, msg) != NULL, "no '%s' in\n%s", msg, t);
    snprintf(msg, sizeof msg, "P0000001,MACRO_LDN,,INVALID_INPUT,%s:8:1: duplicate position id",
             tr);
    ck_assert_msg(strstr(t, msg) != NULL, "no '%s' in\n%s", msg, t);
    /* each candidate's value is its value in the appended run */
    char *values_dir = sub("vals");
    ck_assert_int_eq(
        rk_test_run(tmp, "values", "--data", app, "--out", values_dir, "--quiet", NULL), 0);
    char *vals = rk_test_slurp(values_dir, "values.csv");
    ck_assert_ptr_nonnull(vals);
    const char *ids[] = {"W1", "W2", "W3", "W4", "W5"};
    for (size_t k = 0; k < 5; k++) {
        char *a = field(t, ids[k], NULL, 2), *b = field(vals, ids[k], NULL, 2);
        ck_assert_msg(strcmp(a, b) == 0, "%s: what-if value %s, values.csv %s", ids[k], a, b);
        free(a);
        free(b);
    }
    char *errs = rk_test_slurp(o_w, "errors.csv");
    ck_assert_ptr_nonnull(strstr(errs, "\nW6,,,INVALID_INPUT,"));
    ck_assert_ptr_nonnull(strstr(errs, "\nP0000001,,,INVALID_INPUT,"));
    char *js = rk_test_slurp(o_w, "summary.json");
    ck_assert_ptr_nonnull(strstr(js, "\"whatif\""));
    ck_assert_ptr_nonnull(strstr(js, "\"trades_ok\": 5"));
    free(js);
    free(errs);
    free(vals);
    free(values_dir);
    free(t);
    free(w);
    free(va);
    free(vb);
    free(tr);
    free(o_w);
    free(o_after);
    free(o_before);
    free(app);
}

START_TEST(parametric_matches_var_on_appended_positions)
{
    matches_var("parametric");
}
END_TEST

START_TEST(mc_matches_var_on_appended_positions)
{
    matches_var("mc");
}
END_TEST

START_TEST(historical_matches_var_on_appended_positions)
{
    matches_var("historical");
}
END_TEST

START_TEST(exit_statuses)
{
    char *o = sub("o"), *tr = sub("trades.csv"), *missing = sub("missing.csv");
    ck_assert_int_eq(rk_test_write_file(tmp, "trades.csv", HEADER), 0);
    /* bad command lines */
    ck_assert_int_eq(rk_test_run(tmp, "whatif", "--data", SAMPLE, "--out", o, NULL), 2);
    ck_assert_int_eq(rk_test_run(tmp, "whatif", "--data", SAMPLE, "--trades", tr, "--out", o,
                                 "--method", "delta", NULL),
                     2);
    ck_assert_int_eq(rk_test_run(tmp, "whatif", "--help", NULL), 0);
    /* a trades file that cannot be read: the run fails, naming it */
    ck_assert_int_eq(rk_test_run(tmp, "whatif", "--data", SAMPLE, "--trades", missing, "--out", o,
                                 "--quiet", NULL),
                     1);
    char *err = rk_test_slurp(tmp, "stderr.txt");
    ck_assert_ptr_nonnull(strstr(err, "missing.csv"));
    free(err);
    /* no candidates: every book's after equals its before */
    ck_assert_int_eq(
        rk_test_run(tmp, "whatif", "--data", SAMPLE, "--trades", tr, "--out", o, "--quiet", NULL),
        0);
    char *w = rk_test_slurp(o, "whatif.csv");
    for (size_t k = 0; k < sizeof books_before / sizeof books_before[0]; k++) {
        char *b = field(w, books_before[k], NULL, 2), *a = field(w, books_before[k], NULL, 3);
        char *c = field(w, books_before[k], NULL, 4);
        ck_assert_str_eq(a, b);
        ck_assert_str_eq(c, "0");
        free(a);
        free(b);
        free(c);
    }
    free(w);
    free(o);
    free(tr);
    free(missing);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("cli-whatif");
    TCase *tc = tcase_create("whatif");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, parametric_matches_var_on_appended_positions);
    tcase_add_test(tc, mc_matches_var_on_appended_positions);
    tcase_add_test(tc, historical_matches_var_on_appended_positions);
    tcase_add_test(tc, exit_statuses);
    suite_add_tcase(s, tc);
    return s;
}
