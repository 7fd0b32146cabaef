/*
 * validate.c - the position checks of contract §2 and the error record list.
 *
 * One position gets at most one record: the first problem found, checking the columns in the
 * order instrument, book, quantity, underlying, strike, expiry, rate, vol, dividend, coupon,
 * frequency, steps, and only the columns its instrument uses:
 *
 *   spot                 underlying (spot)
 *   forward              underlying (spot), strike, expiry, rate, dividend
 *   european_*           underlying (spot), strike, expiry, rate, vol, dividend
 *   american_*           as european, plus steps
 *   bond                 underlying (rate: the yield), expiry, coupon, frequency
 *
 * Messages are "FILE:LINE:COL: reason", COL being the column of the offending cell.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "model.h"
#include "validate.h"

const char *const dat_col_name[DAT_COL_COUNT] = {
    "position", "book",     "instrument", "quantity", "underlying", "strike",   "expiry",
    "rate",     "vol",      "dividend",   "coupon",   "frequency",  "steps",
};

uint32_t dat_col_number(const dat_poscols *c, dat_col col)
{
    switch (col) {
    case DAT_COL_POSITION: return c->position;
    case DAT_COL_BOOK: return c->book;
    case DAT_COL_INSTRUMENT: return c->instrument;
    case DAT_COL_QUANTITY: return c->quantity;
    case DAT_COL_UNDERLYING: return c->underlying;
    case DAT_COL_STRIKE: return c->strike;
    case DAT_COL_EXPIRY: return c->expiry;
    case DAT_COL_RATE: return c->rate;
    case DAT_COL_VOL: return c->vol;
    case DAT_COL_DIVIDEND: return c->dividend;
    case DAT_COL_COUPON: return c->coupon;
    case DAT_COL_FREQUENCY: return c->frequency;
    case DAT_COL_STEPS: return c->steps;
    case DAT_COL_COUNT: break;
    }
    return 0;
}

rk_status dat_add_error(dat_dataset *ds, size_t position, rk_status code, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    size_t need;
    if (!dat_size_add(ds->nerrors, 1, &need) ||
        !dat_grow((void **)&ds->errors, &ds->errors_cap, need, sizeof *ds->errors))
        return RK_NO_MEMORY;
    char *m = dat_strdup(buf);
    if (m == NULL)
        return RK_NO_MEMORY;
    ds->errors[ds->nerrors].position = position;
    ds->errors[ds->nerrors].code = code;
    ds->errors[ds->nerrors].message = m;
    ds->nerrors++;
    return RK_OK;
}

/* The check in progress for one position. */
typedef struct check {
    dat_dataset *ds;
    size_t i;
    const dat_rowinfo *info;
    char reason[400];
    dat_col col; /* column of the problem */
    bool bad;
} check;

static bool reject(check *k, dat_col col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static bool reject(check *k, dat_col col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->reason, sizeof k->reason, fmt, ap);
    va_end(ap);
    k->col = col;
    k->bad = true;
    return false;
}

static const char *text_of(const check *k, dat_col c)
{
    return k->info != NULL && k->info->text[c] != NULL ? k->info->text[c] : "";
}

static const char *why_of(const check *k, dat_col c)
{
    return k->info != NULL ? k->info->why[c] : NULL;
}

/* A number cell: present (unless optional, then empty has been stored as 0), parsed, finite,
 * and above min when positive is set. */
static bool number(check *k, dat_col c, double v, bool positive)
{
    const char *name = dat_col_name[c];
    const char *why = why_of(k, c);
    if (why != NULL)
        return reject(k, c, "%s: %s ('%s')", name, why, text_of(k, c));
    if (isnan(v) && (k->info == NULL || text_of(k, c)[0] == '\0'))
        return reject(k, c, "%s is missing", name);
    if (!isfinite(v))
        return reject(k, c, "%s must be a finite number (got %g)", name, v);
    if (positive && !(v > 0))
        return reject(k, c, "%s must be > 0 (got %.15g)", name, v);
    return true;
}

/* An underlying reference of the wanted kind; for spot and vol its value must be > 0. */
static bool und_ref(check *k, dat_col c, uint32_t u, dat_und_kind want)
{
    const dat_market *m = &k->ds->mkt;
    const char *name = dat_col_name[c];
    if (u == DAT_NONE) {
        const char *t = text_of(k, c);
        if (t[0] == '\0')
            return reject(k, c, "%s is missing", name);
        return reject(k, c, "%s: unknown underlying '%s'", name, t);
    }
    if (u >= m->nund)
        return reject(k, c, "%s: underlying index %u out of range", name, (unsigned)u);
    const char *uname = m->und != NULL && m->und[u] != NULL ? m->und[u] : "?";
    if (m->und_ok != NULL && !m->und_ok[u])
        return reject(k, c, "%s: underlying '%s' is unusable (%s)", name, uname,
                      m->und_err != NULL && m->und_err[u] != NULL ? m->und_err[u] : "invalid");
    dat_und_kind got = (dat_und_kind)m->und_kind[u];
    if (got != want) {
        const char *gn = dat_und_kind_name(got);
        return reject(k, c, "%s: underlying '%s' is of kind %s, %s needed", name, uname,
                      gn != NULL ? gn : "?", dat_und_kind_name(want));
    }
    double x = m->und_value[u];
    if (!isfinite(x))
        return reject(k, c, "%s: value of underlying '%s' is not finite", name, uname);
    if (want != DAT_UND_RATE && !(x > 0)) {
        const char *what = want == DAT_UND_SPOT ? "spot S" : "vol sigma";
        return reject(k, c, "%s: %s of underlying '%s' must be > 0 (got %.15g)", name, what,
                      uname, x);
    }
    return true;
}

