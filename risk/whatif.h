/*
 * whatif.h - pre-trade what-if: the risk of a portfolio with candidate positions added, from a
 * warm cache of a complete run instead of a new run over every position.
 *
 * Why it can be exact. Every aggregate a run reports is an exact sum (xsum.h): per-book
 * exposures and per-book per-scenario P&L are integers in units of 2^-64, so the sums of the
 * portfolio with more positions are the cached sums plus the new positions' terms, bit for bit
 * the sums a full run over all of them makes, whatever the order. The new positions are priced
 * in the cached market states (the run's grid states, and every scenario's state made by the
 * same kernel calls as the flow's blocks) with the layout's model table, whose kernels price an
 * item the same wherever it sits in a batch; their cells pass the same checks as a tile's
 * (finite, within the exact-sum range). The measures are then taken by the same functions as
 * the run's (rsk_parametric_var_into, rsk_var_es) over the same numbers: the "after" figures
 * equal bitwise those of a full run over the data set with the candidates appended.
 *
 * The cache (rsk_wcache) is built once from a complete run (it allocates) and is read-only
 * after: any number of threads may evaluate against it at once, each with its own scratch
 * (rsk_wscratch), which is sized on first use and reused, so that a warm evaluation makes no
 * heap allocation.
 *
 * Memory of the cache: the grid states ((1 + 2F) x underlyings), the scenario states
 * (scenarios x underlyings: 16 MB for 1000 scenarios of 2000 underlyings), the exact sums
 * ((books + 1) x (F + scenarios) x 16 bytes) and the "before" figures.
 */
#ifndef RSK_WHATIF_H
#define RSK_WHATIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

/* What a what-if is measured against: one complete run's market, settings and sums. [imm] */
typedef struct rsk_wcache {
    const rsk_layout *layout; /* model table (instruction-set level) and the data set */
    size_t nbooks, F, U;      /* books of the run's data set, factors, underlyings */
    double bump, confidence, es_confidence, horizon;
    bool has_pv;   /* parametric VaR: the grid ran and the measure was taken */
    bool has_scen; /* scenario VaR/ES of one set */
    bool mc;       /* that set is Monte Carlo (else the file's) */
    size_t nscen;  /* its scenarios */
    uint64_t seed; /* Monte Carlo seed */
    double *cov;   /* F x F, the run's market */
    /* States underlying-major, so that a candidate's inputs over every state are contiguous
     * reads (a what-if gathers one underlying across all states, not one state at a time). */
    double *gx;                  /* U x (1 + 2F) grid states (state 0 = the base market) */
    double *sx;                  /* U x nscen scenario states */
    rsk_xsum *xexp;              /* (nbooks + 1) x F exact exposures, TOTAL last */
    rsk_xsum *xpnl;              /* (nbooks + 1) x nscen exact P&L, TOTAL last */
    double *pv_var, *pv_contrib; /* nbooks + 1: parametric VaR before and its contribution */
    double *s_var, *s_es;        /* nbooks + 1: scenario VaR and ES before */
} rsk_wcache;

/* Builds the cache from run, which must be complete with status RK_OK, have run the grid with
 * parametric VaR and/or one scenario set with VaR (the Monte Carlo one when it has both), and
 * still hold its market and Cholesky factor (they are copied or used here only). RK_OK,
 * RK_BAD_ARGUMENT (a run that is not complete and OK, or holds neither measure), RK_NO_MEMORY.
 * Owner thread; zero-initialise c first. */
rk_status rsk_wcache_build(rsk_wcache *c, const rsk_run *run);
void rsk_wcache_free(rsk_wcache *c);

/* One evaluation's memory and answers, sized by rsk_wscratch_reserve. [owner] */
typedef struct rsk_wscratch {
    size_t cap_items; /* batch capacity (max(1 + 2F, nscen)) */
    size_t cap_books; /* books + 1 the arrays below hold */
    size_t cap_trades;
    size_t tree_len; /* doubles in tree */
    double *S, *K, *T, *r, *sigma, *q, *coupon, *freq, *price;
    uint32_t *steps;
    uint8_t *flags;
    double *tree;
    rsk_xsum *xexp, *xpnl; /* after: (books + 1) x F, (books + 1) x nscen */
    double *exp, *pnl;     /* the same rounded */
    double *pv_work;       /* (books + 1) x F */
    double *sort;          /* nscen */
    uint8_t *touched;      /* books + 1: a candidate of the book was added */
    /* Answers, per book after (books + 1, TOTAL last). */
    size_t nbooks;        /* books after: the cache's plus new ones */
    rsk_parametric pv;    /* after */
    double *s_var, *s_es; /* after */
    /* Per candidate. */
    double *value;   /* base value, NaN when not OK */
    uint8_t *status; /* rk_status */
} rsk_wscratch;

/* Room for `trades` candidates over `nbooks_after` books (the cache's and new ones) and trees
 * of `max_steps` (0: none). Keeps the memory it has when it is enough: no allocation once warm.
 * RK_OK or RK_NO_MEMORY. Zero-initialise w first. */
rk_status rsk_wscratch_reserve(rsk_wscratch *w, const rsk_wcache *c, size_t trades,
                               size_t nbooks_after, uint32_t max_steps);
void rsk_wscratch_free(rsk_wscratch *w);

/* Largest CRR steps rows [0, n) of cand price with (the fallback tree included). */
uint32_t rsk_whatif_max_steps(const dat_positions *cand, size_t n);

/*
 * Evaluates candidates rows [0, n) of cand (validated: status RK_OK or INVALID_INPUT; their
 * underlying indices those of the cache's market) with book[i] their book in the numbering
 * after (< c->nbooks: an existing book; new books follow in order of first appearance) and
 * nbooks_after books in all. Fills w's answers: per candidate its base value and status (the
 * validation's, or NUMERIC when its base value is not finite), per book the parametric VaR and
 * contributions (when c->has_pv) and scenario VaR/ES (when c->has_scen) after. A candidate
 * whose grid or scenario cell is not finite leaves that cell out of the sums, as a run does.
 * w must have been reserved for this shape. RK_OK, or the code of rsk_parametric_var_into /
 * rsk_var_es. No allocation. Any thread, each with its own w.
 */
rk_status rsk_whatif_eval(const rsk_wcache *c, const dat_positions *cand, size_t n,
                          const uint32_t *book, size_t nbooks_after, rsk_wscratch *w);

#endif /* RSK_WHATIF_H */
