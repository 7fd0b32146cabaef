/*
 * test_regulatory.c - the regulator's measures as a user runs them: `riskengine backtest`
 * (exceptions, likelihood ratios, traffic-light zones, per-book errors) and FRTB expected
 * shortfall with liquidity horizons (`var --method historical --liquidity`), both on data
 * small enough to compute by hand, plus FRTB's coverage under a deadline and its agreement
 * with plain historical ES where every factor has the same horizon.
 *
 * The program under test is $RK_PROGRAM (set by `make test`), build/riskengine otherwise.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

#define TOL_PRICE 1e-12  /* a spot's P&L through exp(), against the same closed form, relative */
#define TOL_TEXT 1e-15   /* numbers read back from shortest round-trip text, relative */

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
    size_t len = strlen(tmp) + strlen(name) + 2;
    char *p = malloc(len);
    snprintf(p, len, "%s/%s", tmp, name);
    return p;
}

/* The line of csv that starts with `key,`, as a copy (NULL when none). */
static char *row(const char *csv, const char *key)
{
    size_t n = strlen(key);
    for (const char *l = csv; l != NULL && *l != '\0';) {
        if (strncmp(l, key, n) == 0 && l[n] == ',') {
            size_t len = strcspn(l, "\n");
            char *r = malloc(len + 1);
            memcpy(r, l, len);
            r[len] = '\0';
            return r;
        }
        l = strchr(l, '\n');
        if (l != NULL)
            l++;
    }
    return NULL;
}

/* Field k (0-based) of a CSV line without quotes, as text (static buffer). */
static const char *field(const char *line, int k)
{
    static char buf[128];
    const char *p = line;
    for (int i = 0; i < k && p != NULL; i++) {
        p = strchr(p, ',');
        if (p != NULL)
            p++;
    }
    if (p == NULL)
        return "";
    size_t len = strcspn(p, ",");
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, p, len);
    buf[len] = '\0';
    return buf;
}

static double num(const char *line, int k)
{
    const char *t = field(line, k);
    ck_assert_msg(t[0] != '\0', "field %d of '%s' is empty", k, line);
    return strtod(t, NULL);
}

/* ---- FRTB ---- */

/* Two spot positions on two factors, a third factor nothing loads on, four scenarios:
 * P&L of a spot of quantity q and value S under a shock d is q S (exp(d) - 1). */
static void frtb_data(const char *dir, const char *liquidity)
{
    mkdir(dir, 0777);
    ck_assert_int_eq(rk_test_write_file(dir, "factors.csv", "factor\nEQ\nFX\nRT\n"), 0);
    ck_assert_int_eq(rk_test_write_file(dir, "covariance.csv",
                                        "factor,EQ,FX,RT\nEQ,1e-4,0,0\nFX,0,4e-5,0\n"
                                        "RT,0,0,1e-6\n"),
                     0);
    ck_assert_int_eq(rk_test_write_file(dir, "underlyings.csv",
                                        "underlying,kind,value,EQ,FX,RT\nS1,spot,100,1,0,0\n"
                                        "S2,spot,50,0,1,0\n"),
                     0);
    ck_assert_int_eq(rk_test_write_file(dir, "positions.csv",
                                        "position,book,instrument,quantity,underlying\n"
                                        "P1,A,spot,10,S1\nP2,B,spot,20,S2\n"),
                     0);
    ck_assert_int_eq(rk_test_write_file(dir, "scenarios.csv",
                                        "scenario,EQ,FX\ns1,-0.01,0.02\ns2,0.015,-0.01\n"
                                        "s3,-0.02,-0.005\ns4,0.005,0.01\n"),
                     0);
    ck_assert_int_eq(rk_test_write_file(dir, "liquidity.csv", liquidity), 0);
}

static int run_args(const char *const *args)
{
    return rk_test_run_program(tmp, args);
}

