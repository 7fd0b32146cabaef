/*
 * toyjob.h - the toy job the engine suites run: cell (r, c) computes a deterministic double
 * from a hash of (r, c), written to a buffer; cell status starts PENDING; run() polls
 * eng_should_stop() before every cell and can burn a fixed time per cell and sleep a random
 * time per tile. It also counts how many times each tile ran.
 */
#ifndef RK_TEST_TOYJOB_H
#define RK_TEST_TOYJOB_H

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"

#define TOY_PENDING 0xFFu
#define TOY_DONE 0u

typedef struct toy {
    uint32_t nrows, ncols;
    double *val;              /* nrows * ncols */
    unsigned char *status;    /* nrows * ncols: TOY_PENDING or TOY_DONE */
    _Atomic unsigned *runs;   /* per tile index (at most nrows * ncols tiles) */
    int64_t cell_ns;          /* busy time per cell */
    unsigned sleep_max_us;    /* random sleep per tile, 0..sleep_max_us */
    _Atomic unsigned seed;
    uint32_t *row_node;
    double *row_cost;
    eng_job_desc job;
} toy;

static inline uint64_t toy_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static inline double toy_value(uint32_t r, uint32_t c)
{
    uint64_t h = toy_mix(((uint64_t)r << 32) | c);
    double u = (double)(h >> 11) * 0x1p-53;
    return exp(u) * sin(3.0 * u + r) / (1.0 + c);
}

static void toy_run(void *arg, const eng_tile *t, eng_worker *w, eng_tile_result *res)
{
    toy *j = arg;
    atomic_fetch_add(&j->runs[t->index], 1u);
    if (j->sleep_max_us > 0) {
        unsigned s = (unsigned)toy_mix(atomic_fetch_add(&j->seed, 1u)) % (j->sleep_max_us + 1);
        struct timespec ts = {0, (long)s * 1000};
        nanosleep(&ts, NULL);
    }
    unsigned char *scratch = eng_worker_scratch(w);
    if (j->job.scratch_bytes > 0) {
        if (scratch == NULL || ((uintptr_t)scratch & 63) != 0) {
            res->code = RK_INTERNAL;
            snprintf(res->message, sizeof res->message, "bad scratch %p w%u", (void *)scratch, eng_worker_id(w));
            return;
        }
        memset(scratch, 0xAB, j->job.scratch_bytes);
    }
    for (uint32_t r = t->row0; r < t->row1; r++) {
        for (uint32_t c = t->col0; c < t->col1; c++) {
            if (eng_should_stop(w)) {
                res->code = eng_stop_code(w);
                return;
            }
            if (j->cell_ns > 0) {
                int64_t until = eng_now_ns() + j->cell_ns;
                while (eng_now_ns() < until) {
                }
            }
            size_t k = (size_t)r * j->ncols + c;
            j->val[k] = toy_value(r, c);
            j->status[k] = TOY_DONE;
            res->cells_ok++;
        }
    }
}

/* nodes: rows go round-robin to nodes 0..nodes-1 when nodes > 0, else row_node is NULL. */
static inline toy *toy_new(uint32_t nrows, uint32_t ncols, double row_cost_ns, unsigned nodes)
{
    toy *j = calloc(1, sizeof *j);
    size_t n = (size_t)nrows * ncols;
    j->nrows = nrows;
    j->ncols = ncols;
    j->val = calloc(n, sizeof *j->val);
    j->status = malloc(n);
    memset(j->status, TOY_PENDING, n);
    j->runs = calloc(n, sizeof *j->runs);
    if (nodes > 0) {
        j->row_node = malloc(nrows * sizeof *j->row_node);
        for (uint32_t r = 0; r < nrows; r++)
            j->row_node[r] = r % nodes;
    }
    if (row_cost_ns > 0) {
        j->row_cost = malloc(nrows * sizeof *j->row_cost);
        for (uint32_t r = 0; r < nrows; r++)
            j->row_cost[r] = row_cost_ns;
    }
    j->job.nrows = nrows;
    j->job.ncols = ncols;
    j->job.row_node = j->row_node;
    j->job.row_cost = j->row_cost;
    j->job.run = toy_run;
    j->job.arg = j;
    return j;
}

static inline void toy_free(toy *j)
{
    if (j == NULL)
        return;
    free(j->val);
    free(j->status);
    free((void *)j->runs);
    free(j->row_node);
    free(j->row_cost);
    free(j);
}

/* Checks the records of a completed job against the toy's buffers: records ordered by
 * index, each tile run at most once, tiles cover each cell exactly once, an OK tile has every
 * cell done, a pending cell lies in a tile whose record is not OK. Returns a message or NULL. */
static inline const char *toy_check(const toy *j, const eng_job *r, rk_status allowed_a,
                                    rk_status allowed_b)
{
    size_t n;
    const eng_record *rec = eng_job_records(r, &n);
    unsigned char *cover = calloc((size_t)j->nrows * j->ncols, 1);
    const char *bad = NULL;
    for (size_t i = 0; i < n && bad == NULL; i++) {
        const eng_record *x = &rec[i];
        if (x->tile.index != i)
            bad = "records not ordered by tile index";
        else if (x->code != RK_OK && x->code != allowed_a && x->code != allowed_b)
            bad = x->message[0] ? x->message : rk_status_name(x->code);
        else if (atomic_load(&j->runs[i]) > 1)
            bad = "tile ran twice";
        else if (x->worker != UINT32_MAX && atomic_load(&j->runs[i]) != 1)
            bad = "record says run but the tile never ran";
        for (uint32_t rr = x->tile.row0; bad == NULL && rr < x->tile.row1; rr++)
            for (uint32_t c = x->tile.col0; c < x->tile.col1; c++) {
                size_t k = (size_t)rr * j->ncols + c;
                if (cover[k]++)
                    bad = "cell covered by two tiles";
                if (x->code == RK_OK && j->status[k] != TOY_DONE)
                    bad = "OK tile with a pending cell";
            }
    }
    for (size_t k = 0; bad == NULL && k < (size_t)j->nrows * j->ncols; k++)
        if (cover[k] != 1)
            bad = "cell not covered";
    free(cover);
    return bad;
}

#endif
