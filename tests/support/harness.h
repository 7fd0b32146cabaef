/*
 * harness.h - what every Check program under tests/ shares: the suite entry point, named
 * tolerances and small helpers for comparing floating-point results.
 */
#ifndef RK_TEST_HARNESS_H
#define RK_TEST_HARNESS_H

#include <check.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* Sanitizers slow every instruction and every lock several-fold (and CI runs them on a 2-core
 * machine): the few timing bounds of the suite scale with this factor. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RK_TEST_SLOWDOWN 4
#else
#define RK_TEST_SLOWDOWN 1
#endif

/* How long after its deadline a request may return in a test: the engine polls every ~15 µs of
 * work; the rest is the scheduling of threads on a loaded 2-core machine. */
#define RK_TEST_DEADLINE_SLACK_NS (INT64_C(20000000) * RK_TEST_SLOWDOWN)

/* Each test program defines this; harness.c runs it. */
Suite *test_suite(void);

/* |got - want| <= abs_tol + rel_tol * |want|, with a message naming both numbers. */
#define ck_assert_close(got, want, abs_tol, rel_tol)                                              \
    do {                                                                                           \
        double ck_got_ = (got), ck_want_ = (want);                                                 \
        double ck_tol_ = (abs_tol) + (rel_tol) * fabs(ck_want_);                                   \
        ck_assert_msg(fabs(ck_got_ - ck_want_) <= ck_tol_,                                         \
                      "%s = %.17g, want %.17g (diff %.3g > tol %.3g)", #got, ck_got_, ck_want_,    \
                      fabs(ck_got_ - ck_want_), ck_tol_);                                          \
    } while (0)

/* Bitwise equality of doubles (NaN payloads included). */
int rk_test_same_bits(double a, double b);

/* A fresh empty temporary folder (mkdtemp under $TMPDIR or /tmp); caller frees the string. */
char *rk_test_tmpdir(void);
/* Removes a folder and everything in it. */
void rk_test_rmtree(const char *dir);
/* The riskengine program under test: $RK_PROGRAM (set by `make test`), build/riskengine
 * otherwise. */
const char *rk_test_program(void);
/* Runs the program with arguments argv (NULL-terminated, argv[0] excluded), its standard
 * output into dir/stdout.txt and its standard error into dir/stderr.txt. Returns the exit
 * status, or 128 + the signal that ended it. */
int rk_test_run_program(const char *dir, const char *const *args);
/* The same with the arguments listed, NULL-terminated. */
int rk_test_run(const char *dir, const char *arg0, ...);
/* "dir/name", malloc'd (the caller frees it). */
char *rk_test_path(const char *dir, const char *name);
/* The whole of dir/name, NUL-terminated; NULL when it cannot be read. Caller frees. */
char *rk_test_slurp(const char *dir, const char *name);

/* A fresh temporary folder per test, for checked fixtures
 * (tcase_add_checked_fixture(tc, rk_test_tmp_setup, rk_test_tmp_teardown)): rk_test_tmp is the
 * folder while a test runs; rk_test_tmp_path(name) is rk_test_tmp/name (caller frees). */
extern char *rk_test_tmp;
void rk_test_tmp_setup(void);
void rk_test_tmp_teardown(void);
char *rk_test_tmp_path(const char *name);

/* Writes text to dir/name; returns 0 on success. */
int rk_test_write_file(const char *dir, const char *name, const char *text);

#endif
