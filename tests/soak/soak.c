/*
 * soak.c - many callers on one engine for a long time: random measures, random deadlines,
 * cancels from other threads and market updates, all at once. It checks what a trading system
 * linking the library relies on when it runs for days:
 *
 *   - every submission completes exactly once (the completion callback runs once, before the
 *     wait returns, and never again);
 *   - every complete result equals bitwise a rerun, without deadline, on its own market
 *     snapshot (rebuilt from the log of updates on a second portfolio of the same engine);
 *   - a partial result says so (DEADLINE or CANCELLED, coverage below 1 somewhere) and nothing
 *     else ever comes back;
 *   - memory does not grow: resident size from minute 1 to the end within RSS_GROWTH_MAX (runs
 *     of at least two minutes, without a sanitizer; shorter runs print the figures unchecked).
 *
 * Usage: soak [--seconds N] [--callers N] [--threads N] [--data DIR] [--update-ms MS]
 *             [--cancel-ms MS]   (0 turns updates or cancels off)
 * Last line: "1 passed, 0 failed" or "0 passed, 1 failed" (the test totals count it as one
 * check); exit status 0 or 1.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "riskengine.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

#define RSS_GROWTH_MAX 0.01     /* resident size growth allowed from minute 1 to the end */
#define RSS_CHECK_MIN_S 120     /* shorter runs have no steady state worth checking */
static double update_ms = 100; /* a market update every 100 ms (--update-ms; 0 = none) */
static double cancel_ms = 2;  /* a cancel of a random caller's request every 2 ms (--cancel-ms) */
#define MAX_CALLERS 256
#define QUEUE_CAP 4096
#define MEMO_SLOTS 8192

/* ---- what a request asks for ---- */

typedef struct config {
    const char *name;
    unsigned measures;
    int historical;     /* scenario VaR from scenarios.csv rather than Monte Carlo */
    size_t scenarios;   /* Monte Carlo */
    uint64_t seed;
    int needs_file;     /* needs scenarios.csv */
} config;

static const config CONFIGS[] = {
    {"values", RK_MEASURE_VALUES, 0, 0, 0, 0},
    {"grid+parametric", RK_MEASURE_GRID | RK_MEASURE_PARAMETRIC_VAR, 0, 0, 0, 0},
    {"mc-200", RK_MEASURE_SCENARIO_VAR, 0, 200, 11, 0},
    {"historical", RK_MEASURE_SCENARIO_VAR, 1, 0, 0, 1},
    {"stress", RK_MEASURE_STRESS, 0, 0, 0, 1},
    {"everything", RK_MEASURE_GRID | RK_MEASURE_PARAMETRIC_VAR | RK_MEASURE_SCENARIO_VAR |
                       RK_MEASURE_STRESS, 0, 100, 5, 1},
};
#define NCONFIGS (sizeof CONFIGS / sizeof CONFIGS[0])

static rk_status configure(rk_request *req, const config *c)
{
    rk_status st = rk_request_set_measures(req, c->measures);
    if (st == RK_OK && (c->measures & RK_MEASURE_SCENARIO_VAR))
        st = c->historical ? rk_request_set_historical(req)
                           : rk_request_set_scenarios(req, c->scenarios, c->seed);
    return st;
}

/* ---- a result's numbers, as one 64-bit digest of their bits and codes ---- */

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

static uint64_t bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/* Cells of the digested result whose code says the work was cut short. */
static _Thread_local unsigned long cut_cells;

static uint64_t cell(uint64_t h, rk_status st, double x)
{
    if (st == RK_DEADLINE || st == RK_CANCELLED)
        cut_cells++;
    return mix(mix(h, (uint64_t)st), st == RK_OK ? bits(x) : 0);
}

