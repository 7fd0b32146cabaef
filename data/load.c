/*
 * load.c - reads a data set folder (contract §5) into a dat_dataset.
 *
 * Files are read in dependency order: factors.csv, covariance.csv, underlyings.csv,
 * scenarios.csv (optional), positions.csv. A file-level problem stops the load with one message
 * "file:line:col: reason" (a missing file is "file:0:0: cannot open: ..."). Problems confined
 * to one underlying or one position are recorded and the rest loads (data/README.md lists
 * which is which).
 *
 * positions.csv is read as a stream and kept as structure of arrays; only the rows of the
 * requested share are stored, but every row is parsed so that the checks that span the whole
 * file (duplicate ids) and the book table (order of first appearance over the whole file) are
 * the same for every share. A row that cannot be read as a position (a format error the reader
 * resynchronises after, a wrong field count, an empty or repeated id) is kept as one
 * INVALID_INPUT position with the reader's "file:line:col: reason"; only the header, a quote
 * left open at the end of the file and a read error stop the load.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"
#include "model.h"
#include "validate.h"


typedef struct loader {
    const char *dir;
    const char *positions; /* the positions file's path, or NULL for DIR/positions.csv */
    dat_dataset *ds;
    char *msg;
    size_t msglen;
} loader;

static rk_status lfail(loader *ld, rk_status code, const char *file, unsigned line, size_t col,
                       const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

static rk_status lfail(loader *ld, rk_status code, const char *file, unsigned line, size_t col,
                       const char *fmt, ...)
{
    if (ld->msg == NULL || ld->msglen == 0)
        return code;
    int n = snprintf(ld->msg, ld->msglen, "%s:%u:%zu: ", file, line, col);
    if (n >= 0 && (size_t)n < ld->msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ld->msg + n, ld->msglen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Reader error (format or I/O) as the load's message. */
static rk_status csv_fail(loader *ld, const dat_csv *c, bool io)
{
    if (ld->msg != NULL && ld->msglen > 0)
        snprintf(ld->msg, ld->msglen, "%s", c->err);
    return c->no_memory ? RK_NO_MEMORY : io ? RK_IO : RK_INVALID_INPUT;
}

static rk_status open_file(loader *ld, dat_csv *c, const char *name)
{
    size_t dl = strlen(ld->dir), nl = strlen(name), len;
    if (!dat_size_add(dl, nl, &len) || !dat_size_add(len, 2, &len))
        return lfail(ld, RK_NO_MEMORY, name, 0, 0, "path too long");
    char *path = malloc(len);
    if (path == NULL)
        return lfail(ld, RK_NO_MEMORY, name, 0, 0, "out of memory");
    snprintf(path, len, "%s/%s", ld->dir, name);
    int r = dat_csv_open(c, path, name);
    free(path);
    return r == 0 ? RK_OK : csv_fail(ld, c, true);
}

/* Reads the header row. */
static rk_status read_header(loader *ld, dat_csv *c)
{
    int r = dat_csv_next(c);
    if (r < 0)
        return csv_fail(ld, c, false);
    if (r == 0)
        return lfail(ld, RK_INVALID_INPUT, c->name, c->cur_line, 1, "empty file: header expected");
    return RK_OK;
}

/* Every data row must have as many fields as the header. */
static rk_status check_width(loader *ld, const dat_csv *c, size_t want)
{
    if (c->nfields == want)
        return RK_OK;
    size_t col = c->nfields < want ? c->nfields + 1 : want + 1;
    return lfail(ld, RK_INVALID_INPUT, c->name, c->line, col, "expected %zu fields, found %zu",
                 want, c->nfields);
}

static rk_status next_row(loader *ld, dat_csv *c, int *got)
{
    *got = dat_csv_next(c);
    if (*got < 0)
        return csv_fail(ld, c, false);
    return RK_OK;
}

/* ---- factors.csv ---- */

static rk_status load_factors(loader *ld, dat_strtab *ftab)
{
    dat_market *m = &ld->ds->mkt;
    dat_csv c;
    rk_status st = open_file(ld, &c, "factors.csv");
    if (st != RK_OK)
        return st;
    if ((st = read_header(ld, &c)) != RK_OK)
        goto out;
    size_t width = c.nfields;
    if (strcmp(dat_csv_field(&c, 0), "factor") != 0) {
        st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, 1, "missing required column 'factor'");
        goto out;
    }
    if (width > 2 || (width == 2 && strcmp(dat_csv_field(&c, 1), "description") != 0)) {
        st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, 2,
                   "unexpected column '%s' (header is factor[,description])",
                   dat_csv_field(&c, 1));
        goto out;
    }
    size_t cap = 0;
    uint32_t *lines = NULL;
    size_t lcap = 0;
    for (;;) {
        int got;
        if ((st = next_row(ld, &c, &got)) != RK_OK || got == 0)
            break;
        if ((st = check_width(ld, &c, width)) != RK_OK)
            break;
        const char *name = dat_csv_field(&c, 0);
        if (name[0] == '\0') {
            st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, 1, "factor name is empty");
            break;
        }
        size_t n = m->nfactors;
        if (n >= UINT32_MAX - 1) {
            st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, 1, "too many factors");
            break;
        }
        size_t cap2 = cap, cap3 = cap;
        if (!dat_grow((void **)&m->factor, &cap2, n + 1, sizeof *m->factor) ||
            !dat_grow((void **)&m->factor_desc, &cap3, n + 1, sizeof *m->factor_desc) ||
            !dat_grow((void **)&lines, &lcap, n + 1, sizeof *lines)) {
            cap = cap2 < cap3 ? cap2 : cap3;
            st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
            break;
        }
        cap = cap2 < cap3 ? cap2 : cap3;
        m->factor[n] = dat_strdup(name);
        m->factor_desc[n] = dat_strdup(width == 2 ? dat_csv_field(&c, 1) : "");
        m->nfactors = n + 1;
        lines[n] = c.line;
        if (m->factor[n] == NULL || m->factor_desc[n] == NULL) {
            st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
            break;
        }
        uint32_t old;
        int r = dat_strtab_put(ftab, m->factor[n], (uint32_t)n, &old);
        if (r < 0) {
            st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
            break;
        }
        if (r == 0) {
            st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, 1,
                       "duplicate factor '%s' (first on line %u)", name, (unsigned)lines[old]);
            break;
        }
    }
    free(lines);
    if (st == RK_OK && m->nfactors == 0)
        st = lfail(ld, RK_INVALID_INPUT, c.name, c.cur_line, 1, "no factors");
