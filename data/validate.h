/*
 * validate.h - internal to data/: the position checks of contract §2 with the extra knowledge the
 * loader has about each cell (its raw text and why a number failed to parse), and the error
 * record list.
 *
 * How a parse error in positions.csv is recorded: the loader stores NaN (or DAT_NONE, or 0 for
 * steps) in the array and the reason in dat_rowinfo.why[column]. Only the validator decides
 * whether the cell matters: a cell the instrument uses that failed to parse makes the position
 * INVALID_INPUT with a record "positions.csv:LINE:COL: <column>: <reason> ('<text>')" naming
 * that cell's column; a cell the instrument does not use is ignored whatever it holds.
 */
#ifndef DAT_VALIDATE_H
#define DAT_VALIDATE_H

#include "dataset.h"

/* Input columns of positions.csv, in the order checks are made and messages name them. */
typedef enum dat_col {
    DAT_COL_POSITION,
    DAT_COL_BOOK,
    DAT_COL_INSTRUMENT,
    DAT_COL_QUANTITY,
    DAT_COL_UNDERLYING,
    DAT_COL_STRIKE,
    DAT_COL_EXPIRY,
    DAT_COL_RATE,
    DAT_COL_VOL,
    DAT_COL_DIVIDEND,
    DAT_COL_COUPON,
    DAT_COL_FREQUENCY,
    DAT_COL_STEPS,
    DAT_COL_COUNT
} dat_col;

/* Header names, indexed by dat_col. */
extern const char *const dat_col_name[DAT_COL_COUNT];

/* Largest accepted `steps` (a tree of more steps is refused as a likely typo). A tree polls
 * for stops from inside every few microseconds, so even the largest one answers a deadline. */
#define DAT_MAX_STEPS 1000000u
/* Largest accepted bond frequency (daily payments) and cash-flow count expiry x frequency (a
 * century of daily coupons is 36,500): beyond them a bond is a typo, and its cash-flow
 * schedule would be too long to price (or, near 1e17, no longer countable in doubles). */
#define DAT_MAX_FREQUENCY 366.0
#define DAT_MAX_BOND_FLOWS 100000.0

typedef struct dat_rowinfo {
    const char *text[DAT_COL_COUNT]; /* raw cell text, "" when empty or the column is absent */
    const char *why[DAT_COL_COUNT];  /* why a numeric cell did not parse; NULL otherwise */
} dat_rowinfo;

/* Validates row i; info may be NULL (positions built in memory). See dat_validate_position. */
rk_status dat_validate_row(dat_dataset *ds, size_t i, const dat_rowinfo *info);

/* Appends an error record with a formatted message. RK_OK or RK_NO_MEMORY. */
rk_status dat_add_error(dat_dataset *ds, size_t position, rk_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Column number (1-based, 0 when absent) of c in ds's positions. */
uint32_t dat_col_number(const dat_poscols *cols, dat_col c);

#endif /* DAT_VALIDATE_H */
