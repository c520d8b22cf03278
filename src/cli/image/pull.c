/* pull.c — `husk image pull [--tls-verify=BOOL] [--creds U:P] [--platform OS/ARCH[/VARIANT]] [-q] REF`:
 * progress lines on a terminal, then docker's result lines; -q prints the id only. */
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "progress.h"
#include "pull.h"
#include "regflags.h"
#include "util.h"

int cmd_image_pull(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        REGFLAGS_OPTIONS,
        { "platform", required_argument, NULL, 'P' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct pull_opts o = { .reg = { .tls_verify = -1 } };
    bool quiet = false;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+qh", opts)) != -1) {
        switch (ch) {
        case 'T':
            if (regflags_tls_verify(optarg, &o.reg.tls_verify) < 0)
                return engine_usage_error("image pull", "--tls-verify: \"%s\" is not true or false", optarg);
            break;
        case 'C': o.reg.creds = optarg; break;
        case 'P': o.platform = optarg; break;
        case 'q': quiet = true; break;
        case 'h':
            printf("usage: husk image pull [--tls-verify=BOOL] [--creds USER:PASSWORD] [--platform OS/ARCH[/VARIANT]] "
                   "[-q] IMAGE[:TAG|@DIGEST]\n");
            return 0;
        default:
            return engine_usage_error("image pull", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("image pull", argc, 1, 1, "[options] IMAGE[:TAG|@DIGEST]"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    struct progress_ui ui;
    progress_ui_init(&ui, stdout, quiet, false, &o.progress);
    struct pull_result res;
    int rc = image_pull(&st, argv[optind], &o, &res, &err);
    progress_ui_done(&ui);
    store_close(&st);
    if (rc < 0)
        return engine_fail(&err);
    if (quiet) {
        printf("%s\n", res.id);
    } else {
        printf("Digest: %s\n", res.digest);
        printf("Status: %s for %s\n", res.up_to_date ? "Image is up to date" : "Downloaded newer image", res.ref);
        printf("%s\n", res.ref);
    }
    pull_result_free(&res);
    return 0;
}
