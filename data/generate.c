/*
 * generate.c - the seeded data set generator (contract §6): presets sample, w1, w2, w3.
 *
 * The market model (data/README.md has the long version):
 *  - factors: a fixed list of 50 named factors (equity market, sectors, styles, regions, FX,
 *    rates level/slope/curvature per currency, credit spreads, inflation, commodities, vols);
 *    a preset with F factors takes the first F (the first 8 make a small but complete market);
 *  - covariance: Sigma = D C D with C = B B' + diag(1 - |b_i|^2), B an F x 3 matrix of loadings
 *    on three global drivers (risk appetite, rates, dollar), |b_i|^2 <= 0.85, so C is positive
 *    definite by construction; D holds daily vols (equity ~1%, rates ~5bp, vols ~3%);
 *  - underlyings load sparsely: equities on the market, one sector and maybe a style, a region
 *    and its FX; rates on level/slope/curvature of their currency with Nelson-Siegel weights by
 *    tenor (plus a credit spread for issuer yields); vols on the vol factors. With dense
 *    loadings every spot also loads a little on every other factor (densify_loadings);
 *  - scenarios: historical ones are Sigma-correlated draws (own Cholesky), one in ten fat-tailed
 *    (Student t with 3 degrees of freedom); stress ones are named, hand-written moves.
 *
 * Determinism: one xoshiro256** stream seeded through splitmix64, integer and IEEE arithmetic
 * only (own log/exp built from + - * / and frexp/ldexp, sqrt is exact in IEEE 754; no libm
 * transcendental whose last bit may vary between libraries), fixed printf formats, the C locale
 * installed with uselocale() for the duration of the call. Same (preset, seed, loadings), same
 * bytes.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "csv.h"
#include "dataset.h"
#include "model.h"

static const dat_preset presets[] = {
    {.name = "sample", .npositions = 200, .nund = 30, .nfactors = 8, .nbooks = 4,
     .nscenarios = 256, .nstress = 6, .trees = true, .bad_rows = true},
    {.name = "w1", .npositions = 10000, .nund = 2000, .nfactors = 50, .nbooks = 20,
     .nscenarios = 0, .nstress = 0, .trees = false, .bad_rows = false},
    {.name = "w2", .npositions = 1000000, .nund = 50000, .nfactors = 50, .nbooks = 20,
     .nscenarios = 10, .nstress = 10, .trees = true, .bad_rows = false},
    {.name = "w3", .npositions = 100000, .nund = 10000, .nfactors = 50, .nbooks = 20,
     .nscenarios = 500, .nstress = 0, .trees = true, .bad_rows = false},
};

const dat_preset *dat_preset_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (strcmp(presets[i].name, name) == 0)
            return &presets[i];
    return NULL;
}

/* ---- random numbers and portable elementary functions ---- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform in [0, 1). */
static double u01(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1p-53;
}

static double unif(rng *r, double a, double b)
{
    return a + (b - a) * u01(r);
}

/* Uniform integer in [0, n), n > 0 (modulo with rejection of the biased top range: exact). */
static size_t below(rng *r, size_t n)
{
    uint64_t bound = (uint64_t)n;
    uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        uint64_t x = rng_next(r);
        if (x >= threshold)
            return (size_t)(x % bound);
    }
}

static const double LN2 = 0.6931471805599453094;

/* Natural log for x > 0: frexp reduction and the atanh series. */
static double gen_log(double x)
{
    int e;
    double m = frexp(x, &e);
    if (m < 0.70710678118654752440) {
        m *= 2;
        e--;
    }
    double s = (m - 1) / (m + 1), s2 = s * s, term = s, sum = 0;
    for (int k = 0; k < 16; k++) {
        sum += term / (2 * k + 1);
        term *= s2;
    }
    return 2 * sum + e * LN2;
}

/* exp(x) for |x| < 700: reduction by ln 2 and a Taylor series. */
static double gen_exp(double x)
{
    double k = floor(x / LN2 + 0.5);
    double r = x - k * LN2;
    double term = 1, sum = 1;
    for (int n = 1; n < 24; n++) {
        term *= r / n;
        sum += term;
    }
    return ldexp(sum, (int)k);
}

/* Standard normal (Marsaglia's polar method). */
static double normal(rng *r)
{
    for (;;) {
        double a = 2 * u01(r) - 1, b = 2 * u01(r) - 1;
        double s = a * a + b * b;
        if (s > 0 && s < 1)
            return a * sqrt(-2 * gen_log(s) / s);
    }
}

/* ---- the factor table ---- */

typedef enum ftype {
    F_EQM, F_EQS, F_EQX, F_EQR, F_FX, F_IRL, F_IRS, F_IRC, F_CR, F_INF, F_CMD,
    F_VOL_EQ, F_VOL_SKEW, F_VOL_TERM, F_VOL_FX, F_VOL_IR, F_VOL_CMD
} ftype;

typedef struct factor_def {
    const char *name;
    const char *desc;
    ftype type;
    int group;  /* currency of a rate factor (0 USD, 1 EUR, 2 GBP, 3 JPY); region/FX pairing */
    double vol; /* daily standard deviation of the shock, in factor units */
    double ref; /* reference level of the matching spot (FX, commodity) */
} factor_def;

