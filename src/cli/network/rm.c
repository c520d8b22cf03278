/* rm.c — `husk network rm NAME…` (refused while a container uses it; the default
 * network "husk" stays, but its bridge husk0 and firewall rules, up since its first
 * container, are taken down) and `husk network prune` (every network no container
 * uses, but the default one). */
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "network_cli.h"
#include "networks.h"
#include "util.h"

int cmd_network_rm(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    int ch, rc = 0;
    while ((ch = cli_getopt(argc, argv, "+h", opts)) != -1) {
        if (ch == 'h')
            return printf("usage: husk network rm NETWORK...\n"), 0;
        return engine_usage_error("network rm", "unknown flag '%s'", argv[optind - 1]);
    }
    if (engine_need_args("network rm", argc, 1, -1, "NETWORK..."))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    for (int i = optind; i < argc; i++) {
        if (net_remove(&st, argv[i], &err) < 0)
            rc = engine_fail(&err);
        else
            printf("%s\n", argv[i]);
    }
    store_close(&st);
    return rc;
}

int cmd_network_prune(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    int ch;
    while ((ch = cli_getopt(argc, argv, "+fh", opts)) != -1) {
        if (ch == 'f')
            continue;
        if (ch == 'h')
            return printf("usage: husk network prune [-f]\n"), 0;
        return engine_usage_error("network prune", "unknown flag '%s'", argv[optind - 1]);
    }
    if (engine_need_args("network prune", argc, 0, 0, ""))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    _cleanup_strv_ char **names = NULL;
    if (net_list(&st, &names, &err) < 0) {
        store_close(&st);
        return engine_fail(&err);
    }
    for (size_t i = 0; names[i]; i++) {
        _cleanup_strv_ char **users = NULL;
        husk_err *e = NULL;
        if (strcmp(names[i], NET_DEFAULT_NAME) == 0 || net_users(&st, names[i], &users, &e) < 0 || users[0]) {
            husk_err_free(&e);
            continue;
        }
        if (net_remove(&st, names[i], &e) == 0)
            printf("Deleted Network: %s\n", names[i]);
        husk_err_free(&e);
    }
    store_close(&st);
    return 0;
}
