/*
 * test_spec.c - the program's values and grid against an independent implementation of the
 * contract (tests/regress/spec_check.py: Python, written from the formulas, sharing nothing with
 * the C code), on the sample data set (values, grid, and historical VaR/ES from its
 * scenarios.csv) and on every 20th position of a generated W1 (values and grid).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

/* Runs a shell command line; returns its exit status and keeps the last line of its output. */
static int sh(const char *cmd, char *last, size_t len)
{
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char line[1024];
    last[0] = '\0';
    while (fgets(line, sizeof line, p) != NULL) {
        fputs(line, stderr);
        snprintf(last, len, "%s", line);
    }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void check(const char *data, const char *gen, const char *every, bool historical)
{
    char *tmp = rk_test_tmpdir();
    ck_assert_ptr_nonnull(tmp);
    char cmd[16384], last[1024];
    if (gen != NULL) {
        snprintf(cmd, sizeof cmd, "%s generate --preset %s --seed 5 --out %s/data --quiet",
                 rk_test_program(), gen, tmp);
        ck_assert_int_eq(sh(cmd, last, sizeof last), 0);
    }
    char dir[4200];
    if (gen != NULL)
        snprintf(dir, sizeof dir, "%s/data", tmp);
    else
        snprintf(dir, sizeof dir, "%s", data);
    snprintf(cmd, sizeof cmd, "%s grid --data %s --out %s/out --quiet", rk_test_program(), dir, tmp);
    ck_assert_int_eq(sh(cmd, last, sizeof last), 0);
    char extra[4300] = "";
    if (historical) {
        snprintf(cmd, sizeof cmd, "%s var --method historical --data %s --out %s/var --quiet",
                 rk_test_program(), dir, tmp);
        ck_assert_int_eq(sh(cmd, last, sizeof last), 0);
        snprintf(extra, sizeof extra, "--historical %s/var", tmp);
    }
    snprintf(cmd, sizeof cmd, "python3 tests/regress/spec_check.py %s %s/out --every %s %s 2>&1",
             dir, tmp, every, extra);
    int rc = sh(cmd, last, sizeof last);
    ck_assert_msg(rc == 0, "spec_check failed: %s", last);
    ck_assert_msg(strstr(last, " 0 failed") != NULL, "%s", last);
    rk_test_rmtree(tmp);
    free(tmp);
}

START_TEST(sample_matches_independent_spec)
{
    check("data/sample", NULL, "1", true);
}
END_TEST

START_TEST(w1_matches_independent_spec)
{
    check(NULL, "w1", "20", false);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("spec");
    TCase *tc = tcase_create("spec");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, sample_matches_independent_spec);
    tcase_add_test(tc, w1_matches_independent_spec);
    suite_add_tcase(s, tc);
    return s;
}
