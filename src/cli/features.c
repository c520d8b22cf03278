/* features.c — `husk features`: the Features structure (features.md) as JSON. */
#include "cli.h"
#include "oci_features.h"
#include "util.h"

#include <stdio.h>

int cmd_features(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    int ch;
    (void)g;
    while ((ch = cli_getopt(argc, argv, "+h", opts)) != -1) {
        if (ch == 'h') {
            printf("usage: husk features\n\n"
                   "Print the OCI Features structure: the spec versions, hooks, mount options,\n"
                   "namespaces, capabilities, cgroup and seccomp support this husk recognises\n"
                   "in config.json.\n");
            return 0;
        }
        return cli_usage_error("features", "unknown flag '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error("features", "takes no arguments, got \"%s\"", argv[optind]);
    _cleanup_free_ char *text = features_text();
    if (fputs(text, stdout) == EOF || fflush(stdout) == EOF) {
        perror("husk: features: write");
        return 1;
    }
    return 0;
}
