/* ctr_log.c — `container logs` over the monitor's json-file log (see ctr_log.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <json-c/json.h>

#include "ctr_log.h"
#include "monitor_proto.h"
#include "util.h"

#define NSEC 1000000000LL
#define FOLLOW_POLL_NS (100 * 1000 * 1000)

/* ------------------------------------------------------------------ times */

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* A fraction ".ddd" (1-9 digits) as nanoseconds. */
static int fraction(const char **p, long *ns)
{
    const char *s = *p;
    long v = 0;
    int n = 0;
    while (isdigit((unsigned char)*s) && n < 9) {
        v = v * 10 + (*s++ - '0');
        n++;
    }
    if (n == 0 || isdigit((unsigned char)*s))
        return -1;
    for (int i = n; i < 9; i++)
        v *= 10;
    *ns = v;
    *p = s;
    return 0;
}

/* YYYY-MM-DD[THH:MM[:SS[.frac]]][Z|±HH:MM] — docker's accepted layouts. Without a
 * zone, local time. */
static int parse_date(const char *s, struct timespec *out)
{
    struct tm tm = { .tm_isdst = -1 };
    int y, mo, d, h = 0, mi = 0, sec = 0;
    long ns = 0;
    const char *p = s;
    if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 || *p++ != '-' || digits(&p, 2, &d) < 0)
        return -1;
    if (*p == 'T') {
        p++;
        if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
            return -1;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &sec) < 0)
                return -1;
            if (*p == '.') {
                p++;
                if (fraction(&p, &ns) < 0)
                    return -1;
            }
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t;
    if (*p == 'Z' || *p == 'z') {
        p++;
        t = timegm(&tm);
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (digits(&p, 2, &oh) < 0 || *p++ != ':' || digits(&p, 2, &om) < 0 || oh > 23 || om > 59)
            return -1;
        t = timegm(&tm) - sign * (oh * 3600 + om * 60);
    } else {
        t = mktime(&tm);
    }
    if (*p)
        return -1;
    out->tv_sec = t;
    out->tv_nsec = ns;
    return 0;
}

/* A Go duration ("10m", "1h30m", "1.5s", "-2h", "300ms") in nanoseconds. */
static int parse_duration(const char *s, long long *out)
{
    static const struct { const char *u; long long ns; } units[] = {
        { "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 }, { "ms", 1000000 },
        { "s", NSEC }, { "m", 60 * NSEC }, { "h", 3600 * NSEC },
    };
    const char *p = s;
    int sign = 1;
    if (*p == '-' || *p == '+')
        sign = *p++ == '-' ? -1 : 1;
    if (!*p)
        return -1;
    long long total = 0;
    while (*p) {
        long long whole = 0, frac = 0, scale = 1;
        bool any = false;
        while (isdigit((unsigned char)*p)) {
            whole = whole * 10 + (*p++ - '0');
            any = true;
            if (whole > INT64_MAX / 10 / NSEC)
                return -1;
        }
        if (*p == '.') {
            p++;
            while (isdigit((unsigned char)*p)) {
                if (scale < NSEC) {
                    frac = frac * 10 + (*p - '0');
                    scale *= 10;
                }
                p++;
                any = true;
            }
        }
        if (!any)
            return -1;
        size_t best = 0;
        long long unit = 0;
        for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
            size_t n = strlen(units[i].u);
            if (strncmp(p, units[i].u, n) == 0 && n > best) {
                best = n;
                unit = units[i].ns;
            }
        }
        if (!best)
            return -1;   /* a number without a unit is not a duration */
        p += best;
        total += whole * unit + frac * unit / scale;
    }
    *out = sign * total;
    return 0;
}

int ctr_log_parse_time(const char *s, const struct timespec *now, struct timespec *out, husk_err **err)
{
    long long d;
    /* docker's order: a duration first ("0" is the epoch, not "now") */
    if (strcmp(s, "0") != 0 && parse_duration(s, &d) == 0) {
        long long t = (long long)now->tv_sec * NSEC + now->tv_nsec - d;
        out->tv_sec = (time_t)(t / NSEC);
        out->tv_nsec = (long)(t % NSEC);
        if (out->tv_nsec < 0) {
            out->tv_nsec += NSEC;
            out->tv_sec--;
        }
        return 0;
    }
    if (parse_date(s, out) == 0)
        return 0;
    /* a Unix time: seconds[.fraction] */
    const char *p = s;
    long long sec = 0;
    long ns = 0;
    if (!isdigit((unsigned char)*p))
        goto bad;
    while (isdigit((unsigned char)*p)) {
        sec = sec * 10 + (*p++ - '0');
        if (sec > INT32_MAX * 1000LL)
            goto bad;
    }
    if (*p == '.') {
        p++;
        if (fraction(&p, &ns) < 0)
            goto bad;
    }
    if (*p)
        goto bad;
    out->tv_sec = (time_t)sec;
    out->tv_nsec = ns;
    return 0;
bad:
    return husk_fail(err, 0, "invalid time %s: expected RFC 3339 (2006-01-02T15:04:05Z), a date, "
                     "a Unix time, or a duration like 10m", s);
}