out:
    dat_csv_close(&c);
    return st;
}

/* ---- covariance.csv ---- */

static rk_status load_covariance(loader *ld)
{
    dat_market *m = &ld->ds->mkt;
    size_t F = m->nfactors, cells;
    if (!dat_size_mul(F, F, &cells) || !dat_size_mul(cells, sizeof(double), &cells))
        return lfail(ld, RK_NO_MEMORY, "covariance.csv", 0, 0, "too many factors");
    m->cov = malloc(cells);
    uint32_t *lines = malloc(F * sizeof *lines);
    double *work = malloc(cells);
    dat_csv c;
    memset(&c, 0, sizeof c);
    rk_status st;
    if (m->cov == NULL || lines == NULL || work == NULL) {
        st = lfail(ld, RK_NO_MEMORY, "covariance.csv", 0, 0, "out of memory");
        goto out;
    }
    if ((st = open_file(ld, &c, "covariance.csv")) != RK_OK)
        goto out;
    if ((st = read_header(ld, &c)) != RK_OK)
        goto out;
    if (strcmp(dat_csv_field(&c, 0), "factor") != 0) {
        st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, 1,
                   "first column must be 'factor' (got '%s')", dat_csv_field(&c, 0));
        goto out;
    }
    for (size_t j = 0; j < F || j + 1 < c.nfields; j++) {
        if (j >= F || j + 1 >= c.nfields) {
            st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, j + 2,
                       "header has %zu factor columns, factors.csv has %zu", c.nfields - 1, F);
            goto out;
        }
        if (strcmp(dat_csv_field(&c, j + 1), m->factor[j]) != 0) {
            st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, j + 2,
                       "column '%s' where factor '%s' was expected (the header must list the "
                       "factors of factors.csv in order)",
                       dat_csv_field(&c, j + 1), m->factor[j]);
            goto out;
        }
    }
    size_t row = 0;
    for (;;) {
        int got;
        if ((st = next_row(ld, &c, &got)) != RK_OK)
            goto out;
        if (got == 0)
            break;
        if ((st = check_width(ld, &c, F + 1)) != RK_OK)
            goto out;
        if (row >= F) {
            st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, 1,
                       "more than %zu rows (one per factor expected)", F);
            goto out;
        }
        if (strcmp(dat_csv_field(&c, 0), m->factor[row]) != 0) {
            st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, 1,
                       "row for '%s' where factor '%s' was expected (rows in factors.csv order)",
                       dat_csv_field(&c, 0), m->factor[row]);
            goto out;
        }
        for (size_t j = 0; j < F; j++) {
            const char *why;
            double v;
            if (!dat_parse_double(dat_csv_field(&c, j + 1), &v, &why)) {
                st = lfail(ld, RK_INVALID_INPUT, c.name, dat_csv_field_line(&c, j + 1), j + 2,
                           "%s ('%s')", why, dat_csv_field(&c, j + 1));
                goto out;
            }
            m->cov[row * F + j] = v;
        }
        lines[row] = c.line;
        row++;
    }
    if (row < F) {
        st = lfail(ld, RK_INVALID_INPUT, c.name, c.cur_line, 1,
                   "%zu rows, one per factor (%zu) expected", row, F);
        goto out;
    }
    /* The one covariance rule (dataset.h); the offending entries are still as read. */
    dat_cov_problem why;
    st = dat_cov_check(m->cov, F, work, &why);
    if (st == RK_OK)
        goto out;
    size_t i = why.i, j = why.j;
    switch (why.what) {
    case DAT_COV_NOT_FINITE:
        st = lfail(ld, RK_INVALID_INPUT, c.name, lines[i], j + 2, "not a finite number (%g)",
                   m->cov[i * F + j]);
        break;
    case DAT_COV_VARIANCE:
        st = lfail(ld, RK_INVALID_INPUT, c.name, lines[i], i + 2,
                   "variance of factor '%s' must be > 0 (got %.15g)", m->factor[i],
                   m->cov[i * F + i]);
        break;
    case DAT_COV_ASYMMETRIC:
        st = lfail(ld, RK_INVALID_INPUT, c.name, lines[j], i + 2,
                   "not symmetric: (%s,%s) = %.17g but (%s,%s) = %.17g (tolerance "
                   "%g relative to sqrt(var_i var_j))",
                   m->factor[j], m->factor[i], m->cov[j * F + i], m->factor[i], m->factor[j],
                   m->cov[i * F + j], DAT_COV_SYM_RTOL);
        break;
    case DAT_COV_NOT_PD:
        st = lfail(ld, RK_INVALID_INPUT, c.name, lines[i], i + 2,
                   "not positive definite (Cholesky fails at factor '%s', leading minor %zu)",
                   m->factor[i], i + 1);
        break;
    default:
        st = lfail(ld, st, c.name, 0, 0, "covariance check: %s", rk_strerror(st));
        break;
    }
