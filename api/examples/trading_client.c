/*
 * trading_client.c - an example trading-system client of riskengine, built against the
 * installed library with `pkg-config --cflags --libs riskengine`.
 *
 * Four submitter threads each run W1-sized requests (sensitivity grid + parametric VaR) with a
 * 20 ms deadline, back to back, while a market thread moves spot values every millisecond. At
 * the end it prints latency percentiles (submit to completion), coverage (share of grid cells
 * finished by the deadline) and the engine's statistics. Then a pre-trade what-if: the
 * portfolio's cache is warmed from a complete request, and a candidate european call is
 * priced against it: each book's VaR before and after, in microseconds, without a new request
 * over every position; after a market move the cache says it is stale and is refreshed.
 *
 *   trading_client DATA_DIR [SECONDS] [THREADS]
 *
 * DATA_DIR is a data set folder, e.g. from `riskengine generate --preset w1 --out DIR`.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <riskengine.h>

#define SUBMITTERS 4
#define DEADLINE_NS INT64_C(20000000)
#define MAX_SAMPLES 100000

typedef struct client {
    rk_portfolio *pf;
    int64_t stop_at;
    size_t n;                      /* requests completed */
    int64_t lat[MAX_SAMPLES];      /* submit -> completion, ns */
    double coverage_sum;
    size_t deadline_hits;
} client;

static void *submitter(void *arg)
{
    client *c = arg;
    rk_request *rq;
    if (rk_request_create(c->pf, &rq) != RK_OK)
        return NULL;
    rk_request_set_measures(rq, RK_MEASURE_GRID | RK_MEASURE_PARAMETRIC_VAR);
    while (rk_now_ns() < c->stop_at && c->n < MAX_SAMPLES) {
        rk_result *res;
        rk_status rc = rk_request_run(rq, rk_deadline_in(DEADLINE_NS), &res);
        if (rc != RK_OK) {
            fprintf(stderr, "request: %s\n", rk_strerror(rc));
            break;
        }
        rk_timings tm;
        rk_coverage cv;
        rk_result_timings(res, &tm);
        rk_result_coverage(res, RK_MEASURE_GRID, rk_result_books(res), &cv);
        c->lat[c->n++] = tm.completed_ns - tm.submitted_ns;
        c->coverage_sum += cv.coverage;
        c->deadline_hits += rk_result_status(res) == RK_DEADLINE;
        rk_result_destroy(res);
    }
    rk_request_destroy(rq);
    return NULL;
}

typedef struct market {
    rk_portfolio *pf;
    int64_t stop_at;
    size_t updates;
} market;

