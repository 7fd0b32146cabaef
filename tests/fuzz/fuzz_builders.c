/*
 * fuzz_builders.c - libFuzzer harness of the in-memory builders and the live market: the input
 * is a program of calls to rk_dataset_create/add_factor/set_covariance/add_underlying/
 * add_position, rk_portfolio_create, rk_portfolio_set_value/set_values/set_covariance and small
 * requests, with names, numbers and sizes taken from the bytes (fuzz.h).
 *
 * Names come mostly from a small pool, so that duplicates and references to existing
 * underlyings happen often, else from the bytes. Besides the sanitizers it checks the header's
 * promises: nothing added once a portfolio exists (RK_BUSY), a refused update leaves the market
 * version as it was and an accepted one advances it by one.
 */
#include <stdbool.h>

#include "fuzz_run.h"

#define MAX_OPS 96
#define MAX_N 24 /* largest covariance or value vector a call is given */

static const char *const pool[] = {"F0", "F1", "F2", "S", "R", "V", "S2", "", "P1", "B"};

static const char *name(fuzz_bytes *b, char *buf, size_t max)
{
    uint8_t k = fuzz_u8(b);
    if (k < 224)
        return pool[k % (sizeof pool / sizeof pool[0])];
    if (k < 232)
        return NULL;
    return fuzz_str(b, buf, max);
}

/* An n x n matrix: by the first byte either the bytes' doubles as they come, or a positive
 * definite one (diagonally dominant, symmetric) built from them, or that with one entry
 * replaced. */
static void matrix(fuzz_bytes *b, double *m, size_t n)
{
    uint8_t how = fuzz_u8(b) % 4;
    for (size_t i = 0; i < n * n; i++)
        m[i] = how == 0 ? fuzz_double(b) : 0.0;
    if (how == 0)
        return;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            m[i * n + j] = m[j * n + i] = (double)(int8_t)fuzz_u8(b) * 1e-7;
    for (size_t i = 0; i < n; i++)
        m[i * n + i] = 1e-4 * (double)(1 + fuzz_u8(b) % 16) + 1.28e-5 * (double)n;
    if (how == 3 && n > 0)
        m[fuzz_below(b, n * n)] = fuzz_double(b);
}

