/*
 * bench.c - the riskengine benchmark: how fast, how reliably on time and how well it scales,
 * measured side by side in one run on the W1 data set (contract §6), with the baselines beside it.
 *
 * Sections, in the order they run:
 *   kernels    ns per revaluation of every model kind (fast batch entry and scalar reference)
 *              at every instruction-set level the CPU supports, and the compute floor the best
 *              level's figures imply for W1 and W2
 *   latency    W1 requests through w1_request.h: closed loop and open loop (fixed arrival rate,
 *              latency counted from the scheduled arrival, so queueing cannot hide), 1, 2 and 4
 *              concurrent callers; percentiles and the deadline miss rate
 *   deadline   deadline at half the median W1 time: overshoot and coverage; cancel-to-return
 *   dispatch   the same tiling as W1 with an empty run(): what dispatch and fan-in cost
 *   scaling    W1 with 1..N workers (N = allowed cores), interleaved; efficiency T1/(k Tk)
 *   baselines  reference evaluator, OpenMP parallel for, thread per job, interleaved with the
 *              engine, each checked against the engine's VaR
 *   whatif     pre-trade what-if of one european option on warm W1 (parametric VaR, and 1000
 *              Monte Carlo scenarios), 1 and 4 concurrent callers (whatif_bench.h)
 * (--only NAME runs the latency section, which every other needs, and that one section.)
 * Then it reads the W2/W3 throughput figures (benchmarks/throughput.sh), checks every target in
 * benchmarks/targets (PASS/FAIL; `--targets none` for a comparison run), and writes
 * results.json, results.md and the plot data. The instruction-set level of the kernels and the
 * density of the data set's loadings are printed and recorded.
 *
 * Shared, noisy machines: every comparison is interleaved and reported as medians, ratios and
 * percentiles, never as a single timing.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "baselines.h"
#include "dataset.h"
#include "engine.h"
#include "model.h"
#include "layout.h"
#include "states.h"
#include "w1_request.h"
#include "whatif_bench.h"

/* Baseline answers must match the engine's TOTAL VaR within this relative tolerance: the
 * engine's fast models agree with the scalar references to ~5e-14 relative in price, which the
 * bump differences (h = 1e-4) amplify to ~1e-10 in a delta. */
#define CHECK_RTOL 1e-6

/* ---- options ---- */

typedef struct opts {
    const char *data, *out, *targets, *throughput;
    size_t requests;      /* per latency configuration */
    size_t reps;          /* interleaved repetitions for scaling and the engine vs baselines */
    size_t ref_reps;      /* repetitions of the (slow) reference evaluator */
    size_t deadline_reqs; /* deadline and cancel trials each */
    size_t lat_threads;   /* workers of the latency engine (the targets say 2 cores) */
    size_t max_workers;   /* scaling goes 1..this; 0 = allowed cores */
    double load;          /* open-loop arrival rate as a fraction of closed-loop throughput */
    size_t tpj_block;     /* positions per thread in the thread-per-job baseline */
    const char *mode;     /* "quick" or "full", recorded */
    const char *command;  /* the command line that produced the run, recorded */
    const char *only;     /* run only this section ("latency" for profiling); NULL = all */
} opts;

/* Prefix of the latency tags and metrics: "" for the default path (full revaluation),
 * "reuse_" for the grid's fast path. */
static const char *variant = "";

static bool section(const opts *o, const char *name)
{
    return o->only == NULL || strcmp(o->only, name) == 0;
}

/* ---- metrics, for targets and results.md ---- */

#define MAX_METRICS 256
static struct {
    char name[64];
    double value;
} metrics[MAX_METRICS];
static size_t nmetrics;

static void metric(const char *name, double v)
{
    for (size_t i = 0; i < nmetrics; i++)
        if (strcmp(metrics[i].name, name) == 0) {
            metrics[i].value = v;
            return;
        }
    if (nmetrics < MAX_METRICS) {
        snprintf(metrics[nmetrics].name, sizeof metrics[nmetrics].name, "%s", name);
        metrics[nmetrics++].value = v;
    }
}

static bool metric_get(const char *name, double *v)
{
    for (size_t i = 0; i < nmetrics; i++)
        if (strcmp(metrics[i].name, name) == 0) {
            *v = metrics[i].value;
            return true;
        }
    return false;
}

/* ---- small helpers ---- */

static double now_s(void)
{
    return (double)eng_now_ns() * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double pct(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return NAN;
    size_t k = (size_t)ceil(p / 100.0 * (double)n);
    return sorted[k == 0 ? 0 : k - 1];
}

static double median_of(double *x, size_t n)
{
    qsort(x, n, sizeof *x, cmp_double);
    return n == 0 ? NAN : (n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]));
}

