/*
 * dataset.c - rk_dataset: a data set loaded from a folder (data/load.c) or built in memory one
 * factor, underlying and position at a time, into the same dat_dataset the loader fills, with
 * positions validated by the loader's own checks (dat_validate_row, the cell-aware form of
 * dat_validate_position), so that a position
 * built in memory and the same row read from positions.csv get the same status and message.
 *
 * A data set is mutable until the first portfolio uses it (users > 0), read-only afterwards.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "model.h"
#include "validate.h"

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

/* Grows *p to hold cap elements of elem bytes. */
static bool grow(void *pp, size_t elem, size_t cap)
{
    void **p = pp;
    if (cap > SIZE_MAX / elem)
        return false;
    void *n = realloc(*p, cap * elem);
    if (n == NULL)
        return false;
    *p = n;
    return true;
}

static bool sealed(const rk_dataset *d)
{
    /* acquire: pairs with the portfolio's acq_rel increment (seen sealed = stays sealed) */
    return atomic_load_explicit(&((rk_dataset *)d)->users, memory_order_acquire) != 0;
}

static rk_status init_empty(rk_dataset *d)
{
    memset(&d->ds, 0, sizeof d->ds);
    d->ds.pos.file = dup_str("<memory>");
    return d->ds.pos.file != NULL ? RK_OK : RK_NO_MEMORY;
}

rk_status rk_dataset_create(rk_dataset **out)
{
    if (out == NULL)
        return RK_BAD_ARGUMENT;
    *out = NULL;
    rk_dataset *d = calloc(1, sizeof *d);
    if (d == NULL)
        return RK_NO_MEMORY;
    atomic_init(&d->users, 0);
    if (init_empty(d) != RK_OK) {
        free(d);
        return RK_NO_MEMORY;
    }
    *out = d;
    return RK_OK;
}

rk_status rk_dataset_load(const char *dir, rk_dataset **out, char *msg, size_t msglen)
{
    if (msg != NULL && msglen > 0)
        msg[0] = '\0';
    if (out == NULL || dir == NULL)
        return RK_BAD_ARGUMENT;
    *out = NULL;
    rk_dataset *d = calloc(1, sizeof *d);
    if (d == NULL)
        return RK_NO_MEMORY;
    atomic_init(&d->users, 0);
    dat_load_opts o = {.first = 0, .count = SIZE_MAX, .skip_scenarios = false};
    rk_status rc = dat_load(dir, &o, &d->ds, msg, msglen);
    if (rc != RK_OK) {
        free(d);
        return rc;
    }
    d->has_cov = true;
    d->pcap = d->ds.pos.n;
    d->ucap = d->ds.mkt.nund;
    *out = d;
    return RK_OK;
}

void rk_dataset_destroy(rk_dataset *d)
{
    if (d == NULL)
        return;
    dat_free(&d->ds);
    free(d);
}

rk_status rk_dataset_add_factor(rk_dataset *d, const char *name, size_t *index)
{
    if (d == NULL || name == NULL || name[0] == '\0')
        return RK_BAD_ARGUMENT;
    if (sealed(d))
        return RK_BUSY;
    dat_market *m = &d->ds.mkt;
    if (m->nund > 0 || d->has_cov || dat_factor_index(m, name) != DAT_NONE)
        return RK_BAD_ARGUMENT;
    size_t F = m->nfactors;
    if (!grow(&m->factor, sizeof *m->factor, F + 1) ||
        !grow(&m->factor_desc, sizeof *m->factor_desc, F + 1))
        return RK_NO_MEMORY;
    char *n = dup_str(name), *desc = dup_str("");
    if (n == NULL || desc == NULL) {
        free(n);
        free(desc);
        return RK_NO_MEMORY;
    }
    m->factor[F] = n;
    m->factor_desc[F] = desc;
    m->nfactors = F + 1;
    if (index != NULL)
        *index = F;
    return RK_OK;
}

