/* volume.c — `husk volume VERB`: the volume commands, one file per verb. */
#include "engine.h"
#include "util.h"

static const struct engine_verb verbs[] = {
    { "create", cmd_volume_create, "create a volume" },
    { "ls", cmd_volume_ls, "list volumes" },
    { "list", cmd_volume_ls, "list volumes (ls)" },
    { "inspect", cmd_volume_inspect, "show volumes as JSON (docker's keys)" },
    { "rm", cmd_volume_rm, "remove volumes no container uses" },
    { "prune", cmd_volume_prune, "remove unused anonymous volumes (-a: every unused one)" },
};

int cmd_volume(struct cli_global *g, int argc, char **argv)
{
    return engine_dispatch(g, "volume", verbs, ARRAY_SIZE(verbs), argc, argv);
}
