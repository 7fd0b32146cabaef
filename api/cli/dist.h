/*
 * dist.h - the group of processes one run of the riskengine program belongs to: a single
 * process, or K processes started by `mpirun -np K`. The library knows nothing of it; only the
 * program's commands use it, to shard positions, combine exact sums and gather per-row outputs
 * to rank 0, which writes every file once.
 *
 * Two layers. The transport (dist_tp_*) is a handful of collective and point-to-point
 * operations with two implementations: dist_mpi.c over Open MPI (built when an MPI compiler is
 * found), and dist_local.c, the K = 1 case, for builds without MPI. A build with MPI started
 * without mpirun (no OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_SIZE in the environment) does not
 * initialise MPI at all and runs exactly as the single-process program. dist.c builds the
 * operations the commands need on top of the transport.
 *
 * Rules every caller follows, so that no rank ever waits for one that has given up:
 *  - every function here is collective (all ranks call it, in the same order) unless it says
 *    otherwise;
 *  - a step that can fail on one rank is followed by dist_agree(), which tells every rank
 *    whether all succeeded; on failure rank 0 prints "riskengine CMD: rank R: reason" for the
 *    lowest failing rank and every rank leaves through its cleanup path;
 *  - a rank that dies (signal, out-of-memory kill, exit without finalising) makes mpirun end
 *    the whole job and name that rank: nothing blocks forever.
 *
 * Threading: MPI is initialised with MPI_THREAD_FUNNELED; only the main thread calls these
 * functions (the engine's workers never do).
 */
#ifndef RK_CLI_DIST_H
#define RK_CLI_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xsum.h"

/* ---- transport (dist_mpi.c or dist_local.c) ---- */

/* Joins the group (MPI_Init when started by mpirun). Not collective before it returns. Returns
 * false with a message on stderr when MPI could not be initialised. */
bool dist_tp_init(int *argc, char ***argv);
/* Leaves the group (MPI_Finalize). */
void dist_tp_finalize(void);
int dist_tp_rank(void);
int dist_tp_size(void);
/* "mpi" when running under mpirun, "single" otherwise. Any thread. */
const char *dist_tp_kind(void);
/* Lowest value of *v over the ranks, on every rank. */
void dist_tp_min_int(int *v);
/* Sums (exact, integers) / maxima over the ranks, on every rank. */
void dist_tp_sum_u64(uint64_t *v, size_t n);
void dist_tp_max_double(double *v, size_t n);
/* Copies bytes from rank `root` to every rank. */
void dist_tp_bcast(void *buf, size_t bytes, int root);
/* Point to point, non-root ranks to rank 0: dist_tp_send_to_root sends len then the bytes;
 * dist_tp_recv_from (rank 0 only) receives one such message from rank `from` into a new
 * buffer (free() it). Returns false when out of memory. */
void dist_tp_send_to_root(const void *buf, size_t len);
bool dist_tp_recv_from(int from, void **buf, size_t *len);
void dist_tp_barrier(void);

/* ---- operations for the commands (dist.c) ---- */

/* This process's rank and the group's size (1 without mpirun). Any thread. */
int dist_rank(void);
int dist_size(void);
static inline bool dist_is_root(void)
{
    return dist_rank() == 0;
}

/* Reports why this rank's current step failed. Single process: prints "riskengine CMD: reason"
 * at once. Several processes: keeps the first reason for the next dist_agree(). Not
 * collective. */
void dist_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Collective status check after a step: returns true when ok on every rank. Otherwise rank 0
 * prints "riskengine CMD: rank R: reason" (R the lowest failing rank) and every rank returns
 * false. With one process it returns ok unchanged (the reason was already printed). */
bool dist_agree(const char *cmd, bool ok);

/* Contiguous share of n rows for this rank: rows [*first, *first + *count). Not collective. */
void dist_share(size_t n, size_t *first, size_t *count);

/* Exact sums of n 128-bit fixed-point accumulators: rank 0 adds the ranks' values in rank
 * order and every rank gets the result. */
void dist_sum_xsum(rsk_xsum *v, size_t n);
void dist_sum_u64(uint64_t *v, size_t n);
void dist_max_double(double *v, size_t n);
/* Lowest value of *v over the ranks, on every rank. */
void dist_min_int(int *v);
bool dist_any(bool b);
void dist_bcast(void *buf, size_t bytes);

/* Appends, at rank 0, the bytes every other rank passes, in rank order, to f (rank 0's own
 * bytes are not sent: it wrote them to f itself). Returns false at rank 0 when out of memory
 * or a write failed; true elsewhere. */
bool dist_append_from_ranks(FILE *f, const void *buf, size_t len);

/* Gathers every rank's bytes at rank 0: returns there a new buffer holding them in rank order
 * (rank 0's first) and their lengths in lens[0..K-1]; NULL elsewhere or when out of memory
 * (*ok false then). */
void *dist_gather(const void *buf, size_t len, size_t *lens, bool *ok);

void dist_barrier(void);

#endif /* RK_CLI_DIST_H */