out:
    dat_csv_close(&c);
    free(lines);
    free(work);
    return st;
}

/* ---- underlyings.csv ---- */

static rk_status und_problem(loader *ld, size_t u, unsigned line, size_t col, const char *fmt,
                             ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Marks underlying u unusable with an error record (position SIZE_MAX). */
static rk_status und_problem(loader *ld, size_t u, unsigned line, size_t col, const char *fmt,
                             ...)
{
    dat_market *m = &ld->ds->mkt;
    char reason[300], full[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "underlyings.csv:%u:%zu: %s", line, col, reason);
    m->und_ok[u] = 0;
    m->und_err[u] = dat_strdup(full);
    if (m->und_err[u] == NULL)
        return RK_NO_MEMORY;
    return dat_add_error(ld->ds, SIZE_MAX, RK_INVALID_INPUT, "%s", full);
}

static rk_status load_underlyings(loader *ld, const dat_strtab *ftab, dat_strtab *utab)
{
    dat_market *m = &ld->ds->mkt;
    size_t F = m->nfactors;
    dat_csv c;
    rk_status st = open_file(ld, &c, "underlyings.csv");
    if (st != RK_OK)
        return st;
    uint32_t *colfac = NULL; /* factor index of each column, DAT_NONE for the first three */
    uint32_t *lines = NULL;
    size_t lcap = 0;
    if ((st = read_header(ld, &c)) != RK_OK)
        goto out;
    size_t width = c.nfields;
    colfac = malloc(width * sizeof *colfac);
    if (colfac == NULL) {
        st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
        goto out;
    }
    size_t cname = SIZE_MAX, ckind = SIZE_MAX, cvalue = SIZE_MAX;
    uint8_t *seen = calloc(F, 1);
    if (seen == NULL) {
        st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < width; k++) {
        const char *h = dat_csv_field(&c, k);
        colfac[k] = DAT_NONE;
        size_t *fixed = strcmp(h, "underlying") == 0 ? &cname
                        : strcmp(h, "kind") == 0     ? &ckind
                        : strcmp(h, "value") == 0    ? &cvalue
                                                     : NULL;
        if (fixed != NULL) {
            if (*fixed != SIZE_MAX) {
                st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, k + 1, "duplicate column '%s'",
                           h);
                break;
            }
            *fixed = k;
            continue;
        }
        uint32_t f = dat_strtab_get(ftab, h);
        if (f == UINT32_MAX) {
            st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, k + 1,
                       "unknown factor '%s' (not in factors.csv)", h);
            break;
        }
        if (seen[f]) {
            st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, k + 1, "duplicate column '%s'", h);
            break;
        }
        seen[f] = 1;
        colfac[k] = f;
    }
    free(seen);
    if (st != RK_OK)
        goto out;
    const char *req[3] = {"underlying", "kind", "value"};
    size_t reqc[3] = {cname, ckind, cvalue};
    for (int r = 0; r < 3; r++) {
        if (reqc[r] == SIZE_MAX) {
            st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, width + 1,
                       "missing required column '%s'", req[r]);
            goto out;
        }
    }

    size_t cap = 0;
    for (;;) {
        int got;
        if ((st = next_row(ld, &c, &got)) != RK_OK || got == 0)
            break;
        if ((st = check_width(ld, &c, width)) != RK_OK)
            break;
        size_t u = m->nund, need;
        if (u >= UINT32_MAX - 1) {
            st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, 1, "too many underlyings");
            break;
        }
        if (u >= cap) {
            size_t ncap = cap, tmp;
            if (!dat_grow((void **)&lines, &lcap, u + 1, sizeof *lines)) {
                st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
                break;
            }
            ncap = lcap;
            bool ok = dat_size_mul(ncap, F, &need) && dat_size_mul(need, sizeof(double), &tmp);
            void *p;
#define GROW_(arr)                                                                                \
    if (ok) {                                                                                      \
        p = realloc(m->arr, ncap * sizeof *m->arr);                                                \
        if (p == NULL)                                                                             \
            ok = false;                                                                            \
        else                                                                                       \
            m->arr = p;                                                                            \
    }
            GROW_(und)
            GROW_(und_kind)
            GROW_(und_value)
            GROW_(und_ok)
            GROW_(und_err)
#undef GROW_
            if (ok) {
                p = realloc(m->beta, tmp);
                if (p == NULL)
                    ok = false;
                else
                    m->beta = p;
            }
            if (!ok) {
                st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
                break;
            }
            cap = ncap;
        }
        const char *name = dat_csv_field(&c, cname);
        if (name[0] == '\0') {
            st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, cname + 1,
                       "underlying name is empty");
            break;
        }
        m->und[u] = dat_strdup(name);
        m->und_err[u] = NULL;
        m->und_ok[u] = 1;
        m->und_kind[u] = DAT_UND_SPOT;
        m->und_value[u] = NAN;
        memset(&m->beta[u * F], 0, F * sizeof(double));
        lines[u] = c.line;
        m->nund = u + 1;
        if (m->und[u] == NULL) {
            st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
            break;
        }
        uint32_t old;
        int r = dat_strtab_put(utab, m->und[u], (uint32_t)u, &old);
        if (r < 0) {
            st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
            break;
        }
        if (r == 0) {
            st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, cname + 1,
                       "duplicate underlying '%s' (first on line %u)", name,
                       (unsigned)lines[old]);
            break;
        }
        /* Problems from here on make this underlying unusable, not the file. */
        const char *ks = dat_csv_field(&c, ckind);
        int kind = -1;
        for (int k = 0; k < (int)DAT_UND_KIND_COUNT; k++)
            if (strcmp(ks, dat_und_kind_name((dat_und_kind)k)) == 0)
                kind = k;
        if (kind < 0) {
            st = und_problem(ld, u, c.line, ckind + 1, "kind must be spot, rate or vol (got '%s')",
                             ks);
            if (st != RK_OK)
                break;
            continue;
        }
        m->und_kind[u] = (uint8_t)kind;
        const char *why;
        double v;
        if (!dat_parse_double(dat_csv_field(&c, cvalue), &v, &why)) {
            st = und_problem(ld, u, c.line, cvalue + 1, "value: %s ('%s')", why,
                             dat_csv_field(&c, cvalue));
            if (st != RK_OK)
                break;
            continue;
        }
        m->und_value[u] = v;
        bool bad = false;
        for (size_t k = 0; k < width && !bad; k++) {
            if (colfac[k] == DAT_NONE)
                continue;
            const char *t = dat_csv_field(&c, k);
            double b = 0;
            if (t[0] != '\0' && !dat_parse_double(t, &b, &why)) {
                st = und_problem(ld, u, c.line, k + 1, "loading on '%s': %s ('%s')",
                                 m->factor[colfac[k]], why, t);
                bad = true;
                break;
            }
            m->beta[u * F + colfac[k]] = b;
        }
        if (bad) {
            if (st != RK_OK)
                break;
            continue;
        }
        if (kind != DAT_UND_RATE && !(v > 0)) {
            st = und_problem(ld, u, c.line, cvalue + 1, "%s value must be > 0 (got %.15g)",
                             dat_und_kind_name((dat_und_kind)kind), v);
            if (st != RK_OK)
                break;
        }
    }
