/*
 * dist_mpi.c - the transport of dist.h over MPI (Open MPI), compiled only when the build found
 * an MPI compiler (build/config.mk: HAVE_MPI := 1).
 *
 * Started by mpirun (OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_SIZE in the environment) it joins
 * MPI_COMM_WORLD with MPI_THREAD_FUNNELED: only the main thread calls MPI, the engine's workers
 * never do. Started any other way it does not initialise MPI at all (no singleton start-up, no
 * daemon, no cost) and behaves as a group of one, exactly like the program built without MPI.
 *
 * Errors: MPI's default handler (MPI_ERRORS_ARE_FATAL) stays in place, so a broken transport
 * aborts the job instead of hanging; failures of the computation itself are agreed on through
 * dist_agree() and end every rank cleanly.
 */
#include <limits.h>
#include <stdlib.h>

#include <mpi.h>

#include "dist.h"

/* Set once by dist_tp_init on the main thread, read-only afterwards. */
static bool started;
static int my_rank, group_size = 1;

/* Largest piece one MPI call moves: counts are int. */
#define PIECE ((size_t)1 << 30)

static bool under_mpirun(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") != NULL || getenv("PMIX_RANK") != NULL ||
           getenv("PMI_SIZE") != NULL;
}

bool dist_tp_init(int *argc, char ***argv)
{
    if (!under_mpirun())
        return true;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "riskengine: MPI_Init_thread failed\n");
        return false;
    }
    started = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &my_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &group_size);
    return true;
}

void dist_tp_finalize(void)
{
    if (started)
        MPI_Finalize();
    started = false;
}

int dist_tp_rank(void)
{
    return my_rank;
}

int dist_tp_size(void)
{
    return group_size;
}

const char *dist_tp_kind(void)
{
    return started ? "mpi" : "single";
}

void dist_tp_min_int(int *v)
{
    if (started)
        MPI_Allreduce(MPI_IN_PLACE, v, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
}

void dist_tp_sum_u64(uint64_t *v, size_t n)
{
    for (size_t at = 0; started && at < n; at += PIECE / 8) {
        size_t k = n - at < PIECE / 8 ? n - at : PIECE / 8;
        MPI_Allreduce(MPI_IN_PLACE, v + at, (int)k, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    }
}

void dist_tp_max_double(double *v, size_t n)
{
    for (size_t at = 0; started && at < n; at += PIECE / 8) {
        size_t k = n - at < PIECE / 8 ? n - at : PIECE / 8;
        MPI_Allreduce(MPI_IN_PLACE, v + at, (int)k, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    }
}

void dist_tp_bcast(void *buf, size_t bytes, int root)
{
    for (size_t at = 0; started && at < bytes; at += PIECE) {
        size_t k = bytes - at < PIECE ? bytes - at : PIECE;
        MPI_Bcast((char *)buf + at, (int)k, MPI_BYTE, root, MPI_COMM_WORLD);
    }
}

void dist_tp_send_to_root(const void *buf, size_t len)
{
    if (!started)
        return;
    uint64_t n = len;
    MPI_Send(&n, 1, MPI_UINT64_T, 0, 1, MPI_COMM_WORLD);
    for (size_t at = 0; at < len; at += PIECE) {
        size_t k = len - at < PIECE ? len - at : PIECE;
        MPI_Send((const char *)buf + at, (int)k, MPI_BYTE, 0, 2, MPI_COMM_WORLD);
    }
}

bool dist_tp_recv_from(int from, void **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    if (!started)
        return true;
    uint64_t n = 0;
    MPI_Recv(&n, 1, MPI_UINT64_T, from, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    char *b = malloc(n > 0 ? (size_t)n : 1);
    /* Receive every piece even without memory, so that the sender is not left blocked. */
    char scratch[4096];
    for (size_t at = 0; at < n; at += PIECE) {
        size_t k = n - at < PIECE ? (size_t)n - at : PIECE;
        if (b != NULL) {
            MPI_Recv(b + at, (int)k, MPI_BYTE, from, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            /* a message must be received whole: probe its size and drop it in pieces of it */
            MPI_Status st;
            int count = 0;
            MPI_Probe(from, 2, MPI_COMM_WORLD, &st);
            MPI_Get_count(&st, MPI_BYTE, &count);
            char *tmp = malloc((size_t)count);
            MPI_Recv(tmp != NULL ? tmp : scratch, tmp != NULL ? count : 0, MPI_BYTE, from, 2,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            free(tmp);
        }
    }
    if (b == NULL)
        return false;
    *buf = b;
    *len = (size_t)n;
    return true;
}

void dist_tp_barrier(void)
{
    if (started)
        MPI_Barrier(MPI_COMM_WORLD);
}
