/*
 * test_stall.c - stalled workers: heartbeats advance at every poll inside a tile, the worker
 * statistics say how long a worker has been inside its current tile and whether that is past
 * the tile's stall budget, the engine counts stalled tiles, and a stalled worker does not hold
 * the request's deadline back for the other tiles.
 *
 * Timing: the one time bound is the deadline, with RK_TEST_DEADLINE_SLACK_NS as elsewhere.
 */
#include <stdio.h>

#include "harness.h"
#include "toyjob.h"

#define DEADLINE_TOL_NS RK_TEST_DEADLINE_SLACK_NS
#define MS INT64_C(1000000)

/* The first tile any worker runs sleeps stall_ns without polling (a worker stuck in a model
 * or a page-in); every tile records when it ended. */
typedef struct stall_job {
    toy *t;
    _Atomic int armed;
    int64_t stall_ns;
    _Atomic uint32_t stalled_tile;
    _Atomic int64_t *end_ns; /* per tile index, 0 while not run */
    eng_job_desc job;
} stall_job;

static void stall_run(void *arg, const eng_tile *t, eng_worker *w, eng_tile_result *res)
{
    stall_job *s = arg;
    if (atomic_exchange(&s->armed, 0) == 1) {
        atomic_store(&s->stalled_tile, t->index);
        struct timespec ts = {(time_t)(s->stall_ns / 1000000000), (long)(s->stall_ns % 1000000000)};
        while (nanosleep(&ts, &ts) != 0) {
        }
    }
    toy_run(s->t, t, w, res);
    atomic_store(&s->end_ns[t->index], eng_now_ns());
}

static eng_engine *make_engine(size_t threads)
{
    eng_config cfg = {0};
    cfg.threads = threads;
    cfg.no_pin = true;
    eng_engine *e = NULL;
    char msg[200];
    ck_assert_msg(eng_create(&cfg, &e, msg, sizeof msg) == RK_OK, "eng_create: %s", msg);
    return e;
}

/* Finds a worker whose statistics say it is inside a tile past its budget; waits up to
 * `patience` for one. Returns the worker index or -1. */
static long await_stalled(const eng_engine *e, int64_t patience, eng_worker_stats *out)
{
    int64_t until = eng_now_ns() + patience;
    do {
        eng_worker_stats ws[2];
        size_t n = eng_worker_stats_get(e, ws, 2);
        for (size_t i = 0; i < n && i < 2; i++) {
            if (ws[i].stalled) {
                *out = ws[i];
                return (long)i;
            }
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    } while (eng_now_ns() < until);
    return -1;
}

START_TEST(stall_reported_deadline_holds)
{
    eng_engine *e = make_engine(2);
    /* 40 x 500 cells of 10 µs, estimated at 10 µs each: tiles of ~50 µs, budget 5 ms. The
     * whole job is ~100 ms on 2 workers; the deadline is at 30 ms; one tile sleeps 400 ms. */
    stall_job s = {0};
    s.t = toy_new(40, 500, 10000, 0);
    s.t->cell_ns = 10000;
    s.armed = 1;
    s.stall_ns = 400 * MS;
    s.end_ns = calloc((size_t)40 * 500, sizeof *s.end_ns);
    s.job = s.t->job;
    s.job.run = stall_run;
    s.job.arg = &s;

    eng_stats before;
    eng_stats_get(e, &before);
    int64_t t0 = eng_now_ns();
    int64_t deadline = t0 + 30 * MS;
    eng_job *r;
    ck_assert_int_eq(eng_submit(e, &s.job, deadline, NULL, NULL, &r), RK_OK);

    /* Seen while it happens: the worker is inside its tile past the budget. */
    eng_worker_stats w;
    long wi = await_stalled(e, 300 * MS, &w);
    ck_assert_msg(wi >= 0, "no worker reported stalled within 300 ms of a 400 ms stall");
    ck_assert_int_gt(w.tile_budget_ns, 0);
    ck_assert_int_gt(w.tile_ns, w.tile_budget_ns);
    ck_assert_int_le(w.tile_budget_ns, 100 * MS); /* 100 x ~50 µs, not the stall's length */
    eng_stats during;
    eng_stats_get(e, &during);
    ck_assert_uint_ge(during.workers_stalled, 1);

    /* The deadline holds for every other tile: the wait cannot complete (one tile is still
     * asleep), but every other tile has ended, or will never run, by the deadline. */
    ck_assert_int_eq(eng_wait(r, deadline + DEADLINE_TOL_NS), RK_TIMEOUT);
    ck_assert(!eng_job_done(r));
    uint32_t stalled = atomic_load(&s.stalled_tile);
    int64_t latest = 0;
    for (size_t i = 0; i < (size_t)40 * 500; i++)
        if (i != stalled && atomic_load(&s.end_ns[i]) > latest)
            latest = atomic_load(&s.end_ns[i]);
    ck_assert_msg(latest - deadline <= DEADLINE_TOL_NS,
                  "another tile ended %.3f ms after the deadline", (double)(latest - deadline) / 1e6);

    /* When the stalled tile ends, the job completes and the stall is counted. */
    ck_assert_int_eq(eng_wait(r, ENG_NO_DEADLINE), RK_OK);
    ck_assert_ptr_null(toy_check(s.t, r, RK_DEADLINE, RK_DEADLINE));
    eng_stats after;
    eng_stats_get(e, &after);
    ck_assert_uint_ge(after.stalls, before.stalls + 1);
    ck_assert_uint_eq(after.workers_stalled, 0);
    eng_worker_stats ws[2];
    eng_worker_stats_get(e, ws, 2);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(ws[i].tile_ns, 0);
        ck_assert(!ws[i].stalled);
    }
    eng_job_free(r);
    free((void *)s.end_ns);
    toy_free(s.t);
    eng_destroy(e);
}
END_TEST

START_TEST(heartbeat_inside_a_tile)
{
    eng_engine *e = make_engine(1);
    /* One tile (estimated cheap, so whole) of 3000 cells of 20 µs: 60 ms inside one tile,
     * polling before every cell. */
    toy *t = toy_new(1, 3000, 1.0, 0);
    t->cell_ns = 20000;
    eng_job *r;
    ck_assert_int_eq(eng_submit(e, &t->job, ENG_NO_DEADLINE, NULL, NULL, &r), RK_OK);
    eng_worker_stats a, b;
    int64_t until = eng_now_ns() + 2000 * MS;
    do {
        eng_worker_stats_get(e, &a, 1);
    } while (a.tile_ns < 5 * MS && eng_now_ns() < until);
    ck_assert_msg(a.tile_ns >= 5 * MS, "the worker never showed 5 ms inside its tile");
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
    eng_worker_stats_get(e, &b, 1);
    ck_assert_int_eq(eng_wait(r, ENG_NO_DEADLINE), RK_OK);
    /* Still the same tile 5 ms later (it lasts 60 ms), and its heartbeat moved. */
    ck_assert_int_gt(b.tile_ns, a.tile_ns);
    ck_assert_msg(b.heartbeat_ns > a.heartbeat_ns,
                  "heartbeat did not advance inside a tile (%lld -> %lld)",
                  (long long)a.heartbeat_ns, (long long)b.heartbeat_ns);
    ck_assert_int_ge(a.heartbeat_ns, eng_now_ns() - 10000 * MS);
    eng_job_free(r);
    toy_free(t);
    eng_destroy(e);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("engine-stall");
    TCase *tc = tcase_create("stall");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, stall_reported_deadline_holds);
    tcase_add_test(tc, heartbeat_inside_a_tile);
    suite_add_tcase(s, tc);
    return s;
}
