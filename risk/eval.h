/*
 * eval.h - the three evaluations the engine runs: base values, the sensitivity grid and
 * scenario P&L. Each is an engine job over (chunks x states); this file owns their tile
 * functions, their output buffers and the deterministic reductions that follow.
 *
 * Cells and records. A values cell is a position; a grid cell is (position, factor); a P&L cell
 * is (position, scenario). Each cell ends OK or with a code: NUMERIC when a price is not finite,
 * the tile's code (DEADLINE, CANCELLED...) when its tile never reached it. Position-level errors
 * found at load time (INVALID_INPUT) cover all of that position's cells.
 *
 * Sums. Per-book sums (exposures, P&L per scenario) are exact (xsum.h) and rounded once, so
 * they do not depend on tiles, threads, nodes or processes; the exact sums are kept beside the
 * rounded ones so that partial results (one process's share) can be combined exactly. Only OK
 * cells are summed; coverage = OK cells / requested cells, per book and in total, where
 * requested counts every position of the book, valid or not.
 *
 * Threading: a job's buffers are written by tiles (each cell by exactly one tile); the task is
 * reduced by one thread once complete (rsk_task_finish, or rsk_task_reduce in the engine's
 * completion callback). flow.h chains these jobs into the measures a caller asks for.
 */
#ifndef RSK_EVAL_H
#define RSK_EVAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "layout.h"
#include "states.h"
#include "xsum.h"

#define RSK_PENDING 0xFFu /* cell status before its tile reaches it */

/* Options shared by every evaluation. */
typedef struct rsk_finish_opts {
    int64_t deadline_ns; /* absolute eng_now_ns() time, or ENG_NO_DEADLINE */
    /* Called now and then by the thread waiting in rsk_task_finish(), with cells done so far. */
    void (*progress)(void *arg, uint64_t cells_done, uint64_t cells_total);
    void *progress_arg;
} rsk_finish_opts;

/* Timings and engine figures of one evaluation. */
typedef struct rsk_task_info {
    eng_job_stats stats;
    rk_status stop_code; /* RK_OK, or the code of the first tile that did not finish */
} rsk_task_info;

/*
 * A submitted evaluation. The *_submit functions submit it to the engine and return at once; the
 * request may be cancelled from any thread through eng_cancel(rsk_task_job(t)).
 * rsk_task_finish() waits for it (honouring its deadline), gives every cell its code, performs
 * the deterministic reductions into the output and frees the task. Every started task must be
 * finished exactly once, by one thread.
 */
typedef struct rsk_task rsk_task;
eng_job *rsk_task_job(rsk_task *t);
rk_status rsk_task_finish(rsk_task *t, const rsk_finish_opts *o, rsk_task_info *info);

/*
 * The pieces of rsk_task_finish, for callers that are told of completion by the engine's
 * callback rather than waiting (the public API's asynchronous requests):
 * rsk_task_reduce() gives every cell its code and performs the reductions of a complete task;
 * it may run inside the task's completion callback (records are readable there).
 * rsk_task_release() frees the engine job and the task (or hands the task back to its
 * workspace); never inside the completion callback. Each task is released exactly once.
 */
void rsk_task_reduce(rsk_task *t, rsk_task_info *info);
void rsk_task_release(rsk_task *t);
/* Cells done so far (a rough count, any thread while the task lives) and in all. */
uint64_t rsk_task_cells_done(const rsk_task *t);
uint64_t rsk_task_cells_total(const rsk_task *t);

/*
 * Reusable memory for repeated evaluations, so that a steady stream of requests makes no heap
 * allocation: a released task goes back to its workspace with its per-worker accumulators, and
 * the next submit through the same workspace takes it. A workspace serves one task at a time
 * (one owner thread, or callers serialised by the owner). Zero-initialise; free the spare with
 * rsk_workspace_fini().
 */
typedef struct rsk_workspace {
    rsk_task *spare; /* [owner] a released task, or NULL */
} rsk_workspace;
void rsk_workspace_fini(rsk_workspace *ws);

/* How a task is submitted by the *_submit forms. */
typedef struct rsk_submit {
    int64_t deadline_ns; /* absolute eng_now_ns() time, or ENG_NO_DEADLINE */
    rsk_workspace *ws;   /* NULL: the task is allocated, and freed on release */
    eng_done_fn done;    /* engine completion callback (may call rsk_task_reduce); may be NULL */
    void *done_arg;
    /* Grid only, never the default: for a bump that moves none of a position's inputs (no
     * underlying of the position loads on the factor), take the base value instead of
     * revaluing. Bitwise the same result (a model is a pure function of its inputs); the work
     * skipped is reported as revaluations not performed. */
    bool reuse_unmoved;
} rsk_submit;

/* ---- base values ---- */

typedef struct rsk_values {
    size_t n;        /* rows of the data set */
    double *value;   /* quantity x unit price; NaN when not OK */
    uint8_t *status; /* rk_status per row */
    uint8_t *flags;  /* MDL_FLAG_* per row */
    uint64_t ok;     /* rows OK */
} rsk_values;

