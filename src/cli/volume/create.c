/* create.c — `husk volume create [--label K=V]… [NAME]`: prints the name (a new
 * 64-hex one without NAME). An existing volume of that name is kept, as docker. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "util.h"
#include "volumes.h"

int cmd_volume_create(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "label", required_argument, NULL, 'l' },
        { "driver", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char **labels = xcalloc(argc + 1, sizeof(char *));
    size_t n = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "+l:d:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'l': labels[n++] = optarg; break;
        case 'd':
            if (strcmp(optarg, "local") != 0) {
                free(labels);
                return engine_usage_error("volume create", "--driver \"%s\": only the local driver exists", optarg);
            }
            break;
        case 'h': free(labels); printf("usage: husk volume create [--label KEY=VALUE]... [NAME]\n"); return 0;
        default: free(labels); return engine_usage_error("volume create", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("volume create", argc, 0, 1, "[--label KEY=VALUE]... [NAME]")) {
        free(labels);
        return ENGINE_EXIT_ERROR;
    }
    const char *name = optind < argc ? argv[optind] : NULL;
    if (name && !vol_name_valid(name)) {
        free(labels);
        return engine_usage_error("volume create", "\"%s\" is not a valid volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)",
                                  name);
    }
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *made = NULL;
    struct store st;
    bool created;
    int rc = 0;
    if (engine_open_store(g, &st, &err) < 0) {
        free(labels);
        return engine_fail(&err);
    }
    if (vol_create(&st, name, labels, -1, NULL, &made, &created, &err) < 0)
        rc = engine_fail(&err);
    else
        printf("%s\n", made);
    store_close(&st);
    free(labels);
    return rc;
}
