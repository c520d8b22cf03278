/* resume.c — `husk resume ID`: thaw the processes of a paused container;
 * `state` says "running" (or "created") again. */
#include "cli.h"
#include "container.h"

#include <stdio.h>

int cmd_resume(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    _cleanup_err_ husk_err *err = NULL;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+h", opts)) != -1) {
        switch (ch) {
        case 'h': printf("usage: husk resume ID\n\nResumes every process of a paused container.\n"); return 0;
        default: return cli_usage_error("resume", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (cli_need_args("resume", argc, argv, 1, 1, "ID"))
        return 1;
    return container_resume(g->root, argv[optind], &err) < 0 ? cli_fail(&err) : 0;
}
