/* tag.c — `husk image tag SOURCE TARGET`: TARGET names the image SOURCE names (a tag
 * names one image: it moves from whichever image had it). */
#include <stdio.h>

#include "engine.h"
#include "image.h"
#include "util.h"

int cmd_image_tag(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    int ch;
    while ((ch = cli_getopt(argc, argv, "+h", opts)) != -1) {
        if (ch == 'h') {
            printf("usage: husk image tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n");
            return 0;
        }
        return engine_usage_error("image tag", "unknown flag '%s'", argv[optind - 1]);
    }
    if (engine_need_args("image tag", argc, 2, 2, "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    int rc = image_tag(&st, argv[optind], argv[optind + 1], &err);
    store_close(&st);
    return rc < 0 ? engine_fail(&err) : 0;
}
