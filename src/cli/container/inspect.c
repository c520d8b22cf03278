/* inspect.c — `husk container inspect [--format T] CONTAINER…`: docker's keys. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "container_cli.h"
#include "ctr_life.h"
#include "json_cleanup.h"
#include "util.h"

int cmd_container_inspect(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *format = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': format = optarg; break;
        case 'h': printf("usage: husk container inspect [--format TEMPLATE|json] CONTAINER [CONTAINER...]\n"); return 0;
        default: return engine_usage_error("container inspect", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("container inspect", argc, 1, -1, "CONTAINER..."))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    _cleanup_json_ struct json_object *all = json_object_new_array();
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        _cleanup_free_ char *id = NULL;
        struct json_object *o = NULL;
        if (ctr_lookup(&st, argv[i], &id, &err) < 0 || ctr_inspect(&st, g->root, id, &o, &err) < 0) {
            husk_err_report(&err);
            rc = ENGINE_EXIT_ERROR;
            continue;
        }
        json_object_array_add(all, o);
    }
    store_close(&st);
    int r = engine_print_inspect("container inspect", format, all);
    return r ? r : rc;
}
