/*
 * common.c - the parts every subcommand shares: option parsing, opening a run (data set,
 * engine, portfolio, errors.csv), phase timings, error rows, summary.json, progress. Under
 * mpirun it also shards the positions, checks that every rank sees the same market, and
 * brings error rows and per-position files to rank 0 (dist.h).
 */
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "csv.h"
#include "reference.h"

/* ---- options ---- */

bool cli_parse_only;

typedef enum opt_type { OPT_FLAG, OPT_STR, OPT_SIZE, OPT_U64, OPT_DOUBLE } opt_type;

typedef struct opt_def {
    const char *name;
    opt_type type;
    size_t offset;
} opt_def;

#define OPT(name, type, field)                                                                     \
    {                                                                                              \
        name, type, offsetof(cli_opts, field)                                                      \
    }

static const opt_def options[] = {
    OPT("data", OPT_STR, data),
    OPT("out", OPT_STR, out),
    OPT("threads", OPT_SIZE, threads),
    OPT("topology", OPT_STR, topology),
    OPT("no-pin", OPT_FLAG, no_pin),
    OPT("deadline-ms", OPT_DOUBLE, deadline_ms),
    OPT("quiet", OPT_FLAG, quiet),
    OPT("bump", OPT_DOUBLE, bump),
    OPT("method", OPT_STR, method),
    OPT("scenarios", OPT_SIZE, scenarios),
    OPT("seed", OPT_U64, seed),
    OPT("confidence", OPT_DOUBLE, confidence),
    OPT("es-confidence", OPT_DOUBLE, es_confidence),
    OPT("horizon", OPT_DOUBLE, horizon),
    OPT("write-scenarios", OPT_FLAG, write_scenarios),
    OPT("reference", OPT_FLAG, reference),
    OPT("reuse-unmoved", OPT_FLAG, reuse_unmoved),
    OPT("preset", OPT_STR, preset),
    OPT("isa", OPT_STR, isa),
    OPT("liquidity", OPT_STR, liquidity),
    OPT("pnl", OPT_STR, pnl),
    OPT("window", OPT_SIZE, window),
    OPT("trades", OPT_STR, trades),
};

static bool allowed_in(const char *allowed, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = allowed; (p = strstr(p, name)) != NULL; p += n) {
        bool start = p == allowed || p[-1] == ' ';
        bool end = p[n] == '\0' || p[n] == ' ';
        if (start && end)
            return true;
    }
    return false;
}

static bool parse_value(const opt_def *d, const char *cmd, const char *text, cli_opts *o)
{
    void *field = (char *)o + d->offset;
    char *end = NULL;
    errno = 0;
    switch (d->type) {
    case OPT_STR:
        *(const char **)field = text;
        return true;
    case OPT_SIZE:
    case OPT_U64: {
        if (text[0] == '-')
            break;
        unsigned long long v = strtoull(text, &end, 10);
        if (errno != 0 || end == text || *end != '\0')
            break;
        if (d->type == OPT_SIZE)
            *(size_t *)field = (size_t)v;
        else
            *(uint64_t *)field = (uint64_t)v;
        return true;
    }
    case OPT_DOUBLE: {
        double v = strtod(text, &end);
        if (errno != 0 || end == text || *end != '\0' || !isfinite(v))
            break;
        *(double *)field = v;
        return true;
    }
    case OPT_FLAG:
        break;
    }
    fprintf(stderr, "riskengine %s: --%s: '%s' is not a valid %s\n", cmd, d->name, text,
            d->type == OPT_DOUBLE ? "number" : "non-negative integer");
    return false;
}

