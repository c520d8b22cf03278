/* diff.c — `husk container diff CONTAINER`: docker's list of what the container
 * changed in its image ("A /added", "C /changed", "D /deleted"), from its upper dir. */
#include <stdio.h>

#include "ctr_fs.h"
#include "fs_target.h"
#include "util.h"

int cmd_container_diff(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    int ch;
    while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (ch == 'h') {
            printf("usage: husk container diff CONTAINER\n");
            return 0;
        }
        return engine_usage_error("container diff", "unknown flag '%s'", argv[optind - 1]);
    }
    if (engine_need_args("container diff", argc, 1, 1, "CONTAINER"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    struct fs_target t;
    struct ctr_change *v = NULL;
    size_t n = 0;
    int rc = 0;
    if (fs_target_open(g, argv[optind], false, &t, &err) < 0 ||
        ctr_fs_diff(&t.st, t.layers, t.dir, t.mounts, &v, &n, &err) < 0)
        rc = engine_fail(&err);
    for (size_t i = 0; i < n; i++)
        printf("%c %s\n", v[i].kind, v[i].path);
    ctr_changes_free(v, n);
    fs_target_close(&t);
    return rc;
}
