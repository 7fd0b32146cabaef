/*
 * cmd_backtest.c - `riskengine backtest`: the VaR a desk reported against the P&L it made,
 * per book over the last --window days: exceptions, Kupiec's and Christoffersen's tests, the
 * Basel traffic light (risk/backtest.h). The batch's --pnl runs the same through cli_bt_run.
 * The work is small (a few thousand rows): rank 0 does it, the other ranks only agree.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_backtest.h"
#include "csv.h"

static const char backtest_help[] =
    "usage: riskengine backtest --pnl FILE --out DIR [--confidence 0.99] [--window 250]\n"
    "\n"
    "Backtests reported VaR against P&L, per book -> OUT/backtest.csv\n"
    "(book,days,exceptions,expected,exception_rate,kupiec_lr,kupiec_p,christoffersen_lr,\n"
    "christoffersen_p,zone,plus_factor), errors.csv, summary.json.\n"
    "\n"
    "FILE is CSV with columns date,book,pnl,var (any order, others ignored): one row per book\n"
    "and business day, date YYYY-MM-DD, pnl the day's P&L, var the VaR reported for that day\n"
    "as a positive loss at --confidence. Rows need not be sorted. A day is an exception when\n"
    "-pnl > var. A bad row is one error record and is left out; a book with two rows for one\n"
    "date is one error record and is left out.\n"
    "\n"
    "  days, exceptions   over each book's last --window days (all of them when fewer)\n"
    "  kupiec_lr, _p      proportion of failures, chi-square(1) p-value erfc(sqrt(LR/2))\n"
    "  christoffersen_*   independence of exceptions (first-order Markov); 0 and p = 1 when\n"
    "                     there is no exception, or an exception every day\n"
    "  zone, plus_factor  250 days at 99%: the Basel table (0-4 green; 5-9 yellow, plus\n"
    "                     0.40 0.50 0.65 0.75 0.85; 10+ red, 1.00). Otherwise from the\n"
    "                     binomial probability c of at most that many exceptions: green below\n"
    "                     0.95, red from 0.9999 (plus 1.00), yellow between with the plus factor\n"
    "                     of the Basel count whose probability is the largest not above c\n"
    "\n"
    "options:\n"
    "  --confidence A   the VaR's confidence (default 0.99)\n"
    "  --window N       days per book, the most recent (default 250)\n"
    "  --quiet\n";

/* One data row as read. */
typedef struct bt_row {
    uint32_t book, line;
    int32_t date; /* yyyymmdd */
    double pnl, var;
} bt_row;

/* Parses YYYY-MM-DD (a real calendar date) into yyyymmdd. */
static bool parse_date(const char *s, int32_t *out)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap ? 1 : 0))
        return false;
    *out = (int32_t)(y * 10000 + m * 100 + d);
    return true;
}

static int by_book_date(const void *a, const void *b)
{
    const bt_row *x = a, *y = b;
    if (x->book != y->book)
        return x->book < y->book ? -1 : 1;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* A book's name and its number (order of first appearance), to sort books by name. */
typedef struct bt_name {
    const char *name;
    uint32_t book;
} bt_name;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const bt_name *)a)->name, ((const bt_name *)b)->name);
}

typedef struct bt_file {
    const char *file; /* its name in messages */
    bt_row *row;
    size_t n, cap;
    char **name; /* book names by first appearance */
    size_t nnames, names_cap;
    dat_strtab tab;
} bt_file;

static void file_free(bt_file *f)
{
    for (size_t i = 0; i < f->nnames; i++)
        free(f->name[i]);
    free(f->name);
    free(f->row);
    dat_strtab_free(&f->tab);
}

static void bad_row(cli_run *r, cli_bt *bt, const char *file, uint32_t line, size_t col,
                    const char *what)
{
    char msg[320];
    snprintf(msg, sizeof msg, "%s:%" PRIu32 ":%zu: %s; the row is left out", file, line, col, what);
    cli_error_row(r, SIZE_MAX, NULL, NULL, RK_INVALID_INPUT, msg);
    bt->bad_rows++;
}

