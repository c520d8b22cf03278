/* spec.c — `husk spec [--bundle DIR] [--rootless]`: write a default config.json. */
#include "cli.h"
#include "spec.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cmd_spec(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "bundle", required_argument, NULL, 'b' },
        { "rootless", no_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *bundle = ".";
    bool rootless = false;
    int ch;
    (void)g;
    while ((ch = cli_getopt(argc, argv, "+b:h", opts)) != -1) {
        switch (ch) {
        case 'b': bundle = optarg; break;
        case 'R': rootless = true; break;
        case 'h': printf("usage: husk spec [--bundle DIR] [--rootless]\n"); return 0;
        default: return cli_usage_error("spec", "unknown or incomplete flag '%s'", argv[optind - 1]);
        }
    }
    if (cli_need_args("spec", argc, argv, 0, 0, "[--bundle DIR] [--rootless]"))
        return 1;

    _cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
    _cleanup_free_ char *json = spec_default_json(rootless, getuid(), getgid());
    /* Like runc: never overwrite an existing config. */
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            fprintf(stderr, "husk: File %s exists. Remove it first\n", path);
        else
            fprintf(stderr, "husk: create %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (write_all(fd, json, strlen(json)) < 0) {
        fprintf(stderr, "husk: write %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}
