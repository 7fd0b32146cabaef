/*
 * test_generate.c - the seeded generator: same seed same bytes, another seed other bytes, the
 * presets' counts and mix within named tolerances, a positive definite covariance, the
 * committed data/sample reproduced byte for byte from seed 1, and dense loadings.
 *
 * The committed sample is found at data/sample relative to the working directory (make test
 * runs from the repository root) or under $RK_SOURCE_DIR.
 */
#include <lapacke.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "harness.h"
#include "model.h"

/* Mix tolerance: |share - target| <= MIX_TOL for instruments and underlying kinds. */
#define MIX_TOL 0.01

static const char *const files[] = {"factors.csv", "covariance.csv", "underlyings.csv",
                                    "positions.csv", "scenarios.csv"};

/* The whole file, or NULL when it does not exist. */
static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            char *b = realloc(buf, cap);
            if (b == NULL) {
                free(buf);
                buf = NULL;
            }
            buf = b;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* 1 when every file is present in both or absent in both, with the same bytes. */
static int same_files(const char *a, const char *b)
{
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        size_t la = 0, lb = 0;
        char *x = slurp(a, files[k], &la), *y = slurp(b, files[k], &lb);
        int same = (x == NULL && y == NULL) ||
                   (x != NULL && y != NULL && la == lb && memcmp(x, y, la) == 0);
        free(x);
        free(y);
        if (!same)
            return 0;
    }
    return 1;
}

static char *gen_dir_with(const char *preset, uint64_t seed, dat_loadings loadings)
{
    char *d = rk_test_tmpdir();
    ck_assert_ptr_nonnull(d);
    char msg[512];
    rk_status st = dat_generate_with(dat_preset_find(preset), seed, loadings, d, msg, sizeof msg);
    ck_assert_msg(st == RK_OK, "%s: %s", preset, msg);
    return d;
}

static char *gen_dir(const char *preset, uint64_t seed)
{
    return gen_dir_with(preset, seed, DAT_LOADINGS_SPARSE);
}