rk_status rk_dataset_set_covariance(rk_dataset *d, const double *cov, size_t nfactors)
{
    if (d == NULL || (cov == NULL && nfactors > 0) || nfactors != d->ds.mkt.nfactors)
        return RK_BAD_ARGUMENT;
    if (sealed(d))
        return RK_BUSY;
    size_t F = nfactors;
    if (F != 0 && F > SIZE_MAX / sizeof(double) / F)
        return RK_BAD_ARGUMENT;
    double *c = malloc((F > 0 ? F * F : 1) * sizeof *c);
    if (c == NULL)
        return RK_NO_MEMORY;
    if (F > 0)
        memcpy(c, cov, F * F * sizeof *c);
    rk_status rc = dat_cov_check(c, F, NULL, NULL); /* the loader's rule: symmetrises c */
    if (rc != RK_OK) {
        free(c);
        return rc;
    }
    free(d->ds.mkt.cov);
    d->ds.mkt.cov = c;
    d->has_cov = true;
    return RK_OK;
}

static bool value_ok(rk_underlying_kind kind, double v)
{
    return isfinite(v) && (kind == RK_UNDERLYING_RATE || v > 0);
}

rk_status rk_dataset_add_underlying(rk_dataset *d, const char *name, rk_underlying_kind kind,
                                    double value, const double *loadings, size_t nloadings,
                                    size_t *index)
{
    if (d == NULL || name == NULL || name[0] == '\0' || (unsigned)kind > RK_UNDERLYING_VOL ||
        !value_ok(kind, value))
        return RK_BAD_ARGUMENT;
    if (sealed(d))
        return RK_BUSY;
    dat_market *m = &d->ds.mkt;
    size_t F = m->nfactors, U = m->nund;
    if (nloadings != F || (loadings == NULL && F > 0) || dat_und_index(m, name) != DAT_NONE)
        return RK_BAD_ARGUMENT;
    for (size_t j = 0; j < F; j++)
        if (!isfinite(loadings[j]))
            return RK_BAD_ARGUMENT;
    if (U == d->ucap) {
        size_t cap = d->ucap ? 2 * d->ucap : 16;
        if (!grow(&m->und, sizeof *m->und, cap) || !grow(&m->und_kind, 1, cap) ||
            !grow(&m->und_value, sizeof(double), cap) ||
            !grow(&m->beta, sizeof(double) * (F ? F : 1), cap) || !grow(&m->und_ok, 1, cap) ||
            !grow(&m->und_err, sizeof *m->und_err, cap))
            return RK_NO_MEMORY;
        d->ucap = cap;
    }
    char *n = dup_str(name);
    if (n == NULL)
        return RK_NO_MEMORY;
    m->und[U] = n;
    m->und_kind[U] = (uint8_t)kind;
    m->und_value[U] = value;
    if (F > 0)
        memcpy(m->beta + U * F, loadings, F * sizeof(double));
    m->und_ok[U] = 1;
    m->und_err[U] = NULL;
    m->nund = U + 1;
    if (index != NULL)
        *index = U;
    return RK_OK;
}

void rk_position_init(rk_position *p)
{
    if (p == NULL)
        return;
    memset(p, 0, sizeof *p);
    p->quantity = p->strike = p->expiry = p->rate_literal = p->vol_literal = p->frequency = NAN;
    p->dividend = 0.0;
    p->coupon = 0.0;
}

/* Index of book `name`, appended when new; DAT_NONE when out of memory. */
static uint32_t book_index(dat_positions *p, const char *name)
{
    for (size_t b = 0; b < p->nbooks; b++)
        if (strcmp(p->books[b], name) == 0)
            return (uint32_t)b;
    char *n = dup_str(name);
    if (n == NULL || !grow(&p->books, sizeof *p->books, p->nbooks + 1)) {
        free(n);
        return DAT_NONE;
    }
    p->books[p->nbooks] = n;
    return (uint32_t)p->nbooks++;
}

