/* inspect.c — `husk network inspect [--format T] NAME…`: the definitions (podman's
 * keys), with the containers on each network. */
#include <json-c/json.h>
#include <stdio.h>

#include "containers.h"
#include "engine.h"
#include "network_cli.h"
#include "networks.h"
#include "util.h"

int cmd_network_inspect(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    const char *format = NULL;
    int ch, rc = 0;
    while ((ch = cli_getopt(argc, argv, "+f:h", opts)) != -1) {
        if (ch == 'f')
            format = optarg;
        else if (ch == 'h')
            return printf("usage: husk network inspect [--format TEMPLATE] NETWORK...\n"), 0;
        else
            return engine_usage_error("network inspect", "unknown flag '%s'", argv[optind - 1]);
    }
    if (engine_need_args("network inspect", argc, 1, -1, "NETWORK..."))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    struct json_object *all = json_object_new_array();
    for (int i = optind; i < argc; i++) {
        struct json_object *d = NULL;
        _cleanup_strv_ char **users = NULL;
        if (net_get(&st, argv[i], &d, &err) < 0 || net_users(&st, argv[i], &users, &err) < 0) {
            json_object_put(d);
            rc = engine_fail(&err);
            continue;
        }
        struct json_object *cs = json_object_new_object();
        for (size_t k = 0; users[k]; k++) {
            struct json_object *rec = NULL, *c = json_object_new_object();
            husk_err *e = NULL;
            if (ctr_record_read(&st, users[k], &rec, &e) == 0) {
                _cleanup_free_ char *n = ctr_record_name(rec);
                json_object_object_add(c, "Name", json_object_new_string(n ? n : ""));
            }
            husk_err_free(&e);
            json_object_put(rec);
            json_object_object_add(cs, users[k], c);
        }
        json_object_object_add(d, "containers", cs);
        json_object_array_add(all, d);
    }
    store_close(&st);
    int r = engine_print_inspect("network inspect", format, all);
    json_object_put(all);
    return r ? r : rc;
}