START_TEST(frtb_es_by_hand)
{
    char *data = sub("frtb"), *out = sub("frtb_out");
    frtb_data(data, "factor,liquidity_horizon\nEQ,20\nFX,60\nRT,10\n");
    char liq[4200];
    snprintf(liq, sizeof liq, "%s/liquidity.csv", data);
    const char *args[] = {"var",         "--data", data, "--out",   out, "--method",
                          "historical", "--liquidity", liq, "--quiet", NULL};
    ck_assert_int_eq(run_args(args), 0);
    char *csv = rk_test_slurp(out, "frtb_es.csv");
    ck_assert_ptr_nonnull(csv);
    const char *hdr = "book,es_10,es_20,es_40,es_60,es_120,es_liquidity_adjusted,coverage\n";
    ck_assert_msg(strncmp(csv, hdr, strlen(hdr)) == 0, "header: %s", csv);
    /* 1-day shocks scaled to 10 days by sqrt(10). Four scenarios at 97.5%: k = 1, ES is the
     * largest loss. A = 1000 (exp(c eq) - 1), B = 1000 (exp(c fx) - 1).
     * LH >= 10 and >= 20: both factors move; >= 40 and >= 60: FX only; >= 120: nothing. */
    const double c = sqrt(10.0);
    const double eq[4] = {-0.01, 0.015, -0.02, 0.005}, fx[4] = {0.02, -0.01, -0.005, 0.01};
    double esA = 0, esB = 0, esT = 0, esFX = 0;
    for (int s = 0; s < 4; s++) {
        double a = 1000.0 * (exp(c * eq[s]) - 1.0), b = 1000.0 * (exp(c * fx[s]) - 1.0);
        esA = fmax(esA, -a);
        esB = fmax(esB, -b);
        esT = fmax(esT, -(a + b));
        esFX = fmax(esFX, -b);
    }
    /* the worst scenarios: A in s3, B in s2, the total in s3 */
    ck_assert_close(esA, -1000.0 * (exp(-0.02 * c) - 1.0), 0, 1e-15);
    ck_assert_close(esB, -1000.0 * (exp(-0.01 * c) - 1.0), 0, 1e-15);
    char *a = row(csv, "A"), *b = row(csv, "B"), *t = row(csv, "TOTAL");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(t);
    const double wantA[5] = {esA, esA, 0, 0, 0}, wantB[5] = {esB, esB, esB, esB, 0},
                 wantT[5] = {esT, esT, esFX, esFX, 0};
    for (int j = 0; j < 5; j++) {
        ck_assert_close(num(a, 1 + j), wantA[j], 1e-12, TOL_PRICE);
        ck_assert_close(num(b, 1 + j), wantB[j], 1e-12, TOL_PRICE);
        ck_assert_close(num(t, 1 + j), wantT[j], 1e-12, TOL_PRICE);
    }
    /* ES = sqrt(E1^2 + (E2 sqrt(1))^2 + (E3 sqrt(2))^2 + (E4 sqrt(2))^2 + (E5 sqrt(6))^2) */
    double adjT = sqrt(esT * esT + esT * esT + 2 * esFX * esFX + 2 * esFX * esFX);
    double adjA = sqrt(2 * esA * esA), adjB = sqrt(esB * esB * (1 + 1 + 2 + 2));
    ck_assert_close(num(t, 6), adjT, 0, TOL_PRICE);
    ck_assert_close(num(a, 6), adjA, 0, TOL_PRICE);
    ck_assert_close(num(b, 6), adjB, 0, TOL_PRICE);
    ck_assert_str_eq(field(t, 7), "1");
    /* the historical VaR/ES of the same run are the unscaled file's, as without --liquidity */
    char *var = rk_test_slurp(out, "var.csv");
    char *vt = row(var, "TOTAL");
    ck_assert_ptr_nonnull(vt);
    double tot3 = 1000.0 * (exp(-0.02) - 1.0) + 1000.0 * (exp(-0.005) - 1.0);
    ck_assert_close(num(vt, 3), -tot3, 0, TOL_PRICE);
    char *sum = rk_test_slurp(out, "summary.json");
    ck_assert_ptr_nonnull(strstr(sum, "\"frtb_es_liquidity_adjusted\""));
    ck_assert_ptr_nonnull(strstr(sum, "\"frtb_pnl\""));
    free(sum);
    free(vt);
    free(var);
    free(a);
    free(b);
    free(t);
    free(csv);

    /* 10-day scenarios with --horizon 10: no scaling, ES_10 of the total is the file's worst
     * loss */
    const char *args10[] = {"var",         "--data",    data, "--out",     out,  "--method",
                            "historical", "--liquidity", liq, "--horizon", "10", "--quiet",
                            NULL};
    ck_assert_int_eq(run_args(args10), 0);
    csv = rk_test_slurp(out, "frtb_es.csv");
    t = row(csv, "TOTAL");
    ck_assert_close(num(t, 1), -tot3, 0, TOL_PRICE);
    free(t);
    free(csv);
    free(data);
    free(out);
}
END_TEST

START_TEST(frtb_liquidity_file_errors)
{
    char *data = sub("frtb"), *out = sub("frtb_out");
    char liq[4200];
    snprintf(liq, sizeof liq, "%s/liquidity.csv", data);
    const char *args[] = {"var",         "--data", data, "--out",   out, "--method",
                          "historical", "--liquidity", liq, "--quiet", NULL};
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"factor,liquidity_horizon\nEQ,20\nFX,60\n", "factor 'RT' has no liquidity horizon"},
        {"factor,liquidity_horizon\nEQ,20\nFX,30\nRT,10\n", "liquidity.csv:3:2:"},
        {"factor,liquidity_horizon\nEQ,20\nXX,60\nRT,10\n", "liquidity.csv:3:1: unknown factor"},
        {"factor,liquidity_horizon\nEQ,20\nEQ,60\nRT,10\n", "liquidity.csv:3:1: duplicate"},
        {"factor,horizon\nEQ,20\n", "liquidity.csv:1:1: header"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        frtb_data(data, cases[i].text);
        ck_assert_int_eq(run_args(args), 1);
        char *err = rk_test_slurp(tmp, "stderr.txt");
        ck_assert_msg(strstr(err, cases[i].want) != NULL, "case %zu: stderr %s", i, err);
        free(err);
    }
    /* --liquidity belongs to historical VaR */
    const char *mc[] = {"var", "--data", data, "--out", out, "--method", "mc", "--liquidity",
                        liq, "--quiet", NULL};
    ck_assert_int_eq(run_args(mc), 2);
    free(data);
    free(out);
}
END_TEST

