/* prune.c — `husk image prune [-a] [-f]`: remove dangling images (every unused one
 * with -a), then the blobs and layers nothing uses; asks first unless -f, as docker. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "containers.h"
#include "engine.h"
#include "image_prune.h"
#include "reference.h"
#include "util.h"

int cmd_image_prune(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "all", no_argument, NULL, 'a' }, { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    bool all = false, force = false;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+afh", opts)) != -1) {
        switch (ch) {
        case 'a': all = true; break;
        case 'f': force = true; break;
        case 'h':
            printf("usage: husk image prune [-a] [-f]\n");
            return 0;
        default:
            return engine_usage_error("image prune", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("image prune", argc, 0, 0, "[-a] [-f]"))
        return ENGINE_EXIT_ERROR;
    if (!force) {
        fprintf(stderr, "WARNING! This will remove all %s images.\nAre you sure you want to continue? [y/N] ",
                all ? "images without at least one container associated to them" : "dangling");
        char line[16] = "";
        if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y'))
            return 0;
    }
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    struct prune_result r;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    /* an image a container is made from stays (docker's rule) */
    _cleanup_strv_ char **in_use = NULL;
    int rc = ctr_using_image(&st, NULL, &in_use, &err);
    if (rc == 0)
        rc = image_prune(&st, all, in_use, &r, &err);
    store_close(&st);
    if (rc < 0)
        return engine_fail(&err);
    if ((r.untagged && r.untagged[0]) || (r.deleted && r.deleted[0])) {
        printf("Deleted Images:\n");
        for (size_t i = 0; r.untagged && r.untagged[i]; i++) {
            struct image_ref ref;
            _cleanup_free_ char *f = NULL;
            if (image_ref_parse(r.untagged[i], &ref, NULL) == 0) {
                f = image_ref_familiar(&ref);
                image_ref_free(&ref);
            }
            printf("untagged: %s\n", f ? f : r.untagged[i]);
        }
        for (size_t i = 0; r.deleted && r.deleted[i]; i++)
            printf("deleted: %s\n", r.deleted[i]);
        printf("\n");
    }
    _cleanup_free_ char *size = fmt_size(r.reclaimed);
    printf("Total reclaimed space: %s\n", size);
    prune_result_free(&r);
    return 0;
}
