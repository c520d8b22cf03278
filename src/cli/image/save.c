/* save.c — `husk image save -o FILE [--format docker-archive|oci-archive] IMAGE…`:
 * an archive `docker load` and `podman load` read (docker-archive, the default, as
 * docker's) or an OCI layout in a tar (oci-archive). The file appears whole or not
 * at all. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "image_archive.h"
#include "util.h"

int cmd_image_save(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' }, { "format", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
    };
    const char *out = NULL;
    enum archive_format format = ARCHIVE_DOCKER;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+o:h", opts)) != -1) {
        switch (ch) {
        case 'o': out = optarg; break;
        case 'f':
            if (strcmp(optarg, "docker-archive") == 0)
                format = ARCHIVE_DOCKER;
            else if (strcmp(optarg, "oci-archive") == 0)
                format = ARCHIVE_OCI;
            else
                return engine_usage_error("image save", "--format: \"%s\" is not docker-archive or oci-archive",
                                          optarg);
            break;
        case 'h':
            printf("usage: husk image save -o FILE [--format docker-archive|oci-archive] IMAGE [IMAGE...]\n");
            return 0;
        default:
            return engine_usage_error("image save", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("image save", argc, 1, -1, "-o FILE IMAGE [IMAGE...]"))
        return ENGINE_EXIT_ERROR;
    if (!out)
        return engine_usage_error("image save", "-o FILE is required (an archive is not written to a terminal)");
    _cleanup_err_ husk_err *err = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    int rc = archive_save(&st, argv + optind, (size_t)(argc - optind), format, out, &err);
    store_close(&st);
    return rc < 0 ? engine_fail(&err) : 0;
}