static void *market_main(void *arg)
{
    market *m = arg;
    const rk_dataset *ds = rk_portfolio_dataset(m->pf);
    size_t nund = rk_dataset_underlyings(ds), nspot = 0;
    size_t *spot = malloc((nund ? nund : 1) * sizeof *spot);
    double *value = malloc((nund ? nund : 1) * sizeof *value);
    if (spot == NULL || value == NULL)
        goto done;
    for (size_t u = 0; u < nund; u++) {
        rk_underlying_kind kind;
        rk_dataset_underlying(ds, u, &kind, &value[u]);
        if (kind == RK_UNDERLYING_SPOT)
            spot[nspot++] = u;
    }
    unsigned long long x = 88172645463325252ull;
    while (nspot > 0 && rk_now_ns() < m->stop_at) {
        /* every millisecond, one spot moves by up to +-0.1% */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t u = spot[x % nspot];
        value[u] *= 1.0 + ((double)(x >> 40) / (double)(1ull << 24) - 0.5) * 0.002;
        if (rk_portfolio_set_value(m->pf, u, value[u]) == RK_OK)
            m->updates++;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
done:
    free(spot);
    free(value);
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Pre-trade what-if: "what does buying this option do to my book's VaR?" */
static int whatif_demo(rk_portfolio *pf, const rk_dataset *ds)
{
    /* the cache: a complete parametric VaR request on the current market */
    rk_request *rq;
    rk_result *res = NULL;
    rk_status rc = rk_request_create(pf, &rq);
    if (rc == RK_OK)
        rc = rk_request_run(rq, RK_DEADLINE_NONE, &res);
    if (rc == RK_OK)
        rc = rk_portfolio_warm(pf, res);
    rk_result_destroy(res);
    rk_request_destroy(rq);
    if (rc != RK_OK) {
        fprintf(stderr, "warm: %s\n", rk_strerror(rc));
        return 1;
    }
    /* a candidate: a european call on the first spot, rate and vol underlyings */
    const char *und[3] = {NULL, NULL, NULL};
    double spot = 0;
    for (size_t u = 0; u < rk_dataset_underlyings(ds); u++) {
        rk_underlying_kind k;
        double v;
        rk_dataset_underlying(ds, u, &k, &v);
        if (und[k] == NULL && (k == RK_UNDERLYING_RATE || v > 0)) {
            und[k] = rk_dataset_underlying_name(ds, u);
            if (k == RK_UNDERLYING_SPOT)
                spot = v;
        }
    }
    if (und[0] == NULL || und[1] == NULL || und[2] == NULL || rk_dataset_books(ds) == 0)
        return 0; /* nothing to build a candidate from */
    rk_position p;
    rk_position_init(&p);
    p.id = "candidate_1";
    p.book = rk_dataset_book_name(ds, 0);
    p.instrument = "european_call";
    p.quantity = 500;
    p.underlying = und[RK_UNDERLYING_SPOT];
    p.strike = spot * 1.02;
    p.expiry = 0.25;
    p.rate = und[RK_UNDERLYING_RATE];
    p.vol = und[RK_UNDERLYING_VOL];
    rk_whatif *w;
    if ((rc = rk_whatif_create(pf, &w)) != RK_OK || (rc = rk_whatif_add(w, &p, NULL)) != RK_OK) {
        fprintf(stderr, "what-if: %s\n", rk_strerror(rc));
        rk_whatif_destroy(w);
        return 1;
    }
    rc = rk_whatif_run(w, 0); /* the first run sizes the what-if's scratch */
    int64_t t0 = rk_now_ns();
    if (rc == RK_OK)
        rc = rk_whatif_run(w, 0); /* warm: no allocation, only the candidate is priced */
    int64_t t1 = rk_now_ns();
    double value, before, after;
    if (rc == RK_OK && rk_whatif_trade(w, 0, &value, NULL) == RK_OK) {
        size_t total = rk_whatif_books(w);
        printf("what-if: %s %s x%.0f (value %.2f) in %.1f us\n", p.instrument, p.underlying,
               p.quantity, value, (double)(t1 - t0) / 1e3);
        for (size_t b = 0; b <= total; b += total) { /* its book, then the TOTAL */
            rk_whatif_parametric_var(w, b, &before, &after, NULL);
            printf("  %-20s VaR %.2f -> %.2f (%+.2f)\n", rk_whatif_book_name(w, b), before, after,
                   after - before);
        }
    }
    /* the market moves: the cache is stale until refreshed */
    rk_portfolio_set_value(pf, 0, 1.01 * spot);
    rk_status stale = rk_whatif_run(w, 0);
    rc = rk_whatif_run(w, RK_WHATIF_REFRESH);
    if (rc == RK_OK) {
        rk_whatif_parametric_var(w, rk_whatif_books(w), &before, &after, NULL);
        printf("after a market move: %s; refreshed on market v%llu: TOTAL VaR %.2f -> %.2f\n",
               rk_status_name(stale), (unsigned long long)rk_whatif_market_version(w), before,
               after);
    }
    rk_whatif_destroy(w);
    if (rc != RK_OK)
        fprintf(stderr, "what-if: %s\n", rk_strerror(rc));
    return rc == RK_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: trading_client DATA_DIR [SECONDS] [THREADS]\n");
        return 2;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 5.0;
    size_t threads = argc > 3 ? (size_t)atoi(argv[3]) : 0;
    printf("riskengine %s\n", rk_version());

    char msg[512];
    rk_dataset *ds;
    rk_status rc = rk_dataset_load(argv[1], &ds, msg, sizeof msg);
    if (rc != RK_OK) {
        fprintf(stderr, "load %s: %s: %s\n", argv[1], rk_strerror(rc), msg);
        return 1;
    }
    rk_engine_config cfg;
    rk_engine_config_init(&cfg);
    cfg.threads = threads;
    rk_engine *e;
    if ((rc = rk_engine_create(&cfg, &e, msg, sizeof msg)) != RK_OK) {
        fprintf(stderr, "engine: %s: %s\n", rk_strerror(rc), msg);
        rk_dataset_destroy(ds);
        return 1;
    }
    rk_portfolio *pf;
    if ((rc = rk_portfolio_create(e, ds, &pf)) != RK_OK) {
        fprintf(stderr, "portfolio: %s\n", rk_strerror(rc));
        rk_engine_destroy(e);
        rk_dataset_destroy(ds);
        return 1;
    }
    printf("%zu positions, %zu factors, %zu underlyings, %zu workers; %d submitters, %.0f ms "
           "deadline, %.1f s\n",
           rk_dataset_positions(ds), rk_dataset_factors(ds), rk_dataset_underlyings(ds),
           rk_engine_workers(e), SUBMITTERS, (double)DEADLINE_NS / 1e6, seconds);

    int64_t stop_at = rk_now_ns() + (int64_t)(seconds * 1e9);
    static client cl[SUBMITTERS];
    market mk = {pf, stop_at, 0};
    pthread_t th[SUBMITTERS], mt;
    pthread_create(&mt, NULL, market_main, &mk);
    for (int t = 0; t < SUBMITTERS; t++) {
        cl[t].pf = pf;
        cl[t].stop_at = stop_at;
        pthread_create(&th[t], NULL, submitter, &cl[t]);
    }
    for (int t = 0; t < SUBMITTERS; t++)
        pthread_join(th[t], NULL);
    pthread_join(mt, NULL);

    size_t total = 0, hits = 0;
    double cov = 0;
    for (int t = 0; t < SUBMITTERS; t++) {
        total += cl[t].n;
        hits += cl[t].deadline_hits;
        cov += cl[t].coverage_sum;
    }
    int64_t *all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    for (int t = 0; t < SUBMITTERS; t++)
        for (size_t i = 0; i < cl[t].n; i++)
            all[k++] = cl[t].lat[i];
    qsort(all, total, sizeof *all, cmp64);
    if (total > 0) {
#define PCT(p) ((double)all[(size_t)((double)(total - 1) * (p))] / 1e6)
        printf("requests %zu, market updates %zu (final version %llu)\n", total, mk.updates,
               (unsigned long long)rk_portfolio_market_version(pf));
        printf("latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", PCT(0.50), PCT(0.90),
               PCT(0.99), (double)all[total - 1] / 1e6);
        printf("coverage: mean %.4f; requests cut by the deadline %zu (%.1f%%)\n",
               cov / (double)total, hits, 100.0 * (double)hits / (double)total);
    }
    rk_engine_stats st;
    rk_engine_stats_get(e, &st);
    printf("engine: %llu requests, %llu tiles, %llu deadline misses, max channel occupancy "
           "%llu\n",
           (unsigned long long)st.requests_completed, (unsigned long long)st.tiles_done,
           (unsigned long long)st.deadline_misses, (unsigned long long)st.channel_max);
    free(all);
    int wrc = whatif_demo(pf, ds);
    rk_portfolio_destroy(pf);
    rk_engine_destroy(e);
    rk_dataset_destroy(ds);
    return total > 0 && wrc == 0 ? 0 : 1;
}
