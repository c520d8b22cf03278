/* list.c — `husk list [-f table|json] [-q]`: the containers under --root. */
#include "cli.h"
#include "container.h"
#include "state.h"
#include "util.h"
#include "husk-config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

int cmd_list(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_strv_ char **ids = NULL;
    const char *format = "table";
    bool quiet = false;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+f:qh", opts)) != -1) {
        switch (ch) {
        case 'f': format = optarg; break;
        case 'q': quiet = true; break;
        case 'h': printf("usage: husk list [-f table|json] [-q]\n"); return 0;
        default: return cli_usage_error("list", "unknown or incomplete flag '%s'", argv[optind - 1]);
        }
    }
    if (cli_need_args("list", argc, argv, 0, 0, "[-f table|json] [-q]"))
        return 1;
    bool json = strcmp(format, "json") == 0;
    if (!json && strcmp(format, "table") != 0)
        return cli_usage_error("list", "--format: unknown format \"%s\" (table or json)", format);

    if (state_list_ids(g->root, &ids, &err) < 0)
        return cli_fail(&err);

    json_object *arr = json ? json_object_new_array() : NULL;
    if (!json && !quiet)
        printf("%-20s %-8s %-10s %-40s %-31s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
    for (char **id = ids; id && *id; id++) {
        struct husk_state *st = NULL;
        int status;
        if (container_peek(g->root, *id, &st, &status, &err) < 0) {
            /* One broken container must not hide the others: report it and go on. */
            husk_err_prefix(&err, "list");
            husk_err_report(&err);
            if (quiet)
                printf("%s\n", *id);
            else if (!json)
                printf("%-20s %-8d %-10s %-40s %-31s %s\n", *id, 0, "unknown", "", "", "");
            continue;
        }
        bool alive = status != HUSK_STOPPED;
        if (quiet) {
            printf("%s\n", *id);
        } else if (json) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "ociVersion", json_object_new_string(HUSK_OCI_VERSION));
            json_object_object_add(o, "id", json_object_new_string(st->id));
            json_object_object_add(o, "pid", json_object_new_int(alive ? st->pid : 0));
            json_object_object_add(o, "status", json_object_new_string(status_name(status)));
            json_object_object_add(o, "bundle", json_object_new_string(st->bundle ? st->bundle : ""));
            json_object_object_add(o, "rootfs", json_object_new_string(st->rootfs ? st->rootfs : ""));
            json_object_object_add(o, "created", json_object_new_string(st->created ? st->created : ""));
            json_object_object_add(o, "owner", json_object_new_string(st->owner ? st->owner : ""));
            json_object_array_add(arr, o);
        } else {
            printf("%-20s %-8d %-10s %-40s %-31s %s\n", st->id, alive ? st->pid : 0, status_name(status),
                   st->bundle ? st->bundle : "", st->created ? st->created : "", st->owner ? st->owner : "");
        }
        state_free(st);
    }
    if (json) {
        printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(arr);
    }
    return 0;
}
