/*
 * csv.c - the streaming CSV reader, the C-locale number parsers and the small containers the
 * loaders share (growth with checked sizes, a string table). Format rules are in csv.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"

#define IN_CHUNK 65536u

bool dat_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap < 16 ? 16 : *cap;
    while (n < need) {
        if (!dat_size_mul(n, 2, &n))
            return false;
    }
    size_t bytes;
    if (!dat_size_mul(n, elem, &bytes))
        return false;
    void *q = realloc(*p, bytes);
    if (q == NULL)
        return false;
    *p = q;
    *cap = n;
    return true;
}

char *dat_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

/* ---- reader ---- */

static int fail(dat_csv *c, uint32_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An allocation failed: the same message form, and no_memory says why. */
static int fail_oom(dat_csv *c, uint32_t line, size_t col)
{
    c->no_memory = true;
    return fail(c, line, col, "out of memory");
}

static int fail(dat_csv *c, uint32_t line, size_t col, const char *fmt, ...)
{
    int n = snprintf(c->err, sizeof c->err, "%s:%u:%zu: ", c->name, (unsigned)line, col);
    if (n < 0 || (size_t)n >= sizeof c->err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, sizeof c->err - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

int dat_csv_open(dat_csv *c, const char *path, const char *name)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->max_field = DAT_CSV_MAX_FIELD;
    c->max_fields = DAT_CSV_MAX_FIELDS;
    c->cur_line = 1;
    c->at_start = true;
    /* Opened without blocking and checked before reading: a FIFO or a device would block or
     * never end; only a regular file is data. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        fail(c, 0, 0, "cannot open: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        fail(c, 0, 0, "cannot open: not a regular file");
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    c->f = fdopen(fd, "rb");
    if (c->f == NULL) {
        int err = errno;
        close(fd);
        if (err == ENOMEM) /* the stream's own buffer */
            return fail_oom(c, 0, 0);
        fail(c, 0, 0, "cannot open: %s", strerror(err));
        return -1;
    }
    c->in = malloc(IN_CHUNK);
    if (c->in == NULL) {
        fail_oom(c, 0, 0);
        dat_csv_close(c);
        return -1;
    }
    return 0;
}

void dat_csv_close(dat_csv *c)
{
    if (c->f != NULL)
        fclose(c->f);
    c->f = NULL;
    free(c->in);
    free(c->text);
    free(c->off);
    free(c->fline);
    c->in = NULL;
    c->text = NULL;
    c->off = NULL;
    c->fline = NULL;
    c->text_cap = c->fields_cap = 0;
}

/* Next byte without consuming it; -1 at end of file, -2 on a read error. */
static int peek(dat_csv *c)
{
    if (c->in_pos < c->in_len)
        return c->in[c->in_pos];
    if (c->eof || c->f == NULL)
        return -1;
    c->in_len = fread(c->in, 1, IN_CHUNK, c->f);
    c->in_pos = 0;
    if (c->in_len == 0) {
        c->eof = true;
        return ferror(c->f) ? -2 : -1;
    }
    return c->in[0];
}

static void advance(dat_csv *c)
{
    if (c->in[c->in_pos] == '\n')
        c->cur_line++;
    c->in_pos++;
}

static bool put_byte(dat_csv *c, char b)
{
    if (c->text_len == c->text_cap &&
        !dat_grow((void **)&c->text, &c->text_cap, c->text_len + 1, 1))
        return false;
    c->text[c->text_len++] = b;
    return true;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned b = s[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned cp;
        if (b >= 0xC2 && b <= 0xDF) {
            len = 2;
            cp = b & 0x1F;
        } else if (b >= 0xE0 && b <= 0xEF) {
            len = 3;
            cp = b & 0x0F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            len = 4;
            cp = b & 0x07;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        i += len;
    }
    return true;
}

/* Reads one field starting at the current byte. Returns the byte that ended it (',' or '\n'),
 * -1 at end of file, -3 after an error confined to the record (message set), or -4 after one
 * that is not: a read error, no memory, a quote still open at the end of the file. */
static int read_field(dat_csv *c, size_t k)
{
    size_t col = k + 1;
    uint32_t start_line = c->cur_line;
    size_t start = c->text_len;
    bool high = false, quoted = false;
    int ch;

    while ((ch = peek(c)) == ' ' || ch == '\t')
        advance(c);
    if (ch == '"') {
        quoted = true;
        advance(c);
        for (;;) {
            ch = peek(c);
            if (ch == -2)
                return fail(c, c->cur_line, col, "read error"), -4;
            if (ch == -1)
                return fail(c, start_line, col, "unterminated quoted field"), -4;
            advance(c);
            if (ch == '"') {
                if (peek(c) != '"')
                    break;
                advance(c);
            }
            if (ch >= 0x80)
                high = true;
            if (ch == 0)
                return fail(c, c->cur_line, col, "NUL byte in field"), -3;
            if (c->text_len - start >= c->max_field)
                return fail(c, start_line, col, "field longer than %zu bytes", c->max_field), -3;
            if (!put_byte(c, (char)ch))
                return fail_oom(c, start_line, col), -4;
        }
        while ((ch = peek(c)) == ' ' || ch == '\t')
            advance(c);
        if (ch == '\r') {
            advance(c);
            ch = peek(c);
            if (ch != '\n' && ch != -1)
                return fail(c, c->cur_line, col, "carriage return not followed by a line feed"),
                       -3;
        }
        if (ch != ',' && ch != '\n' && ch != -1)
            return fail(c, c->cur_line, col, "unexpected text after a closing quote"), -3;
    } else {
        for (;;) {
            ch = peek(c);
            if (ch == -2)
                return fail(c, c->cur_line, col, "read error"), -4;
            if (ch == -1 || ch == ',' || ch == '\n')
                break;
            advance(c);
            if (ch == '\r') {
                int nx = peek(c);
                if (nx == '\n' || nx == -1)
                    continue;
                return fail(c, c->cur_line, col, "carriage return not followed by a line feed"),
                       -3;
            }
            if (ch == '"')
                return fail(c, c->cur_line, col,
                            "quote inside an unquoted field (quote the whole field)"),
                       -3;
            if (ch == 0)
                return fail(c, c->cur_line, col, "NUL byte in field"), -3;
            if (ch >= 0x80)
                high = true;
            if (c->text_len - start >= c->max_field)
                return fail(c, start_line, col, "field longer than %zu bytes", c->max_field), -3;
            if (!put_byte(c, (char)ch))
                return fail_oom(c, start_line, col), -4;
        }
        while (c->text_len > start &&
               (c->text[c->text_len - 1] == ' ' || c->text[c->text_len - 1] == '\t'))
            c->text_len--;
    }
    if (high && !utf8_ok((const unsigned char *)c->text + start, c->text_len - start))
        return fail(c, start_line, col, "invalid UTF-8"), -3;
    if (!put_byte(c, '\0'))
        return fail_oom(c, start_line, col), -4;
    c->off[k] = start;
    c->fline[k] = start_line;
    c->last_quoted = quoted;
    if (ch == ',' || ch == '\n')
        advance(c);
    return ch;
}

static void skip_line(dat_csv *c)
{
    int ch;
    while ((ch = peek(c)) >= 0) {
        advance(c);
        if (ch == '\n')
            break;
    }
}

/* A format error confined to the current record: with resync on, the rest of the line is
 * skipped (quotes included: the reader cannot know which quotes were meant) and the record
 * is reported as bad; otherwise the read stops. */
static int bad_record(dat_csv *c)
{
    if (!c->resync)
        return -1;
    skip_line(c);
    return DAT_CSV_BAD;
}

int dat_csv_next(dat_csv *c)
{
    for (;;) {
        int ch = peek(c);
        if (ch == -2)
            return fail(c, c->cur_line, 1, "read error");
        if (ch == -1)
            return 0;
        if (c->at_start) {
            c->at_start = false;
            if (ch == 0xEF && c->in_len - c->in_pos >= 3 && c->in[c->in_pos + 1] == 0xBB &&
                c->in[c->in_pos + 2] == 0xBF) {
                c->in_pos += 3;
                continue;
            }
        }
        if (ch == '#') {
            skip_line(c);
            continue;
        }

        c->line = c->cur_line;
        c->text_len = 0;
        c->nfields = 0;
        for (;;) {
            size_t k = c->nfields;
            if (k >= c->max_fields) {
                fail(c, c->cur_line, k + 1, "more than %zu fields in a record", c->max_fields);
                return bad_record(c);
            }
            if (k >= c->fields_cap) {
                size_t cap = c->fields_cap;
                if (!dat_grow((void **)&c->off, &cap, k + 1, sizeof *c->off))
                    return fail_oom(c, c->cur_line, k + 1);
                size_t cap2 = c->fields_cap;
                if (!dat_grow((void **)&c->fline, &cap2, k + 1, sizeof *c->fline))
                    return fail_oom(c, c->cur_line, k + 1);
                c->fields_cap = cap < cap2 ? cap : cap2;
            }
            int end = read_field(c, k);
            if (end == -3)
                return bad_record(c);
            if (end == -4)
                return -1;
            c->nfields = k + 1;
            if (end != ',')
                break;
        }
        /* One empty unquoted field: the line was empty or held only spaces and tabs. */
        if (c->nfields == 1 && !c->last_quoted && dat_csv_field(c, 0)[0] == '\0')
            continue;
        return 1;
    }
}

/* ---- numbers ---- */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

/* The C locale object, created once and never changed afterwards (immutable shared state). */
static void make_c_locale(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

bool dat_looks_numeric(const char *s)
{
    char c = s[0];
    if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')
        return true;
    const char *words[] = {"nan", "inf", "infinity"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i]);
        size_t k = 0;
        while (k < n && s[k] != '\0' && (s[k] | 0x20) == words[i][k])
            k++;
        if (k == n && s[k] == '\0')
            return true;
    }
    return false;
}

bool dat_parse_double(const char *s, double *out, const char **why)
{
    const char *p = s;
    if (*p == '\0') {
        *why = "empty";
        return false;
    }
    /* The grammar is checked by hand so that strtod never sees nan, inf, hex or locale forms. */
    if (*p == '+' || *p == '-')
        p++;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9')
        p++, digits++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++, digits++;
    }
    if (digits == 0) {
        const char *q = (*s == '+' || *s == '-') ? s + 1 : s;
        if ((q[0] | 0x20) == 'n' || (q[0] | 0x20) == 'i')
            *why = "not a finite number (nan and inf are rejected)";
        else
            *why = "not a number";
        return false;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9')) {
            *why = "malformed exponent";
            return false;
        }
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p != '\0') {
        if ((*p == 'x' || *p == 'X'))
            *why = "hexadecimal numbers are not accepted";
        else if (*p == ',')
            *why = "decimal comma (use a point)";
        else
            *why = "trailing characters after the number";
        return false;
    }
    pthread_once(&c_locale_once, make_c_locale);
    if (c_locale == (locale_t)0) {
        *why = "cannot create the C locale";
        return false;
    }
    locale_t old = uselocale(c_locale);
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    int err = errno;
    uselocale(old);
    if (end != p) {
        *why = "not a number";
        return false;
    }
    if (err == ERANGE && (v > 1.0 || v < -1.0)) {
        *why = "out of range (overflow)";
        return false;
    }
    *out = v;
    return true;
}