static uint64_t digest(const rk_result *res)
{
    size_t np = rk_result_positions(res), nf = rk_result_factors(res);
    size_t nb = rk_result_books(res);
    unsigned m = rk_result_measures(res);
    uint64_t h = mix(mix(0, (uint64_t)rk_result_status(res)), m);
    double a, b;
    rk_status st;
    /* (the status is taken first: the order of a call's arguments is unspecified) */
    for (size_t p = 0; p < np; p++) {
        st = rk_result_value(res, p, &a);
        h = cell(h, st, a);
    }
    if (m & RK_MEASURE_GRID) {
        for (size_t p = 0; p < np; p++)
            for (size_t f = 0; f < nf; f++) {
                st = rk_result_sensitivity(res, p, f, &a, &b);
                h = cell(cell(h, st, a), st, b);
            }
        for (size_t k = 0; k <= nb; k++)
            for (size_t f = 0; f < nf; f++) {
                st = rk_result_exposure(res, k, f, &a);
                h = cell(h, st, a);
            }
    }
    if (m & RK_MEASURE_PARAMETRIC_VAR)
        for (size_t k = 0; k <= nb; k++) {
            st = rk_result_parametric_var(res, k, &a, &b);
            h = cell(cell(h, st, a), st, b);
        }
    if (m & RK_MEASURE_SCENARIO_VAR) {
        size_t ns = rk_result_scenarios(res, RK_MEASURE_SCENARIO_VAR);
        for (size_t k = 0; k <= nb; k++) {
            for (size_t s = 0; s < ns; s++) {
                st = rk_result_scenario_pnl(res, k, s, &a);
                h = cell(h, st, a);
            }
            st = rk_result_scenario_var(res, k, &a, &b);
            h = cell(cell(h, st, a), st, b);
        }
    }
    if (m & RK_MEASURE_STRESS) {
        size_t ns = rk_result_scenarios(res, RK_MEASURE_STRESS);
        for (size_t s = 0; s < ns; s++)
            for (size_t k = 0; k <= nb; k++) {
                st = rk_result_stress(res, s, k, &a, NULL);
                h = cell(h, st, a);
            }
    }
    return h;
}

/* ---- shared state ---- */

typedef struct update {
    uint64_t version; /* the portfolio's market version right after this update */
    size_t underlying;
    double value;
} update;

typedef struct check {
    uint64_t version;
    unsigned config;
    uint64_t digest;
} check;

typedef struct soak {
    rk_engine *eng;
    rk_dataset *ds;
    rk_portfolio *pf;     /* what the callers use */
    rk_portfolio *verify; /* the verifier's own, set to each snapshot in turn */
    size_t nconfigs;      /* CONFIGS usable with this data set */
    double *base;         /* underlyings' values as loaded */
    int *settable;        /* underlyings whose value may be set (valid ones) */
    size_t nund;
    int64_t end_ns;
    _Atomic int stop;

    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    update *log;
    size_t nlog, caplog;
    uint64_t v0;        /* market version before any update */
    uint64_t vlast;     /* version after the last logged update */
    check queue[QUEUE_CAP];
    size_t qhead, qlen;
    int callers_done;

    /* results (written under mu or by their owner before join) */
    _Atomic uint64_t submitted, complete, deadline, cancelled, cancels_sent, updates;
    _Atomic uint64_t failures; /* every broken promise, each also printed */
    uint64_t verified, reruns;
    long rss_minute1, rss_end;
} soak;

typedef struct caller {
    soak *s;
    unsigned id;
    rk_request *req;
    _Atomic unsigned callbacks;
    unsigned expected; /* callbacks due, as the caller left it when it stopped */
    uint64_t rng;
    pthread_t th;
} caller;

static caller *callers;
static size_t ncallers;