static const factor_def factor_table[50] = {
    {"EQ_MARKET", "Global equity market (log return)", F_EQM, 0, 0.010, 0},
    {"EQ_TECHNOLOGY", "Equity sector: information technology", F_EQS, 0, 0.008, 0},
    {"EQ_FINANCIALS", "Equity sector: financials", F_EQS, 0, 0.007, 0},
    {"FX_EURUSD", "FX EUR/USD spot (log return)", F_FX, 1, 0.005, 1.085},
    {"IR_USD_LEVEL", "USD rates level (rate units)", F_IRL, 0, 0.0005, 0},
    {"IR_USD_SLOPE", "USD rates slope (rate units)", F_IRS, 0, 0.0003, 0},
    {"IR_USD_CURVATURE", "USD rates curvature (rate units)", F_IRC, 0, 0.0002, 0},
    {"VOL_EQ_LEVEL", "Equity implied vol level (log change)", F_VOL_EQ, 0, 0.030, 0},
    {"EQ_ENERGY", "Equity sector: energy", F_EQS, 0, 0.010, 0},
    {"EQ_HEALTH_CARE", "Equity sector: health care", F_EQS, 0, 0.006, 0},
    {"EQ_INDUSTRIALS", "Equity sector: industrials", F_EQS, 0, 0.006, 0},
    {"EQ_CONSUMER_DISCR", "Equity sector: consumer discretionary", F_EQS, 0, 0.007, 0},
    {"EQ_CONSUMER_STAPLES", "Equity sector: consumer staples", F_EQS, 0, 0.005, 0},
    {"EQ_MATERIALS", "Equity sector: materials", F_EQS, 0, 0.007, 0},
    {"EQ_UTILITIES", "Equity sector: utilities", F_EQS, 0, 0.005, 0},
    {"EQ_REAL_ESTATE", "Equity sector: real estate", F_EQS, 0, 0.007, 0},
    {"EQ_COMMUNICATION", "Equity sector: communication services", F_EQS, 0, 0.007, 0},
    {"EQ_STYLE_SIZE", "Equity style: size (small minus big)", F_EQX, 0, 0.004, 0},
    {"EQ_STYLE_VALUE", "Equity style: value", F_EQX, 0, 0.004, 0},
    {"EQ_STYLE_MOMENTUM", "Equity style: momentum", F_EQX, 0, 0.005, 0},
    {"FX_GBPUSD", "FX GBP/USD spot (log return)", F_FX, 2, 0.005, 1.27},
    {"FX_USDJPY", "FX USD/JPY spot (log return)", F_FX, 3, 0.006, 151.2},
    {"FX_USDCHF", "FX USD/CHF spot (log return)", F_FX, 4, 0.005, 0.88},
    {"FX_AUDUSD", "FX AUD/USD spot (log return)", F_FX, 5, 0.006, 0.66},
    {"FX_USDCAD", "FX USD/CAD spot (log return)", F_FX, 6, 0.004, 1.36},
    {"FX_USDCNH", "FX USD/CNH spot (log return)", F_FX, 7, 0.003, 7.23},
    {"IR_EUR_LEVEL", "EUR rates level (rate units)", F_IRL, 1, 0.0005, 0},
    {"IR_EUR_SLOPE", "EUR rates slope (rate units)", F_IRS, 1, 0.0003, 0},
    {"IR_EUR_CURVATURE", "EUR rates curvature (rate units)", F_IRC, 1, 0.0002, 0},
    {"IR_GBP_LEVEL", "GBP rates level (rate units)", F_IRL, 2, 0.0006, 0},
    {"IR_GBP_SLOPE", "GBP rates slope (rate units)", F_IRS, 2, 0.0003, 0},
    {"IR_GBP_CURVATURE", "GBP rates curvature (rate units)", F_IRC, 2, 0.0002, 0},
    {"IR_JPY_LEVEL", "JPY rates level (rate units)", F_IRL, 3, 0.0002, 0},
    {"IR_JPY_SLOPE", "JPY rates slope (rate units)", F_IRS, 3, 0.0001, 0},
    {"IR_JPY_CURVATURE", "JPY rates curvature (rate units)", F_IRC, 3, 0.0001, 0},
    {"CR_IG_SPREAD", "Investment-grade credit spread (rate units)", F_CR, 0, 0.0002, 0},
    {"CR_HY_SPREAD", "High-yield credit spread (rate units)", F_CR, 1, 0.0006, 0},
    {"VOL_EQ_SKEW", "Equity implied vol skew (log change)", F_VOL_SKEW, 0, 0.015, 0},
    {"VOL_EQ_TERM", "Equity implied vol term structure (log change)", F_VOL_TERM, 0, 0.012, 0},
    {"VOL_FX_LEVEL", "FX implied vol level (log change)", F_VOL_FX, 0, 0.020, 0},
    {"VOL_RATES_LEVEL", "Rates implied vol level (log change)", F_VOL_IR, 0, 0.020, 0},
    {"CMD_BRENT", "Brent crude oil (log return)", F_CMD, 0, 0.020, 82.0},
    {"CMD_NATGAS", "Natural gas (log return)", F_CMD, 1, 0.035, 26.0},
    {"CMD_GOLD", "Gold (log return)", F_CMD, 2, 0.009, 205.0},
    {"CMD_COPPER", "Copper (log return)", F_CMD, 3, 0.013, 39.0},
    {"EQ_REGION_EUROPE", "Equity region: Europe", F_EQR, 1, 0.006, 0},
    {"EQ_REGION_JAPAN", "Equity region: Japan", F_EQR, 3, 0.007, 0},
    {"EQ_REGION_EM", "Equity region: emerging markets", F_EQR, 7, 0.008, 0},
    {"INFL_USD_BREAKEVEN", "USD inflation breakeven (rate units)", F_INF, 0, 0.0003, 0},
    {"VOL_CMD_LEVEL", "Commodity implied vol level (log change)", F_VOL_CMD, 0, 0.025, 0},
};

static const char *const currency[] = {"USD", "EUR", "GBP", "JPY"};
/* Long-end level and short-minus-long spread of each currency's curve. */
static const double curve_level[] = {0.042, 0.026, 0.040, 0.012};
static const double curve_short[] = {0.010, 0.006, 0.008, -0.006};
static const double tenors[] = {0.25, 0.5, 1, 2, 3, 5, 7, 10, 15, 20, 30};
static const char *const tenor_names[] = {"3M", "6M", "1Y", "2Y", "3Y", "5Y",
                                          "7Y", "10Y", "15Y", "20Y", "30Y"};
#define NTENORS 11

static const char *const book_names[] = {
    "EQ_DERIVATIVES_NY", "RATES_NY",        "EQ_DELTA_ONE_LDN", "MACRO_LDN",
    "EQ_DERIVATIVES_LDN", "RATES_LDN",      "CREDIT_NY",        "FX_OPTIONS_LDN",
    "COMMODITIES_HOU",   "EQ_DERIVATIVES_HK", "RATES_TKY",      "EQ_DELTA_ONE_NY",
    "STRUCTURED_EQ_PAR", "CREDIT_LDN",      "TREASURY_ALM",     "EM_MACRO_SGP",
    "VOL_ARB_CHI",       "INDEX_ARB_NY",    "CONVERTIBLES_LDN", "XVA_HEDGE_LDN",
};

/* Loadings of each factor type on the three global drivers (risk appetite, rates, dollar). */
static void driver_loadings(const factor_def *f, double b[3])
{
    static const double t[][3] = {
        [F_EQM] = {0.80, 0.10, -0.10},  [F_EQS] = {0.55, 0.05, 0.00},
        [F_EQX] = {0.20, 0.10, 0.00},   [F_EQR] = {0.60, 0.00, -0.20},
        [F_FX] = {0.20, 0.10, -0.60},   [F_IRL] = {0.25, 0.75, 0.10},
        [F_IRS] = {0.10, -0.30, 0.00},  [F_IRC] = {0.00, 0.10, 0.00},
        [F_CR] = {-0.60, -0.20, 0.00},  [F_INF] = {0.30, 0.50, 0.00},
        [F_CMD] = {0.40, 0.10, -0.30},  [F_VOL_EQ] = {-0.80, -0.10, 0.00},
        [F_VOL_SKEW] = {-0.30, 0.00, 0.00}, [F_VOL_TERM] = {0.30, 0.00, 0.00},
        [F_VOL_FX] = {-0.40, 0.00, 0.20}, [F_VOL_IR] = {-0.20, 0.20, 0.00},
        [F_VOL_CMD] = {-0.40, 0.00, 0.00},
    };
    for (int k = 0; k < 3; k++)
        b[k] = t[f->type][k];
    /* A pair quoted as USD per foreign unit moves the other way to the dollar driver. */
    if (f->type == F_FX && strncmp(f->name, "FX_USD", 6) == 0)
        b[2] = -b[2];
}

