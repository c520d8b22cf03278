/* ctr_log.h — `husk container logs`: read the json-file log the monitor writes
 * (ROOT/containers/<id>/ctr.log, and the rotated ctr.log.1 … oldest last; format in
 * src/monitor/json_log.h) with docker's semantics:
 *   stdout entries to out_fd, stderr entries to err_fd, exactly the bytes logged;
 *   -t        each entry prefixed by its time as docker prints it
 *             ("2006-01-02T15:04:05.000000000Z ", nine digits always);
 *   --tail N  only the last N entries of all the files ("all": every one), taken
 *             before --since/--until filter them, as docker does;
 *   --since T entries at or after T; --until T entries at or before T (T: RFC 3339
 *             with or without zone or fraction, a date, a Unix time "sec[.nsec]", or
 *             a Go duration such as 10m or 1h30m, meaning that long before now;
 *             times without a zone are local, as docker takes them);
 *   -f        then follow new entries (across rotations) until the container's
 *             monitor records its end (the `exit` file appears) or is gone. */
#ifndef HUSK_ENGINE_CTR_LOG_H
#define HUSK_ENGINE_CTR_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "error.h"

enum ctr_log_stream { CTR_LOG_STDOUT, CTR_LOG_STDERR };

struct ctr_log_entry {
    char *log;                 /* the bytes (may hold NULs), malloc'd */
    size_t len;
    enum ctr_log_stream stream;
    struct timespec time;
};

struct ctr_log_opts {
    bool follow;
    bool timestamps;
    long tail;                 /* -1: all */
    bool has_since, has_until;
    struct timespec since, until;
    pid_t monitor_pid;         /* -f: stop when it is gone too (0: the exit file only) */
};

/* Decode one log line (without or with its '\n'). 0, or -1 and *err. */
int ctr_log_decode(const char *line, size_t len, struct ctr_log_entry *e, husk_err **err);
void ctr_log_entry_free(struct ctr_log_entry *e);

/* docker's --since/--until value, relative to now (see above). 0, or -1 and *err. */
int ctr_log_parse_time(const char *s, const struct timespec *now, struct timespec *out, husk_err **err);

/* docker's --tail value: "all" (or a negative number) -> -1, else N >= 0. */
int ctr_log_parse_tail(const char *s, long *out, husk_err **err);

/* The -t prefix: RFC 3339 with nine fraction digits, UTC. out: 40 bytes. */
void ctr_log_format_time(const struct timespec *t, char out[40]);

/* Show the logs of CTR_DIR (see above). 0, or -1 and *err. A log that does not
 * exist yet (never started) shows nothing. */
int ctr_log_show(const char *ctr_dir, const struct ctr_log_opts *o, int out_fd, int err_fd, husk_err **err);

#endif
