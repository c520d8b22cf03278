/* connect.c — `husk network connect NETWORK CONTAINER` and `disconnect`: a running
 * container gets (or loses) an interface on the network at once; a stopped one at
 * its next start. */
#include <stdio.h>

#include "containers.h"
#include "engine.h"
#include "network_cli.h"
#include "networks.h"
#include "util.h"

static int connect_verb(struct cli_global *g, int argc, char **argv, bool on)
{
    const char *verb = on ? "network connect" : "network disconnect";
    static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    int ch;
    while ((ch = cli_getopt(argc, argv, "+h", opts)) != -1) {
        if (ch == 'h')
            return printf("usage: husk %s NETWORK CONTAINER\n", verb), 0;
        return engine_usage_error(verb, "unknown flag '%s'", argv[optind - 1]);
    }
    if (engine_need_args(verb, argc, 2, 2, "NETWORK CONTAINER"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *id = NULL;
    _cleanup_close_ int lock = -1;
    struct store st;
    int rc = 0;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    if (ctr_lookup(&st, argv[optind + 1], &id, &err) < 0 || ctr_lock(&st, id, &lock, &err) < 0 ||
        (on ? net_ctr_connect(&st, g->root, id, argv[optind], &err)
            : net_ctr_disconnect(&st, g->root, id, argv[optind], &err)) < 0)
        rc = engine_fail(&err);
    store_close(&st);
    return rc;
}

int cmd_network_connect(struct cli_global *g, int argc, char **argv)
{
    return connect_verb(g, argc, argv, true);
}

int cmd_network_disconnect(struct cli_global *g, int argc, char **argv)
{
    return connect_verb(g, argc, argv, false);
}
