/*
 * dataset.h - a data set in memory: factors, covariance, underlyings, positions and (optional)
 * scenarios, as read from a folder of CSV files (contract §5) or built through the API.
 *
 * Positions are kept here in file order, structure of arrays, one array per input column, with
 * their validation status; the engine regroups the valid ones by instrument kind into node-local
 * chunks (risk/layout.h). A position that fails validation keeps its row here with status
 * RK_INVALID_INPUT and one error record naming file, line and column; nothing else is lost.
 *
 * Ownership: a dat_dataset owns every array and string it points to; dat_free() releases them.
 * Threading: loading and validation are single-threaded; a loaded data set is read-only and may
 * be shared by any number of threads.
 */
#ifndef DAT_DATASET_H
#define DAT_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rk_status.h"

typedef enum dat_und_kind { DAT_UND_SPOT, DAT_UND_RATE, DAT_UND_VOL, DAT_UND_KIND_COUNT } dat_und_kind;

/* "spot", "rate", "vol"; NULL outside the table. */
const char *dat_und_kind_name(dat_und_kind k);

/* No underlying: the input is a literal number, or unused. */
#define DAT_NONE UINT32_MAX

typedef struct dat_market {
    size_t nfactors;
    char **factor;      /* factor names, file order = factor index */
    char **factor_desc; /* descriptions ("" when absent) */
    double *cov;        /* nfactors x nfactors, row-major, symmetric positive definite */
    size_t nund;
    char **und;         /* underlying names */
    uint8_t *und_kind;  /* dat_und_kind (DAT_UND_SPOT when the kind cell is bad: und_ok 0) */
    double *und_value;  /* base value x_u */
    double *beta;       /* nund x nfactors, row-major: loading of underlying u on factor j */
    uint8_t *und_ok;    /* 1 when the row is usable; 0 when it failed to parse or its value is
                           invalid for its kind (positions using it become INVALID_INPUT) */
    char **und_err;     /* for und_ok==0: "underlyings.csv:L:C: reason"; NULL otherwise */
} dat_market;

/* Column numbers of positions.csv (1-based, 0 when absent), for messages. */
typedef struct dat_poscols {
    uint32_t position, book, instrument, quantity, underlying, strike, expiry, rate, vol, dividend,
        coupon, frequency, steps;
} dat_poscols;

typedef struct dat_positions {
    size_t n;            /* rows, valid and invalid, file order */
    size_t first;        /* global index of row 0 (non-zero when a share was loaded) */
    char **id;           /* position ids: unique among valid positions ("" or a repeat only
                            in an INVALID_INPUT row of a file) */
    uint32_t *line;      /* line in the file (1-based), 0 for positions built in memory */
    uint8_t *kind;       /* mdl_kind; MDL_KIND_COUNT when the instrument is unknown */
    uint32_t *book;      /* index into books[]; DAT_NONE when the book cell is empty (the
                            position is then INVALID_INPUT) */
    double *quantity;
    uint32_t *und;       /* the `underlying` column: spot (options, forwards, spot) or rate
                            (bond); DAT_NONE when empty */
    uint32_t *rate;      /* underlying of kind rate, or DAT_NONE and rate_lit holds a literal */
    double *rate_lit;
    uint32_t *vol;       /* underlying of kind vol, or DAT_NONE and vol_lit holds a literal */
    double *vol_lit;
    double *strike, *expiry, *dividend, *coupon, *frequency; /* NaN when the cell is empty,
                                                                 except dividend/coupon: 0 */
    uint32_t *steps;     /* 0 when empty */
    uint8_t *status;     /* rk_status: RK_OK or RK_INVALID_INPUT */
    size_t nbooks;
    char **books;        /* book names, in order of first appearance */
    dat_poscols cols;
    char *file;          /* name used in messages ("positions.csv" or "<memory>") */
} dat_positions;

typedef struct dat_scenarios {
    size_t n;
    char **name;   /* scenario names */
    double *shock; /* n x nfactors, row-major; factors absent from the file are 0 */
} dat_scenarios;

/* One error record found while loading or validating (position-level, or an unusable
 * underlying). position is the row index in dat_positions, or SIZE_MAX when not a position. */
typedef struct dat_error {
    size_t position;
    rk_status code;
    char *message; /* "positions.csv:12:7: strike must be > 0 (got -1)" */
} dat_error;

typedef struct dat_dataset {
    dat_market mkt;
    dat_positions pos;
    bool has_scenarios;
    dat_scenarios scen;
    size_t nerrors;
    dat_error *errors; /* in file order */
    size_t errors_cap; /* records allocated in errors[] (grown by dat_ functions) */
    char *dir;         /* folder it was loaded from, or NULL */
} dat_dataset;

/* Which rows of positions.csv to load: rows [first, first+count) counted among data rows
 * (header and comment lines excluded). count SIZE_MAX = to the end. Used to load one share of
 * the positions per process. */
typedef struct dat_load_opts {
    size_t first;
    size_t count;
    bool skip_scenarios; /* do not read scenarios.csv even if present */
    /* Read the positions from this file (a path, named so in messages) instead of
     * DIR/positions.csv: candidate positions in positions.csv's format, validated against the
     * folder's market exactly as its own rows are. NULL: DIR/positions.csv. */
    const char *positions;
} dat_load_opts;

