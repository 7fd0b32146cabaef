/*
 * test_eval.c - the engine's evaluations against the reference evaluator, and their
 * determinism, deadlines and cancellation.
 *
 * With the models' reference batch entries registered, the engine computes each cell with the
 * same arithmetic as the reference evaluator, so values, deltas, gammas and exposures must agree
 * bit for bit; with the fast entries they agree within a named tolerance. Whatever the entries,
 * results must be bitwise identical across worker counts and topologies. Scenario P&L is
 * compared with a tolerance because the engine shocks underlyings through dgemm and the
 * reference with a plain dot product.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataset.h"
#include "engine.h"
#include "eval.h"
#include "harness.h"
#include "model.h"
#include "layout.h"
#include "reference.h"
#include "states.h"

#define TOL_FAST_REL 1e-12      /* fast batch entries vs the scalar reference, per value */
#define TOL_PNL_REL 1e-9        /* P&L sums, relative to the book's gross value */
#define DEADLINE_SLACK_MS ((double)RK_TEST_DEADLINE_SLACK_NS * 1e-6)
#define BUMP 1e-4

static dat_dataset sample;
static char *sample_dir;
static mdl_batch_fn fast_batch[MDL_KIND_COUNT];

static void load_preset(const char *preset, uint64_t seed, dat_dataset *ds, char **dir)
{
    *dir = rk_test_tmpdir();
    ck_assert_ptr_nonnull(*dir);
    char msg[512] = "";
    ck_assert_int_eq(dat_generate(dat_preset_find(preset), seed, *dir, msg, sizeof msg), RK_OK);
    ck_assert_msg(dat_load(*dir, NULL, ds, msg, sizeof msg) == RK_OK, "%s", msg);
}

static void setup(void)
{
    mdl_init();
    const mdl_entry *t = mdl_table();
    for (int k = 0; k < MDL_KIND_COUNT; k++)
        fast_batch[k] = t[k].batch;
    load_preset("sample", 7, &sample, &sample_dir);
}

static void teardown(void)
{
    dat_free(&sample);
    rk_test_rmtree(sample_dir);
    free(sample_dir);
}

static void use_reference_batches(bool on)
{
    const mdl_entry *t = mdl_table();
    for (int k = 0; k < MDL_KIND_COUNT; k++)
        mdl_register_batch((mdl_kind)k, on ? "reference" : "fast",
                           on ? t[k].ref_batch : fast_batch[k]);
}

static eng_engine *engine(size_t threads, const char *topology)
{
    eng_config cfg = {.threads = threads, .topology = topology, .no_pin = topology != NULL};
    eng_engine *e = NULL;
    char msg[256] = "";
    ck_assert_msg(eng_create(&cfg, &e, msg, sizeof msg) == RK_OK, "%s", msg);
    return e;
}

/* Submit and finish: the synchronous use of each evaluation (fresh outputs each time). */
static rk_status values_run(eng_engine *e, const rsk_layout *layout, const rsk_states *st,
                            size_t state, rsk_values *out)
{
    memset(out, 0, sizeof *out);
    rsk_submit sub = {.deadline_ns = ENG_NO_DEADLINE};
    rsk_task *t;
    rk_status rc = rsk_values_submit(e, layout, st, state, &sub, out, &t);
    return rc != RK_OK ? rc : rsk_task_finish(t, NULL, NULL);
}

static rk_status grid_run(eng_engine *e, const rsk_layout *layout, const rsk_states *st, double h,
                          const rsk_values *v, int64_t deadline, rsk_grid *out, rsk_task_info *info)
{
    memset(out, 0, sizeof *out);
    rsk_submit sub = {.deadline_ns = deadline};
    rsk_finish_opts o = {.deadline_ns = deadline};
    rsk_task *t;
    rk_status rc = rsk_grid_submit(e, layout, st, h, v, true, &sub, out, &t);
    return rc != RK_OK ? rc : rsk_task_finish(t, &o, info);
}

