/* pause.c — `husk container pause|unpause CONTAINER…` (the freezer cgroup). */
#include <stdio.h>
#include <string.h>

#include "container_cli.h"
#include "ctr_life.h"

static int pause_one(struct store *st, const char *runroot, const char *id, const char *arg, void *ctx,
                     husk_err **err)
{
    if (ctr_pause(st, runroot, id, *(bool *)ctx, err) < 0)
        return -1;
    printf("%s\n", arg);
    return 0;
}

static int pause_cmd(struct cli_global *g, int argc, char **argv, bool pause)
{
    const char *verb = pause ? "container pause" : "container unpause";
    static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    int ch;
    while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (ch == 'h') {
            printf("usage: husk %s CONTAINER [CONTAINER...]\n", verb);
            return 0;
        }
        return engine_usage_error(verb, "unknown flag '%s'", argv[optind - 1]);
    }
    if (engine_need_args(verb, argc, 1, -1, "CONTAINER..."))
        return ENGINE_EXIT_ERROR;
    return container_each(g, argc, argv, pause_one, &pause);
}

int cmd_container_pause(struct cli_global *g, int argc, char **argv)
{
    return pause_cmd(g, argc, argv, true);
}

int cmd_container_unpause(struct cli_global *g, int argc, char **argv)
{
    return pause_cmd(g, argc, argv, false);
}