/* 1 when file `name` has the same bytes in both folders. */
static int same_file(const char *a, const char *b, const char *name)
{
    size_t la = 0, lb = 0;
    char *x = slurp(a, name, &la), *y = slurp(b, name, &lb);
    int same = x != NULL && y != NULL && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

static void drop(char *d)
{
    rk_test_rmtree(d);
    free(d);
}

START_TEST(same_seed_same_bytes)
{
    char *a = gen_dir("sample", 7), *b = gen_dir("sample", 7), *c = gen_dir("sample", 8);
    ck_assert(same_files(a, b));
    ck_assert(!same_files(a, c));
    size_t la, lc;
    char *x = slurp(a, "positions.csv", &la), *y = slurp(c, "positions.csv", &lc);
    ck_assert(la != lc || memcmp(x, y, la) != 0);
    free(x);
    free(y);
    drop(a);
    drop(b);
    drop(c);
    char *w1 = gen_dir("w1", 42), *w1b = gen_dir("w1", 42);
    ck_assert(same_files(w1, w1b));
    drop(w1);
    drop(w1b);
}
END_TEST

START_TEST(committed_sample_reproduced)
{
    const char *src = getenv("RK_SOURCE_DIR");
    char sample[4096];
    snprintf(sample, sizeof sample, "%s/data/sample", src != NULL ? src : ".");
    size_t len;
    char *probe = slurp(sample, "positions.csv", &len);
    ck_assert_msg(probe != NULL, "%s/positions.csv not found (run from the repository root)",
                  sample);
    free(probe);
    char *d = gen_dir("sample", 1);
    ck_assert_msg(same_files(sample, d),
                  "data/sample differs from the sample preset with seed 1: regenerate it with "
                  "riskengine generate --preset sample --seed 1 --out data/sample");
    drop(d);
}
END_TEST

START_TEST(presets_table)
{
    const struct {
        const char *name;
        size_t npos, nund, F, nbooks, nscen;
        bool trees;
    } want[] = {
        {"sample", 200, 30, 8, 4, 256, true},
        {"w1", 10000, 2000, 50, 20, 0, false},
        {"w2", 1000000, 50000, 50, 20, 10, true},
        {"w3", 100000, 10000, 50, 20, 500, true},
    };
    for (size_t i = 0; i < 4; i++) {
        const dat_preset *p = dat_preset_find(want[i].name);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(p->npositions, want[i].npos);
        ck_assert_uint_eq(p->nund, want[i].nund);
        ck_assert_uint_eq(p->nfactors, want[i].F);
        ck_assert_uint_eq(p->nbooks, want[i].nbooks);
        ck_assert_uint_eq(p->nscenarios, want[i].nscen);
        ck_assert(p->trees == want[i].trees);
    }
    ck_assert_uint_eq(dat_preset_find("w2")->nstress, 10);
    ck_assert_uint_eq(dat_preset_find("w3")->nstress, 0);
    ck_assert_ptr_null(dat_preset_find("w4"));
    ck_assert_ptr_null(dat_preset_find(NULL));
    char msg[256];
    ck_assert_int_eq(dat_generate(NULL, 1, "/tmp", msg, sizeof msg), RK_BAD_ARGUMENT);
    ck_assert_int_eq(dat_generate(dat_preset_find("sample"), 1, "/nonexistent/a/b", msg,
                                  sizeof msg),
                     RK_IO);
}
END_TEST

typedef struct mix {
    size_t kind[MDL_KIND_COUNT];
    size_t und_kind[DAT_UND_KIND_COUNT];
    size_t trees, americans, rate_lit, rate_ref, vol_lit, vol_ref;
} mix;

static mix count_mix(const dat_dataset *ds)
{
    mix m;
    memset(&m, 0, sizeof m);
    const dat_positions *p = &ds->pos;
    for (size_t i = 0; i < p->n; i++) {
        if (p->kind[i] < MDL_KIND_COUNT)
            m.kind[p->kind[i]]++;
        if (p->kind[i] == MDL_AMER_CALL || p->kind[i] == MDL_AMER_PUT) {
            m.americans++;
            m.trees += p->steps[i] > 0;
        }
        bool opt = p->kind[i] >= MDL_EURO_CALL && p->kind[i] <= MDL_AMER_PUT;
        if (opt || p->kind[i] == MDL_FORWARD) {
            if (p->rate[i] == DAT_NONE)
                m.rate_lit++;
            else
                m.rate_ref++;
        }
        if (opt) {
            if (p->vol[i] == DAT_NONE)
                m.vol_lit++;
            else
                m.vol_ref++;
        }
    }
    for (size_t u = 0; u < ds->mkt.nund; u++)
        m.und_kind[ds->mkt.und_kind[u]]++;
    return m;
}

static void check_share(size_t count, size_t total, double target, const char *what)
{
    double share = (double)count / (double)total;
    ck_assert_msg(fabs(share - target) <= MIX_TOL, "%s: %.4f, want %.2f +- %.2f", what, share,
                  target, MIX_TOL);
}

static void check_mix(const dat_dataset *ds)
{
    mix m = count_mix(ds);
    size_t n = ds->pos.n;
    check_share(m.kind[MDL_EURO_CALL] + m.kind[MDL_EURO_PUT], n, 0.35, "european");
    check_share(m.kind[MDL_EURO_CALL], n, 0.175, "european calls");
    check_share(m.kind[MDL_AMER_CALL] + m.kind[MDL_AMER_PUT], n, 0.10, "american");
    check_share(m.kind[MDL_BOND], n, 0.25, "bond");
    check_share(m.kind[MDL_FORWARD], n, 0.15, "forward");
    check_share(m.kind[MDL_SPOT], n, 0.15, "spot");
    size_t nu = ds->mkt.nund;
    check_share(m.und_kind[DAT_UND_SPOT], nu, 0.70, "spot underlyings");
    check_share(m.und_kind[DAT_UND_RATE], nu, 0.15, "rate underlyings");
    check_share(m.und_kind[DAT_UND_VOL], nu, 0.15, "vol underlyings");
    /* Some rate and vol cells are literals, most are references. */
    ck_assert(m.rate_lit > 0 && m.rate_ref > m.rate_lit);
    ck_assert(m.vol_lit > 0 && m.vol_ref > m.vol_lit);
}

/* Covariance symmetric and positive definite (Cholesky succeeds), with daily vols in the
 * expected ranges by factor family. */
static void check_covariance(const dat_market *m)
{
    size_t F = m->nfactors;
    double *a = malloc(F * F * sizeof *a);
    memcpy(a, m->cov, F * F * sizeof *a);
    ck_assert_int_eq(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)F, a, (lapack_int)F), 0);
    free(a);
    for (size_t i = 0; i < F; i++) {
        double vol = sqrt(m->cov[i * F + i]);
        const char *name = m->factor[i];
        if (strncmp(name, "IR_", 3) == 0 || strncmp(name, "CR_", 3) == 0)
            ck_assert_msg(vol > 5e-5 && vol < 1e-3, "%s daily vol %g", name, vol);
        else if (strncmp(name, "VOL_", 4) == 0)
            ck_assert_msg(vol > 0.005 && vol < 0.05, "%s daily vol %g", name, vol);
        else if (strncmp(name, "EQ_", 3) == 0)
            ck_assert_msg(vol > 0.002 && vol < 0.02, "%s daily vol %g", name, vol);
        for (size_t j = 0; j < F; j++)
            ck_assert(m->cov[i * F + j] == m->cov[j * F + i]);
    }
}

