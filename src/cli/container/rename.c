/* rename.c — `husk container rename CONTAINER NEW_NAME`. */
#include <stdio.h>

#include "container_cli.h"
#include "containers.h"
#include "util.h"

int cmd_container_rename(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    int ch;
    while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (ch == 'h') {
            printf("usage: husk container rename CONTAINER NEW_NAME\n");
            return 0;
        }
        return engine_usage_error("container rename", "unknown flag '%s'", argv[optind - 1]);
    }
    if (engine_need_args("container rename", argc, 2, 2, "CONTAINER NEW_NAME"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *id = NULL;
    _cleanup_close_ int lock = -1;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    int rc = 0;
    if (ctr_lookup(&st, argv[optind], &id, &err) < 0 || ctr_lock(&st, id, &lock, &err) < 0 ||
        ctr_rename(&st, id, argv[optind + 1], &err) < 0)
        rc = engine_fail(&err);
    store_close(&st);
    return rc;
}
