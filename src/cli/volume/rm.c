/* rm.c — `husk volume rm [-f] VOLUME…`: refused while a container uses the volume
 * (docker: even with -f); -f only makes a missing volume no error. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "util.h"
#include "volumes.h"

int cmd_volume_rm(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool force = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': force = true; break;
        case 'h': printf("usage: husk volume rm [-f] VOLUME [VOLUME...]\n"); return 0;
        default: return engine_usage_error("volume rm", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("volume rm", argc, 1, -1, "[-f] VOLUME [VOLUME...]"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        if (vol_remove(&st, argv[i], &err) < 0) {
            bool missing = err && strncmp(err->msg, "no such volume", 14) == 0;
            if (force && missing) {
                husk_err_free(&err);
                continue;
            }
            husk_err_report(&err);
            rc = ENGINE_EXIT_ERROR;
            continue;
        }
        printf("%s\n", argv[i]);
    }
    store_close(&st);
    return rc;
}