/* Reads every row; a file-level problem returns false with msg. */
static bool read_file(cli_run *r, const char *path, bt_file *f, cli_bt *bt, char *msg, size_t len)
{
    const char *slash = strrchr(path, '/');
    const char *file = slash != NULL ? slash + 1 : path;
    f->file = file;
    dat_csv c;
    if (dat_csv_open(&c, path, file) != 0) {
        snprintf(msg, len, "%s", c.err);
        return false;
    }
    bool ok = false;
    int got = dat_csv_next(&c);
    size_t col[4] = {SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX};
    static const char *const want[4] = {"date", "book", "pnl", "var"};
    if (got <= 0) {
        snprintf(msg, len, got < 0 ? "%s" : "%s:1:1: empty file (header is date,book,pnl,var)",
                 got < 0 ? c.err : file);
        goto out;
    }
    size_t width = c.nfields;
    for (size_t k = 0; k < width; k++)
        for (int j = 0; j < 4; j++)
            if (strcmp(dat_csv_field(&c, k), want[j]) == 0 && col[j] == SIZE_MAX)
                col[j] = k;
    for (int j = 0; j < 4; j++) {
        if (col[j] == SIZE_MAX) {
            snprintf(msg, len, "%s:%" PRIu32 ":1: missing column '%s' (date,book,pnl,var)", file,
                     c.line, want[j]);
            goto out;
        }
    }
    while ((got = dat_csv_next(&c)) == 1) {
        bt->rows++;
        uint32_t line = c.line;
        if (c.nfields != width) {
            char what[96];
            snprintf(what, sizeof what, "%zu fields, the header has %zu", c.nfields, width);
            bad_row(r, bt, file, line, 1, what);
            continue;
        }
        bt_row row = {.line = line};
        const char *why = NULL;
        const char *book = dat_csv_field(&c, col[1]);
        if (!parse_date(dat_csv_field(&c, col[0]), &row.date)) {
            bad_row(r, bt, file, line, col[0] + 1, "date is not a calendar date YYYY-MM-DD");
            continue;
        }
        if (book[0] == '\0') {
            bad_row(r, bt, file, line, col[1] + 1, "book is empty");
            continue;
        }
        if (!dat_parse_double(dat_csv_field(&c, col[2]), &row.pnl, &why)) {
            char what[96];
            snprintf(what, sizeof what, "pnl: %s", why);
            bad_row(r, bt, file, line, col[2] + 1, what);
            continue;
        }
        if (!dat_parse_double(dat_csv_field(&c, col[3]), &row.var, &why) || row.var < 0) {
            char what[96];
            snprintf(what, sizeof what, "var: %s", why != NULL ? why : "must be a loss >= 0");
            bad_row(r, bt, file, line, col[3] + 1, what);
            continue;
        }
        uint32_t b = dat_strtab_get(&f->tab, book);
        if (b == UINT32_MAX) {
            char *copy = dat_strdup(book);
            if (copy == NULL ||
                !dat_grow((void **)&f->name, &f->names_cap, f->nnames + 1, sizeof *f->name) ||
                dat_strtab_put(&f->tab, copy, (uint32_t)f->nnames, NULL) < 0) {
                free(copy);
                snprintf(msg, len, "%s: out of memory", file);
                goto out;
            }
            b = (uint32_t)f->nnames;
            f->name[f->nnames++] = copy;
        }
        row.book = b;
        if (!dat_grow((void **)&f->row, &f->cap, f->n + 1, sizeof *f->row)) {
            snprintf(msg, len, "%s: out of memory", file);
            goto out;
        }
        f->row[f->n++] = row;
    }
    if (got < 0) {
        snprintf(msg, len, "%s", c.err);
        goto out;
    }
    ok = true;
out:
    dat_csv_close(&c);
    return ok;
}

