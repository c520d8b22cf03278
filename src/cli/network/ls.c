/* ls.c — `husk network ls [-q] [--format json]`: NETWORK ID, NAME, DRIVER, SUBNET. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "network_cli.h"
#include "networks.h"
#include "util.h"

int cmd_network_ls(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = { { "quiet", no_argument, NULL, 'q' },
                                          { "format", required_argument, NULL, 'f' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    bool quiet = false;
    const char *format = NULL;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+qf:h", opts)) != -1) {
        if (ch == 'q')
            quiet = true;
        else if (ch == 'f')
            format = optarg;
        else if (ch == 'h')
            return printf("usage: husk network ls [-q] [--format json|TEMPLATE]\n"), 0;
        else
            return engine_usage_error("network ls", "unknown flag '%s'", argv[optind - 1]);
    }
    if (engine_need_args("network ls", argc, 0, 0, ""))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    _cleanup_strv_ char **names = NULL;
    int rc = 0;
    if (net_list(&st, &names, &err) < 0) {
        store_close(&st);
        return engine_fail(&err);
    }
    struct json_object *all = json_object_new_array();
    if (!quiet && !format)
        printf("%-14s %-24s %-8s %s\n", "NETWORK ID", "NAME", "DRIVER", "SUBNET");
    for (size_t i = 0; names[i]; i++) {
        struct json_object *d = NULL, *v, *subs;
        husk_err *e = NULL;
        if (net_get(&st, names[i], &d, &e) < 0) {
            husk_err_free(&e);
            continue;
        }
        const char *id = json_object_object_get_ex(d, "id", &v) ? json_object_get_string(v) : "";
        const char *subnet = "";
        if (json_object_object_get_ex(d, "subnets", &subs) && json_object_array_length(subs) > 0 &&
            json_object_object_get_ex(json_object_array_get_idx(subs, 0), "subnet", &v))
            subnet = json_object_get_string(v);
        if (quiet)
            printf("%s\n", names[i]);
        else if (!format)
            printf("%-14.12s %-24s %-8s %s\n", id, names[i], "bridge", subnet);
        else if (strcmp(format, "json") != 0 && (rc = engine_format("network ls", format, d, stdout)) != 0) {
            json_object_put(d);
            break;
        }
        json_object_array_add(all, d);
    }
    if (format && strcmp(format, "json") == 0 && !quiet)
        printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(all);
    store_close(&st);
    return rc;
}