START_TEST(frtb_one_horizon_is_scaled_historical_es)
{
    /* Every factor at 10 days: ES_10(P, j >= 2) = 0 and the adjusted ES is ES_10(P), the
     * historical ES at 97.5% of the scenarios scaled by sqrt(10). Replaying the sample's
     * scenarios scaled by hand as a historical run must give the same bits. */
    char *liqdir = sub("liq"), *out = sub("o1"), *scaled = sub("scaled"), *out2 = sub("o2");
    mkdir(liqdir, 0777);
    char *fac = rk_test_slurp("data/sample", "factors.csv");
    ck_assert_ptr_nonnull(fac);
    size_t cap = strlen(fac) * 2 + 64;
    char *liq = calloc(1, cap);
    strcat(liq, "factor,liquidity_horizon\n");
    for (char *l = fac; *l != '\0';) {
        size_t len = strcspn(l, "\n");
        if (l[0] != '#' && strncmp(l, "factor", 6) != 0 && len > 0) {
            size_t name = strcspn(l, ",\n");
            strncat(liq, l, name);
            strcat(liq, ",10\n");
        }
        l += len + (l[len] == '\n');
    }
    ck_assert_int_eq(rk_test_write_file(liqdir, "liquidity.csv", liq), 0);
    char liqpath[4200];
    snprintf(liqpath, sizeof liqpath, "%s/liquidity.csv", liqdir);
    const char *args[] = {"var",         "--data",      "data/sample", "--out", out, "--method",
                          "historical", "--liquidity", liqpath,       "--quiet", NULL};
    ck_assert_int_eq(run_args(args), 0);

    /* the same scenarios times sqrt(10), written with 17 digits */
    mkdir(scaled, 0777);
    static const char *files[] = {"factors.csv", "covariance.csv", "underlyings.csv",
                                  "positions.csv"};
    for (size_t i = 0; i < 4; i++) {
        char *t = rk_test_slurp("data/sample", files[i]);
        ck_assert_int_eq(rk_test_write_file(scaled, files[i], t), 0);
        free(t);
    }
    char *sc = rk_test_slurp("data/sample", "scenarios.csv");
    size_t scap = strlen(sc) * 4 + 64, at = 0;
    char *sc2 = calloc(1, scap);
    for (char *l = sc; *l != '\0';) {
        size_t len = strcspn(l, "\n");
        if (l[0] == '#' || strncmp(l, "scenario,", 9) == 0) {
            at += (size_t)snprintf(sc2 + at, scap - at, "%.*s\n", (int)len, l);
        } else {
            size_t nm = strcspn(l, ",");
            at += (size_t)snprintf(sc2 + at, scap - at, "%.*s", (int)nm, l);
            for (char *p = l + nm; p < l + len && *p == ',';) {
                char *end;
                double v = strtod(p + 1, &end);
                at += (size_t)snprintf(sc2 + at, scap - at, ",%.17g",
                                       end == p + 1 ? 0.0 : v * sqrt(10.0));
                p = end;
            }
            at += (size_t)snprintf(sc2 + at, scap - at, "\n");
        }
        l += len + (l[len] == '\n');
    }
    ck_assert_int_eq(rk_test_write_file(scaled, "scenarios.csv", sc2), 0);
    const char *args2[] = {"var",        "--data",        scaled, "--out",   out2, "--method",
                           "historical", "--es-confidence", "0.975", "--quiet", NULL};
    ck_assert_int_eq(run_args(args2), 0);
    char *frtb = rk_test_slurp(out, "frtb_es.csv"), *var = rk_test_slurp(out2, "var.csv");
    char *ft = row(frtb, "TOTAL"), *vt = row(var, "TOTAL");
    ck_assert_ptr_nonnull(ft);
    ck_assert_ptr_nonnull(vt);
    /* the same doubles (x * sqrt(10), and %.17g reads back exactly): the same bits */
    ck_assert_str_eq(field(ft, 1), field(vt, 4));
    ck_assert_close(num(ft, 6), num(ft, 1), 0, TOL_TEXT);
    for (int j = 2; j <= 5; j++)
        ck_assert_close(num(ft, j), 0.0, 0, 0);
    free(ft);
    free(vt);
    free(frtb);
    free(var);
    free(sc);
    free(sc2);
    free(fac);
    free(liq);
    free(liqdir);
    free(out);
    free(scaled);
    free(out2);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("regulatory");
    TCase *tc = tcase_create("regulatory");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, frtb_es_by_hand);
    tcase_add_test(tc, frtb_liquidity_file_errors);
    tcase_add_test(tc, frtb_one_horizon_is_scaled_historical_es);
    suite_add_tcase(s, tc);
    return s;
}
