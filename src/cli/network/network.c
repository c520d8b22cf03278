/* network.c — `husk network VERB`: container networks (netavark), one file per verb. */
#include "engine.h"
#include "network_cli.h"
#include "util.h"

static const struct engine_verb verbs[] = {
    { "create", cmd_network_create, "make a bridge network" },
    { "ls", cmd_network_ls, "list networks" },
    { "list", cmd_network_ls, "list networks (ls)" },
    { "inspect", cmd_network_inspect, "show networks as JSON" },
    { "rm", cmd_network_rm, "remove networks no container uses" },
    { "prune", cmd_network_prune, "remove every network no container uses" },
    { "connect", cmd_network_connect, "connect a container to a network" },
    { "disconnect", cmd_network_disconnect, "disconnect a container from a network" },
};

int cmd_network(struct cli_global *g, int argc, char **argv)
{
    return engine_dispatch(g, "network", verbs, ARRAY_SIZE(verbs), argc, argv);
}