START_TEST(loadings_names)
{
    dat_loadings l = DAT_LOADINGS_DENSE;
    ck_assert(dat_loadings_parse("sparse", &l) && l == DAT_LOADINGS_SPARSE);
    ck_assert(dat_loadings_parse("dense", &l) && l == DAT_LOADINGS_DENSE);
    ck_assert(!dat_loadings_parse("Dense", &l) && l == DAT_LOADINGS_DENSE);
    ck_assert(!dat_loadings_parse(NULL, &l));
    ck_assert_str_eq(dat_loadings_name(DAT_LOADINGS_SPARSE), "sparse");
    ck_assert_str_eq(dat_loadings_name(DAT_LOADINGS_DENSE), "dense");
    ck_assert_ptr_null(dat_loadings_name((dat_loadings)7));
    char msg[256];
    ck_assert_int_eq(dat_generate_with(dat_preset_find("sample"), 1, (dat_loadings)7, "/tmp", msg,
                                       sizeof msg),
                     RK_BAD_ARGUMENT);
}
END_TEST

/*
 * Dense loadings: byte-identical per seed, another seed other bytes; against the sparse data
 * set of the same seed only the loadings (and the comment line of factors.csv) differ; every
 * spot underlying loads on every factor and keeps its sparse loadings; rates and vols are as
 * in the sparse set; the covariance stays positive definite.
 */
