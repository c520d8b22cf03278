/* events.c — `husk events [--stats] [--interval D] ID`: the container's cgroup
 * statistics and OOM kills as JSON lines, in runc's format:
 *   {"type":"stats","id":"ID","data":{"cpu":{...},"memory":{...},"pids":{...},...}}
 *   {"type":"oom","id":"ID"}
 * --stats prints one stats event and exits; otherwise a stats event every
 * interval (default 5s) and an oom event per OOM, until the container stops. */
#include "cli.h"
#include "container.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A Go duration ("5s", "250ms", "1m30s", "1.5s"; units ns us µs ms s m h) in
 * milliseconds, at least 1. -1 if it does not parse or is not positive. */
static long long parse_duration(const char *s)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = { { "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 }, { "ms", 1 },
                  { "s", 1e3 },   { "m", 6e4 },   { "h", 3.6e6 } };
    double total = 0;
    const char *p = s;
    if (*p == '\0')
        return -1;
    while (*p) {
        char *end;
        if (!(*p >= '0' && *p <= '9') && *p != '.')
            return -1;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno != 0)
            return -1;
        p = end;
        size_t best = 0, bl = 0;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t l = strlen(units[i].unit);
            if (strncmp(p, units[i].unit, l) == 0 && l > bl)
                best = i, bl = l;
        }
        if (bl == 0)
            return -1;
        total += v * units[best].ms;
        p += bl;
    }
    if (!(total > 0) || total > 1e12)
        return -1;
    return total < 1 ? 1 : (long long)(total + 0.5);
}

int cmd_events(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "stats", no_argument, NULL, 's' },
        { "interval", required_argument, NULL, 'i' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    _cleanup_err_ husk_err *err = NULL;
    bool once = false;
    long long interval = 5000;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+h", opts)) != -1) {
        switch (ch) {
        case 's': once = true; break;
        case 'i':
            interval = parse_duration(optarg);
            if (interval < 0)
                return cli_usage_error("events", "--interval: invalid duration \"%s\" (e.g. 5s, 500ms)", optarg);
            break;
        case 'h':
            printf("usage: husk events [--stats] [--interval DURATION] ID\n\n"
                   "Prints the container's resource statistics (every --interval, default 5s) and OOM\n"
                   "events as JSON lines until it stops; --stats prints the statistics once.\n");
            return 0;
        default: return cli_usage_error("events", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (cli_need_args("events", argc, argv, 1, 1, "[--stats] [--interval D] ID"))
        return 1;
    return container_events(g->root, argv[optind], once, interval, stdout, &err) < 0 ? cli_fail(&err) : 0;
}
