/* wait.c — `husk container wait CONTAINER…`: each one's exit code, once stopped. */
#include <stdio.h>

#include "container_cli.h"
#include "ctr_life.h"

static int wait_one(struct store *st, const char *runroot, const char *id, const char *arg, void *ctx,
                    husk_err **err)
{
    (void)arg;
    (void)ctx;
    int code;
    if (ctr_wait(st, runroot, id, &code, err) < 0)
        return -1;
    printf("%d\n", code);
    fflush(stdout);
    return 0;
}

int cmd_container_wait(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    int ch;
    while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (ch == 'h') {
            printf("usage: husk container wait CONTAINER [CONTAINER...]\n");
            return 0;
        }
        return engine_usage_error("container wait", "unknown flag '%s'", argv[optind - 1]);
    }
    if (engine_need_args("container wait", argc, 1, -1, "CONTAINER..."))
        return ENGINE_EXIT_ERROR;
    return container_each(g, argc, argv, wait_one, NULL);
}
