/*
 * flow.h - one computation of risk measures over a portfolio, as a chain of engine jobs:
 * values -> grid -> parametric VaR -> scenario P&L blocks (a Monte Carlo set, then the data
 * set's scenarios.csv) -> VaR/ES per set. Each job is submitted from the previous one's
 * completion callback, so a flow completes (and its callback runs) without any thread waiting
 * for it. The public API's requests and the riskengine program both compute through it: the
 * numbers they give are the same by construction.
 *
 * Two objects:
 *   rsk_flow      the control: state, cancellation, waiters, the engine job in flight. One per
 *                 caller that submits (an rk_request, a run of the program); never copied.
 *   rsk_run       what one submission computes and the memory it computes it in: options,
 *                 outputs, market states, workspaces, the engine tasks of its stages. Kept by
 *                 the caller and reused by the next submission (the API recycles them with its
 *                 results), so that once warm a flow allocates nothing.
 *
 * Order of operations for one submission:
 *   rsk_run_prepare (owner)   sizes every buffer, fills the grid states from the market and
 *                             lays out the scenario sets. May allocate.
 *   rsk_flow_submit (owner)   under f->mu: RUNNING, submits the values job, records it `cur`.
 *   values callback           (engine thread) under f->mu: reduces the values; unless
 *                             cancelled, cut short or past the deadline, submits the grid (or
 *                             the first scenario block) and records it `cur`; otherwise marks
 *                             every cell of what will not run with the reason and completes.
 *   grid callback             reduces the grid; goes on to the scenario blocks or completes.
 *   scenario blocks           the callback that ends the stage before prepares the market
 *                             states of blocks 0 and 1 and submits block 0. Each block's
 *                             callback, under f->mu: reduces the block into its set's P&L,
 *                             releases the block before it, submits the next one (its states
 *                             are ready) and prepares the states of the one after into the slot
 *                             of the block just finished.
 *   complete                  (no lock) the measures (unless the caller takes them later),
 *                             status, the caller's callback; then under f->mu DONE, and
 *                             waiters wake.
 *
 * Holding f->mu while submitting a job is safe: the engine never calls a completion callback
 * from inside eng_submit for a job with tiles (an empty job has no engine job and is
 * continued by the caller), and the engine's locks are never held around callbacks, so the
 * lock order is always f->mu -> engine lock.
 *
 * Scenario blocks: why a chain of blocks of RSK_STATE_BLOCK scenarios and not one engine job
 * over every scenario. One job would need the market states of all scenarios at once
 * (scenarios x underlyings) and per-worker accumulators for all of them (workers x scenarios x
 * books), both growing without bound with the scenario count; a block needs one block of each,
 * so a run's memory is its P&L (books x scenarios, the answer) plus two slots. Two slots let the
 * states of block g+2 be made while block g+1 runs; a block that finishes first waits for f->mu
 * until they are ready (making 64 states costs far less than revaluing a book in them). A
 * block's engine job cannot be freed in its own callback: block g's task is released in
 * block g+1's callback, after the waiters and cancellers that took it as `cur` have left
 * (slot_users), so that slot g % 2 is free for block g+2.
 *
 * Engine requests of a run stay alive (owned by its tasks) until rsk_run_release. A waiter or
 * canceller reads `cur` under f->mu and then calls into the engine without the lock; `users`
 * counts such calls in progress, and taking the run (rsk_flow_take) first waits for users == 0,
 * so `cur` never dangles.
 *
 * Distributed runs: a caller that combines several processes' shares (the program under
 * mpirun) sets measures_later, adds the shares' exact sums once the flow is done, and then
 * calls rsk_run_measures, the same function a flow calls on its own otherwise.
 */
#ifndef RSK_FLOW_H
#define RSK_FLOW_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "eval.h"
#include "measures.h"
#include "states.h"