static void sleep_until_ns(int64_t t)
{
    struct timespec ts = {.tv_sec = (time_t)(t / 1000000000), .tv_nsec = (long)(t % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static FILE *out_file(const opts *o, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", o->out, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        fprintf(stderr, "bench: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static bool rel_close(double a, double b, double rtol)
{
    return fabs(a - b) <= rtol * fmax(fabs(a), fabs(b));
}

/* The JSON result file is written as the run goes. */
static FILE *js;
static bool js_first = true;

static void js_key(const char *fmt, ...)
{
    fputs(js_first ? "\n  " : ",\n  ", js);
    js_first = false;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(js, fmt, ap);
    va_end(ap);
}

/* ---- kernels ---- */

typedef struct kernel_row {
    const char *name;
    size_t count_w1; /* positions of this kind in W1 */
    double fast_ns, ref_ns;
    const char *variant;
} kernel_row;

enum { KERNEL_ITEMS = 4096 }; /* items per timed batch call (trees: 256) */

/* ns per price of the batch fn over the inputs, best of a few passes (the least disturbed). */
static double time_batch(mdl_batch_fn fn, const mdl_batch *b, const mdl_work *w, size_t passes)
{
    double best = INFINITY;
    for (size_t p = 0; p < passes; p++) {
        int64_t t0 = eng_now_ns();
        fn(b, w, NULL);
        double ns = (double)(eng_now_ns() - t0) / (double)b->n;
        if (ns < best)
            best = ns;
    }
    return best;
}

/* Times every kind's batch entry and reference in the table of one level: rows[], returns the
 * number of rows. */
static size_t time_kernels(const dat_dataset *ds, const mdl_entry *tab, kernel_row *rows,
                           double *in, uint32_t *steps, double *price, uint8_t *flags,
                           double *work, size_t work_len)
{
    const dat_positions *p = &ds->pos;
    size_t nrows = 0;
    for (int kk = 0; kk <= MDL_KIND_COUNT; kk++) {
        /* the extra pass is the american call priced by a 200-step CRR tree (W2/W3's trees) */
        bool tree = kk == MDL_KIND_COUNT;
        mdl_kind k = tree ? MDL_AMER_CALL : (mdl_kind)kk;
        size_t have = 0, count = 0;
        double *S = in, *K = in + KERNEL_ITEMS, *T = in + 2 * KERNEL_ITEMS,
               *r = in + 3 * KERNEL_ITEMS, *sg = in + 4 * KERNEL_ITEMS, *q = in + 5 * KERNEL_ITEMS,
               *cp = in + 6 * KERNEL_ITEMS, *fr = in + 7 * KERNEL_ITEMS;
        for (size_t i = 0; i < p->n; i++) {
            if (p->status[i] != RK_OK || (mdl_kind)p->kind[i] != k)
                continue;
            count++;
        }
        for (size_t i = 0; count > 0 && have < KERNEL_ITEMS; i = (i + 1) % p->n) {
            if (p->status[i] != RK_OK || (mdl_kind)p->kind[i] != k)
                continue;
            const double *x = ds->mkt.und_value;
            bool bond = k == MDL_BOND;
            S[have] = bond ? 0.0 : x[p->und[i]];
            r[have] = bond ? x[p->und[i]] : p->rate[i] != DAT_NONE ? x[p->rate[i]] : p->rate_lit[i];
            sg[have] = bond ? 0.0 : p->vol[i] != DAT_NONE ? x[p->vol[i]] : p->vol_lit[i];
            K[have] = p->strike[i];
            T[have] = p->expiry[i];
            q[have] = p->dividend[i];
            cp[have] = p->coupon[i];
            fr[have] = p->frequency[i];
            steps[have] = tree ? 200u : p->steps[i];
            have++;
        }
        if (count == 0)
            continue;
        size_t n = tree ? 256 : KERNEL_ITEMS; /* trees take ~100 µs each */
        mdl_batch b = {.n = n, .S = S, .K = K, .T = T, .r = r, .sigma = sg, .q = q, .coupon = cp,
                       .freq = fr, .steps = steps, .price = price, .flags = flags};
        mdl_work w = {.buf = work, .len = work_len};
        kernel_row *row = &rows[nrows++];
        row->name = tree ? "american_call (CRR 200 steps)" : mdl_kind_name(k);
        row->count_w1 = tree ? 0 : count;
        row->variant = tree ? "tree" : tab[k].variant;
        size_t passes = tree ? 3 : 9;
        row->fast_ns = time_batch(tab[k].batch, &b, &w, passes);
        row->ref_ns = time_batch(tab[k].ref_batch, &b, &w, passes);
    }
    return nrows;
}

/* Every level this CPU supports is timed and reported; the floors, the kernels.dat plot and the
 * kernel_ns.<kind> metrics the targets name are the best level's (the one the engine takes by
 * default); kernel_ns.<level>.<kind> are every level's. */
static void run_kernels(const opts *o, const dat_dataset *ds, size_t ncores)
{
    fprintf(stderr, "bench: kernels\n");
    size_t F = ds->mkt.nfactors, work_len = bl_work_len(ds);
    double *in = malloc(9 * KERNEL_ITEMS * sizeof(double));
    uint32_t *steps = calloc(KERNEL_ITEMS, sizeof *steps);
    double *price = malloc(KERNEL_ITEMS * sizeof(double));
    uint8_t *flags = malloc(KERNEL_ITEMS);
    double *work = malloc(work_len * sizeof(double));
    kernel_row rows[MDL_KIND_COUNT + 1];
    size_t nrows = 0;
    mdl_isa best = mdl_isa_best();
    js_key("\"kernels\": {\"items\": %d, \"isa\": \"%s\", \"levels\": [", KERNEL_ITEMS,
           mdl_isa_name(best));
    bool first_level = true;
    for (int lv = MDL_ISA_COUNT - 1; lv >= 0; lv--) {
        mdl_isa isa = (mdl_isa)lv;
        const mdl_entry *tab = mdl_table_isa(isa);
        if (!mdl_isa_supported(isa) || tab == NULL)
            continue;
        kernel_row lrows[MDL_KIND_COUNT + 1];
        size_t n = time_kernels(ds, tab, lrows, in, steps, price, flags, work, work_len);
        fprintf(stderr, "  level %s%s\n", mdl_isa_name(isa),
                isa == best ? " (the best: the targets apply to it)" : "");
        fprintf(js, "%s\n    {\"isa\": \"%s\", \"best\": %s, \"rows\": [", first_level ? "" : ",",
                mdl_isa_name(isa), isa == best ? "true" : "false");
        first_level = false;
        for (size_t i = 0; i < n; i++) {
            fprintf(js, "%s\n      {\"kind\": \"%s\", \"variant\": \"%s\", \"w1_count\": %zu, "
                        "\"fast_ns\": %.2f, \"ref_ns\": %.2f}",
                    i ? "," : "", lrows[i].name, lrows[i].variant, lrows[i].count_w1,
                    lrows[i].fast_ns, lrows[i].ref_ns);
            fprintf(stderr, "    %-30s fast %9.1f ns  reference %9.1f ns  (W1 count %zu)\n",
                    lrows[i].name, lrows[i].fast_ns, lrows[i].ref_ns, lrows[i].count_w1);
            char name[96];
            snprintf(name, sizeof name, "kernel_ns.%s.%s", mdl_isa_name(isa), lrows[i].name);
            metric(name, lrows[i].fast_ns);
        }
        fputs("]}", js);
        if (isa == best) {
            memcpy(rows, lrows, n * sizeof rows[0]);
            nrows = n;
        }
    }
    fputs("],", js);
    /* Floors: every revaluation at the fast kernel's cost, spread perfectly over the cores. */
    double w1_ns = 0.0, w2_ns = 0.0, tree_ns = 0.0, amer = 0.0;
    size_t total = 0;
    for (size_t i = 0; i < nrows; i++) {
        if (rows[i].count_w1 == 0) {
            tree_ns = rows[i].fast_ns;
            continue;
        }
        total += rows[i].count_w1;
        w1_ns += (double)rows[i].count_w1 * (double)(1 + 2 * F) * rows[i].fast_ns;
        bool is_amer = strcmp(rows[i].name, "american_call") == 0 ||
                       strcmp(rows[i].name, "american_put") == 0;
        if (is_amer)
            amer += (double)rows[i].count_w1;
        /* W2: the same mix, 1,000,000 positions, base + 1,000 scenarios */
        w2_ns += (double)rows[i].count_w1 * rows[i].fast_ns;
    }
    double scale = 1e6 / (double)(total ? total : 1);
    /* one american in a hundred is a 200-step tree in W2 */
    double w2_unit = (w2_ns + 0.01 * amer * (tree_ns - 0.0)) * scale; /* ns per state */
    double w2_total_ns = w2_unit * 1001.0;
    FILE *kd = out_file(o, "kernels.dat");
    fputs(" \"rows\": [", js);
    for (size_t i = 0; i < nrows; i++) {
        fprintf(js, "%s\n    {\"kind\": \"%s\", \"variant\": \"%s\", \"w1_count\": %zu, "
                    "\"fast_ns\": %.2f, \"ref_ns\": %.2f}",
                i ? "," : "", rows[i].name, rows[i].variant, rows[i].count_w1, rows[i].fast_ns,
                rows[i].ref_ns);
        if (kd != NULL)
            fprintf(kd, "\"%s\" %.3f %.3f\n", rows[i].name, rows[i].fast_ns, rows[i].ref_ns);
    }
    if (kd != NULL)
        fclose(kd);
    double cores2 = (double)(ncores < 2 ? ncores : 2);
    fprintf(js, "],\n    \"w1_floor_ms_2cores\": %.3f, \"w1_floor_ms_all_cores\": %.3f, "
                "\"w2_floor_s_2cores\": %.3f, \"w2_floor_s_all_cores\": %.3f, \"cores\": %zu}",
            w1_ns / cores2 * 1e-6, w1_ns / (double)ncores * 1e-6, w2_total_ns / cores2 * 1e-9,
            w2_total_ns / (double)ncores * 1e-9, ncores);
    metric("w1_floor_ms_2cores", w1_ns / cores2 * 1e-6);
    metric("w2_floor_s_2cores", w2_total_ns / cores2 * 1e-9);
    for (size_t i = 0; i < nrows; i++) {
        char name[96];
        snprintf(name, sizeof name, "kernel_ns.%s", rows[i].name);
        metric(name, rows[i].fast_ns);
    }
    fprintf(stderr, "  floor (level %s): W1 %.1f ms on 2 cores, W2 %.1f s on 2 cores\n",
            mdl_isa_name(best), w1_ns / cores2 * 1e-6, w2_total_ns / cores2 * 1e-9);
    free(in);
    free(steps);
    free(price);
    free(flags);
    free(work);
}

/* ---- latency ---- */

typedef struct lat_run {
    w1_ctx *ctx;
    bool open;           /* open loop: arrivals on a fixed schedule */
    int64_t t0, period;  /* open loop: arrival k at t0 + k period */
    size_t n;
    _Atomic size_t next; /* next request index to take */
    double *lat_ms;      /* per request */
    double *var;         /* per request, TOTAL VaR */
    _Atomic size_t failed;
} lat_run;

static void *lat_caller(void *arg)
{
    lat_run *lr = arg;
    for (;;) {
        size_t k = atomic_fetch_add(&lr->next, 1);
        if (k >= lr->n)
            return NULL;
        int64_t t0 = eng_now_ns();
        if (lr->open) {
            int64_t sched = lr->t0 + (int64_t)k * lr->period;
            if (sched > t0)
                sleep_until_ns(sched);
            t0 = sched; /* latency from the scheduled arrival: queueing counts */
        }
        w1_request *r = w1_start(lr->ctx, ENG_NO_DEADLINE);
        w1_result res;
        if (r == NULL) {
            atomic_fetch_add(&lr->failed, 1);
            lr->lat_ms[k] = NAN;
            continue;
        }
        w1_wait(r, &res);
        lr->lat_ms[k] = (double)(eng_now_ns() - t0) * 1e-6;
        lr->var[k] = res.var_total;
        if (res.status != 0 || res.cells_ok != res.cells_requested)
            atomic_fetch_add(&lr->failed, 1);
        w1_free(r);
    }
}

/* Runs one latency configuration; returns requests per second (closed loop throughput). */
static double latency_config(const opts *o, w1_ctx *ctx, bool open, size_t callers,
                             double rate, double target_ms, double var_expect, size_t *mismatch)
{
    lat_run lr = {.ctx = ctx, .open = open, .n = o->requests};
    atomic_init(&lr.next, 0);
    atomic_init(&lr.failed, 0);
    lr.lat_ms = calloc(lr.n, sizeof(double));
    lr.var = calloc(lr.n, sizeof(double));
    pthread_t tid[16];
    lr.period = open ? (int64_t)(1e9 / rate) : 0;
    lr.t0 = eng_now_ns() + 1000000;
    int64_t t_start = eng_now_ns();
    for (size_t c = 0; c < callers; c++)
        pthread_create(&tid[c], NULL, lat_caller, &lr);
    for (size_t c = 0; c < callers; c++)
        pthread_join(tid[c], NULL);
    double elapsed = (double)(eng_now_ns() - t_start) * 1e-9;
    size_t mm = 0, miss = 0;
    for (size_t k = 0; k < lr.n; k++) {
        if (!(lr.var[k] == var_expect))
            mm++;
        if (!(lr.lat_ms[k] <= target_ms))
            miss++;
    }
    *mismatch += mm;
    qsort(lr.lat_ms, lr.n, sizeof(double), cmp_double);
    const double *s = lr.lat_ms;
    size_t n = lr.n;
    char tag[64];
    snprintf(tag, sizeof tag, "%s%s_c%zu", variant, open ? "open" : "closed", callers);
    double thr = (double)n / elapsed;
    fprintf(stderr,
            "  %-9s p50 %7.2f  p90 %7.2f  p99 %7.2f  p99.9 %7.2f  max %7.2f ms  miss %5.1f%%  "
            "%.2f req/s%s\n",
            tag, pct(s, n, 50), pct(s, n, 90), pct(s, n, 99), pct(s, n, 99.9), s[n - 1],
            100.0 * (double)miss / (double)n, thr, mm ? "  RESULT MISMATCH" : "");
    fprintf(js, "%s\n    {\"mode\": \"%s\", \"callers\": %zu, \"requests\": %zu, "
                "\"rate_per_s\": %.3f, \"throughput_per_s\": %.3f, \"p50_ms\": %.3f, "
                "\"p90_ms\": %.3f, \"p99_ms\": %.3f, \"p999_ms\": %.3f, \"max_ms\": %.3f, "
                "\"deadline_ms\": %.1f, \"miss_rate\": %.4f, "
                "\"failed\": %zu, \"result_mismatches\": %zu}",
            (open || callers != 1) ? "," : "", open ? "open" : "closed", callers, n,
            open ? rate : 0.0, thr, pct(s, n, 50), pct(s, n, 90), pct(s, n, 99), pct(s, n, 99.9),
            s[n - 1], target_ms, (double)miss / (double)n,
            (size_t)atomic_load(&lr.failed), mm);
    char name[96];
    snprintf(name, sizeof name, "w1_%s_p99_ms", tag);
    metric(name, pct(s, n, 99));
    snprintf(name, sizeof name, "w1_%s_p50_ms", tag);
    metric(name, pct(s, n, 50));
    snprintf(name, sizeof name, "w1_%s_miss_rate", tag);
    metric(name, (double)miss / (double)n);
    char file[96];
    snprintf(file, sizeof file, "latency_%s.dat", tag);
    FILE *f = out_file(o, file);
    if (f != NULL) {
        for (size_t k = 0; k < n; k++)
            fprintf(f, "%.4f %.6f\n", s[k], (double)(k + 1) / (double)n);
        fclose(f);
    }
    free(lr.lat_ms);
    free(lr.var);
    return thr;
}

/* One W1 request, no deadline, timed (ms); *res filled. */
static double w1_once(w1_ctx *ctx, w1_result *res)
{
    int64_t t0 = eng_now_ns();
    w1_request *r = w1_start(ctx, ENG_NO_DEADLINE);
    if (r == NULL)
        return NAN;
    w1_wait(r, res);
    double ms = (double)(eng_now_ns() - t0) * 1e-6;
    w1_free(r);
    return ms;
}

static double run_latency(const opts *o, w1_ctx *ctx, double target_ms, double *var_out)
{
    fprintf(stderr, "bench: latency (%zu workers, %zu requests per configuration)\n",
            w1_workers(ctx), o->requests);
    w1_result res;
    w1_once(ctx, &res); /* warm-up: first-touch of the engine's buffers */
    double warm[5];
    for (size_t i = 0; i < 5; i++)
        warm[i] = w1_once(ctx, &res);
    *var_out = res.var_total;
    double med = median_of(warm, 5);
    js_key("\"latency%s\": {\"layer\": \"%s\", \"workers\": %zu, \"load\": %.2f, \"runs\": [",
           variant[0] ? "_reuse_unmoved" : "", W1_LAYER, w1_workers(ctx), o->load);
    size_t mismatch = 0;
    static const size_t callers[] = {1, 2, 4};
    double thr[3];
    for (size_t i = 0; i < 3; i++)
        thr[i] = latency_config(o, ctx, false, callers[i], 0, target_ms, res.var_total, &mismatch);
    for (size_t i = 0; i < 3; i++)
        latency_config(o, ctx, true, callers[i], o->load * thr[i], target_ms, res.var_total,
                       &mismatch);
    fprintf(js, "],\n    \"result_mismatches\": %zu, \"warm_median_ms\": %.3f}", mismatch, med);
    char name[96];
    snprintf(name, sizeof name, "w1_%sresult_mismatches", variant);
    metric(name, (double)mismatch);
    double p99;
    snprintf(name, sizeof name, "w1_%sclosed_c1_p99_ms", variant);
    if (metric_get(name, &p99)) {
        snprintf(name, sizeof name, "w1_%sp99_ms", variant);
        metric(name, p99);
    }
    double p50;
    snprintf(name, sizeof name, "w1_%sclosed_c1_p50_ms", variant);
    if (metric_get(name, &p50))
        med = p50;
    return med;
}

/* ---- deadlines and cancellation ---- */

typedef struct cancel_arg {
    w1_request *r;
    int64_t at;        /* when to cancel */
    int64_t cancelled; /* when w1_cancel was called */
} cancel_arg;

static void *canceller(void *arg)
{
    cancel_arg *a = arg;
    sleep_until_ns(a->at);
    a->cancelled = eng_now_ns();
    w1_cancel(a->r);
    return NULL;
}

static void run_deadline(const opts *o, w1_ctx *ctx, double w1_ms)
{
    size_t n = o->deadline_reqs;
    double budget_ms = w1_ms / 2.0;
    fprintf(stderr, "bench: deadlines (budget %.2f ms = half of %.2f ms, %zu requests)\n",
            budget_ms, w1_ms, n);
    double *over = calloc(n, sizeof(double)), *eover = calloc(n, sizeof(double));
    double *cov = calloc(n, sizeof(double)), *canc = calloc(n, sizeof(double));
    for (size_t k = 0; k < n; k++) {
        int64_t t0 = eng_now_ns();
        int64_t dl = t0 + (int64_t)(budget_ms * 1e6);
        w1_request *r = w1_start(ctx, dl);
        w1_result res;
        w1_wait(r, &res);
        int64_t t1 = eng_now_ns();
        w1_free(r);
        over[k] = (double)(t1 - dl) * 1e-6;
        eover[k] = (double)res.engine_overshoot_ns * 1e-6;
        cov[k] = (double)res.cells_ok / (double)res.cells_requested;
    }
    /* cancel at a uniformly spread point of the request's expected time */
    size_t nc = 0;
    for (size_t k = 0; k < n; k++) {
        int64_t t0 = eng_now_ns();
        cancel_arg a = {.r = w1_start(ctx, ENG_NO_DEADLINE),
                        .at = t0 + (int64_t)(w1_ms * 1e6 * (0.05 + 0.9 * (double)k / (double)n))};
        pthread_t tid;
        pthread_create(&tid, NULL, canceller, &a);
        w1_result res;
        w1_wait(a.r, &res);
        int64_t t1 = eng_now_ns();
        pthread_join(tid, NULL);
        w1_free(a.r);
        if (t1 > a.cancelled) /* it was still running when cancelled */
            canc[nc++] = (double)(t1 - a.cancelled) * 1e-6;
    }
    qsort(over, n, sizeof(double), cmp_double);
    qsort(eover, n, sizeof(double), cmp_double);
    qsort(cov, n, sizeof(double), cmp_double);
    qsort(canc, nc, sizeof(double), cmp_double);
    fprintf(stderr,
            "  overshoot p50 %.3f p99 %.3f max %.3f ms (engine's own p99 %.3f); coverage p50 "
            "%.3f min %.3f\n  cancel-to-return p50 %.3f p99 %.3f max %.3f ms (%zu of %zu "
            "cancelled in flight)\n",
            pct(over, n, 50), pct(over, n, 99), over[n - 1], pct(eover, n, 99), pct(cov, n, 50),
            cov[0], pct(canc, nc, 50), pct(canc, nc, 99), nc ? canc[nc - 1] : NAN, nc, n);
    js_key("\"deadline\": {\"budget_ms\": %.3f, \"w1_ms\": %.3f, \"requests\": %zu, "
           "\"overshoot_ms\": {\"p50\": %.4f, \"p90\": %.4f, \"p99\": %.4f, \"max\": %.4f, "
           "\"min\": %.4f}, \"engine_overshoot_ms_p99\": %.4f, "
           "\"coverage\": {\"min\": %.4f, \"p50\": %.4f, \"max\": %.4f}, "
           "\"cancel_to_return_ms\": {\"n\": %zu, \"p50\": %.4f, \"p99\": %.4f, \"max\": %.4f}}",
           budget_ms, w1_ms, n, pct(over, n, 50), pct(over, n, 90), pct(over, n, 99), over[n - 1],
           over[0], pct(eover, n, 99), cov[0], pct(cov, n, 50), cov[n - 1], nc,
           pct(canc, nc, 50), pct(canc, nc, 99), nc ? canc[nc - 1] : NAN);
    metric("deadline_overshoot_p99_ms", pct(over, n, 99));
    metric("deadline_coverage_p50", pct(cov, n, 50));
    metric("cancel_to_return_p99_ms", pct(canc, nc, 99));
    FILE *f = out_file(o, "overshoot.dat");
    if (f != NULL) {
        for (size_t k = 0; k < n; k++)
            fprintf(f, "%.5f\n", over[k]);
        fclose(f);
    }
    free(over);
    free(eover);
    free(cov);
    free(canc);
}

/* ---- dispatch and fan-in ---- */

static void empty_run(void *arg, const eng_tile *t, eng_worker *w, eng_tile_result *res)
{
    (void)arg;
    (void)t;
    (void)w;
    res->code = RK_OK;
    res->cells_ok = 0;
}

static double empty_request_ms(eng_engine *e, const eng_job_desc *job, uint64_t *tiles)
{
    int64_t t0 = eng_now_ns();
    eng_job *r;
    if (eng_submit(e, job, ENG_NO_DEADLINE, NULL, NULL, &r) != RK_OK)
        return NAN;
    eng_wait(r, ENG_NO_DEADLINE);
    double ms = (double)(eng_now_ns() - t0) * 1e-6;
    eng_job_stats st;
    eng_job_stats_get(r, &st);
    *tiles = st.tiles;
    eng_job_free(r);
    return ms;
}

static void run_dispatch(const opts *o, const dat_dataset *ds, w1_ctx *ctx)
{
    fprintf(stderr, "bench: dispatch + fan-in\n");
    eng_engine *e;
    char msg[256];
    eng_config cfg = {.threads = w1_workers(ctx)};
    if (eng_create(&cfg, &e, msg, sizeof msg) != RK_OK) {
        fprintf(stderr, "bench: engine: %s\n", msg);
        return;
    }
    rsk_layout pf;
    rsk_layout_build(ds, e, &pf);
    /* The two requests of a W1 request with W1's own tiling (values: one column per tile;
     * grid: F columns), cost model and placement, and a run() that does nothing. */
    eng_job_desc values = {.nrows = (uint32_t)pf.nchunks, .ncols = 1, .row_node = pf.chunk_node,
                      .row_cost = pf.chunk_cost, .max_tile_cols = 1, .run = empty_run};
    eng_job_desc grid = values;
    grid.ncols = (uint32_t)ds->mkt.nfactors;
    grid.max_tile_cols = 0;
    size_t reps = o->reps * 4;
    double *empty = calloc(reps, sizeof(double)), *full = calloc(reps, sizeof(double));
    uint64_t tv = 0, tg = 0;
    for (size_t k = 0; k < reps; k++) { /* interleaved with real W1 requests */
        empty[k] = empty_request_ms(e, &values, &tv) + empty_request_ms(e, &grid, &tg);
        w1_result res;
        full[k] = w1_once(ctx, &res);
    }
    double me = median_of(empty, reps), mf = median_of(full, reps);
    double share = 100.0 * me / mf;
    fprintf(stderr, "  empty W1-shaped requests %.3f ms (%" PRIu64 " + %" PRIu64
                    " tiles) vs W1 %.2f ms: %.2f%%\n",
            me, tv, tg, mf, share);
    js_key("\"dispatch\": {\"method\": \"W1's two engine requests with the same tiling and an "
           "empty run(), interleaved with real W1 requests; medians\", \"tiles\": %" PRIu64
           ", \"empty_ms\": %.4f, \"w1_ms\": %.3f, \"share_pct\": %.3f, \"us_per_tile\": %.3f}",
           tv + tg, me, mf, share, me * 1e3 / (double)(tv + tg));
    metric("dispatch_share_pct", share);
    free(empty);
    free(full);
    rsk_layout_free(&pf);
    eng_destroy(e);
}

/* ---- scaling ---- */

static void run_scaling(const opts *o, const dat_dataset *ds, size_t maxw)
{
    fprintf(stderr, "bench: scaling 1..%zu workers, %zu interleaved rounds\n", maxw, o->reps);
    w1_ctx **ctx = calloc(maxw + 1, sizeof *ctx);
    double *t = calloc((maxw + 1) * o->reps, sizeof(double));
    char msg[256];
    for (size_t k = 1; k <= maxw; k++) {
        ctx[k] = w1_open(ds, k, msg, sizeof msg);
        if (ctx[k] == NULL) {
            fprintf(stderr, "bench: engine with %zu workers: %s\n", k, msg);
            maxw = k - 1;
            break;
        }
        w1_result res;
        w1_once(ctx[k], &res);
    }
    for (size_t rep = 0; rep < o->reps; rep++)
        for (size_t k = 1; k <= maxw; k++) {
            w1_result res;
            t[k * o->reps + rep] = w1_once(ctx[k], &res);
        }
    js_key("\"scaling\": {\"rounds\": %zu, \"points\": [", o->reps);
    FILE *f = out_file(o, "scaling.dat");
    double t1 = NAN;
    for (size_t k = 1; k <= maxw; k++) {
        double tk = median_of(t + k * o->reps, o->reps);
        if (k == 1)
            t1 = tk;
        double eff = t1 / ((double)k * tk);
        fprintf(stderr, "  %2zu workers  %8.2f ms  speedup %5.2f  efficiency %5.1f%%\n", k, tk,
                t1 / tk, 100.0 * eff);
        fprintf(js, "%s\n    {\"workers\": %zu, \"median_ms\": %.3f, \"speedup\": %.4f, "
                    "\"efficiency\": %.4f}",
                k > 1 ? "," : "", k, tk, t1 / tk, eff);
        if (f != NULL)
            fprintf(f, "%zu %.4f %.5f %.5f\n", k, tk, t1 / tk, eff);
        char name[64];
        snprintf(name, sizeof name, "scaling_eff_%zu", k);
        metric(name, eff);
    }
    fputs("]}", js);
    if (f != NULL)
        fclose(f);
    for (size_t k = 1; k <= maxw; k++)
        w1_close(ctx[k]);
    free(ctx);
    free(t);
}

/* ---- baselines ---- */

static void run_baselines(const opts *o, const dat_dataset *ds, size_t ncores)
{
    fprintf(stderr, "bench: engine vs baselines (%zu workers/threads), %zu rounds\n", ncores,
            o->reps);
    char msg[256];
    w1_ctx *ctx = w1_open(ds, ncores, msg, sizeof msg);
    if (ctx == NULL) {
        fprintf(stderr, "bench: engine: %s\n", msg);
        return;
    }
    w1_result er;
    w1_once(ctx, &er);
    size_t R = o->reps;
    enum { ENGINE, REFERENCE, OPENMP, TPJ, NB };
    static const char *const names[NB] = {"engine", "reference", "openmp", "thread_per_job"};
    double *t = calloc(NB * R, sizeof(double));
    size_t done[NB] = {0};
    bool ok[NB] = {true, true, true, true};
    double var[NB] = {er.var_total, NAN, NAN, NAN};
    for (size_t rep = 0; rep < R; rep++) {
        for (int b = 0; b < NB; b++) {
            if (b == REFERENCE && rep >= o->ref_reps)
                continue;
            bl_result br = {0};
            double t0 = now_s();
            int rc = 0;
            switch (b) {
            case ENGINE: {
                w1_result res;
                w1_once(ctx, &res);
                br.var_total = res.var_total;
                rc = res.status;
                break;
            }
            case REFERENCE:
                rc = bl_reference(ds, &br);
                break;
            case OPENMP:
                rc = bl_openmp(ds, (int)ncores, &br);
                break;
            case TPJ:
                rc = bl_thread_per_job(ds, o->tpj_block, &br);
                break;
            }
            t[b * R + done[b]++] = (now_s() - t0) * 1e3;
            var[b] = br.var_total;
            if (rc != 0 || !rel_close(br.var_total, er.var_total, CHECK_RTOL))
                ok[b] = false;
        }
    }
    double med[NB];
    for (int b = 0; b < NB; b++)
        med[b] = median_of(t + b * R, done[b]);
    js_key("\"baselines\": {\"threads\": %zu, \"rounds\": %zu, \"check\": \"TOTAL parametric VaR "
           "within %.0e relative of the engine's\", \"tpj_block\": %zu, \"rows\": [",
           ncores, R, CHECK_RTOL, o->tpj_block);
    bool all_ok = true;
    for (int b = 0; b < NB; b++) {
        fprintf(stderr, "  %-15s %9.2f ms  engine/baseline %6.3f  VaR %.10g %s\n", names[b], med[b],
                med[ENGINE] / med[b], var[b], ok[b] ? "OK" : "MISMATCH");
        fprintf(js, "%s\n    {\"name\": \"%s\", \"runs\": %zu, \"median_ms\": %.3f, "
                    "\"engine_over_baseline\": %.4f, \"var_total\": %.12g, \"check\": %s}",
                b ? "," : "", names[b], done[b], med[b], med[ENGINE] / med[b], var[b],
                ok[b] ? "true" : "false");
        char name[64];
        snprintf(name, sizeof name, "engine_over_%s", names[b]);
        if (b != ENGINE)
            metric(name, med[ENGINE] / med[b]);
        /* how many times faster the engine is than the baseline (the target's direction) */
        snprintf(name, sizeof name, "speedup_vs_%s", names[b]);
        if (b != ENGINE)
            metric(name, med[b] / med[ENGINE]);
        all_ok = all_ok && ok[b];
    }
    fputs("]}", js);
    metric("baseline_checks_failed", all_ok ? 0.0 : 1.0);
    free(t);
    w1_close(ctx);
}

/* ---- throughput (W2, W3): figures measured by throughput.sh ---- */

static void read_throughput(const opts *o)
{
    if (o->throughput == NULL)
        return;
    FILE *f = fopen(o->throughput, "r");
    if (f == NULL)
        return;
    char line[512];
    js_key("\"throughput\": {");
    bool first = true;
    while (fgets(line, sizeof line, f) != NULL) {
        char key[128];
        double v;
        if (line[0] == '#' || sscanf(line, "%127[^=]=%lf", key, &v) != 2)
            continue;
        metric(key, v);
        fprintf(js, "%s\"%s\": %.6g", first ? "" : ", ", key, v);
        first = false;
    }
    fputs("}", js);
    fclose(f);
}

/* ---- targets ---- */

static int check_targets(const opts *o, FILE *md)
{
    FILE *f = fopen(o->targets, "r");
    if (f == NULL) {
        fprintf(stderr, "bench: cannot read %s\n", o->targets);
        return -1;
    }
    int failed = 0;
    char line[512];
    js_key("\"targets\": [");
    bool first = true;
    fprintf(stderr, "\ntargets (%s):\n", o->targets);
    fputs("| target | measured | limit | verdict |\n|---|---|---|---|\n", md);
    while (fgets(line, sizeof line, f) != NULL) {
        char name[96], op[4], desc[256] = "";
        double limit;
        int used = 0;
        /* a metric name with spaces is written in double quotes */
        if (line[0] == '#')
            continue;
        if (sscanf(line, "\"%95[^\"]\" %3s %lf %n", name, op, &limit, &used) != 3 &&
            sscanf(line, "%95s %3s %lf %n", name, op, &limit, &used) != 3)
            continue;
        snprintf(desc, sizeof desc, "%s", line + used);
        desc[strcspn(desc, "\n")] = '\0';
        double v;
        const char *verdict;
        if (!metric_get(name, &v) || isnan(v))
            verdict = "NOT MEASURED";
        else if (strcmp(op, "<=") == 0)
            verdict = v <= limit ? "PASS" : "FAIL";
        else
            verdict = v >= limit ? "PASS" : "FAIL";
        if (strcmp(verdict, "FAIL") == 0)
            failed++;
        bool measured = strcmp(verdict, "NOT MEASURED") != 0;
        fprintf(stderr, "  %-4s  %-40s %12.4g %s %-8g %s\n", verdict, name, measured ? v : NAN,
                op, limit, desc);
        char mv[32] = "null";
        if (measured)
            snprintf(mv, sizeof mv, "%.6g", v);
        fprintf(js, "%s\n    {\"name\": \"%s\", \"op\": \"%s\", \"limit\": %g, \"measured\": %s, "
                    "\"verdict\": \"%s\"}",
                first ? "" : ",", name, op, limit, mv, verdict);
        fprintf(md, "| %s (`%s`) | %s | %s %g | **%s** |\n", desc, name, measured ? mv : "-",
                op, limit, verdict);
        first = false;
    }
    fputs("]", js);
    fclose(f);
    return failed;
}

/* ---- machine ---- */

/* Share of the (spot underlying, factor) cells with a non-zero loading: 1 for dense loadings. */
static double spot_loading_density(const dat_market *m)
{
    size_t cells = 0, nonzero = 0;
    for (size_t u = 0; u < m->nund; u++) {
        if (m->und_kind[u] != DAT_UND_SPOT)
            continue;
        for (size_t j = 0; j < m->nfactors; j++)
            nonzero += m->beta[u * m->nfactors + j] != 0;
        cells += m->nfactors;
    }
    return cells ? (double)nonzero / (double)cells : 0.0;
}

static void machine(const opts *o, const dat_dataset *ds, size_t ncores)
{
    struct utsname u;
    uname(&u);
    /* The instruction-set level the engines here price at (what "auto" means: the best level,
     * unless RK_ISA lowers it), and every level this CPU can run. */
    mdl_isa isa = mdl_isa_auto();
    char levels[128] = "";
    for (int lv = 0; lv < MDL_ISA_COUNT; lv++)
        if (mdl_isa_supported((mdl_isa)lv)) {
            size_t len = strlen(levels);
            snprintf(levels + len, sizeof levels - len, "%s\"%s\"", len ? ", " : "",
                     mdl_isa_name((mdl_isa)lv));
        }
    fprintf(stderr, "bench: instruction set %s (supported: %s)\n", mdl_isa_name(isa), levels);
    js_key("\"machine\": {\"nproc\": %ld, \"allowed_cores\": %zu, \"kernel\": \"%s %s\", "
           "\"arch\": \"%s\", \"host\": \"%s\", \"isa\": \"%s\", \"isa_supported\": [%s]}",
           sysconf(_SC_NPROCESSORS_ONLN), ncores, u.sysname, u.release, u.machine, u.nodename,
           mdl_isa_name(isa), levels);
    double density = spot_loading_density(&ds->mkt);
    fprintf(stderr, "bench: W1 data %s: %.1f%% of the spot-factor loadings non-zero (%s)\n",
            o->data, 100.0 * density, density >= 1.0 ? "dense" : "sparse");
    js_key("\"run\": {\"mode\": \"%s\", \"command\": \"%s\", \"requests\": %zu, \"reps\": %zu, "
           "\"data\": \"%s\", \"loadings\": \"%s\", \"spot_loading_density\": %.4f}",
           o->mode, o->command, o->requests, o->reps, o->data, density >= 1.0 ? "dense" : "sparse",
           density);
}

static void usage(void)
{
    fputs("usage: bench --data W1DIR --out DIR [--targets FILE|none] [--throughput FILE]\n"
          "             [--requests N] [--reps N] [--ref-reps N] [--deadline-reqs N]\n"
          "             [--latency-threads N] [--max-workers N] [--load F] [--tpj-block N]\n"
          "             [--mode quick|full] [--command TEXT] [--only latency|kernels|...]\n",
          stderr);
}

/* ---- what-if ---- */

/* What-if latency on warm W1: one european option, parametric VaR and 1000 Monte Carlo
 * scenarios, 1 and 4 concurrent callers through the public C API, on an engine of
 * --latency-threads workers (the callers are client threads, as a trading system's). */
static void run_whatif(const opts *o)
{
    static const size_t scen[2] = {0, 1000}, callers[2] = {1, 4};
    size_t per = o->requests * 2 < 200 ? 200 : o->requests * 2;
    js_key("\"whatif\": {\"layer\": \"public C API (rk_whatif_clear/add/run after "
           "rk_portfolio_warm)\", \"workers\": %zu, \"runs\": [",
           o->lat_threads);
    bool first = true;
    for (int m = 0; m < 2; m++)
        for (int c = 0; c < 2; c++) {
            whatif_figures f;
            char msg[512] = "";
            if (whatif_bench(o->data, o->lat_threads, scen[m], callers[c], per, &f, msg,
                             sizeof msg) != 0) {
                fprintf(stderr, "bench: whatif: %s\n", msg);
                continue;
            }
            const char *tag = scen[m] ? "mc1000" : "parametric";
            fprintf(stderr,
                    "whatif %-10s callers %zu: p50 %.1f us, p99 %.1f us, max %.1f us (%zu, "
                    "%d failed)\n",
                    tag, callers[c], f.p50_us, f.p99_us, f.max_us, f.samples, f.failures);
            fprintf(js,
                    "%s{\"method\": \"%s\", \"callers\": %zu, \"samples\": %zu, "
                    "\"p50_us\": %.2f, \"p99_us\": %.2f, \"max_us\": %.2f, "
                    "\"failures\": %d}",
                    first ? "" : ", ", tag, callers[c], f.samples, f.p50_us, f.p99_us, f.max_us,
                    f.failures);
            first = false;
            char name[64];
            snprintf(name, sizeof name, "whatif_%s_c%zu_p50_us", tag, callers[c]);
            metric(name, f.p50_us);
            snprintf(name, sizeof name, "whatif_%s_c%zu_p99_us", tag, callers[c]);
            metric(name, f.failures == 0 ? f.p99_us : INFINITY);
        }
    fputs("]}", js);
}

int main(int argc, char **argv)
{
    opts o = {.targets = "benchmarks/targets", .requests = 1000, .reps = 10, .ref_reps = 3,
              .deadline_reqs = 200, .lat_threads = 2, .load = 0.7, .tpj_block = 8,
              .mode = "full", .command = ""};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL) {
            usage();
            return 2;
        }
        i++;
        if (strcmp(a, "--data") == 0)
            o.data = v;
        else if (strcmp(a, "--out") == 0)
            o.out = v;
        else if (strcmp(a, "--targets") == 0)
            o.targets = v;
        else if (strcmp(a, "--throughput") == 0)
            o.throughput = v;
        else if (strcmp(a, "--requests") == 0)
            o.requests = strtoul(v, NULL, 10);
        else if (strcmp(a, "--reps") == 0)
            o.reps = strtoul(v, NULL, 10);
        else if (strcmp(a, "--ref-reps") == 0)
            o.ref_reps = strtoul(v, NULL, 10);
        else if (strcmp(a, "--deadline-reqs") == 0)
            o.deadline_reqs = strtoul(v, NULL, 10);
        else if (strcmp(a, "--latency-threads") == 0)
            o.lat_threads = strtoul(v, NULL, 10);
        else if (strcmp(a, "--max-workers") == 0)
            o.max_workers = strtoul(v, NULL, 10);
        else if (strcmp(a, "--load") == 0)
            o.load = strtod(v, NULL);
        else if (strcmp(a, "--tpj-block") == 0)
            o.tpj_block = strtoul(v, NULL, 10);
        else if (strcmp(a, "--mode") == 0)
            o.mode = v;
        else if (strcmp(a, "--command") == 0)
            o.command = v;
        else if (strcmp(a, "--only") == 0)
            o.only = v;
        else {
            usage();
            return 2;
        }
    }
    if (o.data == NULL || o.out == NULL || o.requests == 0 || o.reps == 0 ||
        o.deadline_reqs == 0) {
        usage();
        return 2;
    }
    mdl_init();
    rsk_blas_init();
    dat_dataset ds;
    char msg[512] = "";
    if (dat_load(o.data, NULL, &ds, msg, sizeof msg) != RK_OK) {
        fprintf(stderr, "bench: %s\n", msg);
        return 1;
    }
    w1_ctx *ctx = w1_open(&ds, o.lat_threads, msg, sizeof msg);
    if (ctx == NULL) {
        fprintf(stderr, "bench: engine: %s\n", msg);
        return 1;
    }
    /* the engine's own notion of the allowed cores (cpuset and cgroup quota) */
    w1_ctx *probe = w1_open(&ds, 0, msg, sizeof msg);
    size_t ncores = probe != NULL ? w1_workers(probe) : 1;
    w1_close(probe);
    size_t maxw = o.max_workers ? o.max_workers : ncores;
    /* --targets none: a comparison run (another data set), checked against nothing */
    bool no_targets = strcmp(o.targets, "none") == 0;
    double target_ms = 20.0;
    if (!no_targets) {
        FILE *tf = fopen(o.targets, "r");
        char line[256];
        while (tf != NULL && fgets(line, sizeof line, tf) != NULL)
            if (sscanf(line, "w1_p99_ms <= %lf", &target_ms) == 1)
                break;
        if (tf != NULL)
            fclose(tf);
    }
    js = out_file(&o, "results.json");
    if (js == NULL)
        return 1;
    fputs("{", js);
    machine(&o, &ds, ncores);
    double t_start = now_s();
    if (section(&o, "kernels"))
        run_kernels(&o, &ds, ncores);
    double var_expect;
    double w1_ms = run_latency(&o, ctx, target_ms, &var_expect);
    if (section(&o, "reuse")) {
        /* The same requests with the grid's fast path: same numbers, fewer revaluations. */
        double var_reuse;
        w1_set_reuse_unmoved(ctx, true);
        variant = "reuse_";
        run_latency(&o, ctx, target_ms, &var_reuse);
        variant = "";
        w1_set_reuse_unmoved(ctx, false);
        metric("w1_reuse_same_var", var_reuse == var_expect ? 1.0 : 0.0);
    }
    if (section(&o, "deadline"))
        run_deadline(&o, ctx, w1_ms);
    if (section(&o, "dispatch"))
        run_dispatch(&o, &ds, ctx);
    w1_close(ctx);
    if (section(&o, "scaling"))
        run_scaling(&o, &ds, maxw);
    if (section(&o, "baselines"))
        run_baselines(&o, &ds, ncores);
    if (section(&o, "whatif"))
        run_whatif(&o);
    read_throughput(&o);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    js_key("\"bench_seconds\": %.1f, \"bench_peak_rss_mib\": %.1f", now_s() - t_start,
           (double)ru.ru_maxrss / 1024.0);
    int failed = 0;
    if (!no_targets) {
        FILE *md = out_file(&o, "targets.md");
        failed = md != NULL ? check_targets(&o, md) : -1;
        if (md != NULL)
            fclose(md);
    }
    fputs("\n}\n", js);
    fclose(js);
    dat_free(&ds);
    if (no_targets)
        fprintf(stderr, "bench: no targets checked; results in %s\n", o.out);
    else
        fprintf(stderr, "bench: %d target(s) failed; results in %s\n", failed, o.out);
    return 0;
}