static rk_status pnl_run(eng_engine *e, const rsk_layout *layout, const rsk_states *st,
                         size_t first, const rsk_values *v, rsk_pnl *p)
{
    rsk_submit sub = {.deadline_ns = ENG_NO_DEADLINE};
    rsk_task *t;
    rk_status rc = rsk_pnl_submit(e, layout, st, first, v, &sub, p, &t);
    return rc != RK_OK ? rc : rsk_task_finish(t, NULL, NULL);
}

/* Everything one engine configuration computes on a data set. */
typedef struct results {
    rsk_values v;
    rsk_grid g;
    rsk_pnl p;
} results;

static void compute(const dat_dataset *ds, eng_engine *e, bool with_pnl, results *out)
{
    rsk_layout layout;
    ck_assert_int_eq(rsk_layout_build(ds, e, &layout), RK_OK);
    rsk_states base, grid;
    ck_assert_int_eq(rsk_states_base(&ds->mkt, &base), RK_OK);
    ck_assert_int_eq(rsk_states_grid(&ds->mkt, BUMP, &grid), RK_OK);
    ck_assert_int_eq(values_run(e, &layout, &base, 0, &out->v), RK_OK);
    ck_assert_int_eq(grid_run(e, &layout, &grid, BUMP, &out->v, ENG_NO_DEADLINE, &out->g, NULL),
                     RK_OK);
    memset(&out->p, 0, sizeof out->p);
    if (with_pnl && ds->has_scenarios) {
        size_t n = ds->scen.n;
        ck_assert_int_eq(rsk_pnl_init(&out->p, ds->pos.n, ds->pos.nbooks, n), RK_OK);
        rsk_requested_cells(&ds->pos, ds->pos.nbooks, n, out->p.req_cells);
        for (size_t s0 = 0; s0 < n; s0 += RSK_STATE_BLOCK) {
            size_t b = n - s0 < RSK_STATE_BLOCK ? n - s0 : RSK_STATE_BLOCK;
            rsk_states st;
            ck_assert_int_eq(rsk_states_from_shocks(&ds->mkt,
                                                    ds->scen.shock + s0 * ds->mkt.nfactors, b,
                                                    &st),
                             RK_OK);
            ck_assert_int_eq(pnl_run(e, &layout, &st, s0, &out->v, &out->p), RK_OK);
            rsk_states_free(&st);
        }
    }
    rsk_states_free(&base);
    rsk_states_free(&grid);
    rsk_layout_free(&layout);
}

static void results_free(results *r)
{
    rsk_values_free(&r->v);
    rsk_grid_free(&r->g);
    rsk_pnl_free(&r->p);
}

static void assert_same_values(const rsk_values *a, const rsk_values *b)
{
    ck_assert_uint_eq(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        ck_assert_msg(a->status[i] == b->status[i], "row %zu status %d vs %d", i, a->status[i],
                      b->status[i]);
        ck_assert_msg(rk_test_same_bits(a->value[i], b->value[i]), "row %zu: %.17g vs %.17g", i,
                      a->value[i], b->value[i]);
    }
}

static void assert_same_grid(const rsk_grid *a, const rsk_grid *b)
{
    size_t cells = a->n * a->nfactors;
    ck_assert_uint_eq(cells, b->n * b->nfactors);
    for (size_t c = 0; c < cells; c++) {
        ck_assert_msg(a->status[c] == b->status[c], "cell %zu status", c);
        if (a->status[c] != RK_OK)
            continue; /* delta and gamma are defined where the cell is OK */
        ck_assert_msg(rk_test_same_bits(a->delta[c], b->delta[c]), "cell %zu delta %.17g %.17g",
                      c, a->delta[c], b->delta[c]);
        ck_assert_msg(rk_test_same_bits(a->gamma[c], b->gamma[c]), "cell %zu gamma", c);
    }
    for (size_t k = 0; k < (a->nbooks + 1) * a->nfactors; k++)
        ck_assert_msg(rk_test_same_bits(a->exposure[k], b->exposure[k]), "exposure %zu", k);
    for (size_t b2 = 0; b2 <= a->nbooks; b2++) {
        ck_assert_uint_eq(a->ok_cells[b2], b->ok_cells[b2]);
        ck_assert_uint_eq(a->req_cells[b2], b->req_cells[b2]);
    }
}

