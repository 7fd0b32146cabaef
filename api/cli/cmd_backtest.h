/*
 * cmd_backtest.h - VaR backtesting from a P&L history (`riskengine backtest`, and the batch's
 * --pnl): reading `date,book,pnl,var`, each book's last days in date order, its exceptions and
 * statistics (risk/backtest.h), backtest.csv and the error rows. The report draws from it.
 */
#ifndef RK_CLI_CMD_BACKTEST_H
#define RK_CLI_CMD_BACKTEST_H

#include "backtest.h"
#include "cli.h"

/* One book's backtesting window, oldest day first. */
typedef struct cli_bt_book {
    char *name;
    size_t n;         /* days in the window */
    char (*date)[16]; /* YYYY-MM-DD */
    double *pnl, *var;
    bool *exc; /* -pnl > var */
    rsk_backtest_stats st;
} cli_bt_book;

typedef struct cli_bt {
    cli_bt_book *book; /* backtested books in name order */
    size_t nbooks;
    size_t rows, bad_rows; /* data rows read, rows left out with an error record */
    size_t failed_books;   /* books left out (duplicate dates) */
    double confidence;
    size_t window;
} cli_bt;

/* Reads path, backtests every book over its last `window` days at `confidence` and writes
 * OUT/backtest.csv and the error rows (a bad row: one record, the row left out; a book with a
 * duplicate date: one record, the book left out). Rank 0 does the work; collective. Prints
 * the reason and returns false when the file cannot be used at all (missing, no header, a
 * format error). Free out with cli_bt_free. */
bool cli_bt_run(cli_run *r, const char *path, double confidence, size_t window, cli_bt *out);
void cli_bt_free(cli_bt *bt);
/* summary.json's "backtest" object: counts, exceptions and books per zone. */
void cli_bt_json(json_writer *w, const cli_bt *bt);

#endif