/* Ranges and combinations every command shares; a bad one is a bad command line (exit 2). */
static bool check_opts(const char *cmd, const char *allowed, const cli_opts *o)
{
    if (allowed_in(allowed, "data") && (o->data == NULL || o->out == NULL)) {
        fprintf(stderr, "riskengine %s: --data DIR and --out DIR are required (see --help)\n",
                cmd);
        return false;
    }
    /* 0 or a negative budget would mean "already expired" to the API; on the command line it
     * is far likelier a slip than a wish to compute nothing. */
    if (o->deadline_given && !(o->deadline_ms > 0)) {
        fprintf(stderr, "riskengine %s: --deadline-ms must be > 0 (got %g)\n", cmd,
                o->deadline_ms);
        return false;
    }
    if (o->deadline_given && o->reference) {
        fprintf(stderr, "riskengine %s: --reference runs without deadlines: drop --deadline-ms\n",
                cmd);
        return false;
    }
    if (o->threads > CLI_MAX_THREADS) {
        fprintf(stderr, "riskengine %s: --threads must be at most %d (got %zu)\n", cmd,
                CLI_MAX_THREADS, o->threads);
        return false;
    }
    /* the library's range (rk_request_set_bump), checked here to name the option */
    if (!(o->bump >= RK_BUMP_MIN && o->bump <= RK_BUMP_MAX)) {
        fprintf(stderr, "riskengine %s: --bump must lie in [%g, %g] (got %g)\n", cmd,
                RK_BUMP_MIN, RK_BUMP_MAX, o->bump);
        return false;
    }
    return true;
}

bool cli_parse(int argc, char **argv, const char *cmd, const char *allowed, const char *help,
               cli_opts *o)
{
    memset(o, 0, sizeof *o);
    o->bump = 1e-4;
    o->method = "parametric";
    o->scenarios = 1000;
    o->seed = 1;
    o->confidence = 0.99;
    o->es_confidence = 0.975;
    o->horizon = 1.0;
    o->window = 250;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(help, stdout);
            exit(CLI_OK);
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "riskengine %s: unexpected argument '%s' (see --help)\n", cmd, a);
            return false;
        }
        char name[64];
        const char *eq = strchr(a + 2, '=');
        size_t n = eq != NULL ? (size_t)(eq - (a + 2)) : strlen(a + 2);
        if (n >= sizeof name)
            n = sizeof name - 1;
        memcpy(name, a + 2, n);
        name[n] = '\0';
        const opt_def *d = NULL;
        for (size_t k = 0; k < sizeof options / sizeof options[0]; k++)
            if (strcmp(options[k].name, name) == 0)
                d = &options[k];
        if (d == NULL || !allowed_in(allowed, name)) {
            fprintf(stderr, "riskengine %s: unknown option '--%s' (see --help)\n", cmd, name);
            return false;
        }
        if (d->type == OPT_FLAG) {
            if (eq != NULL) {
                fprintf(stderr, "riskengine %s: --%s takes no value\n", cmd, name);
                return false;
            }
            *(bool *)((char *)o + d->offset) = true;
            continue;
        }
        const char *value = eq != NULL ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (value == NULL) {
            fprintf(stderr, "riskengine %s: --%s needs a value\n", cmd, name);
            return false;
        }
        if (!parse_value(d, cmd, value, o))
            return false;
        if (strcmp(d->name, "deadline-ms") == 0)
            o->deadline_given = true;
    }
    if (!check_opts(cmd, allowed, o))
        return false;
    mdl_isa level;
    if (o->isa != NULL && strcmp(o->isa, "auto") != 0 && !mdl_isa_parse(o->isa, &level)) {
        fprintf(stderr, "riskengine %s: --isa %s: no such level (baseline, avx2, avx512, auto)\n",
                cmd, o->isa);
        return false;
    }
    return true;
}

/* ---- the run ---- */

static bool make_dir(const char *cmd, const char *dir)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) {
        dist_fail(cmd, "bad output folder '%s'", dir);
        return false;
    }
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(path, 0777);
        *p = '/';
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        dist_fail(cmd, "cannot create '%s': %s", dir, strerror(errno));
        return false;
    }
    return true;
}

void cli_out_partial(const cli_run *r, const char *name, char *buf, size_t len)
{
    /* "sub/file" is written as OUT/sub/.file.partial: beside the final name, in its folder */
    const char *base = strrchr(name, '/');
    int dirlen = base != NULL ? (int)(base - name + 1) : 0;
    snprintf(buf, len, "%s/%.*s.%s.partial", r->opt.out, dirlen, name, name + dirlen);
}

