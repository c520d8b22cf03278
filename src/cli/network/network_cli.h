/* network_cli.h — the `husk network` verbs. */
#ifndef HUSK_CLI_NETWORK_H
#define HUSK_CLI_NETWORK_H

#include "cli.h"

int cmd_network_create(struct cli_global *g, int argc, char **argv);
int cmd_network_ls(struct cli_global *g, int argc, char **argv);
int cmd_network_inspect(struct cli_global *g, int argc, char **argv);
int cmd_network_rm(struct cli_global *g, int argc, char **argv);
int cmd_network_prune(struct cli_global *g, int argc, char **argv);
int cmd_network_connect(struct cli_global *g, int argc, char **argv);
int cmd_network_disconnect(struct cli_global *g, int argc, char **argv);

#endif
