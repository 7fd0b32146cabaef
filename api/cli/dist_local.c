/*
 * dist_local.c - the transport of dist.h for a program built without MPI: a group of one
 * process, rank 0. This is the K = 1 case of the distributed commands, not a placeholder:
 * every collective is the identity, and the point-to-point calls are never reached because
 * there is no other rank to talk to.
 */
#include <stdlib.h>

#include "dist.h"

bool dist_tp_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return true;
}

void dist_tp_finalize(void)
{
}

int dist_tp_rank(void)
{
    return 0;
}

int dist_tp_size(void)
{
    return 1;
}

const char *dist_tp_kind(void)
{
    return "single";
}

void dist_tp_min_int(int *v)
{
    (void)v;
}

void dist_tp_sum_u64(uint64_t *v, size_t n)
{
    (void)v;
    (void)n;
}

void dist_tp_max_double(double *v, size_t n)
{
    (void)v;
    (void)n;
}

void dist_tp_bcast(void *buf, size_t bytes, int root)
{
    (void)buf;
    (void)bytes;
    (void)root;
}

void dist_tp_send_to_root(const void *buf, size_t len)
{
    /* rank 0 is the only rank and never sends to itself */
    (void)buf;
    (void)len;
    abort();
}

bool dist_tp_recv_from(int from, void **buf, size_t *len)
{
    (void)from;
    *buf = NULL;
    *len = 0;
    abort();
}

void dist_tp_barrier(void)
{
}