/* Test hook: RISKENGINE_TEST_FAULT=full:NAME makes output file NAME be written to /dev/full,
 * so that the write fails as on a full disk (ENOSPC). Unset in production. */
static bool full_fault(const char *name)
{
    const char *f = getenv("RISKENGINE_TEST_FAULT");
    return f != NULL && strncmp(f, "full:", 5) == 0 && strcmp(f + 5, name) == 0;
}

FILE *cli_out_open(cli_run *r, const char *name)
{
    if (!dist_is_root()) {
        FILE *f = fopen("/dev/null", "w");
        if (f == NULL)
            dist_fail(r->command, "cannot open /dev/null: %s", strerror(errno));
        return f;
    }
    char path[4200];
    cli_out_partial(r, name, path, sizeof path);
    FILE *f = fopen(full_fault(name) ? "/dev/full" : path, "w");
    if (f == NULL)
        dist_fail(r->command, "cannot write %s/%s: %s", r->opt.out, name, strerror(errno));
    return f;
}

void cli_out_discard(cli_run *r, FILE *f, const char *name)
{
    if (f == NULL)
        return;
    fclose(f);
    if (dist_is_root()) {
        char tmp[4200];
        cli_out_partial(r, name, tmp, sizeof tmp);
        unlink(tmp);
    }
}

/* Everything written, flushed to the disk, closed, then renamed over the final name: a reader
 * sees the previous file or the complete new one, never a part. */
bool cli_out_close(cli_run *r, FILE *f, const char *name)
{
    if (f == NULL)
        return false;
    if (!dist_is_root())
        return fclose(f) == 0;
    int err = 0;
    if (fflush(f) != 0)
        err = errno;
    else if (ferror(f))
        err = EIO; /* an earlier write failed; its errno is gone */
    if (err == 0 && fsync(fileno(f)) != 0 && errno != EINVAL)
        err = errno; /* EINVAL: a device (the test hook's /dev/full) cannot be synced */
    if (fclose(f) != 0 && err == 0)
        err = errno;
    char tmp[4200], path[4200];
    cli_out_partial(r, name, tmp, sizeof tmp);
    snprintf(path, sizeof path, "%s/%s", r->opt.out, name);
    if (err == 0 && !full_fault(name) && rename(tmp, path) != 0)
        err = errno;
    if (err == 0 && full_fault(name))
        err = ENOSPC; /* not reached: /dev/full fails the flush */
    if (err != 0) {
        unlink(tmp);
        dist_fail(r->command, "cannot write %s: %s", path, strerror(err));
        return false;
    }
    return true;
}

bool cli_rows_open(cli_run *r, const char *name, cli_rows *rows)
{
    memset(rows, 0, sizeof *rows);
    if (dist_is_root()) {
        rows->f = cli_out_open(r, name);
        if (rows->f != NULL)
            setvbuf(rows->f, NULL, _IOFBF, 1 << 20);
    } else {
        rows->f = open_memstream(&rows->buf, &rows->len);
        if (rows->f == NULL)
            dist_fail(r->command, "%s: no memory for this share's rows", name);
    }
    if (!cli_ok(r, rows->f != NULL)) {
        if (rows->f != NULL)
            fclose(rows->f);
        free(rows->buf);
        memset(rows, 0, sizeof *rows);
        return false;
    }
    return true;
}

bool cli_rows_close(cli_run *r, cli_rows *rows, const char *name)
{
    bool ok;
    if (dist_is_root()) {
        ok = dist_append_from_ranks(rows->f, NULL, 0);
        ok = cli_out_close(r, rows->f, name) && ok;
    } else {
        ok = fclose(rows->f) == 0;
        dist_append_from_ranks(NULL, rows->buf, ok ? rows->len : 0);
        if (!ok)
            dist_fail(r->command, "%s: this share's rows could not be kept", name);
    }
    free(rows->buf);
    memset(rows, 0, sizeof *rows);
    return cli_ok(r, ok);
}

