/*
 * api_internal.h - the structures behind the public handles, shared by the files of the thin
 * API layer (engine.c, dataset.c, portfolio.c, request.c). Nothing here is API.
 *
 * Every field says what protects it: [imm] set before the handle is shared, read-only after;
 * [owner] the handle's owner thread; [X.mu] under that mutex; [atomic] with its memory order
 * noted where it is used.
 */
#ifndef RK_API_INTERNAL_H
#define RK_API_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "dataset.h"
#include "engine.h"
#include "eval.h"
#include "measures.h"
#include "portfolio.h"
#include "riskengine.h"
#include "states.h"

struct rk_engine {
    eng_engine *eng; /* [imm] */
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
typedef struct rk_snap {
    uint64_t version;     /* [imm once published] */
    double *values;       /* [imm once published] nund underlying values */
    double *cov;          /* [imm once published] nfactors x nfactors */
    size_t refs;          /* [pf->mkt_mu] the portfolio's (while current) + one per pinned request */
    struct rk_snap *next; /* [pf->mkt_mu] link in the spare list */
} rk_snap;

struct rk_portfolio {
    rk_engine *eng;          /* [imm] */
    rk_dataset *ds;          /* [imm] sealed */
    rsk_portfolio pf;        /* [imm] the node-local layout */
    const char **pos_msg;    /* [imm] per row: its load/validation message, or NULL */

    pthread_mutex_t mkt_mu;  /* the market: current snapshot, versions, spare snapshots */
    rk_snap *cur;            /* [mkt_mu] current snapshot (holds one reference) */
    rk_snap *spare;          /* [mkt_mu] released snapshots for reuse */
    uint64_t version;        /* [mkt_mu] version of cur */
    _Atomic uint64_t version_hint; /* [atomic] copy of version for lock-free reads (relaxed:
                                      a reader gets some recent version, nothing more) */

    pthread_mutex_t pool_mu; /* the pool of spare results */
    rk_result *pool;         /* [pool_mu] */
};

typedef enum req_state { REQ_IDLE, REQ_RUNNING, REQ_DONE } req_state;

/*
 * A result and everything a run needs, recycled through the portfolio's pool so that a steady
 * stream of requests allocates nothing. While its request runs, the stage callbacks (engine
 * threads, one at a time: each stage starts from the previous one's callback) write it; after
 * completion it is read-only until recycled.
 */
struct rk_result {
    rk_portfolio *pf;         /* [imm] */
    rk_result *next;          /* [pf->pool_mu] pool link */
    unsigned measures;        /* [stage] implied measures included */
    double bump, confidence, horizon; /* [stage] */
    rk_snap *snap;            /* [stage] pinned snapshot; released at completion */
    uint64_t version;         /* [stage] */
    rk_status status;         /* [stage] */
    rk_status grid_skip;      /* [stage] RK_OK, or why the grid stage never ran */
    dat_market view;          /* [stage] the data set's market with the snapshot's numbers */
    rsk_states states;        /* [stage] grid states (state 0 = base) */
    rsk_values values;        /* [stage] */
    rsk_grid grid;            /* [stage] */
    bool has_pv;              /* [stage] parametric VaR computed */
    rsk_parametric pv;        /* [stage] arrays of nbooks + 1, allocated with the result */
    double *pv_work;          /* [stage] (nbooks + 1) x nfactors */
    rsk_workspace ws_values, ws_grid; /* [stage] reusable tasks */
    rsk_task *tv, *tg;        /* [stage] tasks to release when recycled */
    rsk_run_info iv, ig;      /* [stage] */
    int64_t submitted_ns, completed_ns, deadline_ns, var_ns; /* [stage] */
    uint64_t *val_ok, *val_req; /* [stage] values coverage per book (nbooks + 1; val_req [imm]) */
};

/* Takes a reference on the current snapshot. Any thread. */
rk_snap *rk_snap_pin(rk_portfolio *pf);
/* Drops a reference; the last one sends the snapshot to the spare list. Any thread. */
void rk_snap_unpin(rk_portfolio *pf, rk_snap *s);

/* Covariance check: finite, symmetric, positive definite (dataset.c). RK_OK, RK_INVALID_INPUT
 * or RK_NO_MEMORY. */
rk_status rk_api_check_cov(const double *cov, size_t F);

/* Result pool (request.c). */
void rk_result_pool_fini(rk_portfolio *pf);

#endif /* RK_API_INTERNAL_H */