/* ---- output ---- */

/* A file is written as DIR/.NAME.partial and renamed to DIR/NAME once complete and synced, so
 * that no half-written file of a data set ever carries its final name. */
typedef struct out {
    FILE *f;
    char *buf;
    const char *name;
    bool err;
    char path[4096], tmp[4096];
} out;

static bool out_open(out *o, const char *dir, const char *name, char *msg, size_t msglen)
{
    memset(o, 0, sizeof *o);
    o->name = name;
    if ((size_t)snprintf(o->path, sizeof o->path, "%s/%s", dir, name) >= sizeof o->path ||
        (size_t)snprintf(o->tmp, sizeof o->tmp, "%s/.%s.partial", dir, name) >= sizeof o->tmp) {
        snprintf(msg, msglen, "%s: path too long", name);
        return false;
    }
    o->f = fopen(o->tmp, "wb");
    if (o->f == NULL) {
        snprintf(msg, msglen, "%s: cannot create: %s", o->tmp, strerror(errno));
        return false;
    }
    o->buf = malloc(1u << 20);
    if (o->buf != NULL)
        setvbuf(o->f, o->buf, _IOFBF, 1u << 20);
    return true;
}

static void outf(out *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void outf(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vfprintf(o->f, fmt, ap) < 0)
        o->err = true;
    va_end(ap);
}

/* ",v" for a loading or shock: "0" when exactly zero, else %.<prec>g (general) or %.<prec>f. */
static void out_num(out *o, bool general, int prec, double v)
{
    if (v == 0)
        outf(o, ",0");
    else if (general)
        outf(o, ",%.*g", prec, v);
    else
        outf(o, ",%.*f", prec, v);
}

static bool out_close(out *o, char *msg, size_t msglen)
{
    int err = 0;
    if (fflush(o->f) != 0)
        err = errno;
    else if (o->err || ferror(o->f))
        err = EIO; /* an earlier write failed; its errno is gone */
    if (err == 0 && fsync(fileno(o->f)) != 0)
        err = errno;
    if (fclose(o->f) != 0 && err == 0)
        err = errno;
    free(o->buf);
    if (err == 0 && rename(o->tmp, o->path) != 0)
        err = errno;
    if (err != 0) {
        unlink(o->tmp);
        snprintf(msg, msglen, "%s: cannot write: %s", o->path, strerror(err));
        return false;
    }
    return true;
}

/* Closes and removes a file left unfinished. */
static void out_discard(out *o)
{
    fclose(o->f);
    free(o->buf);
    unlink(o->tmp);
}

/* ---- the market ---- */

typedef struct und_gen {
    char name[64];
    dat_und_kind kind;
    double value;
    int sub;      /* spot: 0 equity, 1 FX, 2 commodity; rate: currency; vol: 0 equity, 1 other */
    uint32_t vol; /* spot: its vol underlying, or DAT_NONE */
    double tenor; /* rate: tenor in years */
} und_gen;

typedef struct gen {
    const dat_preset *p;
    rng r;
    size_t F;
    const factor_def *fac;
    double *cov; /* F x F */
    double *chol;
    und_gen *und;
    double *beta; /* nund x F */
    size_t nspot, nrate, nvol;
    size_t nccy;          /* currencies with a level factor */
    uint32_t govt[4][NTENORS]; /* government curve rate underlyings */
    size_t spot_pick_end, vol_pick_end; /* random picks avoid the deliberately bad ones */
    size_t namerican; /* americans written so far (every hundredth is a tree) */
    bool dense;       /* spot underlyings load on every factor */
} gen;

static int find_factor(const gen *g, const char *name)
{
    for (size_t j = 0; j < g->F; j++)
        if (strcmp(g->fac[j].name, name) == 0)
            return (int)j;
    return -1;
}

/* Factors of one type (and group when group >= 0) present in the preset. */
static size_t factors_of(const gen *g, ftype t, int group, int *idx, size_t max)
{
    size_t n = 0;
    for (size_t j = 0; j < g->F && n < max; j++)
        if (g->fac[j].type == t && (group < 0 || g->fac[j].group == group))
            idx[n++] = (int)j;
    return n;
}

static void build_covariance(gen *g)
{
    size_t F = g->F;
    double (*b)[3] = malloc(F * sizeof *b);
    double *vol = malloc(F * sizeof *vol);
    for (size_t i = 0; i < F; i++) {
        driver_loadings(&g->fac[i], b[i]);
        double n2 = 0;
        for (int k = 0; k < 3; k++) {
            if (b[i][k] != 0)
                b[i][k] += unif(&g->r, -0.05, 0.05);
            n2 += b[i][k] * b[i][k];
        }
        if (n2 > 0.85) {
            double s = sqrt(0.85 / n2);
            for (int k = 0; k < 3; k++)
                b[i][k] *= s;
        }
        vol[i] = g->fac[i].vol * unif(&g->r, 0.9, 1.1);
    }
    for (size_t i = 0; i < F; i++) {
        g->cov[i * F + i] = vol[i] * vol[i];
        for (size_t j = i + 1; j < F; j++) {
            double c = b[i][0] * b[j][0] + b[i][1] * b[j][1] + b[i][2] * b[j][2];
            g->cov[i * F + j] = g->cov[j * F + i] = (vol[i] * vol[j]) * c;
        }
    }
    free(b);
    free(vol);
}

/* Plain Cholesky (lower), written out so that its bits do not depend on a BLAS. */
static bool cholesky(const double *a, double *l, size_t n)
{
    memset(l, 0, n * n * sizeof *l);
    for (size_t j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (size_t k = 0; k < j; k++)
            d -= l[j * n + k] * l[j * n + k];
        if (!(d > 0))
            return false;
        l[j * n + j] = sqrt(d);
        for (size_t i = j + 1; i < n; i++) {
            double s = a[i * n + j];
            for (size_t k = 0; k < j; k++)
                s -= l[i * n + k] * l[j * n + k];
            l[i * n + j] = s / l[j * n + j];
        }
    }
    return true;
}

static double round_to(double x, double step)
{
    return floor(x / step + 0.5) * step;
}