static void fail(soak *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(soak *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("soak: FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    atomic_fetch_add(&s->failures, 1);
}

static uint64_t next_rand(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *x)
{
    return (double)(next_rand(x) >> 11) * 0x1p-53;
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = -1, resident = -1;
    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* ---- the callers ---- */

static void on_done(rk_request *req, const rk_result *res, void *arg)
{
    (void)req;
    (void)res;
    caller *c = arg;
    atomic_fetch_add(&c->callbacks, 1u);
}

static void enqueue(soak *s, const check *k)
{
    pthread_mutex_lock(&s->mu);
    while (s->qlen == QUEUE_CAP)
        pthread_cond_wait(&s->cv, &s->mu);
    s->queue[(s->qhead + s->qlen) % QUEUE_CAP] = *k;
    s->qlen++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void *caller_main(void *arg)
{
    caller *c = arg;
    soak *s = c->s;
    unsigned expected = 0;
    while (!atomic_load(&s->stop) && rk_now_ns() < s->end_ns) {
        unsigned cfg = (unsigned)(next_rand(&c->rng) % s->nconfigs);
        if (configure(c->req, &CONFIGS[cfg]) != RK_OK) {
            fail(s, "caller %u: configuring %s refused", c->id, CONFIGS[cfg].name);
            break;
        }
        /* 40% without a deadline; else 0.2 to 30 ms (under a sanitizer, x4). */
        int64_t deadline = RK_DEADLINE_NONE;
        if (uniform(&c->rng) >= 0.4)
            deadline = rk_now_ns() + (int64_t)((0.2 + 29.8 * uniform(&c->rng)) * 1e6 *
                                               (SANITIZED ? 4 : 1));
        unsigned before = atomic_load(&c->callbacks);
        if (before != expected)
            fail(s, "caller %u: %u completion callbacks where %u were due", c->id, before,
                 expected);
        rk_status st = rk_request_submit(c->req, deadline);
        if (st != RK_OK) {
            fail(s, "caller %u: submit of %s: %s", c->id, CONFIGS[cfg].name, rk_status_name(st));
            break;
        }
        atomic_fetch_add(&s->submitted, 1);
        expected = before + 1;
        /* Half the time wait in short slices (RK_TIMEOUT in between), else at once. */
        if (uniform(&c->rng) < 0.5) {
            while (rk_request_wait(c->req, rk_now_ns() + 1000000) == RK_TIMEOUT) {
            }
        } else if ((st = rk_request_wait(c->req, RK_DEADLINE_NONE)) != RK_OK) {
            fail(s, "caller %u: wait: %s", c->id, rk_status_name(st));
        }
        if (!rk_request_done(c->req))
            fail(s, "caller %u: wait returned before completion", c->id);
        if (atomic_load(&c->callbacks) != expected)
            fail(s, "caller %u: the wait returned with %u callbacks, %u due", c->id,
                 atomic_load(&c->callbacks), expected);
        rk_result *res = NULL;
        if ((st = rk_request_take_result(c->req, &res)) != RK_OK) {
            fail(s, "caller %u: take_result: %s", c->id, rk_status_name(st));
            break;
        }
        rk_status rs = rk_result_status(res);
        if (rs == RK_OK) {
            atomic_fetch_add(&s->complete, 1);
            cut_cells = 0;
            check k = {rk_result_market_version(res), cfg, digest(res)};
            if (cut_cells != 0)
                fail(s, "caller %u: a complete %s result has %lu cells cut short", c->id,
                     CONFIGS[cfg].name, cut_cells);
            enqueue(s, &k);
        } else if (rs == RK_DEADLINE || rs == RK_CANCELLED) {
            atomic_fetch_add(rs == RK_DEADLINE ? &s->deadline : &s->cancelled, 1);
            /* A partial result says so: some measure covers less than everything (a deadline
             * or cancel that came after the last cell makes the result complete, not this). */
            int partial = 0;
            for (unsigned m = RK_MEASURE_VALUES; m <= RK_MEASURE_STRESS; m <<= 1) {
                rk_coverage cov;
                if ((m == RK_MEASURE_VALUES || m == RK_MEASURE_GRID ||
                     m == RK_MEASURE_SCENARIO_VAR || m == RK_MEASURE_STRESS) &&
                    rk_result_coverage(res, m, rk_result_books(res), &cov) == RK_OK &&
                    cov.coverage < 1)
                    partial = 1;
            }
            if (!partial)
                fail(s, "caller %u: a %s result covers everything", c->id, rk_status_name(rs));
        } else {
            fail(s, "caller %u: result status %s", c->id, rk_status_name(rs));
        }
        rk_result_destroy(res);
    }
    c->expected = expected;
    return NULL;
}

/* ---- cancels from other threads ---- */

static void *canceller_main(void *arg)
{
    soak *s = arg;
    uint64_t rng = 0xcafe;
    while (!atomic_load(&s->stop)) {
        caller *c = &callers[next_rand(&rng) % ncallers];
        rk_request_cancel(c->req); /* harmless when not running */
        atomic_fetch_add(&s->cancels_sent, 1);
        sleep_ns((int64_t)(cancel_ms * 1e6));
    }
    return NULL;
}

/* ---- market updates ---- */

static void *updater_main(void *arg)
{
    soak *s = arg;
    uint64_t rng = 0xbeef;
    while (!atomic_load(&s->stop)) {
        size_t u = (size_t)(next_rand(&rng) % s->nund);
        if (s->settable[u]) {
            double v = s->base[u] * (1.0 + 0.02 * (uniform(&rng) - 0.5));
            /* Updates are serialised by the portfolio; this thread is the only updater, so the
             * version read right after is this update's. */
            pthread_mutex_lock(&s->mu);
            rk_status st = rk_portfolio_set_value(s->pf, u, v);
            if (st == RK_OK) {
                if (s->nlog == s->caplog) {
                    s->caplog = s->caplog ? 2 * s->caplog : 1024;
                    update *l = realloc(s->log, s->caplog * sizeof *l);
                    if (l == NULL) {
                        pthread_mutex_unlock(&s->mu);
                        fail(s, "out of memory for the update log");
                        break;
                    }
                    s->log = l;
                }
                s->vlast = rk_portfolio_market_version(s->pf);
                s->log[s->nlog++] = (update){s->vlast, u, v};
                atomic_fetch_add(&s->updates, 1);
                pthread_cond_broadcast(&s->cv);
            }
            pthread_mutex_unlock(&s->mu);
            if (st != RK_OK)
                fail(s, "set_value(%zu, %.17g): %s", u, v, rk_status_name(st));
        }
        sleep_ns((int64_t)(update_ms * 1e6));
    }
    return NULL;
}

/* ---- the verifier: reruns each (version, config) once, compares every digest ---- */

typedef struct memo {
    uint64_t version, digest;
    unsigned config;
    int used;
} memo;

static void *verifier_main(void *arg)
{
    soak *s = arg;
    memo *tab = calloc(MEMO_SLOTS, sizeof *tab);
    double *vals = malloc(s->nund * sizeof *vals);
    rk_request *req = NULL;
    if (tab == NULL || vals == NULL || rk_request_create(s->verify, &req) != RK_OK) {
        fail(s, "verifier: out of memory");
        free(tab);
        free(vals);
        return NULL;
    }
    uint64_t applied = UINT64_MAX; /* the snapshot `verify` holds */
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->qlen == 0 && !s->callers_done)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->qlen == 0) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        check k = s->queue[s->qhead];
        s->qhead = (s->qhead + 1) % QUEUE_CAP;
        s->qlen--;
        pthread_cond_broadcast(&s->cv);
        /* The snapshot: the loaded values, then every update up to k.version. */
        if (k.version != applied) {
            while (s->vlast < k.version && !atomic_load(&s->stop))
                pthread_cond_wait(&s->cv, &s->mu);
            memcpy(vals, s->base, s->nund * sizeof *vals);
            for (size_t i = 0; i < s->nlog && s->log[i].version <= k.version; i++)
                vals[s->log[i].underlying] = s->log[i].value;
        }
        pthread_mutex_unlock(&s->mu);

        memo *m = &tab[mix(k.version, k.config) % MEMO_SLOTS];
        if (!(m->used && m->version == k.version && m->config == k.config)) {
            if (k.version != applied) {
                for (size_t u = 0; u < s->nund; u++)
                    if (s->settable[u] && rk_portfolio_set_value(s->verify, u, vals[u]) != RK_OK)
                        fail(s, "verifier: set_value(%zu) refused", u);
                applied = k.version;
            }
            rk_result *res = NULL;
            rk_status st = configure(req, &CONFIGS[k.config]);
            if (st == RK_OK)
                st = rk_request_run(req, RK_DEADLINE_NONE, &res);
            if (st != RK_OK || rk_result_status(res) != RK_OK) {
                fail(s, "verifier: rerun of %s: %s", CONFIGS[k.config].name,
                     rk_status_name(st != RK_OK ? st : rk_result_status(res)));
                rk_result_destroy(res);
                continue;
            }
            *m = (memo){k.version, digest(res), k.config, 1};
            rk_result_destroy(res);
            pthread_mutex_lock(&s->mu);
            s->reruns++;
            pthread_mutex_unlock(&s->mu);
        }
        if (m->digest != k.digest)
            fail(s, "%s at market version %llu differs from its rerun", CONFIGS[k.config].name,
                 (unsigned long long)k.version);
        pthread_mutex_lock(&s->mu);
        s->verified++;
        pthread_mutex_unlock(&s->mu);
    }
    rk_request_destroy(req);
    free(tab);
    free(vals);
    return NULL;
}

/* ---- main ---- */

static int usage(void)
{
    fputs("usage: soak [--seconds N] [--callers N] [--threads N] [--data DIR] [--update-ms MS]\n"
          "            [--cancel-ms MS]\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    double seconds = 60;
    size_t threads = 0;
    const char *data = "data/sample";
    ncallers = 64;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            return usage();
        if (strcmp(argv[i], "--seconds") == 0)
            seconds = strtod(v, NULL);
        else if (strcmp(argv[i], "--callers") == 0)
            ncallers = strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "--data") == 0)
            data = v;
        else if (strcmp(argv[i], "--update-ms") == 0)
            update_ms = strtod(v, NULL);
        else if (strcmp(argv[i], "--cancel-ms") == 0)
            cancel_ms = strtod(v, NULL);
        else
            return usage();
        i++;
    }
    if (!(seconds > 0) || ncallers == 0 || ncallers > MAX_CALLERS)
        return usage();

    static soak s;
    char msg[512];
    rk_engine_config cfg;
    rk_engine_config_init(&cfg);
    cfg.threads = threads;
    rk_status st = rk_engine_create(&cfg, &s.eng, msg, sizeof msg);
    if (st != RK_OK) {
        fprintf(stderr, "soak: engine: %s\n", msg);
        return 1;
    }
    if ((st = rk_dataset_load(data, &s.ds, msg, sizeof msg)) != RK_OK) {
        fprintf(stderr, "soak: %s\n", msg);
        return 1;
    }
    if (rk_portfolio_create(s.eng, s.ds, &s.pf) != RK_OK ||
        rk_portfolio_create(s.eng, s.ds, &s.verify) != RK_OK) {
        fputs("soak: cannot create the portfolios\n", stderr);
        return 1;
    }
    /* The configurations that need scenarios.csv come after those that do not. */
    s.nconfigs = NCONFIGS;
    if (rk_dataset_scenarios(s.ds) == 0)
        while (s.nconfigs > 0 && CONFIGS[s.nconfigs - 1].needs_file)
            s.nconfigs--;
    s.nund = rk_dataset_underlyings(s.ds);
    s.base = calloc(s.nund ? s.nund : 1, sizeof *s.base);
    s.settable = calloc(s.nund ? s.nund : 1, sizeof *s.settable);
    if (s.nund == 0 || s.base == NULL || s.settable == NULL) {
        fputs("soak: a data set with underlyings is needed\n", stderr);
        return 1;
    }
    for (size_t u = 0; u < s.nund; u++) {
        rk_underlying_kind kind;
        s.settable[u] = rk_dataset_underlying(s.ds, u, &kind, &s.base[u]) == RK_OK &&
                        rk_portfolio_set_value(s.verify, u, s.base[u]) == RK_OK;
    }
    /* The update log, sized and touched now for the whole run: the program's own memory must not
     * grow while the resident size is watched for the library's. */
    s.caplog = (size_t)(seconds * 1000.0 / (update_ms > 0 ? update_ms : 1e9)) + 1024;
    s.log = malloc(s.caplog * sizeof *s.log);
    if (s.log == NULL)
        return 1;
    memset(s.log, 0, s.caplog * sizeof *s.log);
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    s.v0 = s.vlast = rk_portfolio_market_version(s.pf);
    s.end_ns = rk_now_ns() + (int64_t)(seconds * 1e9);

    callers = calloc(ncallers, sizeof *callers);
    if (callers == NULL)
        return 1;
    for (size_t i = 0; i < ncallers; i++) {
        caller *c = &callers[i];
        c->s = &s;
        c->id = (unsigned)i;
        c->rng = 0x1234567ull * (i + 1);
        if (rk_request_create(s.pf, &c->req) != RK_OK ||
            rk_request_set_callback(c->req, on_done, c) != RK_OK) {
            fputs("soak: cannot create the requests\n", stderr);
            return 1;
        }
    }
    printf("soak: %zu callers, %zu workers, %s (%zu positions), %.0f s\n", ncallers,
           rk_engine_workers(s.eng), data, rk_dataset_positions(s.ds), seconds);
    fflush(stdout);

    pthread_t ver, upd, can;
    pthread_create(&ver, NULL, verifier_main, &s);
    if (update_ms > 0)
        pthread_create(&upd, NULL, updater_main, &s);
    if (cancel_ms > 0)
        pthread_create(&can, NULL, canceller_main, &s);
    for (size_t i = 0; i < ncallers; i++)
        pthread_create(&callers[i].th, NULL, caller_main, &callers[i]);

    /* Progress every 10 s; resident size at minute 1 and at the end. */
    int64_t t0 = rk_now_ns();
    int64_t next_report = t0 + 10 * INT64_C(1000000000);
    s.rss_minute1 = -1;
    while (rk_now_ns() < s.end_ns) {
        sleep_ns(100000000);
        int64_t now = rk_now_ns();
        if (s.rss_minute1 < 0 && now - t0 >= 60 * INT64_C(1000000000))
            s.rss_minute1 = rss_bytes();
        if (now >= next_report) {
            pthread_mutex_lock(&s.mu);
            uint64_t verified = s.verified;
            pthread_mutex_unlock(&s.mu);
            printf("soak: %3.0f s: %llu submitted, %llu complete (%llu verified), %llu "
                   "deadline, %llu cancelled, %llu updates, rss %.1f MiB\n",
                   (double)(now - t0) / 1e9, (unsigned long long)atomic_load(&s.submitted),
                   (unsigned long long)atomic_load(&s.complete), (unsigned long long)verified,
                   (unsigned long long)atomic_load(&s.deadline),
                   (unsigned long long)atomic_load(&s.cancelled),
                   (unsigned long long)atomic_load(&s.updates), (double)rss_bytes() / 1048576.0);
            fflush(stdout);
            next_report += 10 * INT64_C(1000000000);
        }
    }
    s.rss_end = rss_bytes();
    for (size_t i = 0; i < ncallers; i++)
        pthread_join(callers[i].th, NULL);
    atomic_store(&s.stop, 1);
    if (cancel_ms > 0)
        pthread_join(can, NULL);
    if (update_ms > 0)
        pthread_join(upd, NULL);
    pthread_mutex_lock(&s.mu);
    s.callers_done = 1;
    pthread_cond_broadcast(&s.cv);
    pthread_mutex_unlock(&s.mu);
    pthread_join(ver, NULL);

    /* After the last wait, no callback may still come: look once more, a little later. */
    sleep_ns(50000000);
    for (size_t i = 0; i < ncallers; i++) {
        if (atomic_load(&callers[i].callbacks) != callers[i].expected)
            fail(&s, "caller %zu: %u completion callbacks in all, %u submissions", i,
                 atomic_load(&callers[i].callbacks), callers[i].expected);
        rk_request_destroy(callers[i].req);
    }
    rk_engine_stats es;
    rk_engine_stats_get(s.eng, &es);

    uint64_t complete = atomic_load(&s.complete);
    if (s.verified != complete)
        fail(&s, "%llu complete results, %llu verified", (unsigned long long)complete,
             (unsigned long long)s.verified);
    if (complete == 0)
        fail(&s, "no request completed in %.0f s", seconds);
    printf("soak: %llu submitted: %llu complete, verified bitwise against %llu reruns; "
           "%llu deadline, %llu cancelled; %llu cancels sent, %llu market updates; engine: "
           "%llu deadline misses, %llu stalled tiles\n",
           (unsigned long long)atomic_load(&s.submitted), (unsigned long long)complete,
           (unsigned long long)s.reruns, (unsigned long long)atomic_load(&s.deadline),
           (unsigned long long)atomic_load(&s.cancelled),
           (unsigned long long)atomic_load(&s.cancels_sent),
           (unsigned long long)atomic_load(&s.updates), (unsigned long long)es.deadline_misses,
           (unsigned long long)es.stalls);
    if (s.rss_minute1 > 0 && s.rss_end > 0) {
        double growth = (double)(s.rss_end - s.rss_minute1) / (double)s.rss_minute1;
        int checked = seconds >= RSS_CHECK_MIN_S && !SANITIZED;
        printf("soak: resident size %.1f MiB at minute 1, %.1f MiB at the end: %+.2f%% (%s)\n",
               (double)s.rss_minute1 / 1048576.0, (double)s.rss_end / 1048576.0, 100 * growth,
               checked ? "limit +1%" : "not checked: shorter than 2 minutes or sanitized");
        if (checked && growth > RSS_GROWTH_MAX)
            fail(&s, "resident size grew %.2f%% from minute 1", 100 * growth);
    } else {
        printf("soak: resident size not checked: the run is shorter than a minute\n");
    }

    rk_portfolio_destroy(s.verify);
    rk_portfolio_destroy(s.pf);
    rk_dataset_destroy(s.ds);
    rk_engine_destroy(s.eng);
    free(callers);
    free(s.log);
    free(s.base);
    free(s.settable);
    pthread_mutex_destroy(&s.mu);
    pthread_cond_destroy(&s.cv);
    int ok = atomic_load(&s.failures) == 0;
    printf("%d passed, %d failed\n", ok, !ok);
    return ok ? 0 : 1;
}
