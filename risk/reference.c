/*
 * reference.c - the reference evaluator (see reference.h). Obviously correct first, fast never.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "reference.h"
#include "xsum.h"

/* x' for underlying u moved by `move` = beta_u . df (contract §1). */
static double shock_one(const dat_market *m, size_t u, double move)
{
    if (m->und_kind[u] == DAT_UND_RATE)
        return m->und_value[u] + move;
    return m->und_value[u] * exp(move);
}

/* Model inputs of row i when the underlyings are worth x[]. */
static mdl_in inputs(const dat_positions *p, size_t i, const double *x)
{
    mdl_in in = {0};
    mdl_kind k = (mdl_kind)p->kind[i];
    if (k == MDL_BOND) {
        in.r = x[p->und[i]];
    } else {
        in.S = x[p->und[i]];
        in.r = p->rate[i] == DAT_NONE ? p->rate_lit[i] : x[p->rate[i]];
        in.sigma = p->vol[i] == DAT_NONE ? p->vol_lit[i] : x[p->vol[i]];
    }
    in.K = p->strike[i];
    in.T = p->expiry[i];
    in.q = p->dividend[i];
    in.coupon = p->coupon[i];
    in.freq = p->frequency[i];
    in.steps = p->steps[i];
    return in;
}

typedef struct pricer {
    mdl_work work;
} pricer;

static rk_status pricer_init(pricer *pr, const dat_positions *p)
{
    uint32_t steps = MDL_FALLBACK_STEPS;
    for (size_t i = 0; i < p->n; i++)
        if (p->status[i] == RK_OK && p->steps[i] > steps)
            steps = p->steps[i];
    pr->work.len = mdl_work_needed(steps);
    pr->work.buf = malloc(pr->work.len * sizeof(double));
    return pr->work.buf != NULL ? RK_OK : RK_NO_MEMORY;
}

/* V_i = quantity x unit price, NaN when not finite. */
static double value(const pricer *pr, const dat_positions *p, size_t i, const double *x,
                    unsigned *flags)
{
    mdl_in in = inputs(p, i, x);
    double v = p->quantity[i] * mdl_price_ref((mdl_kind)p->kind[i], &in, &pr->work, NULL, flags);
    return isfinite(v) ? v : NAN;
}

double rsk_ref_unit_price(const dat_dataset *ds, size_t i)
{
    const dat_positions *p = &ds->pos;
    if (i >= p->n || p->status[i] != RK_OK)
        return NAN;
    uint32_t steps = p->steps[i] > MDL_FALLBACK_STEPS ? p->steps[i] : MDL_FALLBACK_STEPS;
    mdl_work work = {NULL, mdl_work_needed(steps)};
    work.buf = malloc(work.len * sizeof(double));
    if (work.buf == NULL)
        return NAN;
    mdl_in in = inputs(p, i, ds->mkt.und_value);
    double u = mdl_price_ref((mdl_kind)p->kind[i], &in, &work, NULL, NULL);
    free(work.buf);
    return isfinite(u) ? u : NAN;
}

rk_status rsk_ref_values(const dat_dataset *ds, rsk_values *out)
{
    const dat_positions *p = &ds->pos;
    memset(out, 0, sizeof *out);
    pricer pr;
    if (pricer_init(&pr, p) != RK_OK)
        return RK_NO_MEMORY;
    out->n = p->n;
    out->value = malloc((p->n ? p->n : 1) * sizeof(double));
    out->status = malloc(p->n ? p->n : 1);
    out->flags = calloc(p->n ? p->n : 1, 1);
    if (out->value == NULL || out->status == NULL || out->flags == NULL) {
        free(pr.work.buf);
        rsk_values_free(out);
        return RK_NO_MEMORY;
    }
    for (size_t i = 0; i < p->n; i++) {
        out->value[i] = NAN;
        out->status[i] = p->status[i];
        if (p->status[i] != RK_OK)
            continue;
        unsigned flags = 0;
        out->value[i] = value(&pr, p, i, ds->mkt.und_value, &flags);
        out->flags[i] = (uint8_t)flags;
        out->status[i] = isfinite(out->value[i]) ? RK_OK : RK_NUMERIC;
        out->ok += out->status[i] == RK_OK;
    }
    free(pr.work.buf);
    return RK_OK;
}