bool cli_ok(cli_run *r, bool ok)
{
    return dist_agree(r->command, ok);
}

void cli_errors_flush(cli_run *r)
{
    if (dist_size() == 1)
        return;
    if (dist_is_root()) {
        if (!dist_append_from_ranks(r->errors, NULL, 0))
            fprintf(stderr, "riskengine %s: some error rows could not be written\n", r->command);
        return;
    }
    if (r->errors != NULL)
        fflush(r->errors);
    dist_append_from_ranks(NULL, r->errbuf, r->errors != NULL ? r->errlen : 0);
    /* start the next group with an empty buffer */
    if (r->errors != NULL)
        fclose(r->errors);
    free(r->errbuf);
    r->errbuf = NULL;
    r->errlen = 0;
    r->errors = open_memstream(&r->errbuf, &r->errlen);
}

void cli_error_totals(const cli_run *r, uint64_t by_code[RK_STATUS_COUNT_], uint64_t *rows)
{
    uint64_t v[RK_STATUS_COUNT_ + 1];
    memcpy(v, r->errors_by_code, sizeof r->errors_by_code);
    v[RK_STATUS_COUNT_] = r->nerror_rows;
    dist_sum_u64(v, RK_STATUS_COUNT_ + 1);
    memcpy(by_code, v, RK_STATUS_COUNT_ * sizeof v[0]);
    *rows = v[RK_STATUS_COUNT_];
}