bool positions_grow(dat_positions *p, size_t cap)
{
    return grow(&p->id, sizeof *p->id, cap) && grow(&p->line, sizeof *p->line, cap) &&
           grow(&p->kind, 1, cap) && grow(&p->book, sizeof *p->book, cap) &&
           grow(&p->quantity, sizeof(double), cap) && grow(&p->und, sizeof *p->und, cap) &&
           grow(&p->rate, sizeof *p->rate, cap) && grow(&p->rate_lit, sizeof(double), cap) &&
           grow(&p->vol, sizeof *p->vol, cap) && grow(&p->vol_lit, sizeof(double), cap) &&
           grow(&p->strike, sizeof(double), cap) && grow(&p->expiry, sizeof(double), cap) &&
           grow(&p->dividend, sizeof(double), cap) && grow(&p->coupon, sizeof(double), cap) &&
           grow(&p->frequency, sizeof(double), cap) && grow(&p->steps, sizeof *p->steps, cap) &&
           grow(&p->status, 1, cap);
}

/* A reference cell: the named underlying, or DAT_NONE (empty, unknown, or a literal). The
 * validator tells unknown from empty by the cell's text (dat_rowinfo), as for a file row. */
static uint32_t ref_of(const dat_market *m, const char *name)
{
    if (name == NULL || name[0] == '\0')
        return DAT_NONE;
    return dat_und_index(m, name);
}

rk_status rk_dataset_add_position(rk_dataset *d, const rk_position *in, size_t *index)
{
    if (d == NULL || in == NULL || in->id == NULL || in->id[0] == '\0')
        return RK_BAD_ARGUMENT;
    if (sealed(d))
        return RK_BUSY;
    dat_positions *p = &d->ds.pos;
    /* Linear scan: building in memory is not on the real-time path. */
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->id[i], in->id) == 0)
            return RK_BAD_ARGUMENT;
    if (p->n == d->pcap) {
        size_t cap = d->pcap ? 2 * d->pcap : 64;
        if (!positions_grow(p, cap))
            return RK_NO_MEMORY;
        d->pcap = cap;
    }
    size_t i = p->n;
    char *id = dup_str(in->id);
    if (id == NULL)
        return RK_NO_MEMORY;
    uint32_t book = DAT_NONE;
    if (in->book != NULL && in->book[0] != '\0') {
        book = book_index(p, in->book);
        if (book == DAT_NONE) {
            free(id);
            return RK_NO_MEMORY;
        }
    }
    p->id[i] = id;
    if (index != NULL)
        *index = i;
    return position_store(&d->ds, i, in, book);
}

rk_status position_store(dat_dataset *ds, size_t i, const rk_position *in, uint32_t book)
{
    dat_positions *p = &ds->pos;
    const dat_market *m = &ds->mkt;
    mdl_kind k;
    p->line[i] = 0;
    p->kind[i] = in->instrument != NULL && mdl_kind_parse(in->instrument, &k) ? (uint8_t)k
                                                                              : MDL_KIND_COUNT;
    p->book[i] = book;
    p->quantity[i] = in->quantity;
    p->und[i] = ref_of(m, in->underlying);
    p->rate[i] = ref_of(m, in->rate);
    p->rate_lit[i] = in->rate_literal;
    p->vol[i] = ref_of(m, in->vol);
    p->vol_lit[i] = in->vol_literal;
    p->strike[i] = in->strike;
    p->expiry[i] = in->expiry;
    p->dividend[i] = in->dividend;
    p->coupon[i] = in->coupon;
    p->frequency[i] = in->frequency;
    p->steps[i] = in->steps;
    p->status[i] = RK_OK;
    p->n = i + 1;
    /* The loader's checks and messages; the cell texts name unknown underlyings. */
    dat_rowinfo info;
    memset(&info, 0, sizeof info);
    info.text[DAT_COL_UNDERLYING] = in->underlying;
    info.text[DAT_COL_RATE] = in->rate;
    info.text[DAT_COL_VOL] = in->vol;
    return dat_validate_row(ds, i, &info);
}

