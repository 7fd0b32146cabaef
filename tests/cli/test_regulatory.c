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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

#define TOL_PRICE 1e-12 /* a spot's P&L through exp(), against the same closed form, relative */
#define TOL_TEXT 1e-15  /* numbers read back from shortest round-trip text, relative */

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
    return rk_test_run_program(rk_test_tmp, args);
}

START_TEST(frtb_es_by_hand)
{
    char *data = rk_test_tmp_path("frtb"), *out = rk_test_tmp_path("frtb_out");
    frtb_data(data, "factor,liquidity_horizon\nEQ,20\nFX,60\nRT,10\n");
    char liq[4200];
    snprintf(liq, sizeof liq, "%s/liquidity.csv", data);
    const char *args[] = {"var",        "--data",      data, "--out",   out, "--method",
                          "historical", "--liquidity", liq,  "--quiet", NULL};
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
    const char *args10[] = {"var",      "--data",     data,          "--out", out,
                            "--method", "historical", "--liquidity", liq,     "--horizon",
                            "10",       "--quiet",    NULL};
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
    char *data = rk_test_tmp_path("frtb"), *out = rk_test_tmp_path("frtb_out");
    char liq[4200];
    snprintf(liq, sizeof liq, "%s/liquidity.csv", data);
    const char *args[] = {"var",        "--data",      data, "--out",   out, "--method",
                          "historical", "--liquidity", liq,  "--quiet", NULL};
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
        char *err = rk_test_slurp(rk_test_tmp, "stderr.txt");
        ck_assert_msg(strstr(err, cases[i].want) != NULL, "case %zu: stderr %s", i, err);
        free(err);
    }
    const char *help[] = {"var", "--help", NULL};
    ck_assert_int_eq(run_args(help), 0);
    char *usage = rk_test_slurp(rk_test_tmp, "stdout.txt");
    ck_assert_ptr_nonnull(strstr(usage, "--liquidity FILE"));
    free(usage);
    /* --liquidity belongs to historical VaR */
    const char *mc[] = {"var", "--data",      data, "--out",   out, "--method",
                        "mc",  "--liquidity", liq,  "--quiet", NULL};
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
    char *liqdir = rk_test_tmp_path("liq"), *out = rk_test_tmp_path("o1"),
         *scaled = rk_test_tmp_path("scaled"), *out2 = rk_test_tmp_path("o2");
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
    const char *args[] = {"var",        "--data",      "data/sample", "--out",   out, "--method",
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
    const char *args2[] = {"var",        "--data",          scaled,  "--out",   out2, "--method",
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

/* ---- backtest ---- */

/* Day i after 2022-01-01 as YYYY-MM-DD (calendar days are as good as business days here). */
static void day(int i, char out[40])
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = 2022, m = 0, d = i;
    for (;;) {
        int len = mdays[m] + (m == 1 && y % 4 == 0 ? 1 : 0);
        if (d < len)
            break;
        d -= len;
        if (++m == 12) {
            m = 0;
            y++;
        }
    }
    snprintf(out, 40, "%04d-%02d-%02d", y, m + 1, d + 1);
}

/* DESK: 260 days, VaR 10; the 10 oldest are all exceptions (outside a 250-day window), then
 * exceptions on window days 10, 11, 100, 200, 201, 202; window day 50 loses exactly the VaR
 * (not an exception: the loss must exceed it). TOTAL: 3 quiet days. DUP: a date twice.
 * A row with an impossible date. Written newest first. */
static char *pnl_history(void)
{
    size_t cap = 64 * 300, at = 0;
    char *t = malloc(cap), d[40];
    at += (size_t)snprintf(t + at, cap - at, "# realised P&L\ndate,book,pnl,var\n");
    for (int i = 259; i >= 0; i--) {
        int w = i - 10; /* window day */
        bool exc = w < 0 || w == 10 || w == 11 || w == 100 || w == 200 || w == 201 || w == 202;
        const char *pnl = exc ? "-20" : w == 50 ? "-10" : "1.5";
        day(i, d);
        at += (size_t)snprintf(t + at, cap - at, "%s,DESK,%s,10\n", d, pnl);
    }
    for (int i = 0; i < 3; i++) {
        day(300 + i, d);
        at += (size_t)snprintf(t + at, cap - at, "%s,TOTAL,-1,5\n", d);
    }
    at += (size_t)snprintf(t + at, cap - at,
                           "2022-03-01,DUP,1,1\n2022-03-02,DUP,1,1\n"
                           "2022-03-01,DUP,2,1\n2022-02-30,OTHER,1,1\n");
    return t;
}

START_TEST(backtest_by_hand)
{
    char *out = rk_test_tmp_path("bt");
    char *hist = pnl_history();
    ck_assert_int_eq(rk_test_write_file(rk_test_tmp, "pnl.csv", hist), 0);
    char *path = rk_test_tmp_path("pnl.csv");
    const char *args[] = {"backtest", "--pnl", path, "--out", out, "--quiet", NULL};
    ck_assert_int_eq(run_args(args), 0);
    char *csv = rk_test_slurp(out, "backtest.csv");
    ck_assert_ptr_nonnull(csv);
    const char *hdr = "book,days,exceptions,expected,exception_rate,kupiec_lr,kupiec_p,"
                      "christoffersen_lr,christoffersen_p,zone,plus_factor\n";
    ck_assert_msg(strncmp(csv, hdr, strlen(hdr)) == 0, "header: %s", csv);
    /* books in name order, DUP left out */
    const char *d = strstr(csv, "\nDESK,"), *t = strstr(csv, "\nTOTAL,");
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_nonnull(t);
    ck_assert(d < t);
    ck_assert_ptr_null(strstr(csv, "DUP"));
    char *desk = row(csv, "DESK"), *tot = row(csv, "TOTAL");
    ck_assert_str_eq(field(desk, 1), "250");
    ck_assert_str_eq(field(desk, 2), "6");
    ck_assert_close(num(desk, 3), 2.5, 0, 1e-14);
    ck_assert_close(num(desk, 4), 0.024, 0, TOL_TEXT);
    /* Kupiec: -2 [244 ln 0.99 + 6 ln 0.01 - 244 ln 0.976 - 6 ln 0.024] = 3.5553548;
     * Christoffersen: n00 = 240, n01 = 3, n10 = 3, n11 = 3 (see test_backtest.c) = 15.915297 */
    ck_assert_close(num(desk, 5), 3.5553547710617437, 0, 1e-12);
    ck_assert_close(num(desk, 6), erfc(sqrt(3.5553547710617437 / 2)), 0, 1e-12);
    ck_assert_close(num(desk, 7), 15.915296651119732, 0, 1e-12);
    ck_assert_close(num(desk, 8), erfc(sqrt(15.915296651119732 / 2)), 0, 1e-11);
    ck_assert_str_eq(field(desk, 9), "yellow");
    ck_assert_close(num(desk, 10), 0.5, 0, 0);
    /* TOTAL: 3 days, none: Kupiec -2 * 3 ln 0.99, Christoffersen 0 (p 1), green */
    ck_assert_str_eq(field(tot, 1), "3");
    ck_assert_str_eq(field(tot, 2), "0");
    ck_assert_close(num(tot, 5), -6.0 * log(0.99), 0, 1e-12);
    ck_assert_close(num(tot, 7), 0.0, 0, 0);
    ck_assert_close(num(tot, 8), 1.0, 0, 0);
    ck_assert_str_eq(field(tot, 9), "green");
    ck_assert_close(num(tot, 10), 0.0, 0, 0);
    /* one record for the duplicate (naming both lines) and one for the bad date */
    char *err = rk_test_slurp(out, "errors.csv");
    ck_assert_ptr_nonnull(strstr(err, "pnl.csv:268:1: book 'DUP' has 2022-03-01 twice (also "
                                      "line 266)"));
    ck_assert_ptr_nonnull(strstr(err, "pnl.csv:269:1: date is not a calendar date"));
    size_t lines = 0;
    for (const char *p = err; *p != '\0'; p++)
        lines += *p == '\n';
    ck_assert_uint_eq(lines, 3);
    char *sum = rk_test_slurp(out, "summary.json");
    ck_assert_ptr_nonnull(strstr(sum, "\"yellow\": 1"));
    ck_assert_ptr_nonnull(strstr(sum, "\"books_left_out\": 1"));
    free(sum);
    free(err);
    free(desk);
    free(tot);
    free(csv);

    /* the last 5 days of DESK hold no exception */
    const char *w5[] = {"backtest", "--pnl", path, "--out", out, "--window", "5", "--quiet", NULL};
    ck_assert_int_eq(run_args(w5), 0);
    csv = rk_test_slurp(out, "backtest.csv");
    desk = row(csv, "DESK");
    ck_assert_str_eq(field(desk, 1), "5");
    ck_assert_str_eq(field(desk, 2), "0");
    free(desk);
    free(csv);

    /* --help, command-line and file errors */
    const char *help[] = {"backtest", "--help", NULL};
    ck_assert_int_eq(run_args(help), 0);
    char *usage = rk_test_slurp(rk_test_tmp, "stdout.txt");
    ck_assert_ptr_nonnull(strstr(usage, "usage: riskengine backtest --pnl FILE"));
    free(usage);
    const char *nopnl[] = {"backtest", "--out", out, NULL};
    ck_assert_int_eq(run_args(nopnl), 2);
    const char *badconf[] = {"backtest", "--pnl", path, "--out", out, "--confidence", "1", NULL};
    ck_assert_int_eq(run_args(badconf), 2);
    const char *missing[] = {"backtest", "--pnl", "/nonexistent/pnl.csv", "--out", out, NULL};
    ck_assert_int_eq(run_args(missing), 1);
    ck_assert_int_eq(rk_test_write_file(rk_test_tmp, "pnl.csv", "date,book,pnl\n2022-01-01,A,1\n"),
                     0);
    ck_assert_int_eq(run_args(args), 1);
    err = rk_test_slurp(rk_test_tmp, "stderr.txt");
    ck_assert_msg(strstr(err, "pnl.csv:1:1: missing column 'var'") != NULL, "%s", err);
    free(err);
    free(hist);
    free(path);
    free(out);
}
END_TEST

START_TEST(batch_reports_both)
{
    char *data = rk_test_tmp_path("frtb"), *out = rk_test_tmp_path("batch"),
         *vout = rk_test_tmp_path("var"), *bout = rk_test_tmp_path("bt");
    frtb_data(data, "factor,liquidity_horizon\nEQ,20\nFX,60\nRT,10\n");
    char liq[4200];
    snprintf(liq, sizeof liq, "%s/liquidity.csv", data);
    char *hist = pnl_history();
    ck_assert_int_eq(rk_test_write_file(rk_test_tmp, "pnl.csv", hist), 0);
    char *path = rk_test_tmp_path("pnl.csv");
    const char *args[] = {"batch", "--data", data,          "--out", out,       "--liquidity", liq,
                          "--pnl", path,     "--scenarios", "200",   "--quiet", NULL};
    ck_assert_int_eq(run_args(args), 0);
    const char *vargs[] = {"var",        "--data",      data, "--out",   vout, "--method",
                           "historical", "--liquidity", liq,  "--quiet", NULL};
    ck_assert_int_eq(run_args(vargs), 0);
    const char *bargs[] = {"backtest", "--pnl", path, "--out", bout, "--quiet", NULL};
    ck_assert_int_eq(run_args(bargs), 0);
    /* the batch's files are the commands' own */
    static const struct {
        const char *name, *dir;
    } same[] = {{"frtb_es.csv", "var"}, {"backtest.csv", "bt"}};
    for (size_t i = 0; i < 2; i++) {
        char *other = rk_test_tmp_path(same[i].dir);
        char *a = rk_test_slurp(out, same[i].name), *b = rk_test_slurp(other, same[i].name);
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(b);
        ck_assert_str_eq(a, b);
        free(a);
        free(b);
        free(other);
    }
    char *html = rk_test_slurp(out, "report.html");
    ck_assert_ptr_nonnull(strstr(html, "FRTB expected shortfall"));
    ck_assert_ptr_nonnull(strstr(html, "VaR backtesting"));
    ck_assert_ptr_nonnull(strstr(html, "Figure B1. Book TOTAL"));
    ck_assert_ptr_nonnull(strstr(html, "Figure B2. Book DESK"));
    ck_assert_ptr_nonnull(strstr(html, ">yellow<"));
    /* the three figures of every batch and the two books' P&L against -VaR */
    size_t svg = 0;
    for (const char *p = html; (p = strstr(p, "<svg")) != NULL; p++)
        svg++;
    ck_assert_uint_eq(svg, 5);
    char *sum = rk_test_slurp(out, "summary.json");
    ck_assert_ptr_nonnull(strstr(sum, "\"backtest\": {"));
    ck_assert_ptr_nonnull(strstr(sum, "\"frtb_es_liquidity_adjusted\""));
    free(sum);
    free(html);
    free(hist);
    free(path);
    free(data);
    free(out);
    free(vout);
    free(bout);
}
END_TEST

START_TEST(frtb_deadline_partial)
{
    /* W1's positions under 64 exported Monte Carlo scenarios as history, every factor at 10
     * days but the first at 120: six sets of 64 x 10,000 revaluations, cut by a deadline */
    char *w1 = rk_test_tmp_path("w1"), *mc = rk_test_tmp_path("mc"), *out = rk_test_tmp_path("dl");
    const char *gen[] = {"generate", "--preset", "w1", "--out", w1, "--quiet", NULL};
    ck_assert_int_eq(run_args(gen), 0);
    const char *exp[] = {"var",     "--data",
                         w1,        "--out",
                         mc,        "--method",
                         "mc",      "--scenarios",
                         "64",      "--write-scenarios",
                         "--quiet", NULL};
    ck_assert_int_eq(run_args(exp), 0);
    char *sc = rk_test_slurp(mc, "scenarios.csv");
    ck_assert_int_eq(rk_test_write_file(w1, "scenarios.csv", sc), 0);
    /* the header of the export names every factor */
    size_t hl = strcspn(sc, "\n");
    char *liq = calloc(1, hl * 2 + 64);
    strcat(liq, "factor,liquidity_horizon\n");
    bool first = true;
    for (char *p = strchr(sc, ',') + 1; p < sc + hl;) {
        size_t n = strcspn(p, ",\n");
        strncat(liq, p, n);
        strcat(liq, first ? ",120\n" : ",10\n");
        first = false;
        p += n + 1;
    }
    ck_assert_int_eq(rk_test_write_file(w1, "liquidity.csv", liq), 0);
    char liqpath[4200];
    snprintf(liqpath, sizeof liqpath, "%s/liquidity.csv", w1);
    const char *args[] = {"var",        "--data",      w1,      "--out",         out,  "--method",
                          "historical", "--liquidity", liqpath, "--deadline-ms", "30", "--quiet",
                          NULL};
    ck_assert_int_eq(run_args(args), 0);
    char *sum = rk_test_slurp(out, "summary.json");
    ck_assert_ptr_nonnull(strstr(sum, "\"reached\": true"));
    const char *c = strstr(sum, "\"frtb_es\": ");
    ck_assert_ptr_nonnull(c);
    double cov = strtod(c + strlen("\"frtb_es\": "), NULL);
    ck_assert_msg(cov < 1.0, "FRTB coverage %g under a 30 ms deadline", cov);
    char *csv = rk_test_slurp(out, "frtb_es.csv");
    char *t = row(csv, "TOTAL");
    ck_assert_ptr_nonnull(t);
    ck_assert_close(num(t, 7), cov, 0, 0);
    char *err = rk_test_slurp(out, "errors.csv");
    ck_assert_ptr_nonnull(strstr(err, "FRTB liquidity horizon"));
    ck_assert_ptr_nonnull(strstr(err, ",DEADLINE,"));
    free(err);
    free(t);
    free(csv);
    free(sum);
    free(liq);
    free(sc);
    free(w1);
    free(mc);
    free(out);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("regulatory");
    TCase *tc = tcase_create("regulatory");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, rk_test_tmp_setup, rk_test_tmp_teardown);
    tcase_add_test(tc, frtb_es_by_hand);
    tcase_add_test(tc, frtb_liquidity_file_errors);
    tcase_add_test(tc, frtb_one_horizon_is_scaled_historical_es);
    tcase_add_test(tc, frtb_deadline_partial);
    tcase_add_test(tc, backtest_by_hand);
    tcase_add_test(tc, batch_reports_both);
    suite_add_tcase(s, tc);
    return s;
}