/* What a run computes; stages imply the ones they need (rsk_run_prepare adds them). */
enum {
    RSK_DO_VALUES = 1u << 0,
    RSK_DO_GRID = 1u << 1,       /* implies values */
    RSK_DO_PARAMETRIC = 1u << 2, /* implies the grid */
    RSK_DO_MC = 1u << 3,         /* a Monte Carlo scenario set; implies values */
    RSK_DO_FILE = 1u << 4,       /* the data set's scenarios.csv; implies values */
    RSK_DO_FRTB = 1u << 5,       /* FRTB ES: scenarios.csv once per liquidity horizon (below) */
};

/* Scenario sets a run may hold: Monte Carlo, the file's, and the file's once per FRTB
 * liquidity horizon. */
#define RSK_MAX_SETS (2 + RSK_FRTB_NLH)

typedef struct rsk_run rsk_run;
typedef void (*rsk_run_done_fn)(rsk_run *run, void *arg);

typedef struct rsk_run_spec {
    unsigned stages;          /* RSK_DO_* */
    double bump;              /* grid bump, factor units */
    double confidence;        /* parametric and scenario VaR */
    double es_confidence;     /* scenario ES */
    double horizon;           /* days: parametric VaR and Monte Carlo shocks */
    bool reuse_unmoved;       /* grid fast path (rsk_submit.reuse_unmoved) */
    bool keep_cells;          /* grid: keep every cell's delta and gamma, not only exposures */
    size_t mc_scenarios;      /* RSK_DO_MC: scenarios */
    uint64_t seed;            /* RSK_DO_MC: seed */
    bool mc_var, file_var;    /* VaR/ES of the Monte Carlo set, of the file's set */
    bool measures_later;      /* completion leaves VaR to the caller's rsk_run_measures */
    const double *liq_horizon; /* RSK_DO_FRTB: each factor's liquidity horizon in days, one of
                                  rsk_frtb_lh (kept by the caller); the file's shocks are taken
                                  as `horizon`-day moves and scaled by sqrt(RSK_FRTB_T / horizon) */
    int64_t deadline_ns;      /* absolute eng_now_ns() time, or ENG_NO_DEADLINE */
    rsk_run_done_fn done;     /* called once when the run is complete (any thread); may be NULL */
    void *done_arg;
} rsk_run_spec;

/*
 * One scenario set: the P&L of every (position, scenario), computed in blocks of
 * RSK_STATE_BLOCK scenarios, and its VaR/ES per book when asked.
 */
typedef struct rsk_scen_set {
    bool mc;         /* Monte Carlo, else the data set's scenarios.csv */
    double lh;       /* FRTB set: only factors of liquidity horizon >= lh move; 0 otherwise */
    double scale;    /* FRTB set: the file's shocks times this (10-day moves) */
    size_t n;        /* scenarios */
    uint64_t seed;   /* Monte Carlo seed */
    size_t nblocks;  /* ceil(n / RSK_STATE_BLOCK) */
    bool want_var;   /* VaR/ES wanted */
    rsk_pnl pnl;     /* per book per scenario; reused when the shape is the same */
    double *var, *es; /* per book (nbooks + 1), valid when has_var */
    bool has_var;
    /* per book (nbooks + 1), valid when has_var: Euler contributions to the TOTAL's VaR and
     * ES and incremental VaR (rsk_scen_components) */
    double *cvar, *ces, *incr;
    int64_t ns;      /* time from its first block's submission to its last block's reduction */
} rsk_scen_set;

/*
 * A run. What protects each field: [imm] set by rsk_run_prepare on the owner thread, read-only
 * while the flow runs; [flow] written by the flow's stage callbacks while it runs (engine
 * threads, one at a time: each stage starts from the previous one's callback), read-only once
 * it is complete; [flow.mu] also read by other threads under the flow's lock. Before submission
 * and after completion every field is the owner's.
 */
struct rsk_run {
    /* Inputs. [imm] */
    rsk_run_spec spec;
    eng_engine *eng;
    const rsk_layout *layout;
    const dat_market *mkt;     /* the market (numbers) to value in; the layout's structure */
    const double *chol;        /* F x F Cholesky factor of mkt->cov (RSK_DO_MC) */

