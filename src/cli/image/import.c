/* import.c — `husk image import [-c INSTRUCTION]… [-m MESSAGE] FILE|- [REFERENCE]`:
 * an image from a root filesystem tarball (docker import); prints its id. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "image_import.h"
#include "util.h"

int cmd_image_import(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "change", required_argument, NULL, 'c' }, { "message", required_argument, NULL, 'm' },
        { "quiet", no_argument, NULL, 'q' },        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    _cleanup_strv_ char **changes = xcalloc(1, sizeof(char *));
    size_t nc = 0;
    const char *message = NULL;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+c:m:qh", opts)) != -1) {
        switch (ch) {
        case 'c':
            changes = xrealloc(changes, (nc + 2) * sizeof(char *));
            changes[nc++] = xstrdup(optarg);
            changes[nc] = NULL;
            break;
        case 'm': message = optarg; break;
        case 'q': break;   /* only the id is printed anyway */
        case 'h':
            printf("usage: husk image import [-c INSTRUCTION]... [-m MESSAGE] FILE|- [REPOSITORY[:TAG]]\n"
                   "  INSTRUCTION: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR\n");
            return 0;
        default:
            return engine_usage_error("image import", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("image import", argc, 1, 2, "[OPTIONS] FILE|- [REPOSITORY[:TAG]]"))
        return ENGINE_EXIT_ERROR;
    const char *path = argv[optind];
    if (strcmp(path, "-") == 0) {
        if (isatty(STDIN_FILENO))
            return engine_usage_error("image import", "\"-\" reads the tarball from standard input, which is a terminal");
        path = "/dev/stdin";
    }
    struct image_import_args a = {
        .path = path, .ref = optind + 1 < argc ? argv[optind + 1] : NULL, .changes = changes, .message = message,
    };
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *id = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    int rc = image_import(&st, &a, &id, &err);
    store_close(&st);
    if (rc < 0)
        return engine_fail(&err);
    printf("%s\n", id);
    return 0;
}
