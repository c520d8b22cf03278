/* load.c — `husk image load -i FILE` (or the archive on standard input): images
 * from `docker save`, `podman save` (docker-archive or oci-archive), or an OCI
 * layout directory; prints "Loaded image: NAME" per image, as docker does. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "image_archive.h"
#include "util.h"

/* Standard input is copied to an unnamed file first: an archive is read by name. */
static int stdin_to_file(const struct store *st, char **path_out, int *fd_out, husk_err **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/tmp", st->root);
    if (mkdir_p(dir, 0700, err) < 0)
        return -1;
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return husk_fail(err, errno, "open an unnamed file in %s", dir);
    char buf[1 << 16];
    ssize_t got;
    while ((got = read(STDIN_FILENO, buf, sizeof(buf))) > 0) {
        if (write_all(fd, buf, (size_t)got) < 0) {
            close(fd);
            return husk_fail(err, errno, "write %s", dir);
        }
    }
    if (got < 0) {
        close(fd);
        return husk_fail(err, errno, "read standard input");
    }
    *fd_out = fd;
    *path_out = xasprintf("/proc/self/fd/%d", fd);
    return 0;
}

int cmd_image_load(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "input", required_argument, NULL, 'i' }, { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 },
    };
    const char *input = NULL;
    bool quiet = false;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+i:qh", opts)) != -1) {
        switch (ch) {
        case 'i': input = optarg; break;
        case 'q': quiet = true; break;
        case 'h':
            printf("usage: husk image load [-i FILE] [-q]   (FILE: docker-archive, oci-archive or an OCI layout "
                   "directory; default: standard input)\n");
            return 0;
        default:
            return engine_usage_error("image load", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("image load", argc, 0, 0, "[-i FILE]"))
        return ENGINE_EXIT_ERROR;
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *path = NULL;
    _cleanup_close_ int fd = -1;
    _cleanup_strv_ char **loaded = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    if (!input || strcmp(input, "-") == 0) {
        if (isatty(STDIN_FILENO)) {
            store_close(&st);
            return engine_usage_error("image load", "no -i FILE and standard input is a terminal");
        }
        if (stdin_to_file(&st, &path, &fd, &err) < 0) {
            store_close(&st);
            return engine_fail(&err);
        }
        input = path;
    }
    int rc = archive_load(&st, input, &loaded, &err);
    store_close(&st);
    if (rc < 0)
        return engine_fail(&err);
    for (size_t i = 0; !quiet && loaded[i]; i++)
        printf("%s\n", loaded[i]);
    return 0;
}