size_t rk_dataset_factors(const rk_dataset *d)
{
    return d != NULL ? d->ds.mkt.nfactors : 0;
}

size_t rk_dataset_underlyings(const rk_dataset *d)
{
    return d != NULL ? d->ds.mkt.nund : 0;
}

size_t rk_dataset_positions(const rk_dataset *d)
{
    return d != NULL ? d->ds.pos.n : 0;
}

size_t rk_dataset_books(const rk_dataset *d)
{
    return d != NULL ? d->ds.pos.nbooks : 0;
}

const char *rk_dataset_factor_name(const rk_dataset *d, size_t j)
{
    return d != NULL && j < d->ds.mkt.nfactors ? d->ds.mkt.factor[j] : NULL;
}

const char *rk_dataset_underlying_name(const rk_dataset *d, size_t u)
{
    return d != NULL && u < d->ds.mkt.nund ? d->ds.mkt.und[u] : NULL;
}

const char *rk_dataset_position_id(const rk_dataset *d, size_t i)
{
    return d != NULL && i < d->ds.pos.n ? d->ds.pos.id[i] : NULL;
}

const char *rk_dataset_book_name(const rk_dataset *d, size_t b)
{
    return d != NULL && b < d->ds.pos.nbooks ? d->ds.pos.books[b] : NULL;
}

rk_status rk_dataset_underlying(const rk_dataset *d, size_t u, rk_underlying_kind *kind,
                                double *value)
{
    if (d == NULL)
        return RK_BAD_ARGUMENT;
    if (u >= d->ds.mkt.nund)
        return RK_NOT_FOUND;
    if (kind != NULL)
        *kind = (rk_underlying_kind)d->ds.mkt.und_kind[u];
    if (value != NULL)
        *value = d->ds.mkt.und_value[u];
    return RK_OK;
}

rk_status rk_dataset_find_underlying(const rk_dataset *d, const char *name, size_t *index)
{
    if (d == NULL || name == NULL || index == NULL)
        return RK_BAD_ARGUMENT;
    uint32_t u = dat_und_index(&d->ds.mkt, name);
    if (u == DAT_NONE)
        return RK_NOT_FOUND;
    *index = u;
    return RK_OK;
}

size_t rk_dataset_error_count(const rk_dataset *d)
{
    return d != NULL ? d->ds.nerrors : 0;
}

rk_status rk_dataset_error(const rk_dataset *d, size_t k, rk_error_info *out)
{
    if (d == NULL || out == NULL)
        return RK_BAD_ARGUMENT;
    if (k >= d->ds.nerrors)
        return RK_NOT_FOUND;
    const dat_error *e = &d->ds.errors[k];
    out->position = e->position == SIZE_MAX ? RK_NONE : e->position;
    out->factor = RK_NONE;
    out->scenario = RK_NONE;
    out->code = e->code;
    out->message = e->message;
    out->measure = 0;
    return RK_OK;
}

size_t rk_dataset_scenarios(const rk_dataset *d)
{
    return d != NULL && d->ds.has_scenarios ? d->ds.scen.n : 0;
}

const char *rk_dataset_scenario_name(const rk_dataset *d, size_t scenario)
{
    return scenario < rk_dataset_scenarios(d) ? d->ds.scen.name[scenario] : NULL;
}

rk_status rk_dataset_find_scenario(const rk_dataset *d, const char *name, size_t *index)
{
    if (d == NULL || name == NULL || index == NULL)
        return RK_BAD_ARGUMENT;
    size_t n = rk_dataset_scenarios(d);
    for (size_t s = 0; s < n; s++) {
        if (strcmp(d->ds.scen.name[s], name) == 0) {
            *index = s;
            return RK_OK;
        }
    }
    return RK_NOT_FOUND;
}