static void assert_same_pnl(const rsk_pnl *a, const rsk_pnl *b)
{
    size_t n = (a->nbooks + 1) * a->nscen;
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(rk_test_same_bits(a->pnl[k], b->pnl[k]), "pnl %zu: %.17g vs %.17g", k,
                      a->pnl[k], b->pnl[k]);
    for (size_t b2 = 0; b2 <= a->nbooks; b2++)
        ck_assert_uint_eq(a->ok_cells[b2], b->ok_cells[b2]);
}

START_TEST(engine_equals_reference_bitwise)
{
    use_reference_batches(true);
    results ref, eng;
    ck_assert_int_eq(rsk_ref_values(&sample, &ref.v), RK_OK);
    ck_assert_int_eq(rsk_ref_grid(&sample, BUMP, &ref.v, &ref.g), RK_OK);
    eng_engine *e = engine(2, NULL);
    compute(&sample, e, false, &eng);
    assert_same_values(&ref.v, &eng.v);
    assert_same_grid(&ref.g, &eng.g);
    /* the sample's invalid rows stay invalid, the others are computed */
    ck_assert_uint_lt(eng.v.ok, sample.pos.n);
    ck_assert_uint_gt(eng.v.ok, sample.pos.n / 2);
    results_free(&eng);
    rsk_values_free(&ref.v);
    rsk_grid_free(&ref.g);
    eng_destroy(e);
    use_reference_batches(false);
}
END_TEST

START_TEST(fast_entries_close_to_reference)
{
    results ref, eng;
    use_reference_batches(false);
    ck_assert_int_eq(rsk_ref_values(&sample, &ref.v), RK_OK);
    eng_engine *e = engine(2, NULL);
    compute(&sample, e, false, &eng);
    for (size_t i = 0; i < sample.pos.n; i++) {
        ck_assert_int_eq(ref.v.status[i], eng.v.status[i]);
        if (ref.v.status[i] == RK_OK)
            ck_assert_close(eng.v.value[i], ref.v.value[i], 1e-12, TOL_FAST_REL);
    }
    results_free(&eng);
    rsk_values_free(&ref.v);
    eng_destroy(e);
}
END_TEST

START_TEST(pnl_matches_reference)
{
    ck_assert(sample.has_scenarios);
    eng_engine *e = engine(2, NULL);
    results eng;
    compute(&sample, e, true, &eng);
    /* The reference's P&L from the reference's own base values: nothing of the engine's path
     * feeds the oracle. */
    rsk_values ref_v;
    ck_assert_int_eq(rsk_ref_values(&sample, &ref_v), RK_OK);
    rsk_pnl ref;
    ck_assert_int_eq(rsk_ref_pnl(&sample, sample.scen.shock, sample.scen.n, &ref_v, &ref), RK_OK);
    /* scale: gross base value per book */
    size_t nb = sample.pos.nbooks;
    double *gross = calloc(nb + 1, sizeof(double));
    for (size_t i = 0; i < sample.pos.n; i++)
        if (eng.v.status[i] == RK_OK) {
            gross[sample.pos.book[i]] += fabs(eng.v.value[i]);
            gross[nb] += fabs(eng.v.value[i]);
        }
    for (size_t b = 0; b <= nb; b++) {
        ck_assert_uint_eq(ref.ok_cells[b], eng.p.ok_cells[b]);
        for (size_t s = 0; s < ref.nscen; s++)
            ck_assert_close(eng.p.pnl[b * ref.nscen + s], ref.pnl[b * ref.nscen + s],
                            TOL_PNL_REL * gross[b], 0);
    }
    free(gross);
    rsk_values_free(&ref_v);
    rsk_pnl_free(&ref);
    results_free(&eng);
    eng_destroy(e);
}
END_TEST

