/**
 * @file rk_status.h
 * rk_status.h - the result codes of riskengine: the one table (RK_STATUS_MAP) that generates the
 * rk_status enum, its names and its messages. Part of the public interface (riskengine.h
 * includes it); the library's lower layers (engine/, data/, risk/) include this header alone,
 * never riskengine.h, so that the layers below the API cannot reach the API's handles.
 */
#ifndef RK_STATUS_H
#define RK_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define RK_API __attribute__((visibility("default")))
#else
#define RK_API
#endif

/*
 * The one table of result codes. Each entry is (NAME, message). It generates the rk_status enum,
 * rk_status_name() and rk_strerror(). Codes keep their numbers across versions; new codes are
 * appended.
 */
#define RK_STATUS_MAP(X)                                                                           \
    X(OK, "success")                                                                               \
    X(INVALID_INPUT, "invalid input")                                                              \
    X(NUMERIC, "numerical failure (NaN, infinity or model failure)")                               \
    X(DEADLINE, "deadline reached before the work was done")                                       \
    X(CANCELLED, "cancelled before the work was done")                                             \
    X(NO_MEMORY, "out of memory")                                                                  \
    X(INTERNAL, "internal error")                                                                  \
    X(IO, "input/output error")                                                                    \
    X(BAD_ARGUMENT, "bad argument to an API call")                                                 \
    X(NOT_FOUND, "unknown identifier")                                                             \
    X(TIMEOUT, "timed out waiting")                                                                \
    X(BUSY, "busy: the object is in use")                                                          \
    X(UNSUPPORTED, "not supported in this build")                                                  \
    X(STALE, "the cached result is of an older market snapshot")

typedef enum rk_status {
#define RK_STATUS_ENUM_(name, msg) RK_##name,
    RK_STATUS_MAP(RK_STATUS_ENUM_)
#undef RK_STATUS_ENUM_
    RK_STATUS_COUNT_
} rk_status;

/* The code's name without prefix ("OK", "DEADLINE"...); "UNKNOWN" for a value outside the table.
 * Returns a static string. Any thread. */
RK_API const char *rk_status_name(rk_status code);

/* A one-line English description of the code; static string. Any thread. */
RK_API const char *rk_strerror(rk_status code);

/* Parses a code's name as rk_status_name() prints it. Returns RK_OK and sets *out, or
 * RK_NOT_FOUND. Any thread. */
RK_API rk_status rk_status_parse(const char *name, rk_status *out);

#ifdef __cplusplus
}
#endif

#endif /* RK_STATUS_H */
