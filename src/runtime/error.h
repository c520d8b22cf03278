/* error.h — husk's error discipline.
 *
 * A library function that can fail returns a negative value and fills a
 * `husk_err **` with a message carrying its context; callers add context on the
 * way up with husk_err_prefix() and the CLI prints the final message once.
 * This keeps every failure to one clear line, as crun and runc print it. */
#ifndef HUSK_ERROR_H
#define HUSK_ERROR_H

#include <stdarg.h>

typedef struct husk_err {
    int errnum;   /* errno at the point of failure, 0 if not a system error */
    char *msg;    /* full message, including strerror(errnum) when set */
} husk_err;

/* Fill *err with a formatted message (and ": strerror(errnum)" when errnum != 0).
 * Always returns -1 so it can be used as `return husk_fail(err, errno, "...")`.
 * If *err is already set, it is replaced. err may be NULL (the message is dropped). */
int husk_fail(husk_err **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same as husk_fail() with errno captured by the caller into errnum. */
int husk_vfail(husk_err **err, int errnum, const char *fmt, va_list ap);

/* Prepend context to an existing error: "context: old message". Returns -1. */
int husk_err_prefix(husk_err **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void husk_err_free(husk_err **err);

/* Report to stderr and the log (see log.h), then free. */
void husk_err_report(husk_err **err);

#define _cleanup_err_ __attribute__((cleanup(husk_err_free)))

#endif