int ctr_log_parse_tail(const char *s, long *out, husk_err **err)
{
    if (strcmp(s, "all") == 0) {
        *out = -1;
        return 0;
    }
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return husk_fail(err, 0, "invalid --tail %s: a number or \"all\"", s);
    *out = v < 0 ? -1 : v;
    return 0;
}

void ctr_log_format_time(const struct timespec *t, char out[40])
{
    struct tm tm;
    time_t s = t->tv_sec;
    gmtime_r(&s, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%09ldZ", t->tv_nsec);
}

/* ------------------------------------------------------------------ entries */

int ctr_log_decode(const char *line, size_t len, struct ctr_log_entry *e, husk_err **err)
{
    memset(e, 0, sizeof(*e));
    if (len && line[len - 1] == '\n')
        len--;
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, line, (int)len);
    bool ok = o && json_tokener_get_error(tok) == json_tokener_success &&
              (size_t)json_tokener_get_parse_end(tok) == len;
    json_tokener_free(tok);
    json_object *jl, *js, *jt;
    if (!ok || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "log", &jl) ||
        !json_object_is_type(jl, json_type_string) || !json_object_object_get_ex(o, "stream", &js) ||
        !json_object_is_type(js, json_type_string) || !json_object_object_get_ex(o, "time", &jt) ||
        !json_object_is_type(jt, json_type_string)) {
        json_object_put(o);
        return husk_fail(err, 0, "malformed log line: %.*s", (int)(len > 80 ? 80 : len), line);
    }
    const char *stream = json_object_get_string(js);
    int r = 0;
    if (strcmp(stream, "stdout") == 0)
        e->stream = CTR_LOG_STDOUT;
    else if (strcmp(stream, "stderr") == 0)
        e->stream = CTR_LOG_STDERR;
    else
        r = husk_fail(err, 0, "log line with stream \"%s\"", stream);
    if (r == 0 && parse_date(json_object_get_string(jt), &e->time) < 0)
        r = husk_fail(err, 0, "log line with time \"%s\"", json_object_get_string(jt));
    if (r == 0) {
        e->len = (size_t)json_object_get_string_len(jl);
        e->log = xmalloc(e->len + 1);
        memcpy(e->log, json_object_get_string(jl), e->len + 1);
    }
    json_object_put(o);
    return r;
}

void ctr_log_entry_free(struct ctr_log_entry *e)
{
    free(e->log);
    e->log = NULL;
}

/* ------------------------------------------------------------------ show */

static int ts_cmp(const struct timespec *a, const struct timespec *b)
{
    if (a->tv_sec != b->tv_sec)
        return a->tv_sec < b->tv_sec ? -1 : 1;
    return a->tv_nsec < b->tv_nsec ? -1 : a->tv_nsec > b->tv_nsec;
}

struct show {
    const struct ctr_log_opts *o;
    int out_fd, err_fd;
    bool done;                 /* past --until */
    /* --tail: the last N lines, a ring */
    char **ring;
    size_t *ring_len;
    long ring_n, ring_next;
};

/* One line: decode, filter, print. A malformed line (a log cut by a crash) is
 * skipped, as docker skips what it cannot decode at the end of a file. */
static void emit(struct show *sh, const char *line, size_t len)
{
    struct ctr_log_entry e;
    _cleanup_err_ husk_err *err = NULL;
    if (sh->done || ctr_log_decode(line, len, &e, &err) < 0)
        return;
    if (sh->o->has_until && ts_cmp(&e.time, &sh->o->until) > 0) {
        sh->done = true;
    } else if (!sh->o->has_since || ts_cmp(&e.time, &sh->o->since) >= 0) {
        int fd = e.stream == CTR_LOG_STDERR ? sh->err_fd : sh->out_fd;
        if (sh->o->timestamps) {
            char t[41];
            ctr_log_format_time(&e.time, t);
            size_t n = strlen(t);
            t[n++] = ' ';
            (void)write_all(fd, t, n);
        }
        (void)write_all(fd, e.log, e.len);
    }
    ctr_log_entry_free(&e);
}

static void take(struct show *sh, const char *line, size_t len)
{
    if (!sh->ring) {
        emit(sh, line, len);
        return;
    }
    if (sh->ring_n == 0)
        return;
    long i = sh->ring_next;
    free(sh->ring[i]);
    sh->ring[i] = xmalloc(len);
    memcpy(sh->ring[i], line, len);
    sh->ring_len[i] = len;
    sh->ring_next = (i + 1) % sh->ring_n;
}

/* Read the complete lines of f from where it is; a line still being written (no
 * '\n' yet) is left for the next call. */
