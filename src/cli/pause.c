/* pause.c — `husk pause ID`: freeze every process of the container (cgroup
 * freezer); `state` then says "paused" until `husk resume`. */
#include "cli.h"
#include "container.h"

#include <stdio.h>

int cmd_pause(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    _cleanup_err_ husk_err *err = NULL;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+h", opts)) != -1) {
        switch (ch) {
        case 'h': printf("usage: husk pause ID\n\nSuspends every process of the container (cgroup freezer).\n"); return 0;
        default: return cli_usage_error("pause", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (cli_need_args("pause", argc, argv, 1, 1, "ID"))
        return 1;
    return container_pause(g->root, argv[optind], &err) < 0 ? cli_fail(&err) : 0;
}
