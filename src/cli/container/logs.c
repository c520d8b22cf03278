/* logs.c — `husk container logs [-f] [--tail N] [-t] [--since T] [--until T]
 * CONTAINER`: the json-file log the monitor writes (ctr_log.h), stdout lines to
 * our stdout and stderr lines to our stderr, as docker's. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "container_cli.h"
#include "ctr_life.h"
#include "ctr_log.h"
#include "util.h"

int cmd_container_logs(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "follow", no_argument, NULL, 'f' },
        { "tail", required_argument, NULL, 'n' },
        { "timestamps", no_argument, NULL, 't' },
        { "since", required_argument, NULL, 's' },
        { "until", required_argument, NULL, 'u' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct ctr_log_opts o = { .tail = -1 };
    _cleanup_err_ husk_err *err = NULL;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int ch;
    while ((ch = getopt_long(argc, argv, "+fn:th", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': o.follow = true; break;
        case 'n':
            if (ctr_log_parse_tail(optarg, &o.tail, &err) < 0)
                return engine_usage_error("container logs", "--tail \"%s\": %s", optarg, err->msg);
            break;
        case 't': o.timestamps = true; break;
        case 's':
            if (ctr_log_parse_time(optarg, &now, &o.since, &err) < 0)
                return engine_usage_error("container logs", "--since \"%s\": %s", optarg, err->msg);
            o.has_since = true;
            break;
        case 'u':
            if (ctr_log_parse_time(optarg, &now, &o.until, &err) < 0)
                return engine_usage_error("container logs", "--until \"%s\": %s", optarg, err->msg);
            o.has_until = true;
            break;
        case 'h':
            printf("usage: husk container logs [-f] [--tail N] [-t] [--since TIME] [--until TIME] CONTAINER\n");
            return 0;
        default: return engine_usage_error("container logs", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("container logs", argc, 1, 1, "[options] CONTAINER"))
        return ENGINE_EXIT_ERROR;
    _cleanup_free_ char *id = NULL, *dir = NULL;
    struct store st;
    struct ctr_state s = { 0 };
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    int rc = 0;
    if (ctr_lookup(&st, argv[optind], &id, &err) < 0 || ctr_state_get(&st, g->root, id, &s, &err) < 0) {
        rc = engine_fail(&err);
        goto out;
    }
    dir = ctr_dir(&st, id);
    /* -f of a container that is not running: what there is, then done */
    if (s.status != CTR_RUNNING && s.status != CTR_PAUSED)
        o.follow = false;
    o.monitor_pid = s.monitor_pid;
    if (ctr_log_show(dir, &o, STDOUT_FILENO, STDERR_FILENO, &err) < 0)
        rc = engine_fail(&err);
out:
    ctr_state_clear(&s);
    store_close(&st);
    return rc;
}
