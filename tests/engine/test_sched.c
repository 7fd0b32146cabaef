/*
 * test_sched.c - the scheduler and the fan-in: tiling, exactly-once delivery under random
 * delays, cancel storms, deadline partial results, EDF order, bitwise determinism across worker
 * counts and topologies, the completion callback, waits with a timeout.
 *
 * Timing: no assertion on speed. The one time bound is the deadline return, stated with
 * DEADLINE_TOL_NS below (generous enough for sanitizers on a loaded 2-core machine).
 */
#include <pthread.h>
#include <stdio.h>

#include "harness.h"
#include "toyjob.h"

/* eng_wait must return within this after the deadline. */
#define DEADLINE_TOL_NS RK_TEST_DEADLINE_SLACK_NS

static eng_engine *make_engine(size_t threads, const char *topo, size_t chan)
{
    eng_config cfg = {0};
    cfg.threads = threads;
    cfg.topology = topo;
    cfg.channel_capacity = chan;
    eng_engine *e = NULL;
    char msg[200];
    rk_status st = eng_create(&cfg, &e, msg, sizeof msg);
    ck_assert_msg(st == RK_OK, "eng_create: %s", msg);
    return e;
}

static void count_done(eng_job *r, void *arg)
{
    /* Records are complete inside the callback. */
    size_t n;
    const eng_record *rec = eng_job_records(r, &n);
    for (size_t i = 0; i < n; i++)
        if (rec[i].tile.index != i)
            abort();
    atomic_fetch_add((_Atomic unsigned *)arg, 1u);
}

/* ---- tiling ---- */

START_TEST(tiles_shape)
{
    eng_engine *e = make_engine(2, "node:2 core:2 pu:1", 0);
    /* 1000 ns per cell, 50 µs target: 50 columns per tile. */
    toy *j = toy_new(6, 120, 1000, 2);
    eng_job *r;
    ck_assert_int_eq(eng_run(e, &j->job, ENG_NO_DEADLINE, &r), RK_OK);
    size_t n;
    const eng_record *rec = eng_job_records(r, &n);
    ck_assert_uint_eq(n, 6 * 3);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(rec[i].tile.row1 - rec[i].tile.row0, 1);
        ck_assert_uint_le(rec[i].tile.col1 - rec[i].tile.col0, 50);
        if (i > 0) { /* by row, then column */
            const eng_tile *a = &rec[i - 1].tile, *b = &rec[i].tile;
            ck_assert(a->row0 < b->row0 || (a->row0 == b->row0 && a->col0 < b->col0));
        }
        ck_assert_int_eq(rec[i].code, RK_OK);
    }
    ck_assert_ptr_null(toy_check(j, r, RK_OK, RK_OK));
    eng_job_free(r);
    toy_free(j);

    /* max_tile_cols bounds the width. */
    j = toy_new(3, 40, 1, 0);
    j->job.max_tile_cols = 7;
    ck_assert_int_eq(eng_run(e, &j->job, ENG_NO_DEADLINE, &r), RK_OK);
    rec = eng_job_records(r, &n);
    ck_assert_uint_eq(n, 3 * 6);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_le(rec[i].tile.col1 - rec[i].tile.col0, 7);
    ck_assert_ptr_null(toy_check(j, r, RK_OK, RK_OK));
    eng_job_free(r);
    toy_free(j);

    /* Cheap rows are grouped, but never across nodes: rows alternate nodes here, so no
     * grouping; with one node per half they group. */
    j = toy_new(8, 10, 10, 2);
    ck_assert_int_eq(eng_run(e, &j->job, ENG_NO_DEADLINE, &r), RK_OK);
    rec = eng_job_records(r, &n);
    ck_assert_uint_eq(n, 8);
    eng_job_free(r);
    for (uint32_t k = 0; k < 8; k++)
        j->row_node[k] = k < 4 ? 0 : 1;
    memset(j->status, TOY_PENDING, 80);
    memset((void *)j->runs, 0, 80 * sizeof *j->runs);
    ck_assert_int_eq(eng_run(e, &j->job, ENG_NO_DEADLINE, &r), RK_OK);
    rec = eng_job_records(r, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(rec[0].tile.row1, 4);
    ck_assert_ptr_null(toy_check(j, r, RK_OK, RK_OK));
    eng_job_free(r);
    toy_free(j);

    /* An empty job completes at once, with its callback. */
    _Atomic unsigned calls = 0;
    j = toy_new(0, 0, 0, 0);
    ck_assert_int_eq(eng_submit(e, &j->job, ENG_NO_DEADLINE, count_done, (void *)&calls, &r),
                     RK_OK);
    ck_assert_int_eq(eng_wait(r, 0), RK_OK);
    ck_assert_uint_eq(atomic_load(&calls), 1);
    eng_job_free(r);
    toy_free(j);

    /* Bad arguments. */
    j = toy_new(4, 4, 0, 0);
    uint32_t bad_node[4] = {0, 1, 2, 0};
    j->job.row_node = bad_node;
    ck_assert_int_eq(eng_submit(e, &j->job, ENG_NO_DEADLINE, NULL, NULL, &r), RK_BAD_ARGUMENT);
    ck_assert_ptr_null(r);
    j->job.row_node = NULL;
    j->job.run = NULL;
    ck_assert_int_eq(eng_submit(e, &j->job, ENG_NO_DEADLINE, NULL, NULL, &r), RK_BAD_ARGUMENT);
    ck_assert_int_eq(eng_submit(NULL, &j->job, ENG_NO_DEADLINE, NULL, NULL, &r),
                     RK_BAD_ARGUMENT);
    toy_free(j);
    eng_destroy(e);
}
END_TEST

