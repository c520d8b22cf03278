/* create.c — `husk network create [--subnet CIDR] [--gateway IP] [--internal]
 * [--label K=V] NAME`: prints the new network's name. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "network_cli.h"
#include "networks.h"
#include "util.h"

int cmd_network_create(struct cli_global *g, int argc, char **argv)
{
    enum { OPT_SUBNET = 1000, OPT_GATEWAY, OPT_INTERNAL, OPT_DRIVER };
    static const struct option opts[] = {
        { "subnet", required_argument, NULL, OPT_SUBNET }, { "gateway", required_argument, NULL, OPT_GATEWAY },
        { "internal", no_argument, NULL, OPT_INTERNAL },   { "label", required_argument, NULL, 'l' },
        { "driver", required_argument, NULL, 'd' },        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct net_create_opts o = { 0 };
    _cleanup_free_ char **labels = xcalloc((size_t)argc + 1, sizeof *labels);
    size_t nl = 0;
    int ch, rc = 0;
    while ((ch = cli_getopt(argc, argv, "+l:d:h", opts)) != -1) {
        switch (ch) {
        case OPT_SUBNET: o.subnet = optarg; break;
        case OPT_GATEWAY: o.gateway = optarg; break;
        case OPT_INTERNAL: o.internal = true; break;
        case 'l': labels[nl++] = optarg; break;
        case 'd':
            if (strcmp(optarg, "bridge") != 0) {
                return engine_usage_error("network create", "--driver \"%s\": only bridge", optarg);
            }
            break;
        case 'h':
            printf("usage: husk network create [--subnet CIDR] [--gateway IP] [--internal] [--label K=V] NAME\n");
            return 0;
        default:
            return engine_usage_error("network create", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("network create", argc, 1, 1, "NAME")) {
        return ENGINE_EXIT_ERROR;
    }
    o.labels = labels;
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0) {
        return engine_fail(&err);
    }
    if (net_create(&st, argv[optind], &o, NULL, &err) < 0)
        rc = engine_fail(&err);
    else
        printf("%s\n", argv[optind]);
    store_close(&st);
    return rc;
}