/* A rate or vol cell: an underlying of that kind, or a literal number. */
static bool ref_or_literal(check *k, dat_col c, uint32_t u, double lit, dat_und_kind want)
{
    if (u != DAT_NONE)
        return und_ref(k, c, u, want);
    const char *name = dat_col_name[c];
    const char *why = why_of(k, c);
    const char *t = text_of(k, c);
    if (why != NULL)
        return reject(k, c, "%s: %s ('%s')", name, why, t);
    if (isnan(lit)) {
        if (t[0] == '\0')
            return reject(k, c, "%s is missing", name);
        return reject(k, c, "%s: '%s' is neither a number nor a %s underlying", name, t,
                      dat_und_kind_name(want));
    }
    if (!isfinite(lit))
        return reject(k, c, "%s must be a finite number (got %g)", name, lit);
    if (want == DAT_UND_VOL && !(lit > 0))
        return reject(k, c, "vol sigma must be > 0 (got %.15g)", lit);
    return true;
}

static bool check_position(check *k)
{
    const dat_positions *p = &k->ds->pos;
    size_t i = k->i;
    unsigned kind = p->kind[i];
    if (kind >= (unsigned)MDL_KIND_COUNT) {
        const char *t = text_of(k, DAT_COL_INSTRUMENT);
        if (k->info != NULL && t[0] == '\0')
            return reject(k, DAT_COL_INSTRUMENT, "instrument is missing");
        return reject(k, DAT_COL_INSTRUMENT, "unknown instrument '%s'", t);
    }
    if (p->book[i] == DAT_NONE)
        return reject(k, DAT_COL_BOOK, "book is empty");
    if (p->book[i] >= p->nbooks)
        return reject(k, DAT_COL_BOOK, "book index out of range");
    if (!number(k, DAT_COL_QUANTITY, p->quantity[i], false))
        return false;

    bool bond = kind == MDL_BOND;
    if (!und_ref(k, DAT_COL_UNDERLYING, p->und[i], bond ? DAT_UND_RATE : DAT_UND_SPOT))
        return false;
    if (kind == MDL_SPOT)
        return true;
    if (!bond && !number(k, DAT_COL_STRIKE, p->strike[i], true))
        return false;
    if (!number(k, DAT_COL_EXPIRY, p->expiry[i], true))
        return false;
    if (bond) {
        if (!number(k, DAT_COL_COUPON, p->coupon[i], false) ||
            !number(k, DAT_COL_FREQUENCY, p->frequency[i], true))
            return false;
        if (!(p->expiry[i] * p->frequency[i] <= DAT_MAX_COUPONS))
            return reject(k, DAT_COL_FREQUENCY,
                          "frequency: expiry x frequency must be at most %.0f coupon dates "
                          "(got %.15g)",
                          DAT_MAX_COUPONS, p->expiry[i] * p->frequency[i]);
        return true;
    }
    if (!ref_or_literal(k, DAT_COL_RATE, p->rate[i], p->rate_lit[i], DAT_UND_RATE))
        return false;
    if (kind != MDL_FORWARD &&
        !ref_or_literal(k, DAT_COL_VOL, p->vol[i], p->vol_lit[i], DAT_UND_VOL))
        return false;
    if (!number(k, DAT_COL_DIVIDEND, p->dividend[i], false))
        return false;
    if (kind == MDL_AMER_CALL || kind == MDL_AMER_PUT) {
        const char *why = why_of(k, DAT_COL_STEPS);
        if (why != NULL)
            return reject(k, DAT_COL_STEPS, "steps: %s ('%s')", why, text_of(k, DAT_COL_STEPS));
        if (p->steps[i] > DAT_MAX_STEPS)
            return reject(k, DAT_COL_STEPS, "steps must be at most %u (got %u)", DAT_MAX_STEPS,
                          (unsigned)p->steps[i]);
    }
    return true;
}

rk_status dat_validate_row(dat_dataset *ds, size_t i, const dat_rowinfo *info)
{
    check k = {.ds = ds, .i = i, .info = info};
    if (check_position(&k)) {
        ds->pos.status[i] = RK_OK;
        return RK_OK;
    }
    ds->pos.status[i] = RK_INVALID_INPUT;
    const dat_positions *p = &ds->pos;
    const char *file = p->file != NULL ? p->file : "<memory>";
    unsigned line = p->line != NULL ? (unsigned)p->line[i] : 0;
    unsigned col = (unsigned)dat_col_number(&p->cols, k.col);
    rk_status st = dat_add_error(ds, i, RK_INVALID_INPUT, "%s:%u:%u: %s", file, line, col,
                                 k.reason);
    return st == RK_OK ? RK_INVALID_INPUT : st;
}

rk_status dat_validate_position(dat_dataset *ds, size_t i)
{
    if (ds == NULL || i >= ds->pos.n)
        return RK_BAD_ARGUMENT;
    return dat_validate_row(ds, i, NULL);
}