/* ---- exactly once ---- */

START_TEST(exactly_once_random_delays)
{
    const char *topos[2] = {"node:2 core:2 pu:1", NULL};
    for (int t = 0; t < 2; t++) {
        eng_engine *e = make_engine(t == 0 ? 4 : 2, topos[t], 2);
        enum { NREQ = 3 };
        toy *j[NREQ];
        eng_job *r[NREQ];
        _Atomic unsigned calls[NREQ];
        for (int k = 0; k < NREQ; k++) {
            j[k] = toy_new(37, 53, 10000, t == 0 ? 2 : 0); /* 5 columns per tile */
            j[k]->sleep_max_us = 100;
            j[k]->job.scratch_bytes = (size_t)(k + 1) * 4096;
            atomic_init(&calls[k], 0);
            ck_assert_int_eq(eng_submit(e, &j[k]->job, ENG_NO_DEADLINE, count_done,
                                        (void *)&calls[k], &r[k]),
                             RK_OK);
        }
        for (int k = NREQ - 1; k >= 0; k--) {
            ck_assert_int_eq(eng_wait(r[k], ENG_NO_DEADLINE), RK_OK);
            ck_assert(eng_job_done(r[k]));
            ck_assert_uint_eq(atomic_load(&calls[k]), 1);
            const char *bad = toy_check(j[k], r[k], RK_OK, RK_OK);
            ck_assert_msg(bad == NULL, "%s", bad);
            eng_job_stats st;
            eng_job_stats_get(r[k], &st);
            ck_assert_uint_eq(st.tiles, 37 * 11);
            ck_assert_uint_eq(st.tiles_ok, st.tiles);
            ck_assert_uint_eq(st.cells_ok, 37 * 53);
            ck_assert_uint_le(st.channel_max, 2);
            ck_assert_int_ge(st.completed_ns, st.first_tile_ns);
            ck_assert_int_eq(st.overshoot_ns, 0);
            for (size_t i = 0; i < st.tiles; i++)
                ck_assert_uint_eq(atomic_load(&j[k]->runs[i]), 1);
            eng_job_free(r[k]);
            ck_assert_uint_eq(atomic_load(&calls[k]), 1);
            toy_free(j[k]);
        }
        eng_stats es;
        eng_stats_get(e, &es);
        ck_assert_uint_eq(es.jobs_submitted, NREQ);
        ck_assert_uint_eq(es.jobs_done, NREQ);
        ck_assert_uint_eq(es.jobs_in_flight, 0);
        ck_assert_uint_eq(es.tiles_done, NREQ * 37 * 11);
        eng_destroy(e);
    }
}
END_TEST

