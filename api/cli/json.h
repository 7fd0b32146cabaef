/*
 * json.h - a small streaming JSON writer for summary.json and benchmark results: objects,
 * arrays, strings (escaped), numbers (shortest round-trip form; non-finite numbers as null);
 * and the engine's placement in JSON (the library describes it as a struct only).
 */
#ifndef RK_JSON_H
#define RK_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"

#define JSON_MAX_DEPTH 32

typedef struct json_writer {
    FILE *f;
    int depth;
    bool has_items[JSON_MAX_DEPTH]; /* whether the container at each depth has an item yet */
} json_writer;

/* key is the member name inside an object, NULL inside an array or at the top. */
void json_init(json_writer *w, FILE *f);
void json_object_begin(json_writer *w, const char *key);
void json_object_end(json_writer *w);
void json_array_begin(json_writer *w, const char *key);
void json_array_end(json_writer *w);
void json_string(json_writer *w, const char *key, const char *value);
void json_number(json_writer *w, const char *key, double value);
void json_int(json_writer *w, const char *key, int64_t value);
void json_uint(json_writer *w, const char *key, uint64_t value);
void json_bool(json_writer *w, const char *key, bool value);
/* A member whose value the caller writes itself (already valid JSON) with fputs on w->f. */
void json_key(json_writer *w, const char *key);

/* The engine's placement (eng_topology_get) as an object: source, cores, nodes, pools, workers
 * with their bindings. */
void json_topology(json_writer *w, const char *key, const eng_topology_info *t);

#endif