static void check_dense(const char *preset, uint64_t seed)
{
    char *d = gen_dir_with(preset, seed, DAT_LOADINGS_DENSE);
    char *d2 = gen_dir_with(preset, seed, DAT_LOADINGS_DENSE);
    char *d3 = gen_dir_with(preset, seed + 1, DAT_LOADINGS_DENSE);
    char *sp = gen_dir(preset, seed);
    ck_assert(same_files(d, d2));
    ck_assert(!same_file(d, d3, "underlyings.csv"));
    ck_assert(!same_file(d, sp, "underlyings.csv"));
    ck_assert(same_file(d, sp, "covariance.csv"));
    ck_assert(same_file(d, sp, "positions.csv"));
    if (dat_preset_find(preset)->nscenarios > 0)
        ck_assert(same_file(d, sp, "scenarios.csv"));

    dat_dataset dn, ds;
    char msg[512];
    ck_assert_msg(dat_load(d, NULL, &dn, msg, sizeof msg) == RK_OK, "%s", msg);
    ck_assert_msg(dat_load(sp, NULL, &ds, msg, sizeof msg) == RK_OK, "%s", msg);
    check_covariance(&dn.mkt);
    size_t F = dn.mkt.nfactors, nspot = 0;
    ck_assert_uint_eq(dn.mkt.nund, ds.mkt.nund);
    ck_assert_uint_eq(dn.nerrors, ds.nerrors);
    for (size_t u = 0; u < dn.mkt.nund; u++) {
        ck_assert_str_eq(dn.mkt.und[u], ds.mkt.und[u]);
        ck_assert(dn.mkt.und_value[u] == ds.mkt.und_value[u] ||
                  (dn.mkt.und_ok[u] == 0 && ds.mkt.und_ok[u] == 0));
        const double *bn = &dn.mkt.beta[u * F], *bs = &ds.mkt.beta[u * F];
        bool spot = dn.mkt.und_kind[u] == DAT_UND_SPOT;
        nspot += spot;
        for (size_t j = 0; j < F; j++) {
            if (spot) {
                ck_assert_msg(bn[j] != 0, "%s: no loading on %s", dn.mkt.und[u],
                              dn.mkt.factor[j]);
                if (bs[j] != 0)
                    ck_assert_msg(bn[j] == bs[j], "%s: sparse loading on %s changed",
                                  dn.mkt.und[u], dn.mkt.factor[j]);
            } else {
                ck_assert_msg(bn[j] == bs[j], "%s: loading on %s changed", dn.mkt.und[u],
                              dn.mkt.factor[j]);
            }
        }
    }
    ck_assert_uint_gt(nspot, 0);
    dat_free(&dn);
    dat_free(&ds);
    drop(d);
    drop(d2);
    drop(d3);
    drop(sp);
}

START_TEST(w1_counts_and_mix)
{
    char *d = gen_dir("w1", 1);
    dat_dataset ds;
    char msg[512];
    ck_assert_msg(dat_load(d, NULL, &ds, msg, sizeof msg) == RK_OK, "%s", msg);
    ck_assert_uint_eq(ds.pos.n, 10000);
    ck_assert_uint_eq(ds.mkt.nund, 2000);
    ck_assert_uint_eq(ds.mkt.nfactors, 50);
    ck_assert_uint_eq(ds.pos.nbooks, 20);
    ck_assert(!ds.has_scenarios);
    ck_assert_uint_eq(dat_valid_count(&ds.pos), ds.pos.n);
    ck_assert_uint_eq(ds.nerrors, 0);
    check_mix(&ds);
    ck_assert_uint_eq(count_mix(&ds).trees, 0); /* W1 has no trees */
    check_covariance(&ds.mkt);
    /* Values in plausible ranges. */
    for (size_t u = 0; u < ds.mkt.nund; u++) {
        double x = ds.mkt.und_value[u];
        if (ds.mkt.und_kind[u] == DAT_UND_RATE)
            ck_assert_msg(x >= 0.005 && x <= 0.06, "%s = %g", ds.mkt.und[u], x);
        else if (ds.mkt.und_kind[u] == DAT_UND_VOL)
            ck_assert_msg(x >= 0.05 && x <= 0.60, "%s = %g", ds.mkt.und[u], x);
        else
            ck_assert_msg(x > 0.5 && x <= 500, "%s = %g", ds.mkt.und[u], x);
    }
    for (size_t i = 0; i < ds.pos.n; i++) {
        if (ds.pos.kind[i] == MDL_BOND) {
            ck_assert(ds.pos.expiry[i] >= 1 && ds.pos.expiry[i] <= 30);
            double f = ds.pos.frequency[i];
            ck_assert(f == 1 || f == 2 || f == 4);
        } else if (ds.pos.kind[i] != MDL_SPOT) {
            ck_assert(ds.pos.expiry[i] >= 0.1 && ds.pos.expiry[i] <= 3);
            double S = ds.mkt.und_value[ds.pos.und[i]];
            double mny = ds.pos.strike[i] / S;
            ck_assert_msg(mny > 0.4 && mny < 2.5, "moneyness %g", mny);
        }
    }
    dat_free(&ds);
    drop(d);
}
END_TEST

