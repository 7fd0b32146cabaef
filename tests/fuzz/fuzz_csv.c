/*
 * fuzz_csv.c - libFuzzer harness of the CSV reader (data/csv.h): the input is a file, read
 * record by record to the end or to its error, every field also through the number parsers.
 *
 * The first byte picks the reader's limits (high bit set: a field of 8-71 bytes and 1-16 fields
 * per record, so the limit errors are reached with small inputs; clear: the defaults); the rest
 * is the file. Besides the sanitizers, it checks what csv.h promises of every record: fields
 * NUL-terminated inside the record's text and within the field limit, lines that never go back,
 * and an error message "name:line:col: reason".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "fuzz.h"

static char *to_remove;

static void remove_it(void)
{
    if (to_remove != NULL)
        unlink(to_remove);
}

/* Removes path (kept by the caller) when the process exits. */
static void unlink_at_exit(char *path)
{
    to_remove = path;
    atexit(remove_it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned mode = data[0];
    data++;
    size--;
    dat_csv c;
    /* The reader opens regular files by path; the input is a memory stream put in the place of
     * an empty file's, with the reader's state as dat_csv_open() leaves it. */
    static char empty[64];
    if (empty[0] == '\0') {
        const char *dir = getenv("TMPDIR");
        snprintf(empty, sizeof empty, "%s/fuzz_csv.XXXXXX",
                 dir != NULL && strlen(dir) < 40 ? dir : "/tmp");
        int fd = mkstemp(empty);
        if (fd < 0)
            fuzz_fail("cannot create %s", empty);
        close(fd);
        unlink_at_exit(empty);
    }
    if (dat_csv_open(&c, empty, "fuzz.csv") != 0)
        fuzz_fail("cannot open %s: %s", empty, c.err);
    fclose(c.f);
    c.f = fmemopen(size ? (void *)data : (void *)"", size ? size : 1, "rb");
    if (c.f == NULL)
        fuzz_fail("fmemopen failed");
    if (size == 0)
        fgetc(c.f); /* an empty file: the stream's one byte consumed */
    if (mode & 0x80) {
        c.max_field = 8 + (mode & 0x3f);
        c.max_fields = 1 + (mode & 0x0f);
    }
    uint32_t last_line = 0;
    int rc;
    while ((rc = dat_csv_next(&c)) == 1) {
        if (c.nfields == 0 || c.nfields > c.max_fields)
            fuzz_fail("record of %zu fields (limit %zu)", c.nfields, c.max_fields);
        if (c.line < last_line)
            fuzz_fail("record line %u after line %u", c.line, last_line);
        last_line = c.line;
        for (size_t k = 0; k < c.nfields; k++) {
            const char *s = dat_csv_field(&c, k);
            if (c.off[k] >= c.text_len)
                fuzz_fail("field %zu starts at %zu past the text (%zu)", k, c.off[k], c.text_len);
            size_t n = strlen(s);
            if (n > c.max_field)
                fuzz_fail("field of %zu bytes (limit %zu)", n, c.max_field);
            if (dat_csv_field_line(&c, k) < c.line)
                fuzz_fail("field line %u before its record's %u", dat_csv_field_line(&c, k),
                          c.line);
            double d;
            uint64_t u;
            const char *why = NULL;
            if (!dat_parse_double(s, &d, &why) && why == NULL)
                fuzz_fail("number rejected without a reason: '%s'", s);
            if (dat_parse_double(s, &d, &why) && (d != d || d - d != 0))
                fuzz_fail("non-finite number accepted: '%s'", s);
            why = NULL;
            if (!dat_parse_uint(s, 1000000, &u, &why) && why == NULL)
                fuzz_fail("integer rejected without a reason: '%s'", s);
            if (dat_parse_uint(s, 1000000, &u, &why) && u > 1000000)
                fuzz_fail("integer over its maximum accepted: '%s'", s);
            (void)dat_looks_numeric(s);
        }
    }
    if (rc == -1 && strncmp(c.err, "fuzz.csv:", 9) != 0)
        fuzz_fail("error without its file name: '%s'", c.err);
    if (rc == -1 && strstr(c.err, ": ") == NULL)
        fuzz_fail("error without a reason: '%s'", c.err);
    dat_csv_close(&c);
    return 0;
}
