/* start.c — `husk start ID`: run the user process of a created container. */
#include "cli.h"
#include "container.h"

#include <stdio.h>
#include <string.h>

int cmd_start(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    _cleanup_err_ husk_err *err = NULL;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+h", opts)) != -1) {
        if (ch == 'h') {
            printf("usage: husk start ID\n");
            return 0;
        }
        return cli_usage_error("start", "unknown flag '%s'", argv[optind - 1]);
    }
    if (cli_need_args("start", argc, argv, 1, 1, "ID"))
        return 1;
    return container_start(g->root, argv[optind], &err) < 0 ? cli_fail(&err) : 0;
}