START_TEST(deterministic_across_workers_and_topologies)
{
    eng_engine *e1 = engine(1, NULL);
    results r1;
    compute(&sample, e1, true, &r1);
    eng_destroy(e1);
    static const struct {
        size_t threads;
        const char *topo;
    } cfgs[] = {{2, NULL}, {0, "node:2 core:2 pu:1"}, {0, "node:4 core:4 pu:1"}, {3, NULL}};
    for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) {
        eng_engine *e = engine(cfgs[k].threads, cfgs[k].topo);
        results r;
        compute(&sample, e, true, &r);
        assert_same_values(&r1.v, &r.v);
        assert_same_grid(&r1.g, &r.g);
        assert_same_pnl(&r1.p, &r.p);
        results_free(&r);
        eng_destroy(e);
    }
    results_free(&r1);
}
END_TEST

/*
 * A deadline inside a tile keeps the cells the tile finished before it: one worker, one chunk,
 * and a tree of 10,000 steps (tens of milliseconds) behind the closed forms of the chunk. The
 * grid's stopped column and the stopped scenario keep the slots priced before the tree (they
 * lost them all before), with the bits of a run that does not stop.
 */
START_TEST(deadline_keeps_cells_before_a_tree)
{
    size_t tree = SIZE_MAX;
    for (size_t i = 0; i < sample.pos.n && tree == SIZE_MAX; i++)
        if (sample.pos.status[i] == RK_OK && sample.pos.kind[i] == MDL_AMER_PUT)
            tree = i;
    ck_assert_uint_ne(tree, SIZE_MAX);
    sample.pos.steps[tree] = 10000;
    eng_engine *e = engine(1, NULL);
    results full;
    compute(&sample, e, true, &full);
    rsk_layout layout;
    ck_assert_int_eq(rsk_layout_build(&sample, e, &layout), RK_OK);
    rsk_states grid;
    ck_assert_int_eq(rsk_states_grid(&sample.mkt, BUMP, &grid), RK_OK);

    rsk_grid g;
    rsk_task_info info;
    int64_t deadline = eng_now_ns() + 5000000;
    ck_assert_int_eq(grid_run(e, &layout, &grid, BUMP, &full.v, deadline, &g, &info), RK_OK);
    ck_assert_int_eq(info.stop_code, RK_DEADLINE);
    size_t ok = 0;
    for (size_t c = 0; c < g.n * g.nfactors; c++) {
        if (g.status[c] != RK_OK)
            continue;
        ok++;
        ck_assert_msg(rk_test_same_bits(g.delta[c], full.g.delta[c]), "cell %zu", c);
        ck_assert_msg(rk_test_same_bits(g.gamma[c], full.g.gamma[c]), "cell %zu", c);
    }
    ck_assert_uint_gt(ok, 0);
    ck_assert_uint_lt(ok, full.g.ok_cells[g.nbooks]);
    ck_assert_int_eq(g.status[rsk_grid_cell(&g, tree, 0)], RK_DEADLINE);
    rsk_grid_free(&g);

    /* the first block of scenarios */
    size_t n = sample.scen.n < RSK_STATE_BLOCK ? sample.scen.n : RSK_STATE_BLOCK;
    rsk_pnl p;
    ck_assert_int_eq(rsk_pnl_init(&p, sample.pos.n, sample.pos.nbooks, n), RK_OK);
    rsk_requested_cells(&sample.pos, sample.pos.nbooks, n, p.req_cells);
    rsk_states st;
    ck_assert_int_eq(rsk_states_from_shocks(&sample.mkt, sample.scen.shock, n, &st), RK_OK);
    rsk_submit sub = {.deadline_ns = eng_now_ns() + 5000000};
    rsk_task *t;
    ck_assert_int_eq(rsk_pnl_submit(e, &layout, &st, 0, &full.v, &sub, &p, &t), RK_OK);
    ck_assert_int_eq(rsk_task_finish(t, NULL, NULL), RK_OK);
    ck_assert_uint_gt(p.ok_cells[p.nbooks], 0);
    ck_assert_uint_gt(p.nmissing[tree], 0);
    rsk_pnl_free(&p);
    rsk_states_free(&st);
    rsk_states_free(&grid);
    rsk_layout_free(&layout);
    results_free(&full);
    eng_destroy(e);
}
END_TEST

