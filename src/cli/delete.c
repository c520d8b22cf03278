/* delete.c — `husk delete [--force] ID`: remove a stopped container (--force kills
 * a running one first). */
#include "cli.h"
#include "container.h"

#include <errno.h>
#include <stdio.h>

int cmd_delete(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    _cleanup_err_ husk_err *err = NULL;
    bool force = false;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+fh", opts)) != -1) {
        switch (ch) {
        case 'f': force = true; break;
        case 'h': printf("usage: husk delete [--force] ID\n"); return 0;
        default: return cli_usage_error("delete", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (cli_need_args("delete", argc, argv, 1, 1, "[--force] ID"))
        return 1;
    if (container_delete(g->root, argv[optind], force, &err) < 0) {
        /* runc: deleting a container that does not exist with --force is not an error. */
        if (force && err && err->errnum == ENOENT)
            return 0;
        return cli_fail(&err);
    }
    return 0;
}