rk_status rsk_ref_grid(const dat_dataset *ds, double h, const rsk_values *v, rsk_grid *out)
{
    const dat_positions *p = &ds->pos;
    const dat_market *m = &ds->mkt;
    size_t F = m->nfactors, U = m->nund, nb = p->nbooks, n = p->n;
    memset(out, 0, sizeof *out);
    out->n = n;
    out->nfactors = F;
    out->nbooks = nb;
    out->h = h;
    pricer pr;
    if (pricer_init(&pr, p) != RK_OK)
        return RK_NO_MEMORY;
    double *xp = malloc((U ? U : 1) * sizeof(double));
    double *xm = malloc((U ? U : 1) * sizeof(double));
    out->delta = malloc((n * F > 0 ? n * F : 1) * sizeof(double));
    out->gamma = malloc((n * F > 0 ? n * F : 1) * sizeof(double));
    out->status = malloc(n * F > 0 ? n * F : 1);
    out->exposure = calloc((nb + 1) * (F ? F : 1), sizeof(double));
    out->xexposure = calloc((nb + 1) * (F ? F : 1), sizeof(rsk_xsum));
    out->ok_cells = calloc(nb + 1, sizeof(uint64_t));
    out->req_cells = calloc(nb + 1, sizeof(uint64_t));
    rk_status rc = RK_NO_MEMORY;
    if (xp == NULL || xm == NULL || out->delta == NULL || out->gamma == NULL ||
        out->status == NULL || out->exposure == NULL || out->xexposure == NULL ||
        out->ok_cells == NULL || out->req_cells == NULL) {
        rsk_grid_free(out);
        goto done;
    }
    rsk_requested_cells(p, nb, F, out->req_cells);
    for (size_t j = 0; j < F; j++) {
        for (size_t u = 0; u < U; u++) {
            xp[u] = shock_one(m, u, m->beta[u * F + j] * h);
            xm[u] = shock_one(m, u, m->beta[u * F + j] * -h);
        }
        for (size_t i = 0; i < n; i++) {
            size_t cell = rsk_grid_cell(out, i, j);
            out->delta[cell] = NAN;
            out->gamma[cell] = NAN;
            out->status[cell] = v->status[i];
            if (v->status[i] != RK_OK)
                continue;
            double vp = value(&pr, p, i, xp, NULL);
            double vm = value(&pr, p, i, xm, NULL);
            double d = (vp - vm) / (2.0 * h);
            double g = (vp - 2.0 * v->value[i] + vm) / (h * h);
            if (!isfinite(d) || !isfinite(g) || !rsk_xsum_term_ok(d)) {
                out->status[cell] = RK_NUMERIC;
                continue;
            }
            out->delta[cell] = d;
            out->gamma[cell] = g;
            out->status[cell] = RK_OK;
            out->xexposure[p->book[i] * F + j] += rsk_xsum_from(d);
            out->xexposure[nb * F + j] += rsk_xsum_from(d);
            out->ok_cells[p->book[i]]++;
            out->ok_cells[nb]++;
        }
    }
    for (size_t k = 0; k < (nb + 1) * F; k++)
        out->exposure[k] = rsk_xsum_value(out->xexposure[k]);
    rc = RK_OK;
done:
    free(pr.work.buf);
    free(xp);
    free(xm);
    return rc;
}

rk_status rsk_ref_pnl(const dat_dataset *ds, const double *shock, size_t nscen, const rsk_values *v,
                      rsk_pnl *out)
{
    const dat_positions *p = &ds->pos;
    const dat_market *m = &ds->mkt;
    size_t F = m->nfactors, U = m->nund, nb = p->nbooks, n = p->n;
    rk_status rc = rsk_pnl_init(out, n, nb, nscen);
    if (rc != RK_OK)
        return rc;
    rsk_requested_cells(p, nb, nscen, out->req_cells);
    pricer pr;
    if (pricer_init(&pr, p) != RK_OK) {
        rsk_pnl_free(out);
        return RK_NO_MEMORY;
    }
    double *x = malloc((U ? U : 1) * sizeof(double));
    if (x == NULL) {
        rsk_pnl_free(out);
        rc = RK_NO_MEMORY;
        goto done;
    }
    for (size_t s = 0; s < nscen; s++) {
        const double *df = shock + s * F;
        for (size_t u = 0; u < U; u++) {
            double move = 0.0;
            for (size_t j = 0; j < F; j++)
                move += m->beta[u * F + j] * df[j];
            x[u] = shock_one(m, u, move);
        }
        for (size_t i = 0; i < n; i++) {
            if (v->status[i] != RK_OK)
                continue;
            double pl = value(&pr, p, i, x, NULL) - v->value[i];
            if (!isfinite(pl) || !rsk_xsum_term_ok(pl)) {
                if (atomic_fetch_add(&out->nfail[i], 1) == 0)
                    atomic_store(&out->first_fail[i], (uint32_t)s);
                continue;
            }
            out->xpnl[p->book[i] * nscen + s] += rsk_xsum_from(pl);
            out->xpnl[nb * nscen + s] += rsk_xsum_from(pl);
            out->ok_scen[p->book[i] * nscen + s]++;
            out->ok_scen[nb * nscen + s]++;
            out->ok_cells[p->book[i]]++;
            out->ok_cells[nb]++;
        }
    }
    for (size_t k = 0; k < (nb + 1) * nscen; k++)
        out->pnl[k] = rsk_xsum_value(out->xpnl[k]);
done:
    free(pr.work.buf);
    free(x);
    return rc;
}