    /* Outputs. [flow] */
    rk_status status;          /* RK_OK, or the first reason something was not computed */
    rsk_states states;         /* grid states (state 0 = the base market) */
    rsk_values values;
    rsk_grid grid;             /* valid when the grid stage ran or was skipped (statuses) */
    rk_status grid_skip;       /* RK_OK, or why the grid stage never ran */
    bool has_pv;
    rsk_parametric pv;         /* arrays of nbooks + 1 */
    rsk_scen_set sets[RSK_MAX_SETS]; /* Monte Carlo first, then the file's, then FRTB's */
    size_t nsets;
    int mc_set, file_set;      /* index into sets, -1 when not computed */
    int frtb_set;              /* first of the RSK_FRTB_NLH FRTB sets (horizon order), or -1 */
    double *frtb_es;           /* liquidity-adjusted ES per book (nbooks + 1), when has_frtb */
    bool has_frtb;
    uint64_t *val_ok, *val_req; /* values coverage per book (nbooks + 1) */

    /* Engine figures and timings. [flow] */
    rsk_task_info iv, ig;       /* values and grid stages */
    rk_status scen_stop;       /* RK_OK, or why scenario blocks were not run or cut short */
    uint64_t scen_tiles, scen_tiles_ok, scen_chan;
    int64_t scen_overshoot_ns; /* worst block overshoot */
    int64_t submitted_ns, var_ns, scen_t0, scen_ns;

    /* Memory. [flow] (sized by rsk_run_prepare) */
    double *pv_work;                  /* (nbooks + 1) x nfactors */
    rsk_workspace ws_values, ws_grid; /* reusable tasks */
    rsk_task *tv, *tg;                /* tasks to release */
    size_t nblocks;                   /* blocks of all sets */
    size_t g_run;                     /* [flow.mu] the block in flight (or the last one) */
    double *shock, *mc_work;          /* RSK_STATE_BLOCK x F each */
    rsk_states blk[2];                /* market states of the blocks in the two slots */
    rsk_workspace ws_pnl[2];          /* reusable P&L tasks of the two slots */
    rsk_task *tp[2];                  /* task of the slot's last block until released */
    double *sort_work;                /* scratch for VaR/ES, sort_cap doubles */
    double *comp_work;                /* scratch for the components, sort_cap doubles */
    rsk_ranked *rank_work;            /* scratch for the tail's ranking, sort_cap entries */
    size_t sort_cap;
    uint64_t cells_before;            /* [flow.mu] cells of the stages and blocks reduced */
};

/* Sizes the run for spec over `layout` valued in market mkt (same structure as the layout's data
 * set; the API passes a snapshot's numbers), fills the grid states and lays out the scenario
 * sets. chol: mkt->cov's Cholesky factor, needed with RSK_DO_MC (kept by the caller). Reuses
 * the memory of an earlier run; zero-initialise before the first. RK_OK, RK_NOT_FOUND (a file
 * set without scenarios.csv), RK_NO_MEMORY. Owner thread. */
rk_status rsk_run_prepare(rsk_run *run, eng_engine *e, const rsk_layout *layout,
                          const dat_market *mkt, const double *chol, const rsk_run_spec *spec);
/* Releases the run's engine jobs and tasks (its memory stays for the next run). Not while
 * its flow runs. */
void rsk_run_release(rsk_run *run);
/* Frees everything; the run may be prepared again after. NULL is harmless. */
void rsk_run_free(rsk_run *run);

/* Parametric VaR from the exposures and VaR/ES of each set that wants it, from the P&L as
 * summed; the run's status takes the first failure. A flow calls it on completion unless
 * spec.measures_later. No allocation. */
rk_status rsk_run_measures(rsk_run *run);

/* The shocks of scenarios [first, first + n) of set s (n x F): Monte Carlo from the run's
 * Cholesky factor, or the file's rows. work: n x F doubles. The flow makes its blocks' states
 * from exactly these. */