static void build_underlyings(gen *g)
{
    const dat_preset *p = g->p;
    size_t n = p->nund, F = g->F;
    g->nspot = (n * 70 + 50) / 100;
    g->nrate = (n * 15 + 50) / 100;
    g->nvol = n - g->nspot - g->nrate;
    int sect[16], style[4], region[4], fx[8], cmd[4], lvl[4];
    size_t nsect = factors_of(g, F_EQS, -1, sect, 16);
    size_t nstyle = factors_of(g, F_EQX, -1, style, 4);
    size_t nregion = factors_of(g, F_EQR, -1, region, 4);
    size_t nfx = factors_of(g, F_FX, -1, fx, 8);
    size_t ncmd = factors_of(g, F_CMD, -1, cmd, 4);
    g->nccy = factors_of(g, F_IRL, -1, lvl, 4);
    int mkt = find_factor(g, "EQ_MARKET");

    /* Spots: one per FX pair, three contract months per commodity, the rest equities. */
    size_t u = 0;
    size_t nfxs = nfx, ncmds = ncmd * 3;
    if (nfxs + ncmds > g->nspot / 10) {
        nfxs = nfxs < g->nspot / 20 ? nfxs : g->nspot / 20;
        ncmds = 0;
    }
    if (nfxs == 0 && nfx > 0 && g->nspot >= 10)
        nfxs = 1;
    for (size_t k = 0; k < nfxs; k++, u++) {
        const factor_def *f = &g->fac[fx[k]];
        und_gen *x = &g->und[u];
        snprintf(x->name, sizeof x->name, "%s", f->name);
        x->kind = DAT_UND_SPOT;
        x->sub = 1;
        x->value = round_to(f->ref * unif(&g->r, 0.98, 1.02), f->ref > 20 ? 0.01 : 0.0001);
        g->beta[u * F + fx[k]] = 1;
    }
    for (size_t k = 0; k < ncmds; k++, u++) {
        const factor_def *f = &g->fac[cmd[k / 3]];
        und_gen *x = &g->und[u];
        snprintf(x->name, sizeof x->name, "%s_M%zu", f->name, k % 3 + 1);
        x->kind = DAT_UND_SPOT;
        x->sub = 2;
        x->value = round_to(f->ref * (1 + 0.01 * (double)(k % 3)) * unif(&g->r, 0.98, 1.02), 0.01);
        g->beta[u * F + cmd[k / 3]] = 1.0 - 0.08 * (double)(k % 3);
        if (mkt >= 0)
            g->beta[u * F + mkt] = round_to(unif(&g->r, 0.1, 0.3), 0.0001);
    }
    for (size_t e = 0; u < g->nspot; u++, e++) {
        und_gen *x = &g->und[u];
        double *b = &g->beta[u * F];
        x->kind = DAT_UND_SPOT;
        x->sub = 0;
        x->value = round_to(gen_exp(unif(&g->r, gen_log(10), gen_log(500))), 0.01);
        if (mkt >= 0)
            b[mkt] = round_to(unif(&g->r, 0.6, 1.4), 0.0001);
        const char *sname = "";
        if (nsect > 0) {
            int s = sect[below(&g->r, nsect)];
            b[s] = round_to(unif(&g->r, 0.4, 1.1), 0.0001);
            sname = g->fac[s].name + 3;
        }
        if (nstyle > 0 && u01(&g->r) < 0.5)
            b[style[below(&g->r, nstyle)]] = round_to(unif(&g->r, -0.5, 0.5), 0.0001);
        /* A foreign listing: its region and the FX rate to USD. */
        if (u01(&g->r) < 0.3) {
            int grp = -1;
            if (nregion > 0) {
                int rg = region[below(&g->r, nregion)];
                b[rg] = round_to(unif(&g->r, 0.6, 1.0), 0.0001);
                grp = g->fac[rg].group;
            }
            for (size_t k = 0; k < nfx; k++) {
                if (grp < 0 || g->fac[fx[k]].group == grp) {
                    bool usd_base = strncmp(g->fac[fx[k]].name, "FX_USD", 6) == 0;
                    b[fx[k]] = usd_base ? -1 : 1;
                    break;
                }
            }
        }
        snprintf(x->name, sizeof x->name, "EQ_%s_%05zu", sname, e + 1);
        x->vol = DAT_NONE;
    }
    for (size_t s = 0; s < g->nspot; s++)
        g->und[s].vol = DAT_NONE;

    /* Rates: government curves first, then issuer yields with a credit spread. */
    int slope[4], curv[4], cr[2];
    size_t ncr = factors_of(g, F_CR, -1, cr, 2);
    for (size_t c = 0; c < g->nccy; c++) {
        int grp = g->fac[lvl[c]].group;
        int tmp[1];
        slope[c] = factors_of(g, F_IRS, grp, tmp, 1) ? tmp[0] : -1;
        curv[c] = factors_of(g, F_IRC, grp, tmp, 1) ? tmp[0] : -1;
    }
    for (size_t k = 0; k < g->nrate && g->nccy > 0; k++, u++) {
        und_gen *x = &g->und[u];
        double *b = &g->beta[u * F];
        size_t c, t;
        bool govt = k < g->nccy * NTENORS;
        if (govt) {
            c = k / NTENORS;
            t = k % NTENORS;
        } else {
            c = below(&g->r, g->nccy);
            t = below(&g->r, NTENORS);
        }
        int grp = g->fac[lvl[c]].group;
        double T = tenors[t], tau = 2.0;
        double f1 = (1 - gen_exp(-T / tau)) / (T / tau), f2 = f1 - gen_exp(-T / tau);
        b[lvl[c]] = 1;
        if (slope[c] >= 0)
            b[slope[c]] = round_to(f1, 0.0001);
        if (curv[c] >= 0)
            b[curv[c]] = round_to(f2, 0.0001);
        double y = curve_level[grp] + curve_short[grp] * f1 + 0.004 * f2;
        if (govt) {
            snprintf(x->name, sizeof x->name, "IR_%s_%s", currency[grp], tenor_names[t]);
            g->govt[c][t] = (uint32_t)u;
        } else {
            bool hy = ncr > 1 && u01(&g->r) < 0.3;
            y += hy ? unif(&g->r, 0.02, 0.035) : unif(&g->r, 0.003, 0.015);
            if (ncr > 0)
                b[cr[hy ? 1 : 0]] = 1;
            snprintf(x->name, sizeof x->name, "YLD_%s_%s_%05zu_%s", currency[grp],
                     hy ? "HY" : "IG", k - g->nccy * NTENORS + 1, tenor_names[t]);
        }
        y = y < 0.005 ? 0.005 : y > 0.06 ? 0.06 : y;
        x->kind = DAT_UND_RATE;
        x->sub = grp;
        x->tenor = T;
        x->value = round_to(y, 0.000001);
    }

    /* Vols: implied vols of equities (and of FX pairs when an FX vol factor exists). */
    int veq[1] = {-1}, vskew[1] = {-1}, vterm[1] = {-1}, vfx[1] = {-1}, vcmd[1] = {-1};
    bool has_veq = factors_of(g, F_VOL_EQ, -1, veq, 1) > 0;
    bool has_skew = factors_of(g, F_VOL_SKEW, -1, vskew, 1) > 0;
    bool has_term = factors_of(g, F_VOL_TERM, -1, vterm, 1) > 0;
    bool has_vfx = factors_of(g, F_VOL_FX, -1, vfx, 1) > 0;
    bool has_vcmd = factors_of(g, F_VOL_CMD, -1, vcmd, 1) > 0;
    for (size_t k = 0; k < g->nvol; k++, u++) {
        und_gen *x = &g->und[u];
        double *b = &g->beta[u * F];
        size_t s = k % g->nspot; /* the spot this is the vol of */
        und_gen *sp = &g->und[s];
        x->kind = DAT_UND_VOL;
        /* a copy: the compiler cannot see that the spot and this vol are different rows */
        char spot_name[sizeof sp->name];
        memcpy(spot_name, sp->name, sizeof spot_name);
        if (k < g->nspot)
            snprintf(x->name, sizeof x->name, "VOL_%.40s", spot_name);
        else
            snprintf(x->name, sizeof x->name, "VOL_%.30s_%zu", spot_name, k / g->nspot + 1);
        if (sp->sub == 1) {
            if (has_vfx)
                b[vfx[0]] = 1;
            else if (has_veq)
                b[veq[0]] = 0.5;
            x->value = round_to(unif(&g->r, 0.10, 0.15), 0.0001);
            x->sub = 1;
        } else if (sp->sub == 2 && has_vcmd) {
            b[vcmd[0]] = 1;
            x->value = round_to(unif(&g->r, 0.20, 0.50), 0.0001);
            x->sub = 1;
        } else {
            if (has_veq)
                b[veq[0]] = round_to(unif(&g->r, 0.7, 1.3), 0.0001);
            if (has_skew)
                b[vskew[0]] = round_to(unif(&g->r, -0.3, 0.3), 0.0001);
            if (has_term && u01(&g->r) < 0.5)
                b[vterm[0]] = round_to(unif(&g->r, -0.3, 0.3), 0.0001);
            x->value = round_to(unif(&g->r, 0.12, 0.60), 0.0001);
            x->sub = 0;
        }
        if (k < g->nspot)
            sp->vol = (uint32_t)u;
    }
    g->spot_pick_end = g->nspot;
    g->vol_pick_end = g->nspot + g->nrate + g->nvol;
    if (p->bad_rows && g->nspot > 2 && g->nvol > 2) {
        /* The last spot and the last vol are deliberately unusable (data/sample/README.md). */
        und_gen *bs = &g->und[g->nspot - 1];
        snprintf(bs->name, sizeof bs->name, "EQ_BAD_NEGATIVE_SPOT");
        bs->value = -12.5;
        bs->vol = DAT_NONE;
        und_gen *bv = &g->und[n - 1];
        snprintf(bv->name, sizeof bv->name, "VOL_BAD_ZERO");
        bv->value = 0;
        for (size_t s = 0; s < g->nspot; s++)
            if (g->und[s].vol == n - 1)
                g->und[s].vol = DAT_NONE;
        g->spot_pick_end = g->nspot - 1;
        g->vol_pick_end = n - 1;
    }
}

