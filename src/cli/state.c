/* state.c — `husk state ID`: the container's state as JSON (runtime.md "state"). */
#include "cli.h"
#include "container.h"
#include "util.h"

#include <stdio.h>

int cmd_state(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *json = NULL;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+h", opts)) != -1) {
        if (ch == 'h') {
            printf("usage: husk state ID\n");
            return 0;
        }
        return cli_usage_error("state", "unknown flag '%s'", argv[optind - 1]);
    }
    if (cli_need_args("state", argc, argv, 1, 1, "ID"))
        return 1;
    if (container_state_json(g->root, argv[optind], &json, &err) < 0)
        return cli_fail(&err);
    printf("%s\n", json);
    return 0;
}