void rsk_run_shocks(const rsk_run *run, const rsk_scen_set *s, size_t first, size_t n,
                    double *work, double *shock);

/* Per-position Euler contributions of set s (complete, VaR taken) to the TOTAL's VaR and ES:
 * cvar[i] = minus position i's P&L in the VaR scenario, ces[i] = minus its mean P&L over the
 * ES tail (an exact sum divided once), the tail ranked as rsk_scen_components ranks it; NaN for
 * a position whose base value is not OK, 0 for a cell not finite there (left out of the sums
 * too). The positions' terms are the very terms of the books' exact sums, so a book's
 * positions add up to its contribution exactly before rounding. It revalues every position in
 * the max(k_VaR, k_ES) tail scenarios: one values flow per scenario, on the run's engine, each
 * state made in its block as the run made it, valued from the run's base market (its grid's
 * state 0). cvar, ces: one per row of the data set. Allocates; the caller's thread waits. */
rk_status rsk_run_position_components(const rsk_run *run, const rsk_scen_set *s, double *cvar,
                                      double *ces);

typedef enum rsk_flow_state { RSK_FLOW_IDLE, RSK_FLOW_RUNNING, RSK_FLOW_DONE } rsk_flow_state;

typedef struct rsk_flow {
    pthread_mutex_t mu;        /* the flow's lock */
    pthread_cond_t cv;         /* [mu] DONE, users == 0 and a new `cur` (CLOCK_MONOTONIC) */
    rsk_flow_state state;      /* [mu] */
    bool cancelled;            /* [mu] cancel was asked during this submission */
    unsigned users;            /* [mu] waiters/cancellers using `cur` outside the lock */
    eng_job *cur;          /* [mu] the running (or last) job's engine job; NULL between */
    int cur_slot;              /* [mu] the slot of `cur` when it is a scenario block, else -1 */
    unsigned slot_users[2];    /* [mu] of `users`, those that took `cur` while it was that
                                  slot's block: the block may be released when its count is 0 */
    rsk_run *run;              /* [mu] the submission's run until taken */
} rsk_flow;

void rsk_flow_init(rsk_flow *f);
/* Not while running (wait or cancel first). */
void rsk_flow_fini(rsk_flow *f);

/* Starts a prepared run. RK_BUSY while another is running or its run was not taken;
 * RK_NO_MEMORY. Owner thread. On success the run belongs to the flow until rsk_flow_take. */
rk_status rsk_flow_submit(rsk_flow *f, rsk_run *run);
/* Waits until the run is complete or the absolute time `until` (ENG_NO_DEADLINE: no limit).
 * RK_OK, RK_TIMEOUT, RK_BAD_ARGUMENT when nothing was submitted. Any thread; one waiter. */
rk_status rsk_flow_wait(rsk_flow *f, int64_t until);
/* Asks the run to stop; true when this call cancelled it (it was running and not cancelled
 * yet). Any thread. */
bool rsk_flow_cancel(rsk_flow *f);
/* True while a run is in flight; true once a submitted run is complete (until forgotten). Any
 * thread. */
bool rsk_flow_running(rsk_flow *f);
bool rsk_flow_done(rsk_flow *f);
/* The complete run, detached from the flow (so that the flow may be submitted again): RK_OK,
 * RK_BUSY while running, RK_NOT_FOUND when there is none (never submitted, or taken). With
 * `forget`, the flow also forgets its last submission: rsk_flow_done is false and rsk_flow_wait
 * reports RK_BAD_ARGUMENT until the next. Owner thread. */
rk_status rsk_flow_take(rsk_flow *f, bool forget, rsk_run **out);
/* Cells done so far out of the run's total, and the stage at work ("values", "grid", "mc",
 * "historical", "frtb"), for progress reports. Any thread. */
void rsk_flow_progress(rsk_flow *f, uint64_t *done, uint64_t *total, const char **stage);

#endif /* RSK_FLOW_H */
