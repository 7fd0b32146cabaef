/*
 * kinds.c - instrument names: the MDL_KIND_MAP table as functions.
 */
#include <string.h>

#include "model.h"

static const char *const kind_names[] = {
#define MDL_KIND_NAME_(id, name) name,
    MDL_KIND_MAP(MDL_KIND_NAME_)
#undef MDL_KIND_NAME_
};

const char *mdl_kind_name(mdl_kind k)
{
    if ((unsigned)k >= (unsigned)MDL_KIND_COUNT)
        return NULL;
    return kind_names[k];
}

bool mdl_kind_parse(const char *name, mdl_kind *out)
{
    for (unsigned i = 0; i < (unsigned)MDL_KIND_COUNT; i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (mdl_kind)i;
            return true;
        }
    }
    return false;
}
