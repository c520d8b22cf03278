/* push.c — `husk image push [--tls-verify=BOOL] [--creds U:P] [-q] IMAGE [DESTINATION]`:
 * the image's blobs the registry lacks, then its manifest. */
#include <stdio.h>

#include "engine.h"
#include "progress.h"
#include "pull.h"
#include "regflags.h"
#include "util.h"

int cmd_image_push(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        REGFLAGS_OPTIONS,
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct registry_opts ro = { .tls_verify = -1 };
    bool quiet = false;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+qh", opts)) != -1) {
        switch (ch) {
        case 'T':
            if (regflags_tls_verify(optarg, &ro.tls_verify) < 0)
                return engine_usage_error("image push", "--tls-verify: \"%s\" is not true or false", optarg);
            break;
        case 'C': ro.creds = optarg; break;
        case 'q': quiet = true; break;
        case 'h':
            printf("usage: husk image push [--tls-verify=BOOL] [--creds USER:PASSWORD] [-q] IMAGE [DESTINATION]\n");
            return 0;
        default:
            return engine_usage_error("image push", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("image push", argc, 1, 2, "[options] IMAGE [DESTINATION]"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    struct progress_ui ui;
    const struct transfer_progress *tp;
    progress_ui_init(&ui, stdout, quiet, true, &tp);
    _cleanup_free_ char *digest = NULL;
    int rc = image_push(&st, argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL, &ro, tp, &digest, &err);
    progress_ui_done(&ui);
    store_close(&st);
    if (rc < 0)
        return engine_fail(&err);
    if (!quiet)
        printf("digest: %s\n", digest);
    return 0;
}
