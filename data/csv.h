/*
 * csv.h - the streaming CSV reader and the locale-independent number parsers every loader uses.
 *
 * Format (contract §5): UTF-8 (a leading byte-order mark is skipped), `,` separator, RFC 4180
 * quoted fields ("a,b", "say ""hi"""), lines ending in LF or CRLF. A line whose first byte is
 * `#` is a comment; an empty line (or one of spaces and tabs only) is skipped. Unquoted fields
 * are trimmed of spaces and tabs at both ends; quoted fields are kept exactly. A quote inside an
 * unquoted field, text after a closing quote, an unterminated quote, a NUL byte, invalid UTF-8,
 * a field longer than max_field or a record with more than max_fields fields stop the read with
 * one message "file:line:col: reason" (or, for a reader with resync set, skip that record only:
 * see dat_csv_next).
 *
 * Every field carries the line it starts on (a quoted field may span lines) and its column, the
 * 1-based index of the field in its record.
 *
 * Threading: a reader belongs to one thread. The number parsers may be called from any thread.
 */
#ifndef DAT_CSV_H
#define DAT_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Default limits; a reader's limits may be lowered or raised before the first record. */
#define DAT_CSV_MAX_FIELD 65536u   /* bytes in one field */
#define DAT_CSV_MAX_FIELDS 100000u /* fields in one record */

typedef struct dat_csv {
    FILE *f;
    char name[64];        /* file name used in messages ("positions.csv") */
    size_t max_field;     /* limits, see above */
    size_t max_fields;
    /* read buffer */
    unsigned char *in;
    size_t in_len, in_pos;
    bool eof;
    bool at_start;        /* nothing read yet (byte-order mark check) */
    uint32_t cur_line;    /* line of the next byte to read */
    /* the current record: fields stored NUL-terminated, back to back, in text[] */
    char *text;
    size_t text_len, text_cap;
    size_t *off;          /* offset of field k in text */
    uint32_t *fline;      /* line field k starts on */
    size_t nfields, fields_cap;
    uint32_t line;        /* line the current record starts on */
    bool last_quoted;     /* the last field read was quoted */
    bool resync;          /* set by the caller: a bad record is skipped, not the end (below) */
    char err[320];        /* "file:line:col: reason" after dat_csv_next() returned -1 */
    bool no_memory;       /* that failure was an allocation (the caller's RK_NO_MEMORY) */
} dat_csv;

/* Opens path for reading; name is the file name used in messages. Returns 0, or -1 with
 * "name:0:0: cannot open: <strerror>" in err (the reader is then closed). */
int dat_csv_open(dat_csv *c, const char *path, const char *name);

/* Reads the next record. Returns 1 (a record is available), 0 (end of file) or -1 (a format
 * error or a read error; err holds the message).
 *
 * With resync set, a format error confined to one record (a quote inside an unquoted field,
 * text after a closing quote, a NUL byte, invalid UTF-8, a lone carriage return, a field or
 * record over the limits) returns DAT_CSV_BAD instead: err holds the message, line the line the
 * record starts on, the fields read before the error are available (nfields of them) and the
 * reader has skipped to the next line. What cannot be confined to a record still returns -1: a
 * read error, no memory, and a quoted field still open at the end of the file. */
#define DAT_CSV_BAD 2
int dat_csv_next(dat_csv *c);

/* Field k (0-based) of the current record; valid until the next dat_csv_next(). */
static inline const char *dat_csv_field(const dat_csv *c, size_t k)
{
    return c->text + c->off[k];
}

/* Line the field k starts on. Its column is k + 1. */
static inline uint32_t dat_csv_field_line(const dat_csv *c, size_t k)
{
    return c->fline[k];
}

/* Releases the reader's buffers and closes the file. Harmless on a closed or zeroed reader. */
void dat_csv_close(dat_csv *c);

/*
 * Parses a number in C-locale notation: optional sign, digits with an optional decimal point,
 * optional exponent ("1e-4", "-0.5", ".5", "5."). No surrounding spaces. Rejects the empty
 * string, nan, inf, hexadecimal, a decimal comma, trailing characters and overflow; *why is then
 * set to a short static reason. An underflow to zero or a subnormal is accepted. Any thread.
 */
bool dat_parse_double(const char *s, double *out, const char **why);

/* Parses a non-negative decimal integer (digits only) not above max. Same contract. */
bool dat_parse_uint(const char *s, uint64_t max, uint64_t *out, const char **why);

/* True when s looks like an attempt at a number (starts with a digit, sign or point, or is a
 * spelling of nan/inf), to tell "bad number" from "unknown name" in rate/vol cells. */
bool dat_looks_numeric(const char *s);

/* a*b and a+b on sizes; false on overflow (and *out untouched). */
static inline bool dat_size_mul(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b)
        return false;
    *out = a * b;
    return true;
}

static inline bool dat_size_add(size_t a, size_t b, size_t *out)
{
    if (a > SIZE_MAX - b)
        return false;
    *out = a + b;
    return true;
}

/* Grows *p (an array of *cap elements of elem bytes) to hold at least need elements, doubling.
 * Returns false on overflow or allocation failure, leaving *p and *cap as they were. */
bool dat_grow(void **p, size_t *cap, size_t need, size_t elem);

/* A string to index table with borrowed keys (the caller keeps them alive and unchanged).
 * Open addressing, power-of-two size, at most half full. */
typedef struct dat_strtab {
    struct dat_strtab_slot {
        const char *key; /* NULL = empty */
        uint32_t hash;
        uint32_t value;
    } *slot;
    size_t mask;  /* slots - 1; 0 when not allocated */
    size_t count;
} dat_strtab;

/* Looks key up: its value, or UINT32_MAX. */
uint32_t dat_strtab_get(const dat_strtab *t, const char *key);
/* Inserts key -> value unless the key is present. Returns 1 inserted, 0 present (then *old, when
 * not NULL, receives the stored value), -1 out of memory. */
int dat_strtab_put(dat_strtab *t, const char *key, uint32_t value, uint32_t *old);
void dat_strtab_free(dat_strtab *t);

/* Copy of s (malloc), or NULL. */
char *dat_strdup(const char *s);

#endif /* DAT_CSV_H */