/* Seeds the stream of the dense loadings: its own stream, so that a dense data set has the
 * same underlyings, values, positions and scenarios as the sparse one of the same seed, and
 * differs only in the loadings. */
#define DENSE_STREAM 0x6a09e667f3bcc909u

/*
 * Dense loadings (SPEC §6, --loadings dense): every spot underlying also loads on every factor
 * it does not load on already, as a statistical (principal component) model gives: small
 * signed loadings, drawn so that a one-standard-deviation move of the factor moves the spot by
 * 1% to 5% of what a one-standard-deviation equity market move does (the factors come in
 * different units: log returns, rate units, log vol changes). Its own market, sector, style,
 * region and FX loadings are kept. Rates and vols stay on their curve and vol factors.
 */
static void densify_loadings(gen *g, uint64_t seed)
{
    rng r;
    rng_seed(&r, seed ^ DENSE_STREAM);
    size_t F = g->F;
    const double ref = 0.010; /* EQ_MARKET's nominal daily vol */
    for (size_t u = 0; u < g->nspot; u++) {
        double *b = &g->beta[u * F];
        for (size_t j = 0; j < F; j++) {
            double c = unif(&r, 0.01, 0.05);
            bool neg = u01(&r) < 0.5;
            if (b[j] != 0)
                continue; /* the draws are made anyway: loading j of row u is fixed by (u, j) */
            double x = round_to(c * ref / g->fac[j].vol, 0.0001);
            if (x < 0.0001)
                x = 0.0001;
            b[j] = neg ? -x : x;
        }
    }
}

static bool write_market(gen *g, const char *dir, char *msg, size_t msglen)
{
    size_t F = g->F;
    out o;
    if (!out_open(&o, dir, "factors.csv", msg, msglen))
        return false;
    if (g->dense)
        outf(&o, "# riskengine generated data set: preset %s, dense loadings\n", g->p->name);
    else
        outf(&o, "# riskengine generated data set: preset %s\n", g->p->name);
    outf(&o, "factor,description\n");
    for (size_t j = 0; j < F; j++)
        outf(&o, "%s,%s\n", g->fac[j].name, g->fac[j].desc);
    if (!out_close(&o, msg, msglen))
        return false;

    if (!out_open(&o, dir, "covariance.csv", msg, msglen))
        return false;
    outf(&o, "factor");
    for (size_t j = 0; j < F; j++)
        outf(&o, ",%s", g->fac[j].name);
    outf(&o, "\n");
    for (size_t i = 0; i < F; i++) {
        outf(&o, "%s", g->fac[i].name);
        for (size_t j = 0; j < F; j++)
            out_num(&o, true, 17, g->cov[i * F + j]);
        outf(&o, "\n");
    }
    if (!out_close(&o, msg, msglen))
        return false;

    if (!out_open(&o, dir, "underlyings.csv", msg, msglen))
        return false;
    outf(&o, "underlying,kind,value");
    for (size_t j = 0; j < F; j++)
        outf(&o, ",%s", g->fac[j].name);
    outf(&o, "\n");
    for (size_t u = 0; u < g->p->nund; u++) {
        const und_gen *x = &g->und[u];
        int prec = x->kind == DAT_UND_RATE ? 6 : x->value < 20 ? 4 : 2;
        outf(&o, "%s,%s,%.*f", x->name, dat_und_kind_name(x->kind), prec, x->value);
        for (size_t j = 0; j < F; j++)
            out_num(&o, false, 4, g->beta[u * F + j]);
        outf(&o, "\n");
    }
    return out_close(&o, msg, msglen);
}