/*
 * Loads the folder dir. On success returns RK_OK and fills *ds (free with dat_free), with
 * position-level problems recorded as errors. A file-level problem (missing file or column,
 * unknown factor, a wrong column count outside positions.csv, covariance not symmetric or not
 * positive definite, a bad number in factors/covariance/scenarios) returns RK_INVALID_INPUT or
 * RK_IO with
 * one line "file:line:col: reason" in msg, and *ds left empty. opts may be NULL (all rows).
 * In positions.csv a duplicate or empty id, a wrong field count or a format error in a row
 * (data/README.md) is not file-level: that row is one INVALID_INPUT position.
 */
rk_status dat_load(const char *dir, const dat_load_opts *opts, dat_dataset *ds, char *msg,
                   size_t msglen);

/*
 * Reads a liquidity-horizon file (`factor,liquidity_horizon`, one row per factor of m, each
 * horizon one of allowed[0..nallowed)) into lh (m->nfactors days, in factor order). An unknown
 * or duplicate factor, a horizon not allowed, or a factor of m not listed returns
 * RK_INVALID_INPUT (RK_IO when it cannot be read) with one line "file:line:col: reason" (the
 * missing factor named) in msg. Any thread.
 */
rk_status dat_load_liquidity(const char *path, const dat_market *m, const double *allowed,
                             size_t nallowed, double *lh, char *msg, size_t msglen);

/*
 * The covariance rule (covariance.csv and both set_covariance calls of the API): every entry
 * finite; every variance > 0; symmetric within |a_ij - a_ji| <= DAT_COV_SYM_RTOL *
 * sqrt(a_ii a_jj), after which both entries become their average (the stored matrix is exactly
 * symmetric); positive definite (LAPACK's Cholesky succeeds). dat_cov_check applies it to cov
 * (F x F, row-major) in place. work: F x F doubles of scratch, or NULL to allocate them.
 * Returns RK_OK, RK_INVALID_INPUT with the first problem in *why (may be NULL), RK_NO_MEMORY or
 * RK_INTERNAL.
 */
#define DAT_COV_SYM_RTOL 1e-12
typedef struct dat_cov_problem {
    enum {
        DAT_COV_OK,
        DAT_COV_NOT_FINITE, /* an entry is NaN or infinite */
        DAT_COV_VARIANCE,   /* a diagonal entry is not > 0 */
        DAT_COV_ASYMMETRIC, /* a pair differs by more than the tolerance */
        DAT_COV_NOT_PD      /* the Cholesky factorisation fails at a leading minor */
    } what;
    size_t i, j; /* the entry: (i, j) with i < j when asymmetric; (k, k) for the failing minor */
} dat_cov_problem;
rk_status dat_cov_check(double *cov, size_t F, double *work, dat_cov_problem *why);

/* Releases everything *ds owns and zeroes it. Harmless on a zeroed data set. */
void dat_free(dat_dataset *ds);

/* Validates position i of ds (contract §2) against the market: sets pos.status[i] and, when
 * invalid, appends an error record. The loader calls it for every row; the API calls it for
 * positions built in memory. Returns RK_OK or RK_INVALID_INPUT (RK_NO_MEMORY if the record
 * can't be stored). */
rk_status dat_validate_position(dat_dataset *ds, size_t i);

/* Index of a factor / underlying / book by name, or DAT_NONE. */
uint32_t dat_factor_index(const dat_market *m, const char *name);
uint32_t dat_und_index(const dat_market *m, const char *name);

/* Counts of positions by status. */
size_t dat_valid_count(const dat_positions *p);

/* ---- the seeded generator (contract §6) ---- */

typedef struct dat_preset {
    const char *name;   /* "sample", "w1", "w2", "w3" */
    size_t npositions, nund, nfactors, nbooks;
    size_t nscenarios;  /* rows of scenarios.csv (historical and stress); 0 = no file */
    size_t nstress;     /* of those, named stress scenarios (the rest are historical) */
    bool trees;         /* one american in a hundred gets steps = 200 */
    bool bad_rows;      /* add documented invalid rows (sample only) */
} dat_preset;

/* The preset with that name, or NULL. */
const dat_preset *dat_preset_find(const char *name);

/* Factor loadings of the spot underlyings: sparse (market, one sector, maybe a style, region
 * and FX: a fundamental model without its minor terms) or dense (the same, plus a small
 * loading on every other factor, as a statistical model gives; data/README.md). */
typedef enum dat_loadings { DAT_LOADINGS_SPARSE, DAT_LOADINGS_DENSE } dat_loadings;

/* "sparse", "dense"; NULL outside the enum. */
const char *dat_loadings_name(dat_loadings l);
/* Parses "sparse" or "dense"; false otherwise. */
bool dat_loadings_parse(const char *name, dat_loadings *l);

/* Writes a data set for preset p with the given seed into folder outdir (created if missing).
 * Output is byte-identical for a given (preset, seed, loadings); a dense data set differs from
 * the sparse one of the same seed only in the loadings of underlyings.csv and the comment line
 * of factors.csv. Returns RK_OK, RK_BAD_ARGUMENT, or RK_IO with msg. */
rk_status dat_generate_with(const dat_preset *p, uint64_t seed, dat_loadings loadings,
                            const char *outdir, char *msg, size_t msglen);
/* dat_generate_with(p, seed, DAT_LOADINGS_SPARSE, outdir, msg, msglen). */
rk_status dat_generate(const dat_preset *p, uint64_t seed, const char *outdir, char *msg,
                       size_t msglen);

#endif /* DAT_DATASET_H */
