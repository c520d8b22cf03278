/* start.c — `husk container start [-a] [-i] CONTAINER…` and `restart [-t N]`. */
#include <stdio.h>
#include <string.h>

#include "container_cli.h"
#include "ctr_life.h"
#include "util.h"

struct start_ctx {
    bool attach, interactive;
    int code;
};

static int start_one(struct store *st, const char *runroot, const char *id, const char *arg, void *ctx,
                     husk_err **err)
{
    struct start_ctx *c = ctx;
    if (ctr_start(st, runroot, id, c->attach, c->interactive, &c->code, err) < 0)
        return -1;
    if (!c->attach)
        printf("%s\n", arg);
    return 0;
}

int cmd_container_start(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "attach", no_argument, NULL, 'a' },
        { "interactive", no_argument, NULL, 'i' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct start_ctx c = { 0 };
    int ch;
    while ((ch = getopt_long(argc, argv, "+aih", opts, NULL)) != -1) {
        switch (ch) {
        case 'a': c.attach = true; break;
        case 'i': c.interactive = true; break;
        case 'h': printf("usage: husk container start [-a] [-i] CONTAINER [CONTAINER...]\n"); return 0;
        default: return engine_usage_error("container start", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("container start", argc, 1, c.attach ? 1 : -1, "[-a] [-i] CONTAINER..."))
        return ENGINE_EXIT_ERROR;
    int rc = container_each(g, argc, argv, start_one, &c);
    return rc != 0 ? rc : c.attach ? c.code : 0;
}

static int restart_one(struct store *st, const char *runroot, const char *id, const char *arg, void *ctx,
                       husk_err **err)
{
    if (ctr_stop(st, runroot, id, *(int *)ctx, err) < 0 || ctr_start(st, runroot, id, false, false, NULL, err) < 0)
        return -1;
    printf("%s\n", arg);
    return 0;
}

int cmd_container_restart(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "time", required_argument, NULL, 't' },
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
                return engine_usage_error("container restart", "-t \"%s\": not a number of seconds", optarg);
            break;
        case 'h': printf("usage: husk container restart [-t SECONDS] CONTAINER [CONTAINER...]\n"); return 0;
        default: return engine_usage_error("container restart", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("container restart", argc, 1, -1, "[-t SECONDS] CONTAINER..."))
        return ENGINE_EXIT_ERROR;
    return container_each(g, argc, argv, restart_one, &timeout);
}