/* The window of one book (rows [a, b) of the sorted file, dates distinct) into out. */
static bool make_book(const bt_file *f, size_t a, size_t b, cli_bt *bt, cli_bt_book *out)
{
    size_t n = b - a < bt->window ? b - a : bt->window;
    a = b - n;
    out->name = dat_strdup(f->name[f->row[a].book]);
    out->n = n;
    out->date = malloc((n ? n : 1) * sizeof *out->date);
    out->pnl = malloc((n ? n : 1) * sizeof *out->pnl);
    out->var = malloc((n ? n : 1) * sizeof *out->var);
    out->exc = malloc((n ? n : 1) * sizeof *out->exc);
    if (out->name == NULL || out->date == NULL || out->pnl == NULL || out->var == NULL ||
        out->exc == NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        const bt_row *row = &f->row[a + i];
        snprintf(out->date[i], sizeof out->date[i], "%04d-%02d-%02d", (int)(row->date / 10000),
                 (int)(row->date / 100 % 100), (int)(row->date % 100));
        out->pnl[i] = row->pnl;
        out->var[i] = row->var;
        out->exc[i] = -row->pnl > row->var;
    }
    rsk_backtest(out->exc, n, bt->confidence, &out->st);
    return true;
}

/* Books in name order, each checked for duplicate dates and backtested. */
static bool backtest_books(cli_run *r, bt_file *f, cli_bt *bt)
{
    bt_name *order = malloc((f->nnames ? f->nnames : 1) * sizeof *order);
    size_t *start = malloc((f->nnames + 1) * sizeof *start);
    bt->book = calloc(f->nnames ? f->nnames : 1, sizeof *bt->book);
    bool ok = order != NULL && start != NULL && bt->book != NULL;
    if (ok) {
        qsort(f->row, f->n, sizeof *f->row, by_book_date);
        for (size_t b = 0, i = 0; b <= f->nnames; b++) {
            while (i < f->n && f->row[i].book < b)
                i++;
            start[b] = i;
        }
        for (uint32_t b = 0; b < f->nnames; b++)
            order[b] = (bt_name){f->name[b], b};
        qsort(order, f->nnames, sizeof *order, by_name);
    }
    for (size_t k = 0; ok && k < f->nnames; k++) {
        uint32_t b = order[k].book;
        size_t a = start[b], e = start[b + 1], dup = SIZE_MAX;
        for (size_t i = a + 1; i < e && dup == SIZE_MAX; i++)
            if (f->row[i].date == f->row[i - 1].date)
                dup = i;
        if (dup != SIZE_MAX) {
            char msg[320];
            int32_t d = f->row[dup].date;
            snprintf(msg, sizeof msg,
                     "%s:%" PRIu32 ":1: book '%s' has %04d-%02d-%02d twice (also line %" PRIu32
                     "); the book is not backtested",
                     f->file, f->row[dup].line, f->name[b], (int)(d / 10000), (int)(d / 100 % 100),
                     (int)(d % 100), f->row[dup - 1].line);
            cli_error_row(r, SIZE_MAX, NULL, NULL, RK_INVALID_INPUT, msg);
            bt->failed_books++;
            continue;
        }
        ok = make_book(f, a, e, bt, &bt->book[bt->nbooks++]);
    }
    free(order);
    free(start);
    return ok;
}

static bool write_csv(cli_run *r, const cli_bt *bt)
{
    FILE *f = cli_out_open(r, "backtest.csv");
    if (f == NULL)
        return false;
    fputs("book,days,exceptions,expected,exception_rate,kupiec_lr,kupiec_p,christoffersen_lr,"
          "christoffersen_p,zone,plus_factor\n",
          f);
    for (size_t k = 0; k < bt->nbooks; k++) {
        const rsk_backtest_stats *s = &bt->book[k].st;
        const double v[7] = {
            s->expected,         s->rate,       s->kupiec_lr, s->kupiec_p, s->christoffersen_lr,
            s->christoffersen_p, s->plus_factor};
        char num[7][40];
        for (int i = 0; i < 7; i++)
            cli_fmt_double(num[i], sizeof num[i], v[i]);
        cli_csv_field(f, bt->book[k].name);
        fprintf(f, ",%zu,%zu,%s,%s,%s,%s,%s,%s,%s,%s\n", s->days, s->exceptions, num[0], num[1],
                num[2], num[3], num[4], num[5], rsk_zone_name(s->zone), num[6]);
    }
    return cli_out_close(r, f, "backtest.csv");
}

