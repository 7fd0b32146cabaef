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
typedef struct rk_snap {
    uint64_t version;     /* [imm once published] */
    uint64_t cov_gen;     /* [imm once published] generation of its covariance: snapshots with
                             the same generation have the same covariance (value updates keep
                             it), so they share one Cholesky factor */
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

    uint64_t cov_gen;        /* [mkt_mu] generation of cur's covariance */

    pthread_mutex_t chol_mu; /* the Cholesky cache */
    double *chol;            /* [chol_mu] F x F factor of covariance generation chol_gen */
    uint64_t chol_gen;       /* [chol_mu] 0 = nothing cached */
    rk_status chol_rc;       /* [chol_mu] rsk_cholesky's code for that generation */

    pthread_mutex_t pool_mu; /* the pool of spare results */
    rk_result *pool;         /* [pool_mu] */

    _Atomic size_t live_requests; /* [atomic] rk_requests alive on this portfolio (relaxed: it
                                     only sizes the engine's reserve of request objects) */
};

typedef enum req_state { REQ_IDLE, REQ_RUNNING, REQ_DONE } req_state;

/*
 * One scenario set of a result: the P&L of every (position, scenario), computed in blocks of
 * RSK_STATE_BLOCK scenarios. A result has at most two: scenario VaR's (Monte Carlo or the
 * file's) and stress's (the file's; shared with scenario VaR's when that is historical).
 */
typedef struct rk_scen_set {
    bool mc;        /* [stage] Monte Carlo, else the data set's scenarios.csv */
    size_t n;       /* [stage] scenarios */
    uint64_t seed;  /* [stage] Monte Carlo seed */
    size_t nblocks; /* [stage] ceil(n / RSK_STATE_BLOCK) */
    rsk_pnl pnl;    /* [stage] kept with the result; reused when the shape is the same */
} rk_scen_set;

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
    bool reuse_unmoved;               /* [stage] */
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

    /* Scenario stages (scenario VaR, stress): blocks chained from their completion callbacks,
     * double-buffered: block g uses slot g % 2 (its market states, workspace and task). */
    double es_confidence;     /* [stage] */
    rk_scen_set sets[2];      /* [stage] the sets, in the order they run */
    size_t nsets;             /* [stage] 0, 1 or 2 */
    int var_set, stress_set;  /* [stage] index into sets of each measure, -1 when not computed */
    size_t nblocks;           /* [stage] blocks of all sets */
    size_t g_run;             /* [stage] the block in flight (or the last one) */
    rk_status scen_stop;      /* [stage] RK_OK, or why blocks were not run */
    double *L;                /* [stage] F x F Cholesky factor for Monte Carlo (owned) */
    double *shock, *mc_work;  /* [stage] RSK_STATE_BLOCK x F each (owned) */
    rsk_states blk[2];        /* [stage] market states of the blocks in the two slots */
    rsk_workspace ws_pnl[2];  /* [stage] reusable P&L tasks of the two slots */
    rsk_task *tp[2];          /* [stage] task of the slot's last block until released */
    double *sv_var, *sv_es;   /* [stage] scenario VaR and ES per book (nbooks + 1) */
    bool has_sv;              /* [stage] */
    double *sort_work;        /* [stage] scratch for VaR/ES, sort_cap doubles */
    size_t sort_cap;          /* [stage] */
    int64_t scen_t0, scen_ns; /* [stage] */
    uint64_t scen_tiles, scen_tiles_ok, scen_chan; /* [stage] engine figures of the blocks */
};

/* Takes a reference on the current snapshot. Any thread. */
rk_snap *rk_snap_pin(rk_portfolio *pf);
/* Drops a reference; the last one sends the snapshot to the spare list. Any thread. */
void rk_snap_unpin(rk_portfolio *pf, rk_snap *s);

/* Copies the Cholesky factor of snapshot s's covariance (F x F) into L, computing and caching
 * it when the cache holds another generation (allocates on first use). RK_OK, RK_NUMERIC (not
 * positive definite), RK_NO_MEMORY. Any thread. */
rk_status rk_snap_cholesky(rk_portfolio *pf, const rk_snap *s, double *L);

/* Covariance check: finite, symmetric, positive definite (dataset.c). RK_OK, RK_INVALID_INPUT
 * or RK_NO_MEMORY. */
rk_status rk_api_check_cov(const double *cov, size_t F);

/* Result pool (request.c). */
void rk_result_pool_fini(rk_portfolio *pf);

#endif /* RK_API_INTERNAL_H */