START_TEST(w3_counts_trees_scenarios)
{
    char *d = gen_dir("w3", 1);
    dat_dataset ds;
    char msg[512];
    ck_assert_msg(dat_load(d, NULL, &ds, msg, sizeof msg) == RK_OK, "%s", msg);
    ck_assert_uint_eq(ds.pos.n, 100000);
    ck_assert_uint_eq(ds.mkt.nund, 10000);
    ck_assert_uint_eq(ds.pos.nbooks, 20);
    ck_assert(ds.has_scenarios);
    ck_assert_uint_eq(ds.scen.n, 500);
    for (size_t s = 0; s < ds.scen.n; s++)
        ck_assert(strncmp(ds.scen.name[s], "HIST_", 5) == 0);
    ck_assert_uint_eq(dat_valid_count(&ds.pos), ds.pos.n);
    check_mix(&ds);
    mix m = count_mix(&ds);
    /* One american in a hundred is a 200-step tree. */
    ck_assert_uint_eq(m.trees, (m.americans + 99) / 100);
    for (size_t i = 0; i < ds.pos.n; i++)
        ck_assert(ds.pos.steps[i] == 0 || ds.pos.steps[i] == 200);
    check_covariance(&ds.mkt);
    /* Historical shocks: their sample variance is near the covariance's diagonal (fat tails
     * included), within a loose factor. */
    size_t F = ds.mkt.nfactors;
    for (size_t j = 0; j < F; j++) {
        double s2 = 0;
        for (size_t s = 0; s < ds.scen.n; s++)
            s2 += ds.scen.shock[s * F + j] * ds.scen.shock[s * F + j];
        s2 /= (double)ds.scen.n;
        double ratio = s2 / ds.mkt.cov[j * F + j];
        ck_assert_msg(ratio > 0.6 && ratio < 2.0, "%s: variance ratio %g", ds.mkt.factor[j],
                      ratio);
    }
    dat_free(&ds);
    drop(d);
}
END_TEST

START_TEST(dense_loadings)
{
    check_dense("sample", 1);
    check_dense("w1", 42);
}
END_TEST

START_TEST(sample_contents)
{
    char *d = gen_dir("sample", 1);
    dat_dataset ds;
    char msg[512];
    ck_assert_msg(dat_load(d, NULL, &ds, msg, sizeof msg) == RK_OK, "%s", msg);
    ck_assert_uint_eq(ds.pos.n, 200);
    ck_assert_uint_eq(ds.mkt.nund, 30);
    ck_assert_uint_eq(ds.mkt.nfactors, 8);
    ck_assert_uint_eq(ds.pos.nbooks, 4);
    ck_assert_uint_eq(ds.scen.n, 256);
    size_t stress = 0;
    for (size_t s = 0; s < ds.scen.n; s++)
        stress += strncmp(ds.scen.name[s], "STRESS_", 7) == 0;
    ck_assert_uint_eq(stress, 6);
    /* The deliberately bad rows of data/sample/README.md: 19 invalid positions, two unusable
     * underlyings. */
    ck_assert_uint_eq(ds.pos.n - dat_valid_count(&ds.pos), 19);
    size_t und_errors = 0;
    for (size_t i = 0; i < ds.nerrors; i++)
        und_errors += ds.errors[i].position == SIZE_MAX;
    ck_assert_uint_eq(und_errors, 2);
    ck_assert_uint_eq(ds.nerrors, 21);
    mix m = count_mix(&ds);
    ck_assert(m.trees >= 1);
    dat_free(&ds);
    drop(d);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("data_generate");
    TCase *tc = tcase_create("generate");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, same_seed_same_bytes);
    tcase_add_test(tc, committed_sample_reproduced);
    tcase_add_test(tc, presets_table);
    tcase_add_test(tc, w1_counts_and_mix);
    tcase_add_test(tc, w3_counts_trees_scenarios);
    tcase_add_test(tc, sample_contents);
    tcase_add_test(tc, loadings_names);
    tcase_add_test(tc, dense_loadings);
    suite_add_tcase(s, tc);
    return s;
}