bool cli_bt_run(cli_run *r, const char *path, double confidence, size_t window, cli_bt *out)
{
    memset(out, 0, sizeof *out);
    out->confidence = confidence;
    out->window = window;
    bool ok = true;
    if (dist_is_root()) {
        bt_file f = {0};
        char msg[512] = "";
        ok = read_file(r, path, &f, out, msg, sizeof msg);
        if (ok && !backtest_books(r, &f, out))
            snprintf(msg, sizeof msg, "backtest: out of memory");
        ok = ok && msg[0] == '\0' && write_csv(r, out);
        if (msg[0] != '\0')
            dist_fail(r->command, "%s", msg);
        file_free(&f);
    }
    cli_errors_flush(r);
    return cli_ok(r, ok);
}

void cli_bt_free(cli_bt *bt)
{
    for (size_t k = 0; k < bt->nbooks; k++) {
        cli_bt_book *b = &bt->book[k];
        free(b->name);
        free(b->date);
        free(b->pnl);
        free(b->var);
        free(b->exc);
    }
    free(bt->book);
    memset(bt, 0, sizeof *bt);
}

void cli_bt_json(json_writer *w, const cli_bt *bt)
{
    size_t zones[3] = {0, 0, 0}, exc = 0;
    for (size_t k = 0; k < bt->nbooks; k++) {
        zones[bt->book[k].st.zone]++;
        exc += bt->book[k].st.exceptions;
    }
    json_object_begin(w, "backtest");
    json_number(w, "confidence", bt->confidence);
    json_uint(w, "window", bt->window);
    json_uint(w, "rows", bt->rows);
    json_uint(w, "rows_left_out", bt->bad_rows);
    json_uint(w, "books", bt->nbooks);
    json_uint(w, "books_left_out", bt->failed_books);
    json_uint(w, "exceptions", exc);
    json_uint(w, "green", zones[RSK_ZONE_GREEN]);
    json_uint(w, "yellow", zones[RSK_ZONE_YELLOW]);
    json_uint(w, "red", zones[RSK_ZONE_RED]);
    json_object_end(w);
}

static void bt_extra(json_writer *w, void *arg)
{
    cli_bt_json(w, arg);
}

int cmd_backtest(int argc, char **argv)
{
    cli_opts o;
    if (!cli_parse(argc, argv, "backtest", "pnl out confidence window quiet", backtest_help, &o))
        return CLI_USAGE;
    if (o.pnl == NULL || o.out == NULL) {
        fprintf(stderr, "riskengine backtest: --pnl FILE and --out DIR are required (see "
                        "--help)\n");
        return CLI_USAGE;
    }
    if (!(o.confidence > 0 && o.confidence < 1) || o.window == 0) {
        fprintf(stderr, "riskengine backtest: --confidence must lie strictly between 0 and 1 "
                        "and --window be at least 1\n");
        return CLI_USAGE;
    }
    cli_run r;
    cli_bt bt = {0};
    int status = CLI_FAIL;
    if (!cli_run_open_bare(&r, &o, "backtest"))
        goto done;
    cli_phase_begin(&r);
    if (!cli_bt_run(&r, o.pnl, o.confidence, o.window, &bt))
        goto done;
    cli_phase_end(&r, "backtest");
    if (!cli_write_summary(&r, bt_extra, &bt))
        goto done;
    if (!o.quiet && dist_is_root())
        fprintf(stderr, "backtest: %zu books (%zu left out), %zu rows (%zu left out) -> %s\n",
                bt.nbooks, bt.failed_books, bt.rows, bt.bad_rows, o.out);
    status = CLI_OK;
done:
    cli_bt_free(&bt);
    if (!cli_run_close(&r))
        status = CLI_FAIL;
    return status;
}
