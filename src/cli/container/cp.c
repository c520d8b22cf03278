/* cp.c — `husk container cp [-a] [-L] CONTAINER:SRC DEST|-` and
 * `husk container cp [-a] [-L] SRC|- CONTAINER:DEST`: docker's rules for SRC and DEST
 * (ctr_fs.h); "-" is a tar on standard output or input. Paths in the container are
 * resolved beneath its root filesystem, whatever symlinks it holds. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctr_fs.h"
#include "fs_target.h"
#include "util.h"

/* docker's split: an absolute path, or one whose part before the first ':' starts
 * with '.', is local; else "CONTAINER:PATH". *path points into arg. */
static char *split_arg(const char *arg, const char **path)
{
    const char *colon = strchr(arg, ':');
    if (arg[0] == '/' || arg[0] == '.' || !colon || colon == arg) {
        *path = arg;
        return NULL;
    }
    *path = colon + 1;
    return strndup(arg, (size_t)(colon - arg));
}

/* docker refuses to write into a container run with --read-only. */
static int read_only(const struct fs_target *t, const char *name, husk_err **err)
{
    struct json_object *h = NULL, *ro = NULL;
    if (json_object_object_get_ex(t->rec, "HostConfig", &h) && json_object_object_get_ex(h, "ReadonlyRootfs", &ro) &&
        json_object_get_boolean(ro))
        return husk_fail(err, 0, "container \"%s\": its root filesystem is read-only (--read-only)", name);
    return 0;
}

int cmd_container_cp(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "archive", no_argument, NULL, 'a' }, { "follow-link", no_argument, NULL, 'L' },
        { "quiet", no_argument, NULL, 'q' },   { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct ctr_cp_opts o = { 0 };
    int ch;
    while ((ch = getopt_long(argc, argv, "+aLqh", opts, NULL)) != -1) {
        switch (ch) {
        case 'a': o.archive = true; break;
        case 'L': o.follow_link = true; break;
        case 'q': break;
        case 'h':
            printf("usage: husk container cp [-a] [-L] CONTAINER:SRC_PATH DEST_PATH|-\n"
                   "       husk container cp [-a] [-L] SRC_PATH|- CONTAINER:DEST_PATH\n");
            return 0;
        default: return engine_usage_error("container cp", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("container cp", argc, 2, 2, "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|- (or the reverse)"))
        return ENGINE_EXIT_ERROR;
    const char *src, *dest;
    _cleanup_free_ char *sc = split_arg(argv[optind], &src), *dc = split_arg(argv[optind + 1], &dest);
    if (sc && dc)
        return engine_usage_error("container cp", "copying between containers is not supported");
    if (!sc && !dc)
        return engine_usage_error("container cp", "one of SRC and DEST must be CONTAINER:PATH");
    if (!*src || !*dest)
        return engine_usage_error("container cp", "empty path");
    if (sc && strcmp(dest, "-") == 0 && isatty(STDOUT_FILENO))
        return engine_usage_error("container cp", "refusing to write a tar to a terminal: redirect the output");
    if (dc && strcmp(src, "-") == 0 && isatty(STDIN_FILENO))
        return engine_usage_error("container cp", "\"-\" reads a tar from standard input, which is a terminal");

    _cleanup_err_ husk_err *err = NULL;
    struct fs_target t;
    struct ctr_fs fs = { .rootfd = -1 };
    int rc = 0;
    if (fs_target_open(g, sc ? sc : dc, true, &t, &err) < 0 || (dc && read_only(&t, dc, &err) < 0) ||
        ctr_fs_open(&t.st, t.layers, t.dir, &fs, &err) < 0 ||
        (sc ? ctr_fs_copy_out(&fs, src, dest, STDOUT_FILENO, &o, &err)
            : ctr_fs_copy_in(&fs, src, STDIN_FILENO, dest, &o, &err)) < 0)
        rc = engine_fail(&err);
    ctr_fs_close(&fs);
    fs_target_close(&t);
    return rc;
}