/* A bigger book for the deadline and cancel tests (w1: 10,000 positions x 50 factors). */
static dat_dataset big;
static char *big_dir;

static void big_setup(void)
{
    setup();
    load_preset("w1", 3, &big, &big_dir);
}

static void big_teardown(void)
{
    dat_free(&big);
    rk_test_rmtree(big_dir);
    free(big_dir);
    teardown();
}

START_TEST(deadline_gives_partial_grid)
{
    eng_engine *e = engine(2, NULL);
    rsk_layout layout;
    ck_assert_int_eq(rsk_layout_build(&big, e, &layout), RK_OK);
    rsk_states base, grid;
    ck_assert_int_eq(rsk_states_base(&big.mkt, &base), RK_OK);
    ck_assert_int_eq(rsk_states_grid(&big.mkt, BUMP, &grid), RK_OK);
    rsk_values v;
    ck_assert_int_eq(values_run(e, &layout, &base, 0, &v), RK_OK);
    /* The budget is a third of what the whole grid takes here and now, so that the deadline
     * falls inside the work however loaded the machine (or slow the build) is. */
    rsk_grid g;
    int64_t t0 = eng_now_ns();
    ck_assert_int_eq(grid_run(e, &layout, &grid, BUMP, &v, ENG_NO_DEADLINE, &g, NULL), RK_OK);
    int64_t full = eng_now_ns() - t0;
    rsk_grid_free(&g);
    int64_t deadline = eng_now_ns() + full / 3;
    rsk_task_info info;
    ck_assert_int_eq(grid_run(e, &layout, &grid, BUMP, &v, deadline, &g, &info), RK_OK);
    double late_ms = (double)(eng_now_ns() - deadline) * 1e-6;
    ck_assert_msg(late_ms <= DEADLINE_SLACK_MS, "returned %.2f ms after the deadline", late_ms);
    size_t nb = g.nbooks;
    double cov = (double)g.ok_cells[nb] / (double)g.req_cells[nb];
    ck_assert_msg(cov > 0.0 && cov < 1.0, "coverage %g", cov);
    ck_assert_int_eq(info.stop_code, RK_DEADLINE);
    size_t deadline_cells = 0;
    for (size_t c = 0; c < g.n * g.nfactors; c++) {
        rk_status s = (rk_status)g.status[c];
        ck_assert_msg(s == RK_OK || s == RK_DEADLINE || s == RK_INVALID_INPUT || s == RK_NUMERIC,
                      "cell %zu has %s", c, rk_status_name(s));
        deadline_cells += s == RK_DEADLINE;
        if (s == RK_OK)
            ck_assert(isfinite(g.delta[c]) && isfinite(g.gamma[c]));
    }
    ck_assert_uint_gt(deadline_cells, 0);
    rsk_grid_free(&g);
    rsk_values_free(&v);
    rsk_states_free(&base);
    rsk_states_free(&grid);
    rsk_layout_free(&layout);
    eng_destroy(e);
}
END_TEST

