/* inspect.c — `husk volume inspect NAME…`: a JSON array of the volumes (docker's
 * keys: Name, Driver, Mountpoint, Labels, CreatedAt, Scope, Options). A missing one
 * is an error after the others are printed, as docker does. */
#include <getopt.h>
#include <stdio.h>

#include <json-c/json.h>

#include "engine.h"
#include "json_cleanup.h"
#include "util.h"
#include "volumes.h"

int cmd_volume_inspect(struct cli_global *g, int argc, char **argv)
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
        case 'h': printf("usage: husk volume inspect [--format TEMPLATE] VOLUME [VOLUME...]\n"); return 0;
        default: return engine_usage_error("volume inspect", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("volume inspect", argc, 1, -1, "VOLUME [VOLUME...]"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    _cleanup_json_ struct json_object *all = json_object_new_array();
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        struct json_object *v;
        if (vol_inspect(&st, argv[i], &v, &err) < 0) {
            husk_err_report(&err);
            rc = ENGINE_EXIT_ERROR;
            continue;
        }
        json_object_array_add(all, v);
    }
    store_close(&st);
    int r = engine_print_inspect("volume inspect", format, all);
    return r ? r : rc;
}
