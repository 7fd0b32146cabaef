/*
 * fuzz_dataset.c - libFuzzer harness of the file loaders and of a whole data-set folder: the
 * input becomes the files of a folder, rk_dataset_load() reads it, and a data set that loads is
 * bound to a 1-thread engine and given a small request (values, and by the first byte the grid
 * with parametric VaR, or stress).
 *
 * First byte, low 3 bits: 0-4 = the rest of the input is that one file (factors, covariance,
 * underlyings, positions, scenarios) and the other four are a small valid data set, so each
 * loader is reached past the files before it; 5-7 = the rest holds all five files separated by
 * NUL bytes (a file left out is absent; a NUL inside a CSV file is an error of its own, so the
 * separator takes nothing from the reader). The files go to a folder of this process under
 * $TMPDIR (or /tmp), removed at exit.
 */
#include <stdbool.h>
#include <unistd.h>

#include "fuzz_run.h"

static const char *const names[5] = {"factors.csv", "covariance.csv", "underlyings.csv",
                                     "positions.csv", "scenarios.csv"};

/* Two factors, one underlying of each kind, one position of each instrument, two scenarios. */
static const char *const valid[5] = {
    "factor,description\nEQ,equity\nIR,rates\n",
    "factor,EQ,IR\nEQ,1e-4,1e-7\nIR,1e-7,2.5e-7\n",
    "underlying,kind,value,EQ,IR\nS,spot,100,1,0\nR,rate,0.03,0,1\nV,vol,0.2,-1,0\n",
    "position,book,instrument,quantity,underlying,strike,expiry,rate,vol,dividend,coupon,"
    "frequency,steps\n"
    "P1,A,spot,10,S,,,,,,,,\n"
    "P2,A,forward,-5,S,95,0.5,R,,0.01,,,\n"
    "P3,B,european_call,3,S,100,1,0.02,V,,,,\n"
    "P4,B,european_put,2,S,110,0.25,R,0.3,0.01,,,\n"
    "P5,A,american_call,1,S,90,2,R,V,0.02,,,\n"
    "P6,B,american_put,4,S,105,1.5,0.01,0.25,,,,25\n"
    "P7,A,bond,1000,R,,10,,,,0.04,2,\n",
    "scenario,EQ,IR\nCRASH,-0.2,0.01\nRALLY,0.1,\n",
};

static char dir[256];

static void remove_dir(void)
{
    char path[320];
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void write_file(int i, const uint8_t *p, size_t n, bool present)
{
    char path[320];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if (!present) {
        unlink(path);
        return;
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0)
        fuzz_fail("cannot write %s", path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dir[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/rk-fuzz-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        if (mkdtemp(dir) == NULL)
            fuzz_fail("mkdtemp %s failed", dir);
        atexit(remove_dir);
    }
    if (size == 0)
        return 0;
    unsigned mode = data[0];
    data++;
    size--;
    unsigned which = mode & 7;
    if (which < 5) {
        for (int i = 0; i < 5; i++) {
            if (i == (int)which)
                write_file(i, data, size, true);
            else
                write_file(i, (const uint8_t *)valid[i], strlen(valid[i]), true);
        }
    } else {
        const uint8_t *p = data, *end = data + size;
        bool more = true;
        for (int i = 0; i < 5; i++) {
            if (!more) {
                write_file(i, NULL, 0, false);
                continue;
            }
            const uint8_t *q = memchr(p, 0, (size_t)(end - p));
            if (q == NULL)
                q = end;
            write_file(i, p, (size_t)(q - p), true);
            more = q < end;
            p = more ? q + 1 : end;
        }
    }

    rk_dataset *ds = NULL;
    char msg[512] = "";
    rk_status rc = rk_dataset_load(dir, &ds, msg, sizeof msg);
    if (rc != RK_OK) {
        if (ds != NULL)
            fuzz_fail("rk_dataset_load failed (%s) and still gave a data set", rk_strerror(rc));
        if (rc != RK_INVALID_INPUT && rc != RK_IO && rc != RK_NO_MEMORY)
            fuzz_fail("rk_dataset_load: unexpected %s: %s", rk_strerror(rc), msg);
        if (msg[0] == '\0' || strchr(msg, '\n') != NULL)
            fuzz_fail("rk_dataset_load: %s with message '%s' (want one line)", rk_strerror(rc),
                      msg);
        return 0;
    }
    size_t npos = rk_dataset_positions(ds), nerr = rk_dataset_error_count(ds);
    if (nerr > npos + rk_dataset_underlyings(ds))
        fuzz_fail("%zu error records for %zu positions and %zu underlyings", nerr, npos,
                  rk_dataset_underlyings(ds));
    for (size_t k = 0; k < nerr; k++) {
        rk_error_info e;
        if (rk_dataset_error(ds, k, &e) != RK_OK || e.code == RK_OK || e.message == NULL ||
            (e.position != RK_NONE && e.position >= npos))
            fuzz_fail("error record %zu malformed", k);
    }
    rk_portfolio *pf = NULL;
    rc = rk_portfolio_create(fuzz_engine(), ds, &pf);
    if (rc == RK_OK) {
        unsigned measures = RK_MEASURE_VALUES;
        if (mode & 0x40)
            measures |= RK_MEASURE_GRID | RK_MEASURE_PARAMETRIC_VAR;
        if (mode & 0x80)
            measures |= RK_MEASURE_STRESS;
        fuzz_request(pf, measures);
        rk_portfolio_destroy(pf);
    } else if (rc != RK_NO_MEMORY) {
        fuzz_fail("rk_portfolio_create on a loaded data set: %s", rk_strerror(rc));
    }
    rk_dataset_destroy(ds);
    return 0;
}