out:
    free(colfac);
    free(lines);
    dat_csv_close(&c);
    return st;
}

/* ---- scenarios.csv ---- */

static rk_status load_scenarios(loader *ld, const dat_strtab *ftab, bool *present)
{
    dat_dataset *ds = ld->ds;
    size_t F = ds->mkt.nfactors;
    dat_csv c;
    *present = false;
    size_t dl = strlen(ld->dir);
    char *path = malloc(dl + sizeof "/scenarios.csv");
    if (path == NULL)
        return lfail(ld, RK_NO_MEMORY, "scenarios.csv", 0, 0, "out of memory");
    snprintf(path, dl + sizeof "/scenarios.csv", "%s/scenarios.csv", ld->dir);
    /* stat, not a trial open: opening a FIFO would block (the reader refuses one itself) */
    struct stat sb;
    int err = stat(path, &sb) == 0 ? 0 : errno;
    free(path);
    if (err == ENOENT)
        return RK_OK;
    if (err != 0)
        return lfail(ld, RK_IO, "scenarios.csv", 0, 0, "cannot open: %s", strerror(err));
    rk_status st = open_file(ld, &c, "scenarios.csv");
    if (st != RK_OK)
        return st;
    uint32_t *colfac = NULL;
    uint8_t *seen = NULL;
    dat_strtab names = {0};
    if ((st = read_header(ld, &c)) != RK_OK)
        goto out;
    size_t width = c.nfields;
    if (strcmp(dat_csv_field(&c, 0), "scenario") != 0) {
        st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, 1,
                   "first column must be 'scenario' (got '%s')", dat_csv_field(&c, 0));
        goto out;
    }
    colfac = malloc(width * sizeof *colfac);
    seen = calloc(F, 1);
    if (colfac == NULL || seen == NULL) {
        st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
        goto out;
    }
    for (size_t k = 1; k < width; k++) {
        const char *h = dat_csv_field(&c, k);
        uint32_t f = dat_strtab_get(ftab, h);
        if (f == UINT32_MAX) {
            st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, k + 1,
                       "unknown factor '%s' (not in factors.csv)", h);
            goto out;
        }
        if (seen[f]) {
            st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, k + 1, "duplicate column '%s'", h);
            goto out;
        }
        seen[f] = 1;
        colfac[k] = f;
    }
    dat_scenarios *s = &ds->scen;
    size_t cap = 0;
    for (;;) {
        int got;
        if ((st = next_row(ld, &c, &got)) != RK_OK)
            goto out;
        if (got == 0)
            break;
        if ((st = check_width(ld, &c, width)) != RK_OK)
            goto out;
        size_t n = s->n;
        if (n >= cap) {
            size_t ncap = cap, bytes;
            if (!dat_grow((void **)&s->name, &ncap, n + 1, sizeof *s->name) ||
                !dat_size_mul(ncap, F, &bytes) || !dat_size_mul(bytes, sizeof(double), &bytes)) {
                st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
                goto out;
            }
            double *p = realloc(s->shock, bytes);
            if (p == NULL) {
                st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
                goto out;
            }
            s->shock = p;
            cap = ncap;
        }
        const char *name = dat_csv_field(&c, 0);
        if (name[0] == '\0') {
            st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, 1, "scenario name is empty");
            goto out;
        }
        s->name[n] = dat_strdup(name);
        if (s->name[n] == NULL) {
            st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
            goto out;
        }
        s->n = n + 1;
        memset(&s->shock[n * F], 0, F * sizeof(double));
        int r = dat_strtab_put(&names, s->name[n], c.line, NULL);
        if (r <= 0) {
            st = r < 0 ? lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory")
                       : lfail(ld, RK_INVALID_INPUT, c.name, c.line, 1,
                               "duplicate scenario '%s' (first on line %u)", name,
                               (unsigned)dat_strtab_get(&names, name));
            goto out;
        }
        for (size_t k = 1; k < width; k++) {
            const char *t = dat_csv_field(&c, k), *why;
            double v = 0;
            if (t[0] != '\0' && !dat_parse_double(t, &v, &why)) {
                st = lfail(ld, RK_INVALID_INPUT, c.name, dat_csv_field_line(&c, k), k + 1,
                           "%s ('%s')", why, t);
                goto out;
            }
            s->shock[n * F + colfac[k]] = v;
        }
    }
    if (s->n == 0) {
        /* VaR or stress over no scenario would be a number made of nothing */
        st = lfail(ld, RK_INVALID_INPUT, c.name, c.cur_line, 1,
                   "no scenarios (a header alone; remove the file or add rows)");
        goto out;
    }
    *present = true;