void rsk_values_free(rsk_values *v);
/* Base values of every row in state `state` of st (normally st has the base in state 0), through
 * sub; invalid rows get INVALID_INPUT. out is reused when it already holds arrays for this data
 * set (from an earlier run; zero-initialise it before the first). Nothing is allocated once
 * warm. */
rk_status rsk_values_submit(eng_engine *e, const rsk_layout *layout, const rsk_states *st,
                            size_t state, const rsk_submit *sub, rsk_values *out, rsk_task **t);

/* ---- sensitivity grid ---- */

/* The cells are stored factor by factor: cell (position i, factor j) at rsk_grid_cell(g, i, j) =
 * j n + i. A tile prices one chunk of rows for some factors, so each factor's cells of the chunk
 * are one contiguous run: its writes fill whole cache lines, and the tiles of the chunk's other
 * factors, often on other workers, write other lines. (Position by position, every cell of a
 * chunk and factor would be a cache line from the last, shared with the neighbouring factors'
 * tiles.) */
typedef struct rsk_grid {
    size_t n, nfactors, nbooks;
    double h;
    double *delta, *gamma; /* nfactors x n, meaningful where status is OK (other cells are
                              left unwritten: a deadline costs no pass over them); NULL when
                              the cells were not kept (only exposures wanted) */
    uint8_t *status;       /* nfactors x n */
    double *exposure;      /* (nbooks + 1) x nfactors: sum of OK deltas per book, TOTAL last */
    rsk_xsum *xexposure;   /* the same sums, exact */
    uint64_t *ok_cells;    /* nbooks + 1 */
    uint64_t *req_cells;   /* nbooks + 1 */
} rsk_grid;

static inline size_t rsk_grid_cell(const rsk_grid *g, size_t position, size_t factor)
{
    return factor * g->n + position;
}

void rsk_grid_free(rsk_grid *g);
/* Sizes out for the data set and clears its sums, reusing its arrays when they fit. */
rk_status rsk_grid_prepare(const rsk_layout *layout, double h, bool keep_cells, rsk_grid *out);
/* A grid that will not be computed (deadline, cancel, an earlier stage cut short): every cell
 * gets `code` (a position invalid at load keeps its own), as if no tile had run. g must have
 * been prepared. */
void rsk_grid_skip(const rsk_layout *layout, rk_status code, rsk_grid *g);
/* Full-revaluation grid (contract §3) using base values v (from the values of the same data).
 * st must be rsk_states_grid(h). keep_cells false keeps only the exposures and statuses (what
 * VaR needs). Reuses out's arrays when they fit (see rsk_values_submit). */
rk_status rsk_grid_submit(eng_engine *e, const rsk_layout *layout, const rsk_states *st, double h,
                          const rsk_values *v, bool keep_cells, const rsk_submit *sub,
                          rsk_grid *out, rsk_task **t);

/* ---- scenario P&L ---- */

typedef struct rsk_pnl {
    size_t nscen, nbooks, nrows;
    double *pnl; /* (nbooks + 1) x nscen: P&L per book per scenario, TOTAL last */
    rsk_xsum *xpnl; /* the same sums, exact */
    uint64_t *ok_scen;            /* (nbooks + 1) x nscen: OK cells per book per scenario */
    uint64_t *ok_cells;           /* nbooks + 1: OK cells per book over all scenarios */
    uint64_t *req_cells;          /* nbooks + 1 */
    _Atomic uint32_t *nfail;      /* per row: scenarios where the price was not finite */
    _Atomic uint32_t *first_fail; /* per row: first such scenario (UINT32_MAX when none) */
    uint32_t *nmissing;           /* per row: scenarios never reached (deadline, cancel) */
    uint8_t *miss_code;           /* per row: code of the missing cells */
} rsk_pnl;

/* Allocates a P&L accumulator for nscen scenarios; blocks are added with rsk_pnl_submit. */
rk_status rsk_pnl_init(rsk_pnl *p, size_t nrows, size_t nbooks, size_t nscen);
void rsk_pnl_free(rsk_pnl *p);
/* Revalues every valid position in the states of st (scenarios [first, first + st->n) of the
 * accumulator) against the base values v, and adds the results into p, through sub: a task
 * reused from the workspace keeps its accumulators, so blocks of one size allocate nothing
 * once warm. */
rk_status rsk_pnl_submit(eng_engine *e, const rsk_layout *layout, const rsk_states *st,
                         size_t first, const rsk_values *v, const rsk_submit *sub, rsk_pnl *p,
                         rsk_task **t);
/* rsk_pnl_init, or, when p already has this shape, clears it in place (no allocation). */
rk_status rsk_pnl_reuse(rsk_pnl *p, size_t nrows, size_t nbooks, size_t nscen);
/* Records `nscen` scenarios of p that were never submitted (deadline, cancel, an earlier stage
 * cut short) as missing with `code` for every valid row, as a block that never ran would. */
void rsk_pnl_skip(const rsk_layout *layout, size_t nscen, rk_status code, rsk_pnl *p);

/* Requested cells per book for a measure with `cols` cells per position (books + TOTAL). */
void rsk_requested_cells(const dat_positions *pos, size_t nbooks, uint64_t cols, uint64_t *req);

#endif /* RSK_EVAL_H */
