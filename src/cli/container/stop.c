/* stop.c — `husk container stop|restart [-t N] CONTAINER…` and `kill [-s SIG] CONTAINER…`. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "container_cli.h"
#include "ctr_life.h"
#include "util.h"

static int stop_one(struct store *st, const char *runroot, const char *id, const char *arg, void *ctx,
                    husk_err **err)
{
    if (ctr_stop(st, runroot, id, *(int *)ctx, err) < 0)
        return -1;
    printf("%s\n", arg);
    return 0;
}

static int restart_one(struct store *st, const char *runroot, const char *id, const char *arg, void *ctx,
                       husk_err **err)
{
    if (ctr_stop(st, runroot, id, *(int *)ctx, err) < 0 || ctr_start(st, runroot, id, false, false, NULL, err) < 0)
        return -1;
    printf("%s\n", arg);
    return 0;
}

/* stop and restart: [-t SECONDS] CONTAINER… */
static int stop_or_restart(struct cli_global *g, int argc, char **argv, const char *verb, container_each_fn fn)
{
    static const struct option opts[] = {
        { "time", required_argument, NULL, 't' },
        { "timeout", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int timeout = -1, ch;
    char *end;
    while ((ch = getopt_long(argc, argv, "+t:h", opts, NULL)) != -1) {
        switch (ch) {
        case 't':
            timeout = (int)strtol(optarg, &end, 10);
            if (*end || !*optarg || timeout < 0)
                return engine_usage_error(verb, "-t \"%s\": not a number of seconds", optarg);
            break;
        case 'h': printf("usage: husk %s [-t SECONDS] CONTAINER [CONTAINER...]\n", verb); return 0;
        default: return engine_usage_error(verb, "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args(verb, argc, 1, -1, "[-t SECONDS] CONTAINER..."))
        return ENGINE_EXIT_ERROR;
    return container_each(g, argc, argv, fn, &timeout);
}

int cmd_container_stop(struct cli_global *g, int argc, char **argv)
{
    return stop_or_restart(g, argc, argv, "container stop", stop_one);
}

int cmd_container_restart(struct cli_global *g, int argc, char **argv)
{
    return stop_or_restart(g, argc, argv, "container restart", restart_one);
}

static int kill_one(struct store *st, const char *runroot, const char *id, const char *arg, void *ctx,
                    husk_err **err)
{
    if (ctr_kill(st, runroot, id, *(int *)ctx, err) < 0)
        return -1;
    printf("%s\n", arg);
    return 0;
}

int cmd_container_kill(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "signal", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int sig = SIGKILL, ch;
    while ((ch = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
        switch (ch) {
        case 's':
            sig = signal_parse(optarg);
            if (sig <= 0)
                return engine_usage_error("container kill", "--signal \"%s\": not a signal", optarg);
            break;
        case 'h': printf("usage: husk container kill [-s SIGNAL] CONTAINER [CONTAINER...]\n"); return 0;
        default: return engine_usage_error("container kill", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("container kill", argc, 1, -1, "[-s SIGNAL] CONTAINER..."))
        return ENGINE_EXIT_ERROR;
    return container_each(g, argc, argv, kill_one, &sig);
}
