/*
 * status.c - the result-code table turned into functions: names, messages, parsing, version.
 */
#include <string.h>

#include "riskengine.h"

static const char *const status_names[] = {
#define RK_STATUS_NAME_(name, msg) #name,
    RK_STATUS_MAP(RK_STATUS_NAME_)
#undef RK_STATUS_NAME_
};

static const char *const status_messages[] = {
#define RK_STATUS_MSG_(name, msg) msg,
    RK_STATUS_MAP(RK_STATUS_MSG_)
#undef RK_STATUS_MSG_
};

const char *rk_status_name(rk_status code)
{
    if ((unsigned)code >= (unsigned)RK_STATUS_COUNT_)
        return "UNKNOWN";
    return status_names[code];
}

const char *rk_strerror(rk_status code)
{
    if ((unsigned)code >= (unsigned)RK_STATUS_COUNT_)
        return "unknown status code";
    return status_messages[code];
}

rk_status rk_status_parse(const char *name, rk_status *out)
{
    if (name == NULL || out == NULL)
        return RK_BAD_ARGUMENT;
    for (unsigned i = 0; i < (unsigned)RK_STATUS_COUNT_; i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *out = (rk_status)i;
            return RK_OK;
        }
    }
    return RK_NOT_FOUND;
}

const char *rk_version(void)
{
    return RK_VERSION_STRING;
}