/* The grid with reuse of unmoved positions against full revaluation: bit for bit. */
static void assert_reuse_matches(const dat_dataset *ds)
{
    eng_engine *e = engine(2, NULL);
    rsk_layout layout;
    ck_assert_int_eq(rsk_layout_build(ds, e, &layout), RK_OK);
    rsk_states base, grid;
    ck_assert_int_eq(rsk_states_base(&ds->mkt, &base), RK_OK);
    ck_assert_int_eq(rsk_states_grid(&ds->mkt, BUMP, &grid), RK_OK);
    rsk_values v;
    ck_assert_int_eq(values_run(e, &layout, &base, 0, &v), RK_OK);
    rsk_grid full, fast;
    ck_assert_int_eq(grid_run(e, &layout, &grid, BUMP, &v, ENG_NO_DEADLINE, &full, NULL), RK_OK);
    memset(&fast, 0, sizeof fast);
    rsk_submit sub = {.deadline_ns = ENG_NO_DEADLINE, .reuse_unmoved = true};
    rsk_task *t;
    ck_assert_int_eq(rsk_grid_submit(e, &layout, &grid, BUMP, &v, true, &sub, &fast, &t), RK_OK);
    ck_assert_int_eq(rsk_task_finish(t, NULL, NULL), RK_OK);
    assert_same_grid(&full, &fast);
    /* and the fast path did skip work: some OK cells are exact zeros */
    size_t zeros = 0;
    for (size_t c = 0; c < full.n * full.nfactors; c++)
        zeros += full.status[c] == RK_OK && full.delta[c] == 0.0 && full.gamma[c] == 0.0;
    ck_assert_uint_gt(zeros, 0);
    rsk_grid_free(&full);
    rsk_grid_free(&fast);
    rsk_values_free(&v);
    rsk_states_free(&base);
    rsk_states_free(&grid);
    rsk_layout_free(&layout);
    eng_destroy(e);
}

START_TEST(reuse_unmoved_is_bitwise_full_revaluation_sample)
{
    assert_reuse_matches(&sample);
}
END_TEST

START_TEST(reuse_unmoved_is_bitwise_full_revaluation_w1)
{
    assert_reuse_matches(&big);
}
END_TEST

typedef struct canceller {
    eng_job *req;
    long after_us;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *c = arg;
    struct timespec ts = {0, c->after_us * 1000};
    nanosleep(&ts, NULL);
    eng_cancel(c->req);
    return NULL;
}

/* The big book's grid on a 2-worker engine, submitted and cancelled from another thread
 * after_us later (the thread is joined by cancelled_grid_free). */
typedef struct cancelled_grid {
    eng_engine *e;
    rsk_layout layout;
    rsk_states base, grid;
    rsk_values v;
    rsk_grid g;
    rsk_task *t;
    canceller c;
    pthread_t th;
} cancelled_grid;

static void cancelled_grid_start(cancelled_grid *cg, long after_us)
{
    memset(cg, 0, sizeof *cg);
    cg->e = engine(2, NULL);
    ck_assert_int_eq(rsk_layout_build(&big, cg->e, &cg->layout), RK_OK);
    ck_assert_int_eq(rsk_states_base(&big.mkt, &cg->base), RK_OK);
    ck_assert_int_eq(rsk_states_grid(&big.mkt, BUMP, &cg->grid), RK_OK);
    ck_assert_int_eq(values_run(cg->e, &cg->layout, &cg->base, 0, &cg->v), RK_OK);
    rsk_submit sub = {.deadline_ns = ENG_NO_DEADLINE};
    ck_assert_int_eq(
        rsk_grid_submit(cg->e, &cg->layout, &cg->grid, BUMP, &cg->v, true, &sub, &cg->g, &cg->t),
        RK_OK);
    cg->c = (canceller){rsk_task_job(cg->t), after_us};
    ck_assert_int_eq(pthread_create(&cg->th, NULL, cancel_later, &cg->c), 0);
}

static void cancelled_grid_free(cancelled_grid *cg)
{
    pthread_join(cg->th, NULL);
    rsk_grid_free(&cg->g);
    rsk_values_free(&cg->v);
    rsk_states_free(&cg->base);
    rsk_states_free(&cg->grid);
    rsk_layout_free(&cg->layout);
    eng_destroy(cg->e);
}

START_TEST(cancel_from_another_thread)
{
    cancelled_grid cg;
    cancelled_grid_start(&cg, 3000);
    rsk_task_info info;
    ck_assert_int_eq(rsk_task_finish(cg.t, NULL, &info), RK_OK);
    const rsk_grid *g = &cg.g;
    size_t cancelled = 0, ok = 0;
    for (size_t cell = 0; cell < g->n * g->nfactors; cell++) {
        cancelled += g->status[cell] == RK_CANCELLED;
        ok += g->status[cell] == RK_OK;
    }
    ck_assert_uint_gt(cancelled, 0);
    ck_assert_uint_eq(ok, g->ok_cells[g->nbooks]);
    ck_assert_int_eq(info.stop_code, RK_CANCELLED);
    cancelled_grid_free(&cg);
}
END_TEST

