/*
 * failmalloc.c - an LD_PRELOAD library that makes the N-th allocation of a program fail, for the
 * allocation-failure loop over the command line (tests/oom/run-oom-tests).
 *
 * RK_FAIL_AT=N    the N-th allocation made from the start of main() fails (NULL, ENOMEM);
 *                 allocations before main (the C library's and the shared libraries' own set-up)
 *                 are not counted: they are not the program's
 * RK_FAIL_REPORT  a file that receives, at exit, "<allocations counted> <1 if one failed>"
 *
 * main() is found by wrapping __libc_start_main, which the C start-up code calls with it.
 *
 * Allocations made by hwloc itself, and by the dynamic loader, are neither counted nor failed:
 * hwloc's topology discovery (2.9) does not check all of its allocations (a failed bitmap
 * allocation during hwloc_topology_load ends in a NULL dereference in hwloc_bitmap_copy), and
 * the dynamic loader ends the process ("out of memory", status 127) when it cannot allocate
 * while loading hwloc's plugins. Failing those tests them, not this program; the program's
 * own allocations around them fail in turn.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The address ranges of libhwloc's and the dynamic loader's mapped segments, found before
 * counting starts. */
typedef struct range {
    uintptr_t lo, hi;
} range;
static range exempt[2];
static int in(const range *r, const void *p)
{
    return (uintptr_t)p >= r->lo && (uintptr_t)p < r->hi;
}
#define MH_EXEMPT(caller) (in(&exempt[0], caller) || in(&exempt[1], caller))

#include "malloc_hook.h"

static int find_exempt(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    range *r = NULL;
    if (info->dlpi_name != NULL && strstr(info->dlpi_name, "libhwloc") != NULL)
        r = &exempt[0];
    else if (info->dlpi_name != NULL && strstr(info->dlpi_name, "ld-linux") != NULL)
        r = &exempt[1];
    for (int i = 0; r != NULL && i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (r->lo == 0 || lo < r->lo)
            r->lo = lo;
        if (hi > r->hi)
            r->hi = hi;
    }
    return 0;
}

typedef int (*main_fn)(int, char **, char **);
static main_fn real_main;
static long fail_at;

static void report(void)
{
    const char *path = getenv("RK_FAIL_REPORT");
    if (path == NULL)
        return;
    atomic_store(&mh_fail_in, 0);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return;
    fprintf(f, "%lu %d\n", atomic_load(&mh_allocs), atomic_load(&mh_failed));
    fclose(f);
}

static int wrapped_main(int argc, char **argv, char **envp)
{
    const char *n = getenv("RK_FAIL_AT");
    fail_at = n != NULL ? atol(n) : 0;
    atexit(report); /* registered before counting: its own allocation does not count */
    /* Programs this one starts (the report's gnuplot, through sh) run without the failure. */
    unsetenv("LD_PRELOAD");
    unsetenv("RK_FAIL_AT");
    dl_iterate_phdr(find_exempt, NULL);
    atomic_store(&mh_allocs, 0);
    atomic_store(&mh_counting, 1);
    atomic_store(&mh_fail_in, fail_at);
    return real_main(argc, argv, envp);
}

int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void),
                      void (*fini)(void), void (*rtld_fini)(void), void *stack_end);

int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void),
                      void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
    typedef int (*start_fn)(main_fn, int, char **, void (*)(void), void (*)(void),
                            void (*)(void), void *);
    void *sym = dlsym(RTLD_NEXT, "__libc_start_main");
    start_fn real;
    memcpy(&real, &sym, sizeof real); /* POSIX: dlsym's object pointer names a function */
    real_main = main;
    return real(wrapped_main, argc, argv, init, fini, rtld_fini, stack_end);
}