/* ---- scenarios ---- */

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil_from_days(long z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned long doe = (unsigned long)(z - era * 146097);
    unsigned long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long yy = (long)yoe + era * 400;
    unsigned long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned long mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

typedef struct stress_def {
    const char *name;
    double eqm, eqs_tech, eqs_fin, eqs_energy, eqs_other, fx_usd, ir_level, ir_slope, cr, vol,
        cmd_oil, cmd_other;
} stress_def;

/* Named stress moves in factor units (log returns, rate units, log vol changes). fx_usd is a
 * dollar move: +0.05 = the dollar 5% stronger. */
static const stress_def stress_table[] = {
    {"STRESS_EQUITY_CRASH", -0.20, -0.06, -0.04, -0.03, -0.02, 0.03, -0.0075, 0.002, 0.008, 0.60,
     -0.10, -0.05},
    {"STRESS_RATES_UP_200BP", -0.03, -0.02, 0.02, 0, 0, 0.02, 0.0200, -0.003, 0.001, 0.10, 0, 0},
    {"STRESS_RATES_DOWN_100BP", 0.01, 0.01, -0.02, 0, 0, -0.02, -0.0100, 0.002, 0, 0.05, 0, 0},
    {"STRESS_VOL_SPIKE", -0.05, -0.02, -0.01, 0, 0, 0.01, -0.0010, 0, 0.002, 0.50, 0, 0},
    {"STRESS_USD_RALLY", -0.02, 0, 0, 0, 0, 0.08, 0.0025, 0, 0, 0.10, -0.05, -0.04},
    {"STRESS_2008_REPLAY", -0.35, -0.10, -0.25, -0.05, -0.05, 0.06, -0.0150, 0.004, 0.030, 1.00,
     -0.30, -0.15},
    {"STRESS_CREDIT_WIDENING", -0.05, -0.01, -0.04, 0, 0, 0.01, -0.0020, 0.001, 0.015, 0.20, 0,
     0},
    {"STRESS_OIL_SHOCK", -0.03, -0.01, 0, 0.10, 0, 0.01, 0.0010, 0, 0.002, 0.15, 0.35, 0.05},
    {"STRESS_TECH_SELLOFF", -0.05, -0.15, 0, 0, 0, 0, -0.0010, 0, 0.001, 0.20, 0, 0},
    {"STRESS_CURVE_STEEPENER", 0, 0, 0.02, 0, 0, 0, 0.0010, 0.0080, 0, 0.05, 0, 0},
};

static void stress_shock(const gen *g, const stress_def *s, double *shock)
{
    for (size_t j = 0; j < g->F; j++) {
        const factor_def *f = &g->fac[j];
        double v = 0;
        switch (f->type) {
        case F_EQM: v = s->eqm; break;
        case F_EQS:
            v = strcmp(f->name, "EQ_TECHNOLOGY") == 0   ? s->eqs_tech
                : strcmp(f->name, "EQ_FINANCIALS") == 0 ? s->eqs_fin
                : strcmp(f->name, "EQ_ENERGY") == 0     ? s->eqs_energy
                                                        : s->eqs_other;
            break;
        case F_EQR: v = 0.5 * s->eqm; break;
        case F_EQX: v = 0; break;
        case F_FX: v = strncmp(f->name, "FX_USD", 6) == 0 ? s->fx_usd : -s->fx_usd; break;
        case F_IRL: v = s->ir_level * (f->group == 3 ? 0.3 : 1.0); break;
        case F_IRS: v = s->ir_slope; break;
        case F_IRC: v = 0; break;
        case F_CR: v = s->cr * (f->group == 1 ? 3.0 : 1.0); break;
        case F_INF: v = 0.3 * s->ir_level; break;
        case F_CMD: v = f->group == 0 ? s->cmd_oil : s->cmd_other; break;
        case F_VOL_EQ: v = s->vol; break;
        case F_VOL_SKEW: v = 0.3 * s->vol; break;
        case F_VOL_TERM: v = -0.3 * s->vol; break;
        case F_VOL_FX: case F_VOL_IR: case F_VOL_CMD: v = 0.5 * s->vol; break;
        }
        shock[j] = v;
    }
}

static bool write_scenarios(gen *g, const char *dir, char *msg, size_t msglen)
{
    const dat_preset *p = g->p;
    size_t F = g->F;
    if (p->nscenarios == 0) {
        /* No file in this preset: do not leave one from an earlier run behind. */
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/scenarios.csv", dir) < sizeof path)
            (void)remove(path);
        return true;
    }
    out o;
    if (!out_open(&o, dir, "scenarios.csv", msg, msglen))
        return false;
    double *z = malloc(F * sizeof *z), *shock = malloc(F * sizeof *shock);
    if (z == NULL || shock == NULL) {
        free(z);
        free(shock);
        out_discard(&o);
        snprintf(msg, msglen, "scenarios.csv: out of memory");
        return false;
    }
    outf(&o, "scenario");
    for (size_t j = 0; j < F; j++)
        outf(&o, ",%s", g->fac[j].name);
    outf(&o, "\n");
    size_t nstress = p->nstress < p->nscenarios ? p->nstress : p->nscenarios;
    size_t ntable = sizeof stress_table / sizeof stress_table[0];
    for (size_t s = 0; s < nstress; s++) {
        if (s < ntable) {
            stress_shock(g, &stress_table[s], shock);
            outf(&o, "%s", stress_table[s].name);
        } else {
            stress_shock(g, &stress_table[s % ntable], shock);
            double k = 1.5 + 0.5 * (double)(s / ntable);
            for (size_t j = 0; j < F; j++)
                shock[j] *= k;
            outf(&o, "%s_X%.1f", stress_table[s % ntable].name, k);
        }
        for (size_t j = 0; j < F; j++)
            out_num(&o, true, 10, shock[j]);
        outf(&o, "\n");
    }
    /* Historical days, going back from 2024-12-31 over business days. */
    long day = 20088; /* 2024-12-31 */
    for (size_t s = nstress; s < p->nscenarios; s++) {
        while ((day + 4) % 7 == 0 || (day + 4) % 7 == 6) /* 0 = Sunday, 6 = Saturday */
            day--;
        int y;
        unsigned m, d;
        civil_from_days(day, &y, &m, &d);
        day--;
        for (size_t j = 0; j < F; j++)
            z[j] = normal(&g->r);
        /* One day in ten is fat-tailed: a Student t with 3 degrees of freedom. */
        if (u01(&g->r) < 0.1) {
            double chi = 0;
            for (int k = 0; k < 3; k++) {
                double e = normal(&g->r);
                chi += e * e;
            }
            double scale = sqrt(3.0 / chi);
            for (size_t j = 0; j < F; j++)
                z[j] *= scale;
        }
        for (size_t i = 0; i < F; i++) {
            double v = 0;
            for (size_t k = 0; k <= i; k++)
                v += g->chol[i * F + k] * z[k];
            shock[i] = v;
        }
        outf(&o, "HIST_%04d-%02u-%02u", y, m, d);
        for (size_t j = 0; j < F; j++)
            out_num(&o, true, 10, shock[j]);
        outf(&o, "\n");
    }
    free(z);
    free(shock);
    return out_close(&o, msg, msglen);
}

/* ---- positions ---- */

enum { C_ID, C_BOOK, C_INSTR, C_QTY, C_UND, C_K, C_T, C_R, C_VOL, C_Q, C_CPN, C_FREQ, C_STEPS,
       C_N };

typedef struct row {
    char cell[C_N][64];
} row;

static void setc(row *w, int c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void setc(row *w, int c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->cell[c], sizeof w->cell[c], fmt, ap);
    va_end(ap);
}

/* Decimals of a price near x: 4 below 10 (FX), else 2. */
static int price_prec(double x)
{
    return x < 10 ? 4 : 2;
}

/* Signed quantity: long seven times in ten, |q| = lot * uniform integer in [lo, hi]. */
static void quantity(gen *g, row *w, double lot, size_t lo, size_t hi)
{
    double q = lot * (double)(lo + below(&g->r, hi - lo + 1));
    if (u01(&g->r) < 0.3)
        q = -q;
    setc(w, C_QTY, "%.0f", q);
}

/* The government rate of the first currency nearest to tenor T. */
static uint32_t rate_for(const gen *g, double T)
{
    if (g->nccy == 0)
        return DAT_NONE;
    size_t best = 0;
    for (size_t t = 1; t < NTENORS; t++)
        if (fabs(tenors[t] - T) < fabs(tenors[best] - T))
            best = t;
    return g->govt[0][best];
}

static void make_row(gen *g, size_t i, mdl_kind kind, row *w)
{
    const dat_preset *p = g->p;
    for (int c = 0; c < C_N; c++)
        w->cell[c][0] = '\0';
    setc(w, C_ID, "P%07zu", i + 1);
    setc(w, C_BOOK, "%s", book_names[below(&g->r, p->nbooks)]);
    setc(w, C_INSTR, "%s", mdl_kind_name(kind));

    if (kind == MDL_BOND) {
        size_t u = g->nspot + below(&g->r, g->nrate);
        quantity(g, w, 10000, 10, 500);
        setc(w, C_UND, "%s", g->und[u].name);
        double T = g->und[u].tenor * unif(&g->r, 0.8, 1.25);
        setc(w, C_T, "%.2f", T < 1 ? unif(&g->r, 1, 2) : T > 30 ? 30.0 : T);
        if (u01(&g->r) < 0.9)
            setc(w, C_CPN, "%.5f", round_to(unif(&g->r, 0.005, 0.07), 0.00125));
        double f = u01(&g->r);
        setc(w, C_FREQ, "%d", f < 0.3 ? 1 : f < 0.9 ? 2 : 4);
        return;
    }
    /* Options are mostly on spots that have an implied vol: spot k < nvol has vol k. */
    bool option = kind != MDL_SPOT && kind != MDL_FORWARD;
    size_t with_vol = g->nvol < g->spot_pick_end ? g->nvol : g->spot_pick_end;
    size_t s = option && with_vol > 0 && u01(&g->r) < 0.85 ? below(&g->r, with_vol)
                                                           : below(&g->r, g->spot_pick_end);
    const und_gen *sp = &g->und[s];
    double S = sp->value;
    setc(w, C_UND, "%s", sp->name);
    if (kind == MDL_SPOT) {
        quantity(g, w, 100, 1, 200);
        return;
    }
    double T = round_to(unif(&g->r, 0.1, 3.0), 0.0001);
    setc(w, C_T, "%.4f", T);
    uint32_t ru = rate_for(g, T);
    double r = ru != DAT_NONE ? g->und[ru].value : 0.04;
    if (ru != DAT_NONE && u01(&g->r) < 0.8)
        setc(w, C_R, "%s", g->und[ru].name);
    else
        setc(w, C_R, "%.4f", round_to(r + unif(&g->r, -0.005, 0.005), 0.0001));
    double q = 0;
    if (u01(&g->r) < 0.8) {
        q = round_to(unif(&g->r, 0, 0.04), 0.0001);
        setc(w, C_Q, "%.4f", q);
    }
    if (kind == MDL_FORWARD) {
        quantity(g, w, 100, 1, 100);
        double K = S * gen_exp((r - q) * T) * unif(&g->r, 0.95, 1.05);
        setc(w, C_K, "%.*f", price_prec(S), K);
        return;
    }
    quantity(g, w, 100, 1, 50);
    double K = S * gen_exp(0.15 * normal(&g->r));
    setc(w, C_K, "%.*f", price_prec(S), K);
    if (sp->vol != DAT_NONE && u01(&g->r) < 0.8)
        setc(w, C_VOL, "%s", g->und[sp->vol].name);
    else
        setc(w, C_VOL, "%.4f", round_to(unif(&g->r, 0.12, 0.5), 0.0001));
    if (kind == MDL_AMER_CALL || kind == MDL_AMER_PUT) {
        size_t a = g->namerican++;
        if (p->trees && a % 100 == 0)
            setc(w, C_STEPS, "200");
        else if (a % 7 == 3)
            setc(w, C_STEPS, "0");
    }
}

/* The deliberately invalid rows of the sample (data/sample/README.md lists them). */
typedef struct bad_row {
    mdl_kind kind;
    int col;
    const char *text;
} bad_row;

static const bad_row bad_rows[] = {
    {MDL_SPOT, C_UND, "EQ_DOES_NOT_EXIST"},       /* unknown underlying */
    {MDL_EURO_CALL, C_UND, "IR_USD_1Y"},          /* wrong kind: a rate as spot */
    {MDL_FORWARD, C_UND, "EQ_BAD_NEGATIVE_SPOT"}, /* S <= 0 */
    {MDL_EURO_PUT, C_K, "-10"},                   /* K <= 0 */
    {MDL_FORWARD, C_T, "0"},                      /* T <= 0 */
    {MDL_EURO_CALL, C_VOL, "-0.2"},               /* sigma <= 0, literal */
    {MDL_AMER_PUT, C_VOL, "VOL_BAD_ZERO"},        /* sigma <= 0, vol underlying */
    {MDL_BOND, C_FREQ, "0"},                      /* f <= 0 */
    {MDL_BOND, C_FREQ, ""},                       /* frequency missing */
    {MDL_EURO_CALL, C_K, "nan"},                  /* non-finite number */
    {MDL_FORWARD, C_T, "1e999"},                  /* overflow */
    {MDL_SPOT, C_INSTR, "swaption"},              /* unknown instrument */
    {MDL_BOND, C_BOOK, ""},                       /* empty book */
    {MDL_SPOT, C_QTY, "12abc"},                   /* bad quantity */
    {MDL_AMER_CALL, C_STEPS, "2.5"},              /* steps not an integer */
    {MDL_AMER_PUT, C_STEPS, "-3"},                /* steps negative */
    {MDL_FORWARD, C_R, "@VOL"},                   /* rate names a vol underlying */
    {MDL_EURO_PUT, C_VOL, "VOL_NOPE"},            /* vol names no underlying */
    {MDL_BOND, C_UND, "FX_EURUSD"},               /* bond on a spot underlying */
    {MDL_SPOT, C_K, "n/a"},                       /* VALID: junk in a column spot ignores */
};
#define NBAD (sizeof bad_rows / sizeof bad_rows[0])
#define BAD_FIRST 7u /* bad row k replaces row BAD_FIRST + BAD_STRIDE * k */
#define BAD_STRIDE 9u

static void write_cell(out *o, const char *t, bool last)
{
    bool quote = strpbrk(t, ",\"\n\r") != NULL;
    if (quote) {
        fputc('"', o->f);
        for (; *t != '\0'; t++) {
            if (*t == '"')
                fputc('"', o->f);
            fputc(*t, o->f);
        }
        fputc('"', o->f);
    } else {
        fputs(t, o->f);
    }
    fputc(last ? '\n' : ',', o->f);
}

static bool write_positions(gen *g, const char *dir, char *msg, size_t msglen)
{
    const dat_preset *p = g->p;
    size_t n = p->npositions;
    uint8_t *kinds = malloc(n > 0 ? n : 1);
    if (kinds == NULL) {
        snprintf(msg, msglen, "positions.csv: out of memory");
        return false;
    }
    /* Exact quotas, then a shuffle: 35% european (calls and puts), 10% american, 25% bond,
     * 15% forward, the rest (15%) spot. */
    size_t neu = (n * 35 + 50) / 100, nam = (n * 10 + 50) / 100, nbd = (n * 25 + 50) / 100,
           nfw = (n * 15 + 50) / 100;
    for (size_t i = 0; i < n; i++) {
        mdl_kind k;
        if (i < neu)
            k = i % 2 ? MDL_EURO_PUT : MDL_EURO_CALL;
        else if (i < neu + nam)
            k = i % 2 ? MDL_AMER_PUT : MDL_AMER_CALL;
        else if (i < neu + nam + nbd)
            k = MDL_BOND;
        else if (i < neu + nam + nbd + nfw)
            k = MDL_FORWARD;
        else
            k = MDL_SPOT;
        kinds[i] = (uint8_t)k;
    }
    for (size_t i = n; i > 1; i--) {
        size_t j = below(&g->r, i);
        uint8_t t = kinds[i - 1];
        kinds[i - 1] = kinds[j];
        kinds[j] = t;
    }
    out o;
    if (!out_open(&o, dir, "positions.csv", msg, msglen)) {
        free(kinds);
        return false;
    }
    fputs("position,book,instrument,quantity,underlying,strike,expiry,rate,vol,dividend,coupon,"
          "frequency,steps\n",
          o.f);
    row w;
    for (size_t i = 0; i < n; i++) {
        size_t b = (i - BAD_FIRST) / BAD_STRIDE;
        bool bad = p->bad_rows && i >= BAD_FIRST && (i - BAD_FIRST) % BAD_STRIDE == 0 && b < NBAD;
        if (bad) {
            make_row(g, i, bad_rows[b].kind, &w);
            const char *t = bad_rows[b].text;
            if (strcmp(t, "@VOL") == 0) /* the first (valid) vol underlying */
                t = g->und[g->nspot + g->nrate].name;
            setc(&w, bad_rows[b].col, "%s", t);
        } else {
            make_row(g, i, (mdl_kind)kinds[i], &w);
        }
        for (int c = 0; c < C_N; c++)
            write_cell(&o, w.cell[c], c == C_N - 1);
    }
    free(kinds);
    return out_close(&o, msg, msglen);
}

const char *dat_loadings_name(dat_loadings l)
{
    switch (l) {
    case DAT_LOADINGS_SPARSE: return "sparse";
    case DAT_LOADINGS_DENSE: return "dense";
    }
    return NULL;
}

bool dat_loadings_parse(const char *name, dat_loadings *l)
{
    if (name != NULL && strcmp(name, "sparse") == 0)
        *l = DAT_LOADINGS_SPARSE;
    else if (name != NULL && strcmp(name, "dense") == 0)
        *l = DAT_LOADINGS_DENSE;
    else
        return false;
    return true;
}

rk_status dat_generate(const dat_preset *p, uint64_t seed, const char *outdir, char *msg,
                       size_t msglen)
{
    return dat_generate_with(p, seed, DAT_LOADINGS_SPARSE, outdir, msg, msglen);
}

rk_status dat_generate_with(const dat_preset *p, uint64_t seed, dat_loadings loadings,
                            const char *outdir, char *msg, size_t msglen)
{
    char dummy[8];
    if (msg == NULL || msglen == 0) {
        msg = dummy;
        msglen = sizeof dummy;
    }
    msg[0] = '\0';
    if (p == NULL || outdir == NULL) {
        snprintf(msg, msglen, "no preset or output folder");
        return RK_BAD_ARGUMENT;
    }
    if (dat_loadings_name(loadings) == NULL) {
        snprintf(msg, msglen, "unknown kind of loadings");
        return RK_BAD_ARGUMENT;
    }
    if (p->nfactors < 8 || p->nfactors > 50 || p->nund < 20 || p->nbooks < 1 ||
        p->nbooks > sizeof book_names / sizeof book_names[0] || p->npositions > 99999999u) {
        snprintf(msg, msglen,
                 "preset %s: needs 8..50 factors, at least 20 underlyings, 1..20 books and at "
                 "most 99999999 positions",
                 p->name);
        return RK_BAD_ARGUMENT;
    }
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
        snprintf(msg, msglen, "%s: cannot create folder: %s", outdir, strerror(errno));
        return RK_IO;
    }
    locale_t c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (c_loc == (locale_t)0) {
        snprintf(msg, msglen, "cannot create the C locale");
        return RK_INTERNAL;
    }
    locale_t old = uselocale(c_loc);

    gen g;
    memset(&g, 0, sizeof g);
    g.p = p;
    g.F = p->nfactors;
    g.fac = factor_table;
    rng_seed(&g.r, seed);
    size_t F = g.F, cells, bcells;
    rk_status st = RK_OK;
    if (!dat_size_mul(F, F, &cells) || !dat_size_mul(p->nund, F, &bcells)) {
        st = RK_NO_MEMORY;
        snprintf(msg, msglen, "preset %s: sizes overflow", p->name);
        goto out;
    }
    g.cov = calloc(cells, sizeof *g.cov);
    g.chol = calloc(cells, sizeof *g.chol);
    g.und = calloc(p->nund, sizeof *g.und);
    g.beta = calloc(bcells, sizeof *g.beta);
    if (g.cov == NULL || g.chol == NULL || g.und == NULL || g.beta == NULL) {
        st = RK_NO_MEMORY;
        snprintf(msg, msglen, "out of memory");
        goto out;
    }
    build_covariance(&g);
    if (!cholesky(g.cov, g.chol, F)) {
        st = RK_INTERNAL;
        snprintf(msg, msglen, "generated covariance is not positive definite");
        goto out;
    }
    build_underlyings(&g);
    g.dense = loadings == DAT_LOADINGS_DENSE;
    if (g.dense)
        densify_loadings(&g, seed);
    if (!write_market(&g, outdir, msg, msglen) || !write_scenarios(&g, outdir, msg, msglen) ||
        !write_positions(&g, outdir, msg, msglen)) {
        st = RK_IO;
        goto out;
    }
out:
    free(g.cov);
    free(g.chol);
    free(g.und);
    free(g.beta);
    uselocale(old);
    freelocale(c_loc);
    return st;
}
