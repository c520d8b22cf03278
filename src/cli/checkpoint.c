/* checkpoint.c — `husk checkpoint [flags] ID`: save a running container with criu(8)
 * (runc's flags; see src/runtime/criu.h). Shares its criu flags with `husk restore`. */
#include "cli.h"
#include "criu.h"

#include <stdio.h>
#include <string.h>

int cli_criu_flag(int ch, struct criu_opts *o)
{
    switch (ch) {
    case 'i': o->image_path = optarg; return 1;
    case 'w': o->work_path = optarg; return 1;
    case 'T': o->tcp_established = true; return 1;
    case 'U': o->ext_unix_sk = true; return 1;
    case 'J': o->shell_job = true; return 1;
    case 'L': o->file_locks = true; return 1;
    case 'M': o->cgroups_mode = optarg; return 1;
    default: return 0;
    }
}

int cmd_checkpoint(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "image-path", required_argument, NULL, 'i' }, { "work-path", required_argument, NULL, 'w' },
        { "tcp-established", no_argument, NULL, 'T' }, { "ext-unix-sk", no_argument, NULL, 'U' },
        { "shell-job", no_argument, NULL, 'J' }, { "file-locks", no_argument, NULL, 'L' },
        { "manage-cgroups-mode", required_argument, NULL, 'M' }, { "help", no_argument, NULL, 'h' },
        { "parent-path", required_argument, NULL, 'P' },
        { "leave-running", no_argument, NULL, 'R' },
        { "pre-dump", no_argument, NULL, 'D' },
        { NULL, 0, NULL, 0 },
    };
    struct criu_opts o = { .criu = g->criu };
    _cleanup_err_ husk_err *err = NULL;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+h", opts)) != -1) {
        if (cli_criu_flag(ch, &o))
            continue;
        switch (ch) {
        case 'P': o.parent_path = optarg; break;
        case 'R': o.leave_running = true; break;
        case 'D': o.pre_dump = true; break;
        case 'h':
            printf("usage: husk checkpoint [--image-path DIR] [--work-path DIR] [--parent-path DIR]\n"
                   "       [--leave-running] [--pre-dump] [--tcp-established] [--ext-unix-sk] [--shell-job]\n"
                   "       [--file-locks] [--manage-cgroups-mode soft|full|strict|ignore] ID\n\n"
                   "Save the processes of a running container with criu(8) to --image-path (default\n"
                   "./checkpoint); criu's log (dump.log) goes to --work-path or the image directory.\n"
                   "Without --leave-running or --pre-dump the container is stopped and deleted.\n");
            return 0;
        default: return cli_usage_error("checkpoint", "unknown or incomplete flag '%s'", argv[optind - 1]);
        }
    }
    if (cli_need_args("checkpoint", argc, argv, 1, 1, "[flags] ID"))
        return 1;
    if (container_checkpoint(g->root, argv[optind], &o, &err) < 0)
        return cli_fail(&err);
    return 0;
}