static void position(fuzz_bytes *b, rk_position *p, char bufs[5][40])
{
    static const char *const instruments[] = {"spot",         "forward",       "european_call",
                                              "european_put", "american_call", "american_put",
                                              "bond",         "swap"};
    rk_position_init(p);
    p->id = fuzz_u8(b) < 200 ? NULL : name(b, bufs[0], sizeof bufs[0]);
    if (p->id == NULL) { /* mostly fresh ids */
        snprintf(bufs[0], sizeof bufs[0], "P%u", (unsigned)fuzz_u8(b));
        p->id = bufs[0];
    }
    p->book = name(b, bufs[1], sizeof bufs[1]);
    uint8_t k = fuzz_u8(b);
    p->instrument = k < 240 ? instruments[k % 8] : fuzz_str(b, bufs[2], sizeof bufs[2]);
    p->quantity = fuzz_double(b);
    p->underlying = name(b, bufs[3], sizeof bufs[3]);
    p->strike = fuzz_double(b);
    p->expiry = fuzz_double(b);
    if (fuzz_u8(b) & 1)
        p->rate = name(b, bufs[4], sizeof bufs[4]);
    else
        p->rate_literal = fuzz_double(b);
    if (fuzz_u8(b) & 1)
        p->vol = pool[5];
    else
        p->vol_literal = fuzz_double(b);
    p->dividend = fuzz_double(b);
    p->coupon = fuzz_double(b);
    p->frequency = fuzz_double(b);
    p->steps = fuzz_u8(b); /* up to 255: trees stay small; the deadline bounds the rest */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_bytes b = {data, size};
    rk_dataset *ds = NULL;
    if (rk_dataset_create(&ds) != RK_OK)
        return 0;
    rk_portfolio *pf = NULL;
    char buf[40], bufs[5][40];
    double m[MAX_N * MAX_N];
    for (int op = 0; op < MAX_OPS && b.n > 0; op++) {
        size_t nf = rk_dataset_factors(ds), nu = rk_dataset_underlyings(ds);
        rk_status rc = RK_OK;
        bool adds = false;
        switch (fuzz_u8(&b) % 10) {
        case 0:
            rc = rk_dataset_add_factor(ds, name(&b, buf, sizeof buf), NULL);
            adds = true;
            break;
        case 1: {
            size_t n = fuzz_u8(&b) < 224 ? nf : fuzz_below(&b, MAX_N + 1);
            if (n > MAX_N)
                break;
            matrix(&b, m, n);
            rc = rk_dataset_set_covariance(ds, m, n);
            adds = true;
            break;
        }
        case 2: {
            const char *nm = name(&b, buf, sizeof buf);
            rk_underlying_kind kind = (rk_underlying_kind)(fuzz_u8(&b) % 4);
            double value = fuzz_double(&b);
            size_t nl = fuzz_u8(&b) < 224 ? nf : fuzz_below(&b, MAX_N + 1);
            if (nl > MAX_N)
                break;
            for (size_t i = 0; i < nl; i++)
                m[i] = fuzz_double(&b);
            rc = rk_dataset_add_underlying(ds, nm, kind, value, nl ? m : NULL, nl, NULL);
            adds = true;
            break;
        }
        case 3: {
            rk_position p;
            position(&b, &p, bufs);
            rc = rk_dataset_add_position(ds, &p, NULL);
            adds = true;
            break;
        }
        case 4:
            if (pf == NULL)
                rc = rk_portfolio_create(fuzz_engine(), ds, &pf);
            if (rc != RK_OK && pf != NULL)
                fuzz_fail("rk_portfolio_create: %s and a portfolio", rk_strerror(rc));
            break;
        case 5:
        case 6:
        case 7: {
            if (pf == NULL)
                break;
            uint64_t v0 = rk_portfolio_market_version(pf);
            uint8_t which = fuzz_u8(&b) % 3;
            if (which == 0) {
                rc = rk_portfolio_set_value(pf, fuzz_below(&b, nu + 2), fuzz_double(&b));
            } else if (which == 1) {
                size_t first = fuzz_below(&b, nu + 2), n = fuzz_below(&b, MAX_N + 1);
                for (size_t i = 0; i < n; i++)
                    m[i] = fuzz_double(&b);
                rc = rk_portfolio_set_values(pf, first, n, m);
            } else {
                size_t n = fuzz_u8(&b) < 224 ? nf : fuzz_below(&b, MAX_N + 1);
                if (n > MAX_N)
                    break;
                matrix(&b, m, n);
                rc = rk_portfolio_set_covariance(pf, m, n);
            }
            uint64_t v1 = rk_portfolio_market_version(pf);
            if (v1 != v0 + (rc == RK_OK))
                fuzz_fail("market version %llu -> %llu after an update that returned %s",
                          (unsigned long long)v0, (unsigned long long)v1, rk_strerror(rc));
            break;
        }
        case 8:
            if (pf != NULL)
                fuzz_request(pf, (fuzz_u8(&b) & 1) ? RK_MEASURE_VALUES
                                                   : RK_MEASURE_GRID | RK_MEASURE_PARAMETRIC_VAR);
            break;
        case 9:
            rk_portfolio_destroy(pf);
            pf = NULL;
            break;
        }
        if (adds && pf != NULL && rc != RK_BUSY && rc != RK_BAD_ARGUMENT)
            fuzz_fail("a data set with a portfolio took an addition: %s", rk_strerror(rc));
    }
    rk_portfolio_destroy(pf);
    rk_dataset_destroy(ds);
    return 0;
}