static void read_lines(struct show *sh, FILE *f)
{
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    for (;;) {
        long at = ftell(f);
        n = getline(&line, &cap, f);
        if (n <= 0)
            break;
        if (line[n - 1] != '\n') {
            fseek(f, at, SEEK_SET);
            break;
        }
        take(sh, line, (size_t)n);
    }
    clearerr(f);
}

static FILE *open_at(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "r");
    if (!f)
        close(fd);
    return f;
}

/* The file we followed was rotated (to ctr.log.N, its stat in *old): read those
 * rotated after it, ctr.log.N-1 … ctr.log.1, which were written while we slept. */
static void read_rotated_after(struct show *sh, int dirfd, const struct stat *old)
{
    int n = 0;
    for (int i = 1; i < 1000; i++) {
        char name[32];
        struct stat st;
        snprintf(name, sizeof(name), "%s.%d", MON_LOG_NAME, i);
        if (fstatat(dirfd, name, &st, 0) < 0)
            break;
        if (st.st_ino == old->st_ino && st.st_dev == old->st_dev) {
            n = i;
            break;
        }
    }
    for (int i = n - 1; i >= 1; i--) {
        char name[32];
        snprintf(name, sizeof(name), "%s.%d", MON_LOG_NAME, i);
        _cleanup_fclose_ FILE *f = open_at(dirfd, name);
        if (f)
            read_lines(sh, f);
    }
}

static bool ended(int dirfd, pid_t monitor_pid)
{
    if (faccessat(dirfd, MON_EXIT_NAME, F_OK, 0) == 0)
        return true;
    return monitor_pid > 0 && kill(monitor_pid, 0) < 0 && errno == ESRCH;
}

int ctr_log_show(const char *ctr_dir, const struct ctr_log_opts *o, int out_fd, int err_fd, husk_err **err)
{
    _cleanup_close_ int dirfd = open(ctr_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return husk_fail(err, errno, "open %s", ctr_dir);
    struct show sh = { .o = o, .out_fd = out_fd, .err_fd = err_fd };
    if (o->tail >= 0) {
        sh.ring_n = o->tail;
        sh.ring = xcalloc((size_t)o->tail + 1, sizeof(char *));
        sh.ring_len = xcalloc((size_t)o->tail + 1, sizeof(size_t));
    }

    /* The current file first, so that a rotation while the old ones are read
     * cannot hide it; then the rotated ones, oldest (highest number) first. */
    _cleanup_fclose_ FILE *cur = open_at(dirfd, MON_LOG_NAME);
    if (!cur && errno != ENOENT) {
        husk_fail(err, errno, "open %s/%s", ctr_dir, MON_LOG_NAME);
        goto fail;
    }
    int nrot = 0;
    for (;;) {
        char name[32];
        snprintf(name, sizeof(name), "%s.%d", MON_LOG_NAME, nrot + 1);
        if (faccessat(dirfd, name, F_OK, 0) < 0)
            break;
        nrot++;
    }
    for (int i = nrot; i >= 1; i--) {
        char name[32];
        snprintf(name, sizeof(name), "%s.%d", MON_LOG_NAME, i);
        _cleanup_fclose_ FILE *f = open_at(dirfd, name);
        if (f)
            read_lines(&sh, f);
    }
    if (cur)
        read_lines(&sh, cur);
    if (sh.ring) {
        for (long k = 0; k < sh.ring_n; k++) {
            long i = (sh.ring_next + k) % sh.ring_n;
            if (sh.ring[i])
                emit(&sh, sh.ring[i], sh.ring_len[i]);
        }
        for (long k = 0; k < sh.ring_n; k++)
            free(sh.ring[k]);
        free(sh.ring);
        free(sh.ring_len);
        sh.ring = NULL;
    }

    while (o->follow && !sh.done) {
        bool end = ended(dirfd, o->monitor_pid);
        if (cur) {
            /* with --log-max-files 1 the monitor truncates the file in place */
            struct stat now;
            if (fstat(fileno(cur), &now) == 0 && now.st_size < ftell(cur))
                fseek(cur, 0, SEEK_SET);
            read_lines(&sh, cur);
        }
        /* rotated (or first created): finish the old file, go on with the new one */
        struct stat a, b;
        if (fstatat(dirfd, MON_LOG_NAME, &b, 0) == 0 && (!cur || (fstat(fileno(cur), &a) == 0 &&
                                                                 (a.st_ino != b.st_ino || a.st_dev != b.st_dev)))) {
            FILE *next = open_at(dirfd, MON_LOG_NAME);
            if (next) {
                if (cur) {
                    read_lines(&sh, cur);
                    read_rotated_after(&sh, dirfd, &a);
                    fclose(cur);
                }
                cur = next;
                continue;
            }
        }
        if (end)
            break;
        struct timespec ts = { 0, FOLLOW_POLL_NS };
        nanosleep(&ts, NULL);
    }
    return 0;
fail:
    if (sh.ring) {
        for (long k = 0; k < sh.ring_n; k++)
            free(sh.ring[k]);
        free(sh.ring);
        free(sh.ring_len);
    }
    return -1;
}
