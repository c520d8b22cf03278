/* kill.c — `husk kill [--all] ID [SIGNAL]`: SIGTERM unless a signal is named
 * (KILL, SIGKILL or 9 all work). Signal 0 sends nothing: it succeeds while the init
 * (with --all: any process of the container) is alive, and fails otherwise. */
#include "cli.h"
#include "container.h"

#include <signal.h>
#include <stdio.h>

int cmd_kill(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "all", no_argument, NULL, 'a' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    _cleanup_err_ husk_err *err = NULL;
    bool all = false;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+ah", opts)) != -1) {
        switch (ch) {
        case 'a': all = true; break;
        case 'h': printf("usage: husk kill [--all] ID [SIGNAL]\n"); return 0;
        default: return cli_usage_error("kill", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (cli_need_args("kill", argc, argv, 1, 2, "[--all] ID [SIGNAL]"))
        return 1;
    int sig = SIGTERM;
    if (argc - optind == 2) {
        sig = signal_parse(argv[optind + 1]);
        if (sig < 0)
            return cli_usage_error("kill", "unknown signal \"%s\"", argv[optind + 1]);
    }
    return container_kill(g->root, argv[optind], sig, all, &err) < 0 ? cli_fail(&err) : 0;
}