/* A job nobody waits for still completes, runs its callback once, and can be freed. */
START_TEST(completes_without_waiter)
{
    eng_engine *e = make_engine(2, NULL, 1);
    toy *j = toy_new(20, 20, 10000, 0);
    _Atomic unsigned calls = 0;
    eng_job *r;
    ck_assert_int_eq(eng_submit(e, &j->job, ENG_NO_DEADLINE, count_done, (void *)&calls, &r),
                     RK_OK);
    int64_t give_up = eng_now_ns() + 30 * 1000000000LL;
    while (!eng_job_done(r) && eng_now_ns() < give_up) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    ck_assert(eng_job_done(r));
    ck_assert_uint_eq(atomic_load(&calls), 1);
    ck_assert_ptr_null(toy_check(j, r, RK_OK, RK_OK));
    eng_cancel(r); /* harmless after completion */
    ck_assert_int_eq(eng_wait(r, 0), RK_OK);
    eng_job_free(r);
    ck_assert_uint_eq(atomic_load(&calls), 1);
    toy_free(j);
    eng_destroy(e);
}
END_TEST

/* ---- cancel storm ---- */

typedef struct storm_arg {
    eng_engine *e;
    unsigned seed;
    int iterations;
    _Atomic int failures;
    char why[128];
} storm_arg;

static void *storm_thread(void *p)
{
    storm_arg *a = p;
    uint64_t s = a->seed;
    for (int it = 0; it < a->iterations; it++) {
        s = toy_mix(s);
        toy *j = toy_new(16, 40, 2000, 0); /* 25 columns, ~50 µs per tile */
        j->cell_ns = 2000;
        _Atomic unsigned calls = 0;
        eng_job *r;
        if (eng_submit(a->e, &j->job, ENG_NO_DEADLINE, count_done, (void *)&calls, &r) !=
            RK_OK) {
            atomic_fetch_add(&a->failures, 1);
            toy_free(j);
            continue;
        }
        struct timespec ts = {0, (long)(s % 3000) * 1000};
        nanosleep(&ts, NULL);
        int mode = (int)((s >> 20) % 3);
        const char *bad = NULL;
        if (mode == 0) { /* free directly: cancels and drains */
            eng_job_free(r);
            if (atomic_load(&calls) != 1)
                bad = "callback not run exactly once (free)";
        } else {
            eng_cancel(r);
            if (mode == 2)
                eng_cancel(r); /* twice is harmless */
            if (eng_wait(r, ENG_NO_DEADLINE) != RK_OK)
                bad = "wait failed";
            else if (atomic_load(&calls) != 1)
                bad = "callback not run exactly once";
            else
                bad = toy_check(j, r, RK_CANCELLED, RK_CANCELLED);
            eng_job_free(r);
        }
        if (bad != NULL) {
            snprintf(a->why, sizeof a->why, "%s", bad);
            atomic_fetch_add(&a->failures, 1);
        }
        toy_free(j);
    }
    return NULL;
}

START_TEST(cancel_storm)
{
    eng_engine *e = make_engine(0, "node:2 core:2 pu:1", 4);
    enum { NT = 4 };
    storm_arg a[NT];
    pthread_t th[NT];
    for (int i = 0; i < NT; i++) {
        memset(&a[i], 0, sizeof a[i]);
        a[i].e = e;
        a[i].seed = 1234u + (unsigned)i;
        a[i].iterations = 25;
        pthread_create(&th[i], NULL, storm_thread, &a[i]);
    }
    for (int i = 0; i < NT; i++) {
        pthread_join(th[i], NULL);
        ck_assert_msg(atomic_load(&a[i].failures) == 0, "thread %d: %s", i, a[i].why);
    }
    eng_stats es;
    eng_stats_get(e, &es);
    ck_assert_uint_eq(es.jobs_submitted, NT * 25);
    ck_assert_uint_eq(es.jobs_done, NT * 25);
    ck_assert_uint_eq(es.jobs_in_flight, 0);
    eng_destroy(e);
}
END_TEST

/* ---- deadlines ---- */

