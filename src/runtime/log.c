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

static int log_fd = -1;     /* --log FILE */
/* --debug without --log: a copy of the stderr husk was started with. A copy, because
 * the container's stdio (a pty, say) may become fd 2 of the setup processes later,
 * and a debug line must never land in the container's output. */
static int debug_fd = -1;
static int log_json;
static int log_debug_on;

int husk_log_init(const char *path, int json, int debug)
{
    log_json = json;
    log_debug_on = debug;
    if (path != NULL && *path != '\0') {
        log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        return log_fd < 0 ? -1 : 0;
    }
    /* Close-on-exec like the log file: it never reaches a hook or the container.
     * No stderr at all: no debug output either. */
    if (debug)
        debug_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    return 0;
}

int husk_log_fd(void) { return log_fd; }

void husk_log_release_stderr(void)
{
    if (debug_fd >= 0)
        close(debug_fd);
    debug_fd = -1;
}

static const char *level_name(enum husk_log_level l)
{
    switch (l) {
    case HUSK_LOG_ERROR: return "error";
    case HUSK_LOG_WARNING: return "warning";
    case HUSK_LOG_INFO: return "info";
    default: return "debug";
    }
}

/* The message as a double-quoted string, for both formats: '"' and '\' escaped,
 * control characters as \n, \t or \u00XX, so one message is always one line. */
static void quote(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* One line as runc (logrus) writes it:
 *   text: time="2006-01-02T15:04:05.999999999Z" level=debug msg="..."
 *   json: {"level":"debug","msg":"...","time":"2006-01-02T15:04:05.999999999Z"} */
static void write_line(int fd, enum husk_log_level level, const char *msg)
{
    char *line = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&line, &len);
    if (f == NULL)
        return;
    char ts[64];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    if (log_json) {
        fprintf(f, "{\"level\":\"%s\",\"msg\":", level_name(level));
        quote(f, msg);
        fprintf(f, ",\"time\":\"%s.%09ldZ\"}\n", ts, now.tv_nsec);
    } else {
        fprintf(f, "time=\"%s.%09ldZ\" level=%s msg=", ts, now.tv_nsec, level_name(level));
        quote(f, msg);
        fputc('\n', f);
    }
    fclose(f);
    if (line) {
        /* One write per line: lines of the several processes of a create do not mix. */
        ssize_t w = write(fd, line, len);
        (void)w;
        free(line);
    }
}

void husk_log(enum husk_log_level level, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    int saved = errno;

    if (level == HUSK_LOG_DEBUG && !log_debug_on)
        return;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (msg == NULL) {
        errno = saved;
        return;
    }

    /* Errors and warnings go to stderr once, in plain text, whatever the log format.
     * Debug lines never do: only to --log, or to the stderr husk started with. */
    if (level <= HUSK_LOG_WARNING || (level == HUSK_LOG_INFO && log_fd < 0))
        dprintf(STDERR_FILENO, "husk: %s\n", msg);

    if (log_fd >= 0)
        write_line(log_fd, level, msg);
    else if (level == HUSK_LOG_DEBUG && debug_fd >= 0)
        write_line(debug_fd, level, msg);
    free(msg);
    errno = saved;
}
