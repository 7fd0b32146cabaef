/*
 * json.c - the JSON writer (see json.h).
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void json_init(json_writer *w, FILE *f)
{
    memset(w, 0, sizeof *w);
    w->f = f;
}

static void indent(json_writer *w)
{
    fputc('\n', w->f);
    for (int i = 0; i < w->depth; i++)
        fputs("  ", w->f);
}

static void write_escaped(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* Separator, indentation and "key": before a new item. */
static void item(json_writer *w, const char *key)
{
    if (w->depth > 0) {
        if (w->has_items[w->depth])
            fputc(',', w->f);
        w->has_items[w->depth] = true;
        indent(w);
    }
    if (key != NULL) {
        write_escaped(w->f, key);
        fputs(": ", w->f);
    }
}

void json_key(json_writer *w, const char *key)
{
    item(w, key);
}

static void open_container(json_writer *w, const char *key, char c)
{
    item(w, key);
    fputc(c, w->f);
    if (w->depth + 1 < JSON_MAX_DEPTH)
        w->depth++;
    w->has_items[w->depth] = false;
}

static void close_container(json_writer *w, char c)
{
    bool had = w->has_items[w->depth];
    if (w->depth > 0)
        w->depth--;
    if (had)
        indent(w);
    fputc(c, w->f);
    if (w->depth == 0)
        fputc('\n', w->f);
}

void json_object_begin(json_writer *w, const char *key)
{
    open_container(w, key, '{');
}

void json_object_end(json_writer *w)
{
    close_container(w, '}');
}

void json_array_begin(json_writer *w, const char *key)
{
    open_container(w, key, '[');
}

void json_array_end(json_writer *w)
{
    close_container(w, ']');
}

void json_string(json_writer *w, const char *key, const char *value)
{
    item(w, key);
    if (value == NULL)
        fputs("null", w->f);
    else
        write_escaped(w->f, value);
}

void json_number(json_writer *w, const char *key, double value)
{
    item(w, key);
    if (!isfinite(value)) {
        fputs("null", w->f);
        return;
    }
    char buf[32];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, value);
        if (strtod(buf, NULL) == value)
            break;
    }
    fputs(buf, w->f);
}

void json_int(json_writer *w, const char *key, int64_t value)
{
    item(w, key);
    fprintf(w->f, "%" PRId64, value);
}

void json_uint(json_writer *w, const char *key, uint64_t value)
{
    item(w, key);
    fprintf(w->f, "%" PRIu64, value);
}

void json_bool(json_writer *w, const char *key, bool value)
{
    item(w, key);
    fputs(value ? "true" : "false", w->f);
}

void json_topology(json_writer *w, const char *key, const eng_topology_info *t)
{
    json_object_begin(w, key);
    json_string(w, "source", t->source);
    json_bool(w, "this_system", t->this_system);
    json_uint(w, "cores", t->cores);
    json_uint(w, "nodes", t->nodes);
    json_uint(w, "workers", t->workers);
    json_bool(w, "pinning", t->pinning);
    json_number(w, "cgroup_quota_cpus", t->quota_cpus);
    json_array_begin(w, "pools");
    for (size_t n = 0; n < t->nodes; n++) {
        json_object_begin(w, NULL);
        json_uint(w, "node", n);
        json_uint(w, "os_index", t->pools[n].os_index);
        json_string(w, "nodeset", t->pools[n].nodeset);
        json_uint(w, "workers", t->pools[n].workers);
        json_object_end(w);
    }
    json_array_end(w);
    json_array_begin(w, "worker_list");
    for (size_t i = 0; i < t->workers; i++) {
        const eng_worker_info *wi = &t->worker[i];
        json_object_begin(w, NULL);
        json_uint(w, "id", wi->id);
        json_uint(w, "node", wi->node);
        json_uint(w, "core", wi->core);
        json_string(w, "cpuset", wi->cpuset);
        json_bool(w, "bound", wi->bound);
        json_string(w, "binding", wi->binding);
        json_object_end(w);
    }
    json_array_end(w);
    json_object_end(w);
}