/* CSV field: quoted when it holds a separator, quote or line break. */
void cli_csv_field(FILE *f, const char *s)
{
    if (s == NULL)
        return;
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void cli_error_row(cli_run *r, size_t row, const char *factor, const char *scenario, rk_status code,
                   const char *message)
{
    if ((unsigned)code < RK_STATUS_COUNT_)
        r->errors_by_code[code]++;
    r->nerror_rows++;
    if (r->errors == NULL)
        return;
    if (row < r->ds.pos.n)
        cli_csv_field(r->errors, r->ds.pos.id[row]);
    fputc(',', r->errors);
    cli_csv_field(r->errors, factor);
    fputc(',', r->errors);
    cli_csv_field(r->errors, scenario);
    fputc(',', r->errors);
    fputs(rk_status_name(code), r->errors);
    fputc(',', r->errors);
    cli_csv_field(r->errors, message);
    fputc('\n', r->errors);
}

/* Why a base value is not finite, naming the column to blame where one is: a finite unit
 * price makes it quantity x price that overflows. */
static void numeric_message(const cli_run *r, size_t i, char *msg, size_t len)
{
    const dat_positions *p = &r->ds.pos;
    double unit = rsk_ref_unit_price(&r->ds, i);
    if (isfinite(unit) && p->cols.quantity != 0)
        snprintf(msg, len,
                 "%s:%" PRIu32 ":%" PRIu32 ": base value is not finite: quantity %.17g x unit "
                 "price %.17g overflows",
                 p->file, p->line[i], p->cols.quantity, p->quantity[i], unit);
    else
        snprintf(msg, len, "%s:%" PRIu32 ": base value is not finite (the unit price is not)",
                 p->file, p->line[i]);
}

void cli_error_values(cli_run *r, const rsk_values *v)
{
    for (size_t i = 0; i < v->n; i++) {
        rk_status code = (rk_status)v->status[i];
        if (code == RK_OK || code == RK_INVALID_INPUT)
            continue;
        char msg[160];
        if (code == RK_NUMERIC)
            numeric_message(r, i, msg, sizeof msg);
        else
            snprintf(msg, sizeof msg, "base value not computed: %s", rk_strerror(code));
        cli_error_row(r, i, NULL, NULL, code, msg);
    }
    cli_errors_flush(r);
}

/* Data rows of positions.csv (header and comment lines excluded), or 0 when the file cannot
 * be read: the load then reports why, with file, line and column. */
static size_t count_position_rows(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/positions.csv", dir);
    dat_csv c;
    if (dat_csv_open(&c, path, "positions.csv") != 0)
        return 0;
    size_t n = 0;
    int rc;
    c.resync = true; /* a bad row is a row: the loader keeps it as an invalid position */
    while ((rc = dat_csv_next(&c)) == 1 || rc == DAT_CSV_BAD)
        n++;
    dat_csv_close(&c);
    return rc == 0 && n > 0 ? n - 1 : 0;
}

/* A digest of everything but the positions (FNV-1a, 64 bits): ranks compare theirs with rank
 * 0's, so that a node reading a different copy of the market files fails the job instead of
 * silently computing with other numbers. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    return h;
}

static uint64_t market_digest(const dat_dataset *ds)
{
    const dat_market *m = &ds->mkt;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    size_t F = m->nfactors, U = m->nund;
    h = fnv(h, &F, sizeof F);
    h = fnv(h, &U, sizeof U);
    for (size_t j = 0; j < F; j++)
        h = fnv(h, m->factor[j], strlen(m->factor[j]) + 1);
    h = fnv(h, m->cov, F * F * sizeof *m->cov);
    for (size_t u = 0; u < U; u++)
        h = fnv(h, m->und[u], strlen(m->und[u]) + 1);
    h = fnv(h, m->und_kind, U);
    h = fnv(h, m->und_ok, U);
    h = fnv(h, m->und_value, U * sizeof *m->und_value);
    h = fnv(h, m->beta, U * F * sizeof *m->beta);
    size_t S = ds->has_scenarios ? ds->scen.n : 0;
    h = fnv(h, &S, sizeof S);
    for (size_t s = 0; s < S; s++)
        h = fnv(h, ds->scen.name[s], strlen(ds->scen.name[s]) + 1);
    if (S > 0)
        h = fnv(h, ds->scen.shock, S * F * sizeof *ds->scen.shock);
    h = fnv(h, &ds->pos.nbooks, sizeof ds->pos.nbooks);
    return h;
}

/* Test hook, for the MPI tests only: RISKENGINE_TEST_FAULT=load:R makes rank R fail to load
 * its share, =die:R makes it die (SIGKILL) right after loading. Unset in production. */
static bool injected_fault(const char *what)
{
    const char *f = getenv("RISKENGINE_TEST_FAULT");
    size_t n = strlen(what);
    if (f == NULL || strncmp(f, what, n) != 0 || f[n] != ':')
        return false;
    char *end = NULL;
    long rank = strtol(f + n + 1, &end, 10);
    return end != f + n + 1 && *end == '\0' && rank == dist_rank();
}

/* The pricing kernels' level: --isa, or auto; under mpirun every rank takes the lowest level
 * any rank chose, so that all compute the same bits. A level this CPU cannot run fails this
 * rank. Collective. */
static bool choose_isa(cli_run *r, const char *command)
{
    mdl_isa isa = mdl_isa_auto();
    const char *want = r->opt.isa;
    bool ok = true;
    if (want != NULL && strcmp(want, "auto") != 0 && mdl_isa_parse(want, &isa)) {
        if (!mdl_isa_supported(isa)) {
            dist_fail(command, "--isa %s: this CPU cannot run it (best here: %s)", want,
                      mdl_isa_name(mdl_isa_best()));
            ok = false;
        }
    }
    if (!cli_ok(r, ok))
        return false;
    int level = (int)isa;
    dist_min_int(&level);
    return rsk_layout_set_isa(&r->layout, (mdl_isa)level) == RK_OK;
}

/* errors.csv at rank 0, an in-memory stream elsewhere (cli_errors_flush). Collective. */
static bool open_errors(cli_run *r)
{
    if (dist_is_root()) {
        r->errors = cli_out_open(r, "errors.csv");
        if (r->errors != NULL)
            fputs("position,factor,scenario,code,message\n", r->errors);
    } else {
        r->errors = open_memstream(&r->errbuf, &r->errlen);
        if (r->errors == NULL)
            dist_fail(r->command, "no memory for error rows");
    }
    return cli_ok(r, r->errors != NULL);
}

bool cli_run_open(cli_run *r, const cli_opts *o, const char *command, bool need_engine)
{
    memset(r, 0, sizeof *r);
    r->opt = *o;
    r->command = command;
    r->t0 = eng_now_ns();
    r->deadline_ns = ENG_NO_DEADLINE; /* set once the data is ready, below */
    if (!dist_is_root())
        r->opt.quiet = true; /* progress and totals come from rank 0 */
    if (cli_parse_only)
        return false;
    if (!cli_ok(r, !dist_is_root() || make_dir(command, o->out)))
        return false;
    mdl_init();

    char msg[512] = "";
    cli_phase_begin(r);
    /* Shards: contiguous row ranges, rank order = file order. Rank 0 counts the rows. */
    uint64_t total = dist_is_root() && dist_size() > 1 ? count_position_rows(o->data) : 0;
    dist_bcast(&total, sizeof total);
    dat_load_opts lo = {.first = 0, .count = SIZE_MAX};
    if (dist_size() > 1)
        dist_share((size_t)total, &lo.first, &lo.count);
    rk_status rc;
    if (injected_fault("load")) {
        rc = RK_IO;
        snprintf(msg, sizeof msg,
                 "positions.csv rows %zu..%zu: share not loaded (RISKENGINE_TEST_FAULT)",
                 lo.first + 1, lo.first + lo.count);
    } else {
        rc = dat_load(o->data, &lo, &r->ds, msg, sizeof msg);
    }
    if (rc != RK_OK)
        dist_fail(command, "%s", msg[0] ? msg : rk_strerror(rc));
    if (injected_fault("die"))
        raise(SIGKILL);
    if (!cli_ok(r, rc == RK_OK))
        return false;
    uint64_t digest = market_digest(&r->ds), root_digest = digest;
    dist_bcast(&root_digest, sizeof root_digest);
    if (digest != root_digest)
        dist_fail(command, "market data or scenarios differ from rank 0's: every rank must read "
                           "the same files");
    if (!cli_ok(r, digest == root_digest))
        return false;
    cli_phase_end(r, "load");

    if (!open_errors(r))
        return false;
    for (size_t i = 0; i < r->ds.nerrors; i++) {
        const dat_error *e = &r->ds.errors[i];
        /* records of unusable underlyings are in every share: rank 0 writes them */
        if (e->position >= r->ds.pos.n && !dist_is_root())
            continue;
        cli_error_row(r, e->position, NULL, NULL, e->code, e->message);
    }
    cli_errors_flush(r);
    uint64_t counts[2] = {r->ds.pos.n, dat_valid_count(&r->ds.pos)};
    dist_sum_u64(counts, 2);
    r->npos_all = (size_t)counts[0];
    r->nvalid_all = (size_t)counts[1];

    if (need_engine) {
        cli_phase_begin(r);
        eng_config cfg = {.threads = o->threads, .no_pin = o->no_pin, .topology = o->topology};
        rc = eng_create(&cfg, &r->eng, msg, sizeof msg);
        if (rc != RK_OK)
            dist_fail(command, "engine: %s", msg[0] ? msg : rk_strerror(rc));
        else if ((rc = rsk_layout_build(&r->ds, r->eng, &r->layout)) != RK_OK)
            dist_fail(command, "laying out positions: %s", rk_strerror(rc));
        if (!cli_ok(r, rc == RK_OK))
            return false;
        if (!choose_isa(r, command))
            return false;
        cli_phase_end(r, "layout");
    }
    /* The budget covers the computation, as a request's would: it starts once the data is
     * loaded and laid out, at the same moment on every rank (each then applies it to its own
     * share; coverage is combined from the counts). */
    dist_barrier();
    if (o->deadline_ms > 0) {
        /* saturating: a budget past the clock's range is no deadline */
        double ns = o->deadline_ms * 1e6;
        r->deadline_ns = ns >= 0x1p63 ? RK_DEADLINE_NONE : rk_deadline_in((int64_t)ns);
    }
    return true;
}

bool cli_run_open_bare(cli_run *r, const cli_opts *o, const char *command)
{
    memset(r, 0, sizeof *r);
    r->opt = *o;
    r->command = command;
    r->t0 = eng_now_ns();
    r->deadline_ns = ENG_NO_DEADLINE;
    if (!dist_is_root())
        r->opt.quiet = true;
    if (cli_parse_only)
        return false;
    return cli_ok(r, !dist_is_root() || make_dir(command, o->out)) && open_errors(r);
}

bool cli_run_close(cli_run *r)
{
    bool ok = true;
    if (r->errors != NULL) {
        /* ranks other than 0 hold an in-memory stream, already sent */
        ok = dist_is_root() ? cli_out_close(r, r->errors, "errors.csv") : fclose(r->errors) == 0;
    }
    r->errors = NULL;
    free(r->errbuf);
    r->errbuf = NULL;
    rsk_layout_free(&r->layout);
    eng_destroy(r->eng);
    r->eng = NULL;
    dat_free(&r->ds);
    return ok;
}

void cli_phase_begin(cli_run *r)
{
    r->phase_start = eng_now_ns();
}

void cli_phase_end(cli_run *r, const char *name)
{
    cli_phase_add(r, name, (double)(eng_now_ns() - r->phase_start) * 1e-9);
}

void cli_phase_add(cli_run *r, const char *name, double seconds)
{
    if (r->nphases < sizeof r->phases / sizeof r->phases[0]) {
        r->phases[r->nphases].name = name;
        r->phases[r->nphases].seconds = seconds;
        r->nphases++;
    }
}

void cli_note_request(cli_run *r, const rsk_task_info *info)
{
    if (info->stop_code == RK_DEADLINE)
        r->deadline_hit = true;
    double over = (double)info->stats.overshoot_ns * 1e-6;
    if (over > r->worst_overshoot_ms)
        r->worst_overshoot_ms = over;
}

/* ---- summary.json ---- */

static double peak_rss_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return NAN;
    return (double)ru.ru_maxrss / 1024.0; /* ru_maxrss is in KiB on Linux */
}