START_TEST(deadline_partial)
{
    eng_engine *e = make_engine(2, NULL, 0);
    /* 40 x 500 cells of 10 µs over 2 workers: ~100 ms of wall time, 5x-10x the deadline. */
    toy *j = toy_new(40, 500, 10000, 0);
    j->cell_ns = 10000;
    int64_t deadline = eng_now_ns() + 15 * 1000000LL;
    eng_job *r;
    ck_assert_int_eq(eng_submit(e, &j->job, deadline, NULL, NULL, &r), RK_OK);
    ck_assert_int_eq(eng_wait(r, ENG_NO_DEADLINE), RK_OK);
    int64_t back = eng_now_ns();
    ck_assert_msg(back - deadline <= DEADLINE_TOL_NS, "returned %.3f ms after the deadline",
                  (double)(back - deadline) / 1e6);
    eng_job_stats st;
    eng_job_stats_get(r, &st);
    ck_assert_uint_gt(st.cells_ok, 0);
    ck_assert_uint_lt(st.cells_ok, st.cells);
    ck_assert_int_ge(st.overshoot_ns, 0);
    ck_assert_int_le(st.overshoot_ns, DEADLINE_TOL_NS);
    const char *bad = toy_check(j, r, RK_DEADLINE, RK_DEADLINE);
    ck_assert_msg(bad == NULL, "%s", bad);
    /* Every pending cell lies in a DEADLINE tile; cells_ok matches the buffers. */
    size_t n, done_cells = 0;
    const eng_record *rec = eng_job_records(r, &n);
    for (size_t i = 0; i < n; i++) {
        for (uint32_t c = rec[i].tile.col0; c < rec[i].tile.col1; c++) {
            size_t k = (size_t)rec[i].tile.row0 * j->ncols + c;
            if (j->status[k] == TOY_PENDING)
                ck_assert_int_eq(rec[i].code, RK_DEADLINE);
            else
                done_cells++;
        }
    }
    ck_assert_uint_eq(done_cells, st.cells_ok);
    eng_stats es;
    eng_stats_get(e, &es);
    ck_assert_uint_ge(es.deadline_misses, 1);
    eng_job_free(r);
    toy_free(j);

    /* A deadline already past: nothing runs, everything is DEADLINE. */
    j = toy_new(4, 100, 10000, 0);
    ck_assert_int_eq(eng_run(e, &j->job, eng_now_ns() - 1, &r), RK_OK);
    eng_job_stats_get(r, &st);
    ck_assert_uint_eq(st.cells_ok, 0);
    ck_assert_ptr_null(toy_check(j, r, RK_DEADLINE, RK_DEADLINE));
    eng_job_free(r);
    toy_free(j);
    eng_destroy(e);
}
END_TEST

START_TEST(wait_timeout_then_cancel)
{
    eng_engine *e = make_engine(1, NULL, 0);
    toy *j = toy_new(50, 500, 10000, 0); /* ~250 ms on one worker */
    j->cell_ns = 10000;
    eng_job *r;
    ck_assert_int_eq(eng_submit(e, &j->job, ENG_NO_DEADLINE, NULL, NULL, &r), RK_OK);
    ck_assert_int_eq(eng_wait(r, 0), RK_TIMEOUT);
    ck_assert_int_eq(eng_wait(r, eng_now_ns() + 2000000), RK_TIMEOUT);
    eng_cancel(r);
    ck_assert_int_eq(eng_wait(r, ENG_NO_DEADLINE), RK_OK);
    ck_assert_ptr_null(toy_check(j, r, RK_CANCELLED, RK_CANCELLED));
    eng_stats es;
    eng_stats_get(e, &es);
    ck_assert_uint_eq(es.cancels, 1);
    eng_job_free(r);
    toy_free(j);
    eng_destroy(e);
}
END_TEST

/* ---- EDF ---- */

START_TEST(edf_early_deadline_first)
{
    eng_engine *e = make_engine(1, NULL, 0);
    toy *slow = toy_new(100, 500, 10000, 0); /* 10000 tiles of 50 µs: ~500 ms */
    slow->cell_ns = 10000;
    toy *fast = toy_new(4, 10, 10000, 0);
    eng_job *ra, *rb;
    ck_assert_int_eq(eng_submit(e, &slow->job, ENG_NO_DEADLINE, NULL, NULL, &ra), RK_OK);
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
    ck_assert_int_eq(
        eng_submit(e, &fast->job, eng_now_ns() + 60 * 1000000000LL, NULL, NULL, &rb), RK_OK);
    ck_assert_int_eq(eng_wait(rb, ENG_NO_DEADLINE), RK_OK);
    ck_assert(!eng_job_done(ra));
    ck_assert_ptr_null(toy_check(fast, rb, RK_OK, RK_OK));
    eng_job_stats sa, sb;
    eng_job_free(ra); /* cancels the long one */
    eng_job_stats_get(rb, &sb);
    (void)sa;
    ck_assert_uint_eq(sb.tiles_ok, sb.tiles);
    eng_job_free(rb);
    toy_free(slow);
    toy_free(fast);
    eng_destroy(e);
}
END_TEST

