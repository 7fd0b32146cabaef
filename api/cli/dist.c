/*
 * dist.c - the operations the commands use to run as one process or as K MPI ranks (see
 * dist.h): failure agreement, shares, exact sums, and gathering bytes at rank 0. Everything
 * here is built on the transport, so that the same code serves both builds; with one process
 * every operation reduces to nothing.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"

/* The first failure reason of this rank since the last dist_agree(). Main thread only. */
static char fail_reason[512];

int dist_rank(void)
{
    return dist_tp_rank();
}

int dist_size(void)
{
    return dist_tp_size();
}

void dist_fail(const char *cmd, const char *fmt, ...)
{
    char msg[sizeof fail_reason];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (dist_size() == 1) {
        fprintf(stderr, "riskengine %s: %s\n", cmd, msg);
        return;
    }
    if (fail_reason[0] == '\0')
        memcpy(fail_reason, msg, sizeof msg);
}

bool dist_agree(const char *cmd, bool ok)
{
    if (dist_size() == 1)
        return ok;
    int first = ok ? dist_size() : dist_rank();
    dist_tp_min_int(&first);
    if (first == dist_size()) {
        fail_reason[0] = '\0';
        return true;
    }
    char reason[sizeof fail_reason];
    memcpy(reason, fail_reason, sizeof reason);
    if (reason[0] == '\0')
        snprintf(reason, sizeof reason, "failed without a reason");
    dist_tp_bcast(reason, sizeof reason, first);
    reason[sizeof reason - 1] = '\0';
    if (dist_is_root()) {
        fprintf(stderr, "riskengine %s: rank %d: %s\n", cmd, first, reason);
        fflush(stderr);
    }
    fail_reason[0] = '\0';
    return false;
}

void dist_share(size_t n, size_t *first, size_t *count)
{
    /* Balanced by rows: row costs are mixed by the instrument shuffle of real books and of the
     * generator, and the exact sums make any split give the same bits. */
    size_t k = (size_t)dist_size(), r = (size_t)dist_rank();
    size_t q = n / k, rem = n % k;
    *first = r * q + (r < rem ? r : rem);
    *count = q + (r < rem ? 1 : 0);
}

void dist_sum_xsum(rsk_xsum *v, size_t n)
{
    if (dist_size() == 1 || n == 0)
        return;
    bool ok = true;
    size_t bytes = n * sizeof *v;
    if (dist_is_root()) {
        for (int from = 1; from < dist_size(); from++) {
            void *buf = NULL;
            size_t len = 0;
            if (!dist_tp_recv_from(from, &buf, &len) || len != bytes) {
                ok = false;
                free(buf);
                continue;
            }
            /* memcpy: the received bytes need not be aligned for __int128 */
            for (size_t k = 0; k < n; k++) {
                rsk_xsum x;
                memcpy(&x, (const char *)buf + k * sizeof x, sizeof x);
                v[k] += x;
            }
            free(buf);
        }
    } else {
        dist_tp_send_to_root(v, bytes);
    }
    dist_tp_bcast(&ok, sizeof ok, 0);
    if (!ok) {
        /* Only an allocation failure at rank 0 gets here: the sums would be wrong. */
        fprintf(stderr, "riskengine: rank 0: out of memory combining the exact sums\n");
        exit(1);
    }
    dist_tp_bcast(v, bytes, 0);
}

void dist_sum_u64(uint64_t *v, size_t n)
{
    if (dist_size() > 1 && n > 0)
        dist_tp_sum_u64(v, n);
}

void dist_max_double(double *v, size_t n)
{
    if (dist_size() > 1 && n > 0)
        dist_tp_max_double(v, n);
}

void dist_min_int(int *v)
{
    if (dist_size() > 1)
        dist_tp_min_int(v);
}

bool dist_any(bool b)
{
    uint64_t v = b;
    dist_sum_u64(&v, 1);
    return v != 0;
}

void dist_bcast(void *buf, size_t bytes)
{
    if (dist_size() > 1 && bytes > 0)
        dist_tp_bcast(buf, bytes, 0);
}

bool dist_append_from_ranks(FILE *f, const void *buf, size_t len)
{
    if (dist_size() == 1)
        return true;
    if (!dist_is_root()) {
        dist_tp_send_to_root(buf, len);
        return true;
    }
    bool ok = true;
    for (int from = 1; from < dist_size(); from++) {
        void *got = NULL;
        size_t n = 0;
        if (!dist_tp_recv_from(from, &got, &n)) {
            ok = false;
            continue;
        }
        if (f != NULL && n > 0 && fwrite(got, 1, n, f) != n)
            ok = false;
        free(got);
    }
    return ok;
}

void *dist_gather(const void *buf, size_t len, size_t *lens, bool *ok)
{
    *ok = true;
    if (!dist_is_root()) {
        dist_tp_send_to_root(buf, len);
        return NULL;
    }
    size_t k = (size_t)dist_size(), total = len;
    void **parts = calloc(k, sizeof *parts);
    if (parts == NULL)
        *ok = false;
    lens[0] = len;
    for (int from = 1; from < dist_size(); from++) {
        void *got = NULL;
        size_t n = 0;
        if (!dist_tp_recv_from(from, &got, &n))
            *ok = false;
        lens[from] = n;
        total += n;
        if (parts != NULL)
            parts[from] = got;
        else
            free(got);
    }
    char *all = *ok ? malloc(total ? total : 1) : NULL;
    if (all == NULL)
        *ok = false;
    else {
        if (len > 0)
            memcpy(all, buf, len);
        size_t at = len;
        for (size_t r = 1; r < k; r++) {
            if (lens[r] > 0)
                memcpy(all + at, parts[r], lens[r]);
            at += lens[r];
        }
    }
    if (parts != NULL)
        for (size_t r = 1; r < k; r++)
            free(parts[r]);
    free(parts);
    return all;
}

void dist_barrier(void)
{
    if (dist_size() > 1)
        dist_tp_barrier();
}
