/*
 * liquidity.c - the liquidity-horizon file of FRTB expected shortfall (contract §5):
 * `factor,liquidity_horizon`, one row per factor of the data set, each horizon one of the
 * values the caller allows. Any problem stops the load: ES without every factor's horizon
 * would be a different measure, not a partial one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "dataset.h"

static rk_status fail(char *msg, size_t len, rk_status code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static rk_status fail(char *msg, size_t len, rk_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
    return code;
}

rk_status dat_load_liquidity(const char *path, const dat_market *m, const double *allowed,
                             size_t nallowed, double *lh, char *msg, size_t msglen)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash != NULL ? slash + 1 : path;
    size_t F = m->nfactors;
    dat_csv c;
    dat_strtab ftab = {0};
    uint32_t *line = calloc(F ? F : 1, sizeof *line); /* where each factor was given; 0 = not */
    rk_status st = RK_OK;
    if (line == NULL)
        return fail(msg, msglen, RK_NO_MEMORY, "%s: out of memory", name);
    if (dat_csv_open(&c, path, name) != 0) {
        free(line);
        return fail(msg, msglen, RK_IO, "%s", c.err);
    }
    for (size_t j = 0; j < F && st == RK_OK; j++)
        if (dat_strtab_put(&ftab, m->factor[j], (uint32_t)j, NULL) < 0)
            st = fail(msg, msglen, RK_NO_MEMORY, "%s: out of memory", name);
    int got = st == RK_OK ? dat_csv_next(&c) : 1;
    if (st == RK_OK && got < 0)
        st = fail(msg, msglen, RK_INVALID_INPUT, "%s", c.err);
    if (st == RK_OK && got == 0)
        st = fail(msg, msglen, RK_INVALID_INPUT,
                  "%s:1:1: empty file (header is "
                  "factor,liquidity_horizon)",
                  name);
    if (st == RK_OK && (c.nfields != 2 || strcmp(dat_csv_field(&c, 0), "factor") != 0 ||
                        strcmp(dat_csv_field(&c, 1), "liquidity_horizon") != 0))
        st = fail(msg, msglen, RK_INVALID_INPUT, "%s:%u:1: header must be factor,liquidity_horizon",
                  name, (unsigned)c.line);
    while (st == RK_OK && (got = dat_csv_next(&c)) == 1) {
        unsigned ln = (unsigned)c.line;
        if (c.nfields != 2) {
            st = fail(msg, msglen, RK_INVALID_INPUT, "%s:%u:1: %zu fields, the header has 2", name,
                      ln, c.nfields);
            break;
        }
        const char *f = dat_csv_field(&c, 0), *text = dat_csv_field(&c, 1);
        uint32_t j = dat_strtab_get(&ftab, f);
        if (j == UINT32_MAX) {
            st = fail(msg, msglen, RK_INVALID_INPUT,
                      "%s:%u:1: unknown factor '%s' (not in "
                      "factors.csv)",
                      name, ln, f);
            break;
        }
        if (line[j] != 0) {
            st = fail(msg, msglen, RK_INVALID_INPUT,
                      "%s:%u:1: duplicate factor '%s' (first on "
                      "line %u)",
                      name, ln, f, (unsigned)line[j]);
            break;
        }
        const char *why = NULL;
        double v;
        bool ok = dat_parse_double(text, &v, &why);
        if (ok) {
            ok = false;
            for (size_t k = 0; k < nallowed; k++)
                ok = ok || v == allowed[k];
            why = "not an allowed horizon";
        }
        if (!ok) {
            char list[128] = "";
            for (size_t k = 0; k < nallowed; k++) {
                size_t at = strlen(list);
                snprintf(list + at, sizeof list - at, "%s%g", k ? ", " : "", allowed[k]);
            }
            st = fail(msg, msglen, RK_INVALID_INPUT,
                      "%s:%u:2: liquidity horizon '%s' of '%s': "
                      "%s (days, one of %s)",
                      name, ln, text, f, why, list);
            break;
        }
        lh[j] = v;
        line[j] = ln;
    }
    if (st == RK_OK && got < 0)
        st = fail(msg, msglen, RK_INVALID_INPUT, "%s", c.err);
    for (size_t j = 0; j < F && st == RK_OK; j++)
        if (line[j] == 0)
            st = fail(msg, msglen, RK_INVALID_INPUT, "%s: factor '%s' has no liquidity horizon",
                      name, m->factor[j]);
    dat_csv_close(&c);
    dat_strtab_free(&ftab);
    free(line);
    return st;
}