/* ---- determinism ---- */

/*
 * What the engine itself promises for determinism: one job on one topology is cut into the
 * same tiles, and its records come back in tile order, whatever the worker count and whichever
 * tile finishes first. A caller that reduces per-tile partial sums in record order then gets
 * the same bits every time; here the partials are plain double sums (which, unlike the exact
 * sums of risk/xsum.h, change bits when added in another order), so a record order that
 * followed completion, or a tiling that followed the workers, would show.
 */
#define DET_ROWS 29u
#define DET_COLS 301u

typedef struct det_run {
    size_t nrec;
    eng_tile tiles[DET_ROWS * DET_COLS];
    double total; /* per-tile sums added in record order */
} det_run;

static void run_once(size_t threads, unsigned stress, det_run *out)
{
    eng_config cfg = {.threads = threads, .topology = "node:2 core:4 pu:1", .stress = stress};
    eng_engine *e = NULL;
    char msg[200];
    ck_assert_msg(eng_create(&cfg, &e, msg, sizeof msg) == RK_OK, "eng_create: %s", msg);
    toy *j = toy_new(DET_ROWS, DET_COLS, 3000, 2);
    j->sleep_max_us = 20; /* tiles finish in a different order every run */
    eng_job *r;
    ck_assert_int_eq(eng_run(e, &j->job, ENG_NO_DEADLINE, &r), RK_OK);
    ck_assert_ptr_null(toy_check(j, r, RK_OK, RK_OK));
    size_t n = 0;
    const eng_record *rec = eng_job_records(r, &n);
    ck_assert_uint_gt(n, 1);
    ck_assert_uint_le(n, DET_ROWS * DET_COLS);
    out->nrec = n;
    out->total = 0;
    for (size_t k = 0; k < n; k++) {
        const eng_tile *t = &rec[k].tile;
        out->tiles[k] = *t;
        double part = 0;
        for (uint32_t row = t->row0; row < t->row1; row++)
            for (uint32_t c = t->col0; c < t->col1; c++)
                part += j->val[(size_t)row * DET_COLS + c];
        out->total += part;
    }
    eng_job_free(r);
    toy_free(j);
    eng_destroy(e);
}

START_TEST(bitwise_determinism)
{
    static det_run ref, got;
    run_once(2, 0, &ref);
    const struct {
        size_t threads;
        unsigned stress;
    } cfgs[] = {{2, 0}, {3, 0}, {8, 0}, {8, 1}, {0, 1}};
    for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) {
        run_once(cfgs[k].threads, cfgs[k].stress, &got);
        ck_assert_uint_eq(got.nrec, ref.nrec);
        for (size_t i = 0; i < ref.nrec; i++) {
            const eng_tile *a = &ref.tiles[i], *b = &got.tiles[i];
            ck_assert_msg(a->index == b->index && a->row0 == b->row0 && a->row1 == b->row1 &&
                              a->col0 == b->col0 && a->col1 == b->col1,
                          "record %zu is another tile in config %zu", i, k);
            ck_assert_uint_eq(b->index, i); /* records in tile order */
        }
        ck_assert_msg(rk_test_same_bits(got.total, ref.total), "sum differs in config %zu", k);
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("engine-sched");
    TCase *tc = tcase_create("sched");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, tiles_shape);
    tcase_add_test(tc, exactly_once_random_delays);
    tcase_add_test(tc, completes_without_waiter);
    tcase_add_test(tc, cancel_storm);
    tcase_add_test(tc, deadline_partial);
    tcase_add_test(tc, wait_timeout_then_cancel);
    tcase_add_test(tc, edf_early_deadline_first);
    tcase_add_test(tc, bitwise_determinism);
    suite_add_tcase(s, tc);
    return s;
}
