/* start.c — `husk container start [-a] [-i] CONTAINER…`. */
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
