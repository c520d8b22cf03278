/* export.c — `husk container export [-o FILE] CONTAINER`: a tar of the container's
 * whole filesystem (its image's layers and its changes, merged). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctr_fs.h"
#include "fs_target.h"
#include "util.h"

int cmd_container_export(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *out = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'o': out = optarg; break;
        case 'h': printf("usage: husk container export [-o FILE] CONTAINER\n"); return 0;
        default: return engine_usage_error("container export", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("container export", argc, 1, 1, "CONTAINER"))
        return ENGINE_EXIT_ERROR;
    if (!out && isatty(STDOUT_FILENO))
        return engine_usage_error("container export",
                                  "refusing to write a tar to a terminal: use -o FILE or redirect the output");
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *tmp = out ? xasprintf("%s.tmp-XXXXXX", out) : NULL;
    struct fs_target t;
    struct ctr_fs fs = { .rootfd = -1 };
    int fd = STDOUT_FILENO, rc = 0;
    if (fs_target_open(g, argv[optind], true, &t, &err) < 0 || ctr_fs_open(&t.st, t.layers, t.dir, &fs, &err) < 0) {
        rc = engine_fail(&err);
        goto out;
    }
    /* -o FILE: written beside it and renamed, so FILE is whole or untouched. */
    if (tmp && (fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        husk_fail(&err, errno, "export: create %s", tmp);
        free(tmp);
        tmp = NULL;
        rc = engine_fail(&err);
        goto out;
    }
    if (ctr_fs_export(&fs, fd, &err) < 0 || (tmp && (fchmod(fd, 0644) < 0 || rename(tmp, out) < 0) &&
                                             husk_fail(&err, errno, "export: rename %s to %s", tmp, out) < 0))
        rc = engine_fail(&err);
    else if (tmp) {
        free(tmp);
        tmp = NULL;
    }
out:
    if (tmp)
        unlink(tmp);
    if (fd != STDOUT_FILENO)
        close(fd);
    ctr_fs_close(&fs);
    fs_target_close(&t);
    return rc;
}