bool cli_write_summary(cli_run *r, void (*extra)(json_writer *w, void *arg), void *arg)
{
    uint64_t by_code[RK_STATUS_COUNT_], error_rows;
    cli_error_totals(r, by_code, &error_rows);
    double worst[2] = {r->worst_overshoot_ms, peak_rss_mib()};
    dist_max_double(worst, 2);
    bool deadline_hit = dist_any(r->deadline_hit);
    if (!dist_is_root())
        return cli_ok(r, true);
    FILE *f = cli_out_open(r, "summary.json");
    if (f == NULL)
        return cli_ok(r, false);
    json_writer w;
    json_init(&w, f);
    json_object_begin(&w, NULL);
    json_string(&w, "command", r->command);
    json_string(&w, "version", rk_version());
    json_object_begin(&w, "inputs");
    json_string(&w, "data", r->opt.data);
    json_string(&w, "out", r->opt.out);
    json_uint(&w, "threads_requested", r->opt.threads);
    json_string(&w, "topology", r->opt.topology);
    json_bool(&w, "pinning", !r->opt.no_pin);
    json_string(&w, "isa_requested", r->opt.isa != NULL ? r->opt.isa : "auto");
    if (r->opt.deadline_ms > 0)
        json_number(&w, "deadline_ms", r->opt.deadline_ms);
    else
        json_string(&w, "deadline_ms", NULL);
    json_object_end(&w);

    const dat_dataset *ds = &r->ds;
    json_object_begin(&w, "counts");
    json_uint(&w, "factors", ds->mkt.nfactors);
    json_uint(&w, "underlyings", ds->mkt.nund);
    json_uint(&w, "positions", r->npos_all);
    json_uint(&w, "positions_valid", r->nvalid_all);
    json_uint(&w, "books", ds->pos.nbooks);
    json_uint(&w, "scenarios_in_file", ds->has_scenarios ? ds->scen.n : 0);
    json_uint(&w, "error_rows", error_rows);
    json_object_end(&w);

    json_object_begin(&w, "errors_by_code");
    for (unsigned c = 0; c < RK_STATUS_COUNT_; c++)
        if (by_code[c] != 0)
            json_uint(&w, rk_status_name((rk_status)c), by_code[c]);
    json_object_end(&w);

    json_object_begin(&w, "deadline");
    json_bool(&w, "reached", deadline_hit);
    json_number(&w, "worst_overshoot_ms", worst[0]);
    json_object_end(&w);

    if (extra != NULL)
        extra(&w, arg);

    json_array_begin(&w, "phases");
    for (size_t i = 0; i < r->nphases; i++) {
        json_object_begin(&w, NULL);
        json_string(&w, "name", r->phases[i].name);
        json_number(&w, "seconds", r->phases[i].seconds);
        json_object_end(&w);
    }
    json_array_end(&w);
    json_number(&w, "wall_seconds", (double)(eng_now_ns() - r->t0) * 1e-9);
    /* under mpirun: the largest of the ranks, and rank 0's topology */
    json_number(&w, "peak_memory_mib", worst[1]);
    json_object_begin(&w, "processes");
    json_string(&w, "transport", dist_tp_kind());
    json_uint(&w, "count", (uint64_t)dist_size());
    json_object_end(&w);
    /* the level every rank priced at (the lowest any rank could run, see choose_isa) */
    if (r->eng != NULL)
        json_string(&w, "isa", mdl_isa_name(r->layout.isa));
    eng_topology_info topo;
    if (r->eng != NULL && eng_topology_get(r->eng, &topo) == RK_OK) {
        json_topology(&w, "topology_used", &topo);
        eng_topology_info_free(&topo);
    }
    json_object_end(&w);
    return cli_ok(r, cli_out_close(r, f, "summary.json"));
}