/* Cells of the tiles that never ran take their record's code, a position invalid at load its own
 * code, and no other cell takes a stop's code: a grid cancelled part-way, checked tile by tile
 * against the job's records (finish_grid marks the never-run tiles row by row, not tile by
 * tile). */
START_TEST(cancelled_grid_cells_follow_the_records)
{
    const size_t bad = big.pos.n - 1; /* made invalid for this test: the last chunk's tiles are
                                         the last to run, so some of them never do */
    uint8_t was = big.pos.status[bad];
    big.pos.status[bad] = RK_INVALID_INPUT;
    cancelled_grid cg;
    cancelled_grid_start(&cg, 3000);
    ck_assert_int_eq(eng_wait(rsk_task_job(cg.t), ENG_NO_DEADLINE), RK_OK);
    rsk_task_info info;
    rsk_task_reduce(cg.t, &info);
    const uint8_t *status = cg.g.status;
    size_t nrec = 0, F = cg.g.nfactors, unrun = 0, ran_ok = 0, bad_unrun = 0;
    const eng_record *rec = eng_job_records(rsk_task_job(cg.t), &nrec);
    for (size_t i = 0; i < nrec; i++) {
        const eng_tile *tl = &rec[i].tile;
        bool never = rec[i].worker == UINT32_MAX;
        for (uint32_t ci = tl->row0; ci < tl->row1; ci++) {
            const rsk_chunk *ch = &cg.layout.chunks[ci];
            for (uint32_t r = 0; r < ch->nrows; r++) {
                size_t row = (size_t)ch->row0 + r;
                for (uint32_t j = tl->col0; j < tl->col1; j++) {
                    rk_status s = (rk_status)status[rsk_grid_cell(&cg.g, row, j)];
                    bad_unrun += row == bad && never;
                    if (big.pos.status[row] != RK_OK)
                        ck_assert_int_eq(s, big.pos.status[row]);
                    else if (never)
                        ck_assert_msg(s == rec[i].code, "row %zu factor %u: %d, tile's record %d",
                                      row, j, s, rec[i].code);
                    else if (rec[i].code == RK_OK)
                        ck_assert_msg(s == RK_OK || s == RK_NUMERIC, "row %zu factor %u: %d", row,
                                      j, s);
                }
            }
        }
        unrun += never;
        ran_ok += rec[i].code == RK_OK;
    }
    ck_assert_uint_gt(unrun, 0);
    ck_assert_uint_gt(ran_ok, 0);
    ck_assert_uint_gt(bad_unrun, 0);
    ck_assert_int_eq(info.stop_code, RK_CANCELLED);
    for (size_t j = 0; j < F; j++)
        ck_assert_int_eq(status[rsk_grid_cell(&cg.g, bad, j)], RK_INVALID_INPUT);
    rsk_task_release(cg.t);
    cancelled_grid_free(&cg);
    big.pos.status[bad] = was;
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("eval");
    TCase *tc = tcase_create("sample");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, engine_equals_reference_bitwise);
    tcase_add_test(tc, fast_entries_close_to_reference);
    tcase_add_test(tc, pnl_matches_reference);
    tcase_add_test(tc, deterministic_across_workers_and_topologies);
    tcase_add_test(tc, deadline_keeps_cells_before_a_tree);
    tcase_add_test(tc, reuse_unmoved_is_bitwise_full_revaluation_sample);
    suite_add_tcase(s, tc);
    TCase *tb = tcase_create("w1");
    tcase_set_timeout(tb, 300);
    tcase_add_checked_fixture(tb, big_setup, big_teardown);
    tcase_add_test(tb, deadline_gives_partial_grid);
    tcase_add_test(tb, cancel_from_another_thread);
    tcase_add_test(tb, cancelled_grid_cells_follow_the_records);
    tcase_add_test(tb, reuse_unmoved_is_bitwise_full_revaluation_w1);
    suite_add_tcase(s, tb);
    return s;
}
