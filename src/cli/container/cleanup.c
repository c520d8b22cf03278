/* cleanup.c — `husk container cleanup ID`: not for users. The monitor execs it
 * (in its own process, the container's subreaper) once the init has exited:
 * the runtime state goes, then --restart or --rm applies (ctr_life.h). */
#include <stdio.h>

#include "container_cli.h"
#include "ctr_life.h"
#include "util.h"

int cmd_container_cleanup(struct cli_global *g, int argc, char **argv)
{
    optind = 1;
    if (engine_need_args("container cleanup", argc, 1, 1, "ID"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    int rc = ctr_cleanup(&st, g->root, argv[optind], &err) < 0 ? engine_fail(&err) : 0;
    store_close(&st);
    return rc;
}
