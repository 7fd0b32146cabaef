/*
 * api_internal.h - the structures behind the public handles, shared by the files of the thin
 * API layer (engine.c, dataset.c, portfolio.c, request.c, result.c). Nothing here is API.
 *
 * Every field says what protects it: [imm] set before the handle is shared, read-only after;
 * [owner] the handle's owner thread; [X.mu] under that mutex; [atomic] with its memory order
 * noted where it is used; [flow] written by the request's flow (risk/flow.h) while it runs, one
 * stage callback at a time, and read-only once it is complete.
 */
#ifndef RK_API_INTERNAL_H
#define RK_API_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "dataset.h"
#include "engine.h"
#include "eval.h"
#include "flow.h"
#include "measures.h"
#include "layout.h"
#include "riskengine.h"
#include "states.h"

struct rk_engine {
    eng_engine *eng; /* [imm] */
    mdl_isa isa;     /* [imm] level of the pricing kernels of every portfolio on it */
    /* Request counters, relaxed: statistics only, no data travels with them. */
    _Atomic uint64_t submitted, completed, misses, cancels;
};

struct rk_dataset {
    dat_dataset ds;      /* [owner] while building; [imm] once sealed */
    bool has_cov;        /* [owner] */
    size_t pcap, ucap;   /* [owner] capacity of the position / underlying arrays */
    _Atomic size_t users; /* [atomic] portfolios using it; non-zero = sealed (acq_rel: the
                             builder's writes happen before any portfolio reads them) */
};

/* An immutable market snapshot, reference counted under the portfolio's market lock. */
typedef struct api_snap {
    uint64_t version;     /* [imm once published] */
    uint64_t cov_gen;     /* [imm once published] generation of its covariance: snapshots with
                             the same generation have the same covariance (value updates keep
                             it), so they share one Cholesky factor */
    double *values;       /* [imm once published] nund underlying values */
    double *cov;          /* [imm once published] nfactors x nfactors */
    size_t refs;          /* [pf->mkt_mu] the portfolio's (while current) + one per pinned request */
    struct api_snap *next; /* [pf->mkt_mu] link in the spare list */
} api_snap;

struct rk_portfolio {
    rk_engine *eng;          /* [imm] */
    rk_dataset *ds;          /* [imm] sealed */
    rsk_layout layout;       /* [imm] the node-local layout */
    const char **pos_msg;    /* [imm] per row: its load/validation message, or NULL */

    pthread_mutex_t mkt_mu;  /* the market: current snapshot, versions, spare snapshots */
    api_snap *cur;            /* [mkt_mu] current snapshot (holds one reference) */
    api_snap *spare;          /* [mkt_mu] released snapshots for reuse */
    uint64_t version;        /* [mkt_mu] version of cur */
    _Atomic uint64_t version_hint; /* [atomic] copy of version for lock-free reads (relaxed:
                                      a reader gets some recent version, nothing more) */

    uint64_t cov_gen;        /* [mkt_mu] generation of cur's covariance */

    pthread_mutex_t chol_mu; /* the Cholesky cache */
    double *chol;            /* [chol_mu] F x F factor of covariance generation chol_gen */
    uint64_t chol_gen;       /* [chol_mu] 0 = nothing cached */
    rk_status chol_rc;       /* [chol_mu] rsk_cholesky's code for that generation */

    pthread_mutex_t pool_mu; /* the pool of spare results */
    rk_result *pool;         /* [pool_mu] */

    _Atomic size_t live_requests; /* [atomic] rk_requests alive on this portfolio (relaxed: it
                                     only sizes the engine's reserve of request objects) */

    pthread_mutex_t wc_mu; /* the warm cache of what-ifs (whatif.c) */
    struct api_wcache *wc; /* [wc_mu] the current one (holds one reference), or NULL */
};

/*
 * A result: a run (risk/flow.h) and what the API adds to it, recycled through the portfolio's
 * pool so that a steady stream of requests allocates nothing. While its request runs, the
 * flow's stage callbacks write the run; after completion it is read-only until recycled.
 */
struct rk_result {
    rsk_run run;              /* [flow] the outputs and their memory */
    rk_portfolio *pf;         /* [imm] */
    rk_result *next;          /* [pf->pool_mu] pool link */
    unsigned measures;        /* [owner at submit] asked measures, implied ones included */
    api_snap *snap;            /* [owner at submit] pinned snapshot; released at completion */
    uint64_t version;         /* [owner at submit] */
    dat_market view;          /* [owner at submit] the data set's market, snapshot's numbers */
    double *L;                /* [owner at submit] F x F Cholesky factor for Monte Carlo */
    int64_t deadline_ns;      /* [owner at submit] */
    int64_t completed_ns;     /* [flow] */
};

/* Positions built in memory (dataset.c). positions_grow: every per-position array of p to cap
 * rows. position_store: row i of ds->pos (its id already in ds->pos.id[i]) from *in, in book
 * `book` (an index, or DAT_NONE), then validated by the loader's checks and messages
 * (dat_validate_row's code); ds->pos.n becomes i + 1. rk_dataset_add_position and the
 * what-if's candidates (whatif.c) both store through it. */
bool positions_grow(dat_positions *p, size_t cap);
rk_status position_store(dat_dataset *ds, size_t i, const rk_position *in, uint32_t book);

/* The warm caches (whatif.c). wcache_drop releases the portfolio's reference to its current
 * one (portfolio destruction: every rk_whatif is gone by then). */
void wcache_drop(rk_portfolio *pf);

/* Takes a reference on the current snapshot. Any thread. */
api_snap *snap_pin(rk_portfolio *pf);
/* Drops a reference; the last one sends the snapshot to the spare list. Any thread. */
void snap_unpin(rk_portfolio *pf, api_snap *s);

/* Copies the Cholesky factor of snapshot s's covariance (F x F) into L, computing and caching
 * it when the cache holds another generation (allocates on first use). RK_OK, RK_NUMERIC (not
 * positive definite), RK_NO_MEMORY. Any thread. */
rk_status snap_cholesky(rk_portfolio *pf, const api_snap *s, double *L);


/* The result pool (result.c). result_obtain takes a spare result or makes one (NULL: no
 * memory); result_recycle releases its engine jobs, unpins its snapshot and puts it back;
 * result_pool_fini frees the spares (portfolio destruction). result_of finds the result of a
 * run. Any thread. */
rk_result *result_obtain(rk_portfolio *pf);
void result_recycle(rk_result *r);
void result_pool_fini(rk_portfolio *pf);
rk_result *result_of(rsk_run *run);

#endif /* RK_API_INTERNAL_H */
