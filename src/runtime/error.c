/* error.c — see error.h. */
#include "error.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int husk_vfail(husk_err **err, int errnum, const char *fmt, va_list ap)
{
    char *base = NULL, *full = NULL;

    if (err == NULL)
        return -1;
    if (vasprintf(&base, fmt, ap) < 0)
        base = NULL;
    if (base && errnum != 0) {
        if (asprintf(&full, "%s: %s", base, strerror(errnum)) < 0)
            full = NULL;
        free(base);
    } else {
        full = base;
    }
    husk_err_free(err);
    *err = calloc(1, sizeof(**err));
    if (*err == NULL) {
        free(full);
        return -1;
    }
    (*err)->errnum = errnum;
    (*err)->msg = full ? full : strdup("out of memory");
    return -1;
}

int husk_fail(husk_err **err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    husk_vfail(err, errnum, fmt, ap);
    va_end(ap);
    return -1;
}

int husk_err_prefix(husk_err **err, const char *fmt, ...)
{
    char *ctx = NULL, *full = NULL;
    va_list ap;

    if (err == NULL || *err == NULL)
        return -1;
    va_start(ap, fmt);
    if (vasprintf(&ctx, fmt, ap) < 0)
        ctx = NULL;
    va_end(ap);
    if (ctx && asprintf(&full, "%s: %s", ctx, (*err)->msg) >= 0) {
        free((*err)->msg);
        (*err)->msg = full;
    }
    free(ctx);
    return -1;
}

void husk_err_free(husk_err **err)
{
    if (err && *err) {
        free((*err)->msg);
        free(*err);
        *err = NULL;
    }
}

void husk_err_report(husk_err **err)
{
    if (err == NULL || *err == NULL)
        return;
    husk_log(HUSK_LOG_ERROR, "%s", (*err)->msg);
    husk_err_free(err);
}
