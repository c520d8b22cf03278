/* prune.c — `husk volume prune [-f] [-a] [--filter label=K[=V]]`: the anonymous
 * volumes no container uses (-a: every volume no container uses), as docker 23+. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "engine.h"
#include "util.h"
#include "volumes.h"

int cmd_volume_prune(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "force", no_argument, NULL, 'f' },
        { "all", no_argument, NULL, 'a' },
        { "filter", required_argument, NULL, 'F' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool all = false;
    const char *labels[16];
    size_t n_labels = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "+fah", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': break; /* no prompt: husk never asks */
        case 'a': all = true; break;
        case 'F':
            if (strncmp(optarg, "label=", 6) != 0 || n_labels == ARRAY_SIZE(labels))
                return engine_usage_error("volume prune", "--filter \"%s\": only label=K[=V]", optarg);
            labels[n_labels++] = optarg + 6;
            break;
        case 'h': printf("usage: husk volume prune [-f] [-a] [--filter label=KEY[=VALUE]]\n"); return 0;
        default: return engine_usage_error("volume prune", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("volume prune", argc, 0, 0, "[-f] [-a]"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_strv_ char **names = NULL, **used = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    if (vol_list(&st, &names, &err) < 0 || vol_used_names(&st, &used, &err) < 0) {
        store_close(&st);
        return engine_fail(&err);
    }
    int rc = 0;
    printf("Deleted Volumes:\n");
    for (size_t i = 0; names[i]; i++) {
        struct json_object *vol, *anon;
        if (vol_in(used, names[i]) || vol_inspect(&st, names[i], &vol, &err) < 0) {
            husk_err_free(&err);
            continue;
        }
        bool take = all || (json_object_object_get_ex(vol, "Anonymous", &anon) && json_object_get_boolean(anon));
        for (size_t k = 0; k < n_labels && take; k++)
            take = vol_label_match(vol, labels[k]);
        json_object_put(vol);
        if (!take)
            continue;
        /* vol_remove checks the users again: a container made meanwhile keeps it */
        if (vol_remove(&st, names[i], &err) < 0) {
            husk_err_report(&err);
            rc = ENGINE_EXIT_ERROR;
            continue;
        }
        printf("%s\n", names[i]);
    }
    store_close(&st);
    return rc;
}
