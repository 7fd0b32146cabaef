/*
 * util.c - helpers shared by the test programs: temporary folders, files, bit comparisons.
 */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <stdarg.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

int rk_test_same_bits(double a, double b)
{
    uint64_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return x == y;
}

char *rk_test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    size_t len = strlen(base) + sizeof "/rk-test-XXXXXX";
    char *path = malloc(len);
    if (path == NULL)
        return NULL;
    snprintf(path, len, "%s/rk-test-XXXXXX", base);
    if (mkdtemp(path) == NULL) {
        free(path);
        return NULL;
    }
    return path;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void rk_test_rmtree(const char *dir)
{
    if (dir != NULL)
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *rk_test_tmp;

void rk_test_tmp_setup(void)
{
    rk_test_tmp = rk_test_tmpdir();
    ck_assert_ptr_nonnull(rk_test_tmp);
}

void rk_test_tmp_teardown(void)
{
    rk_test_rmtree(rk_test_tmp);
    free(rk_test_tmp);
    rk_test_tmp = NULL;
}

char *rk_test_tmp_path(const char *name)
{
    size_t len = strlen(rk_test_tmp) + strlen(name) + 2;
    char *p = malloc(len);
    if (p != NULL)
        snprintf(p, len, "%s/%s", rk_test_tmp, name);
    return p;
}

int rk_test_write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int ok = fputs(text, f) >= 0;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

const char *rk_test_program(void)
{
    const char *p = getenv("RK_PROGRAM");
    return p != NULL && p[0] != '\0' ? p : "build/riskengine";
}

int rk_test_run_program(const char *dir, const char *const *args)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = rk_test_program();
    for (int i = 0; args[i] != NULL && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/stdout.txt", dir);
        int fo = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        snprintf(path, sizeof path, "%s/stderr.txt", dir);
        int fe = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0)
            _exit(126);
        dup2(fo, 1);
        dup2(fe, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int rk_test_run(const char *dir, const char *arg0, ...)
{
    const char *args[63];
    int n = 0;
    va_list ap;
    va_start(ap, arg0);
    for (const char *a = arg0; a != NULL && n < 62; a = va_arg(ap, const char *))
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    return rk_test_run_program(dir, args);
}

char *rk_test_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *rk_test_slurp(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long len = ftell(f);
        if (len >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len + 1)) != NULL) {
            if (fread(buf, 1, (size_t)len, f) == (size_t)len) {
                buf[len] = '\0';
            } else {
                free(buf);
                buf = NULL;
            }
        }
    }
    fclose(f);
    return buf;
}