out:
    dat_strtab_free(&names);
    free(colfac);
    free(seen);
    dat_csv_close(&c);
    return st;
}

/* ---- positions.csv ---- */

/* Ids of rows outside the loaded share, kept only for the duplicate check. */
typedef struct arena {
    struct chunk {
        struct chunk *next;
        size_t used, size;
        char data[];
    } *head;
} arena;

static const char *arena_copy(arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    if (a->head == NULL || a->head->size - a->head->used < n) {
        size_t size = n > 1u << 20 ? n : 1u << 20;
        struct chunk *ch = malloc(sizeof *ch + size);
        if (ch == NULL)
            return NULL;
        ch->next = a->head;
        ch->used = 0;
        ch->size = size;
        a->head = ch;
    }
    char *d = a->head->data + a->head->used;
    memcpy(d, s, n);
    a->head->used += n;
    return d;
}

static void arena_free(arena *a)
{
    while (a->head != NULL) {
        struct chunk *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

/* Resizes every per-position array to cap rows. */
static bool resize_positions(dat_positions *p, size_t cap)
{
    struct {
        void **ptr;
        size_t elem;
    } arrs[] = {
        {(void **)&p->id, sizeof *p->id},         {(void **)&p->line, sizeof *p->line},
        {(void **)&p->kind, sizeof *p->kind},     {(void **)&p->book, sizeof *p->book},
        {(void **)&p->quantity, sizeof(double)},  {(void **)&p->und, sizeof *p->und},
        {(void **)&p->rate, sizeof *p->rate},     {(void **)&p->rate_lit, sizeof(double)},
        {(void **)&p->vol, sizeof *p->vol},       {(void **)&p->vol_lit, sizeof(double)},
        {(void **)&p->strike, sizeof(double)},    {(void **)&p->expiry, sizeof(double)},
        {(void **)&p->dividend, sizeof(double)},  {(void **)&p->coupon, sizeof(double)},
        {(void **)&p->frequency, sizeof(double)}, {(void **)&p->steps, sizeof *p->steps},
        {(void **)&p->status, sizeof *p->status},
    };
    size_t c = cap == 0 ? 1 : cap;
    for (size_t k = 0; k < sizeof arrs / sizeof arrs[0]; k++) {
        size_t bytes;
        if (!dat_size_mul(c, arrs[k].elem, &bytes))
            return false;
        void *q = realloc(*arrs[k].ptr, bytes);
        if (q == NULL)
            return false;
        *arrs[k].ptr = q;
    }
    return true;
}

static double num_cell(const char *t, double empty, const char **why)
{
    double v;
    *why = NULL;
    if (t[0] == '\0')
        return empty;
    if (!dat_parse_double(t, &v, why))
        return NAN;
    return v;
}

/* A rate or vol cell: a number is a literal, otherwise the name of an underlying. */
static void ref_cell(const char *t, const dat_strtab *utab, uint32_t *ref, double *lit,
                     const char **why)
{
    *why = NULL;
    *ref = DAT_NONE;
    *lit = NAN;
    if (t[0] == '\0')
        return;
    const char *pwhy;
    double v;
    if (dat_parse_double(t, &v, &pwhy)) {
        *lit = v;
        return;
    }
    *ref = dat_strtab_get(utab, t);
    if (*ref == UINT32_MAX) {
        *ref = DAT_NONE;
        if (dat_looks_numeric(t))
            *why = pwhy;
    }
}

static rk_status load_positions(loader *ld, const dat_strtab *utab, size_t first, size_t count)
{
    dat_dataset *ds = ld->ds;
    dat_positions *p = &ds->pos;
    dat_csv c;
    const char *fname = ld->positions != NULL ? ld->positions : "positions.csv";
    rk_status st =
        ld->positions != NULL
            ? (dat_csv_open(&c, ld->positions, ld->positions) == 0 ? RK_OK : csv_fail(ld, &c, true))
            : open_file(ld, &c, fname);
    if (st != RK_OK)
        return st;
    dat_strtab ids = {0}, books = {0};
    arena other = {0};
    size_t cap = 0, bcap = 0;
    p->first = first;
    p->file = dat_strdup(fname);
    if (p->file == NULL) {
        st = lfail(ld, RK_NO_MEMORY, c.name, 0, 0, "out of memory");
        goto out;
    }
    if ((st = read_header(ld, &c)) != RK_OK)
        goto out;
    size_t width = c.nfields;
    size_t colidx[DAT_COL_COUNT]; /* field index of each column, SIZE_MAX when absent */
    for (int k = 0; k < DAT_COL_COUNT; k++)
        colidx[k] = SIZE_MAX;
    for (size_t f = 0; f < width; f++) {
        const char *h = dat_csv_field(&c, f);
        for (int k = 0; k < DAT_COL_COUNT; k++) {
            if (strcmp(h, dat_col_name[k]) != 0)
                continue;
            if (colidx[k] != SIZE_MAX) {
                st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, f + 1, "duplicate column '%s'",
                           h);
                goto out;
            }
            colidx[k] = f;
        }
    }
    for (int k = DAT_COL_POSITION; k <= DAT_COL_QUANTITY; k++) {
        if (colidx[k] == SIZE_MAX) {
            st = lfail(ld, RK_INVALID_INPUT, c.name, c.line, width + 1,
                       "missing required column '%s'", dat_col_name[k]);
            goto out;
        }
    }
    uint32_t *cn[DAT_COL_COUNT] = {
        &p->cols.position, &p->cols.book,   &p->cols.instrument, &p->cols.quantity,
        &p->cols.underlying, &p->cols.strike, &p->cols.expiry,   &p->cols.rate,
        &p->cols.vol,      &p->cols.dividend, &p->cols.coupon,   &p->cols.frequency,
        &p->cols.steps,
    };
    for (int k = 0; k < DAT_COL_COUNT; k++)
        *cn[k] = colidx[k] == SIZE_MAX ? 0 : (uint32_t)(colidx[k] + 1);

    /* From here on a problem confined to one row (its format, its field count, its id) makes
     * that row one INVALID_INPUT position and the rest loads. */
    c.resync = true;
    char bad[400]; /* the row's record when it is unusable as a whole, "" otherwise */
    size_t row = 0;
    size_t end = count == SIZE_MAX || first > SIZE_MAX - count ? SIZE_MAX : first + count;
    for (;; row++) {
        int got;
        if ((st = next_row(ld, &c, &got)) != RK_OK)
            goto out;
        if (got == 0)
            break;
        bad[0] = '\0';
        if (got == DAT_CSV_BAD)
            snprintf(bad, sizeof bad, "%s", c.err);
        else if (c.nfields != width)
            snprintf(bad, sizeof bad, "%s:%u:%zu: expected %zu fields, found %zu", c.name,
                     (unsigned)c.line, c.nfields < width ? c.nfields + 1 : width + 1, width,
                     c.nfields);
        dat_rowinfo info;
        for (int k = 0; k < DAT_COL_COUNT; k++) {
            /* a bad record has only the fields read before its error */
            info.text[k] = colidx[k] < c.nfields ? dat_csv_field(&c, colidx[k]) : "";
            info.why[k] = NULL;
        }
        const char *id = info.text[DAT_COL_POSITION];
        if (id[0] == '\0' && bad[0] == '\0')
            snprintf(bad, sizeof bad, "%s:%u:%zu: position id is empty", c.name,
                     (unsigned)c.line, colidx[DAT_COL_POSITION] + 1);
        /* Books are numbered over the whole file so that every share agrees. */
        const char *bname = info.text[DAT_COL_BOOK];
        uint32_t book = DAT_NONE;
        if (bname[0] != '\0') {
            book = dat_strtab_get(&books, bname);
            if (book == UINT32_MAX) {
                if (p->nbooks >= UINT32_MAX - 1 ||
                    !dat_grow((void **)&p->books, &bcap, p->nbooks + 1, sizeof *p->books) ||
                    (p->books[p->nbooks] = dat_strdup(bname)) == NULL) {
                    st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
                    goto out;
                }
                book = (uint32_t)p->nbooks++; /* the data set owns the name from here */
                if (dat_strtab_put(&books, p->books[book], book, NULL) < 0) {
                    st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
                    goto out;
                }
            }
        }
        bool mine = row >= first && row < end;
        const char *key;
        size_t i = p->n;
        if (mine) {
            if (i >= cap) {
                size_t ncap = cap < 1024 ? 1024 : cap;
                if (!dat_size_mul(ncap, 2, &ncap) || !resize_positions(p, ncap)) {
                    st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
                    goto out;
                }
                cap = ncap;
            }
            p->id[i] = dat_strdup(id);
            key = p->id[i];
        } else {
            key = arena_copy(&other, id);
        }
        if (key == NULL) {
            st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
            goto out;
        }
        if (mine)
            p->n = i + 1; /* the id is owned from here on */
        if (id[0] != '\0') {
            /* the first occurrence keeps the id; a later one is the bad row */
            uint32_t firstline;
            int r = dat_strtab_put(&ids, key, c.line, &firstline);
            if (r < 0) {
                st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
                goto out;
            }
            if (r == 0 && bad[0] == '\0')
                snprintf(bad, sizeof bad, "%s:%u:%zu: duplicate position id '%.200s' (first on line %u)",
                         c.name, (unsigned)c.line, colidx[DAT_COL_POSITION] + 1, id,
                         (unsigned)firstline);
        }
        if (!mine)
            continue;

        p->line[i] = c.line;
        p->book[i] = book;
        mdl_kind kind;
        p->kind[i] = mdl_kind_parse(info.text[DAT_COL_INSTRUMENT], &kind) ? (uint8_t)kind
                                                                         : (uint8_t)MDL_KIND_COUNT;
        p->quantity[i] = num_cell(info.text[DAT_COL_QUANTITY], NAN, &info.why[DAT_COL_QUANTITY]);
        const char *ut = info.text[DAT_COL_UNDERLYING];
        p->und[i] = ut[0] == '\0' ? DAT_NONE : dat_strtab_get(utab, ut);
        if (p->und[i] == UINT32_MAX)
            p->und[i] = DAT_NONE;
        p->strike[i] = num_cell(info.text[DAT_COL_STRIKE], NAN, &info.why[DAT_COL_STRIKE]);
        p->expiry[i] = num_cell(info.text[DAT_COL_EXPIRY], NAN, &info.why[DAT_COL_EXPIRY]);
        p->dividend[i] = num_cell(info.text[DAT_COL_DIVIDEND], 0, &info.why[DAT_COL_DIVIDEND]);
        p->coupon[i] = num_cell(info.text[DAT_COL_COUPON], 0, &info.why[DAT_COL_COUPON]);
        p->frequency[i] =
            num_cell(info.text[DAT_COL_FREQUENCY], NAN, &info.why[DAT_COL_FREQUENCY]);
        ref_cell(info.text[DAT_COL_RATE], utab, &p->rate[i], &p->rate_lit[i],
                 &info.why[DAT_COL_RATE]);
        ref_cell(info.text[DAT_COL_VOL], utab, &p->vol[i], &p->vol_lit[i],
                 &info.why[DAT_COL_VOL]);
        uint64_t steps = 0;
        const char *st_text = info.text[DAT_COL_STEPS];
        if (st_text[0] != '\0' &&
            !dat_parse_uint(st_text, DAT_MAX_STEPS, &steps, &info.why[DAT_COL_STEPS]))
            steps = 0;
        p->steps[i] = (uint32_t)steps;
        rk_status vs;
        if (bad[0] != '\0') {
            p->status[i] = RK_INVALID_INPUT;
            vs = dat_add_error(ds, i, RK_INVALID_INPUT, "%s", bad);
        } else {
            vs = dat_validate_row(ds, i, &info);
        }
        if (vs == RK_NO_MEMORY) {
            st = lfail(ld, RK_NO_MEMORY, c.name, c.line, 1, "out of memory");
            goto out;
        }
    }
    /* Give back the slack of the last doubling. */
    if (p->n > 0 && p->n < cap)
        (void)resize_positions(p, p->n);
    st = RK_OK;
out:
    dat_strtab_free(&ids);
    dat_strtab_free(&books);
    arena_free(&other);
    dat_csv_close(&c);
    return st;
}

rk_status dat_load(const char *dir, const dat_load_opts *opts, dat_dataset *ds, char *msg,
                   size_t msglen)
{
    if (msg != NULL && msglen > 0)
        msg[0] = '\0';
    if (ds == NULL)
        return RK_BAD_ARGUMENT;
    memset(ds, 0, sizeof *ds);
    if (dir == NULL)
        return RK_BAD_ARGUMENT;
    loader ld = {.dir = dir,
                 .positions = opts != NULL ? opts->positions : NULL,
                 .ds = ds,
                 .msg = msg,
                 .msglen = msglen};
    /* the folder itself, not its first file, is what a wrong --data misses */
    struct stat sb;
    const char *why = stat(dir, &sb) != 0 ? strerror(errno)
                      : !S_ISDIR(sb.st_mode) ? "not a folder"
                                             : NULL;
    if (why != NULL) {
        if (msg != NULL && msglen > 0)
            snprintf(msg, msglen, "%s: cannot open the data folder: %s", dir, why);
        return RK_IO;
    }
    dat_strtab ftab = {0}, utab = {0};
    size_t first = opts != NULL ? opts->first : 0;
    size_t count = opts != NULL ? opts->count : SIZE_MAX;
    rk_status st;
    if ((st = load_factors(&ld, &ftab)) != RK_OK)
        goto fail;
    if ((st = load_covariance(&ld)) != RK_OK)
        goto fail;
    if ((st = load_underlyings(&ld, &ftab, &utab)) != RK_OK)
        goto fail;
    if (opts == NULL || !opts->skip_scenarios) {
        if ((st = load_scenarios(&ld, &ftab, &ds->has_scenarios)) != RK_OK)
            goto fail;
    }
    if ((st = load_positions(&ld, &utab, first, count)) != RK_OK)
        goto fail;
    ds->dir = dat_strdup(dir);
    if (ds->dir == NULL) {
        st = lfail(&ld, RK_NO_MEMORY, "positions.csv", 0, 0, "out of memory");
        goto fail;
    }
    dat_strtab_free(&ftab);
    dat_strtab_free(&utab);
    return RK_OK;
fail:
    /* a failure deep in a helper (an error record that could not be stored) has no message */
    if (msg != NULL && msglen > 0 && msg[0] == '\0')
        snprintf(msg, msglen, "%s: %s", dir, st == RK_NO_MEMORY ? "out of memory" : "cannot load");
    dat_strtab_free(&ftab);
    dat_strtab_free(&utab);
    dat_free(ds);
    return st;
}

static void free_strings(char **s, size_t n)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

void dat_free(dat_dataset *ds)
{
    if (ds == NULL)
        return;
    dat_market *m = &ds->mkt;
    free_strings(m->factor, m->nfactors);
    free_strings(m->factor_desc, m->nfactors);
    free(m->cov);
    free_strings(m->und, m->nund);
    free(m->und_kind);
    free(m->und_value);
    free(m->beta);
    free(m->und_ok);
    free_strings(m->und_err, m->nund);
    dat_positions *p = &ds->pos;
    free_strings(p->id, p->n);
    free(p->line);
    free(p->kind);
    free(p->book);
    free(p->quantity);
    free(p->und);
    free(p->rate);
    free(p->rate_lit);
    free(p->vol);
    free(p->vol_lit);
    free(p->strike);
    free(p->expiry);
    free(p->dividend);
    free(p->coupon);
    free(p->frequency);
    free(p->steps);
    free(p->status);
    free_strings(p->books, p->nbooks);
    free(p->file);
    free_strings(ds->scen.name, ds->scen.n);
    free(ds->scen.shock);
    for (size_t i = 0; i < ds->nerrors; i++)
        free(ds->errors[i].message);
    free(ds->errors);
    free(ds->dir);
    memset(ds, 0, sizeof *ds);
}

const char *dat_und_kind_name(dat_und_kind k)
{
    static const char *const names[] = {"spot", "rate", "vol"};
    if ((unsigned)k >= (unsigned)DAT_UND_KIND_COUNT)
        return NULL;
    return names[k];
}

uint32_t dat_factor_index(const dat_market *m, const char *name)
{
    for (size_t i = 0; i < m->nfactors; i++)
        if (strcmp(m->factor[i], name) == 0)
            return (uint32_t)i;
    return DAT_NONE;
}

uint32_t dat_und_index(const dat_market *m, const char *name)
{
    for (size_t i = 0; i < m->nund; i++)
        if (strcmp(m->und[i], name) == 0)
            return (uint32_t)i;
    return DAT_NONE;
}

size_t dat_valid_count(const dat_positions *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += p->status[i] == RK_OK;
    return n;
}
