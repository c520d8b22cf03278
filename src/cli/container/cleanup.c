/* cleanup.c — `husk container cleanup ID`: not for users. The monitor execs it
 * (in its own process, the container's subreaper) once the init has exited:
 * the runtime state goes, then --restart or --rm applies (ctr_life.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "container_cli.h"
#include "containers.h"
#include "ctr_life.h"
#include "selfclone.h"
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
    /* Only a restart forks into the container (the monitor's process starts it
     * again): then, and only then, run from a protected copy of husk-engine, as
     * `container start` does (selfclone.h). Without a restart policy the cleanup
     * deletes state and unmounts, on the host; the re-exec (a second dynamic load
     * of husk-engine's libraries) was a tenth of a `run --rm`. */
    struct json_object *rec = NULL, *hc, *rp, *name;
    if (ctr_record_read(&st, argv[optind], &rec, &err) < 0) {
        store_close(&st);
        return engine_fail(&err);
    }
    const char *policy = json_object_object_get_ex(rec, "HostConfig", &hc) &&
                                 json_object_object_get_ex(hc, "RestartPolicy", &rp) &&
                                 json_object_object_get_ex(rp, "Name", &name)
                             ? json_object_get_string(name)
                             : NULL;
    bool may_restart = policy && *policy && strcmp(policy, "no") != 0;
    json_object_put(rec);
    if (may_restart && selfclone_ensure(cli_main_argv, &err) < 0) {
        store_close(&st);
        return engine_fail(&err);
    }
    int rc = ctr_cleanup(&st, g->root, argv[optind], &err) < 0 ? engine_fail(&err) : 0;
    store_close(&st);
    return rc;
}
