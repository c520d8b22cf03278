/* log.c — see log.h. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1;
static int log_json;
static int log_debug;

int husk_log_init(const char *path, int json, int debug)
{
    log_json = json;
    log_debug = debug;
    if (path == NULL || *path == '\0')
        return 0;
    log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    return log_fd < 0 ? -1 : 0;
}

int husk_log_fd(void) { return log_fd; }

static const char *level_name(enum husk_log_level l)
{
    switch (l) {
    case HUSK_LOG_ERROR: return "error";
    case HUSK_LOG_WARNING: return "warning";
    case HUSK_LOG_INFO: return "info";
    default: return "debug";
    }
}

/* JSON string escaping for the message; control characters become \u00XX. */
static void json_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
}

void husk_log(enum husk_log_level level, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    int saved = errno;

    if (level == HUSK_LOG_DEBUG && !log_debug)
        return;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (msg == NULL)
        return;

    /* Errors and warnings go to stderr once, in plain text, whatever the log format. */
    if (level <= HUSK_LOG_WARNING || log_fd < 0)
        dprintf(STDERR_FILENO, "husk: %s\n", msg);

    if (log_fd >= 0) {
        char *line = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&line, &len);
        if (f) {
            char ts[64];
            struct timespec now;
            struct tm tm;
            clock_gettime(CLOCK_REALTIME, &now);
            gmtime_r(&now.tv_sec, &tm);
            strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
            if (log_json) {
                fprintf(f, "{\"level\":\"%s\",\"msg\":\"", level_name(level));
                json_escape(f, msg);
                fprintf(f, "\",\"time\":\"%s.%09ldZ\"}\n", ts, now.tv_nsec);
            } else {
                fprintf(f, "%s.%09ldZ %s: %s\n", ts, now.tv_nsec, level_name(level), msg);
            }
            fclose(f);
            if (line) {
                ssize_t w = write(log_fd, line, len);
                (void)w;
                free(line);
            }
        }
    }
    free(msg);
    errno = saved;
}