/* ---- progress ---- */

void cli_progress_init(cli_progress *p, const char *label, bool quiet)
{
    memset(p, 0, sizeof *p);
    p->label = label;
    p->quiet = quiet;
    p->tty = isatty(STDERR_FILENO) != 0;
    p->start = p->last = eng_now_ns();
}

void cli_progress_cb(void *arg, uint64_t done, uint64_t total)
{
    cli_progress *p = arg;
    if (p->quiet)
        return;
    int64_t now = eng_now_ns();
    uint64_t all = p->grand_total != 0 ? p->grand_total : total;
    uint64_t at = p->offset + done;
    /* a bar refreshes 5 times a second; plain lines every 5 seconds */
    int64_t every = p->tty ? 200000000 : 5000000000;
    if (now - p->last < every && at < all)
        return;
    p->last = now;
    double secs = (double)(now - p->start) * 1e-9;
    double rate = secs > 0 ? (double)at / secs : 0.0;
    double frac = all > 0 ? (double)at / (double)all : 1.0;
    double eta = rate > 0 ? (double)(all - (at < all ? at : all)) / rate : 0.0;
    if (p->tty) {
        char bar[31];
        int fill = (int)(frac * 30.0);
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%-10s [%s] %5.1f%%  %.3g cells/s  ETA %.0fs ", p->label, bar,
                100.0 * frac, rate, eta);
    } else {
        fprintf(stderr, "%s: %.1f%% (%" PRIu64 "/%" PRIu64 " cells), %.3g cells/s, ETA %.0fs\n",
                p->label, 100.0 * frac, at, all, rate, eta);
    }
    fflush(stderr);
}

void cli_progress_done(cli_progress *p)
{
    if (!p->quiet && p->tty)
        fputc('\n', stderr);
}

void cli_fmt_double(char *buf, size_t len, double x)
{
    if (!isfinite(x)) {
        buf[0] = '\0';
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}