bool dat_parse_uint(const char *s, uint64_t max, uint64_t *out, const char **why)
{
    if (*s == '\0') {
        *why = "empty";
        return false;
    }
    uint64_t v = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            *why = "not a non-negative integer";
            return false;
        }
        unsigned d = (unsigned)(*p - '0');
        if (v > (max - d) / 10) {
            *why = "integer too large";
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* ---- string table ---- */

static uint32_t hash_str(const char *s)
{
    /* FNV-1a, then a final mix so that the low bits (the slot index) depend on every byte. */
    uint32_t h = 2166136261u;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    return h;
}

uint32_t dat_strtab_get(const dat_strtab *t, const char *key)
{
    if (t->mask == 0)
        return UINT32_MAX;
    uint32_t h = hash_str(key);
    for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
        const struct dat_strtab_slot *s = &t->slot[i];
        if (s->key == NULL)
            return UINT32_MAX;
        if (s->hash == h && strcmp(s->key, key) == 0)
            return s->value;
    }
}

static bool rehash(dat_strtab *t, size_t nslots)
{
    struct dat_strtab_slot *slot = calloc(nslots, sizeof *slot);
    if (slot == NULL)
        return false;
    size_t mask = nslots - 1;
    if (t->mask != 0) {
        for (size_t i = 0; i <= t->mask; i++) {
            if (t->slot[i].key == NULL)
                continue;
            size_t j = t->slot[i].hash & mask;
            while (slot[j].key != NULL)
                j = (j + 1) & mask;
            slot[j] = t->slot[i];
        }
    }
    free(t->slot);
    t->slot = slot;
    t->mask = mask;
    return true;
}

int dat_strtab_put(dat_strtab *t, const char *key, uint32_t value, uint32_t *old)
{
    size_t slots = t->mask == 0 ? 0 : t->mask + 1;
    if ((t->count + 1) * 2 > slots) {
        size_t n = slots == 0 ? 64 : slots;
        while ((t->count + 1) * 2 > n) {
            if (!dat_size_mul(n, 2, &n))
                return -1;
        }
        size_t bytes;
        if (!dat_size_mul(n, sizeof *t->slot, &bytes) || !rehash(t, n))
            return -1;
    }
    uint32_t h = hash_str(key);
    size_t i = h & t->mask;
    for (;; i = (i + 1) & t->mask) {
        struct dat_strtab_slot *s = &t->slot[i];
        if (s->key == NULL)
            break;
        if (s->hash == h && strcmp(s->key, key) == 0) {
            if (old != NULL)
                *old = s->value;
            return 0;
        }
    }
    t->slot[i].key = key;
    t->slot[i].hash = h;
    t->slot[i].value = value;
    t->count++;
    return 1;
}

void dat_strtab_free(dat_strtab *t)
{
    free(t->slot);
    memset(t, 0, sizeof *t);
}
