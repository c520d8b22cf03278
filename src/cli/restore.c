/* restore.c — `husk restore [flags] ID`: bring a checkpointed container back with
 * criu(8) from the bundle's config (runc's flags). Without --detach husk stays, as
 * with `run`: it forwards signals, waits for the restored init, exits with its status
 * and deletes the container. */
#include "cli.h"
#include "config.h"
#include "container.h"
#include "criu.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>

int cmd_restore(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "image-path", required_argument, NULL, 'i' }, { "work-path", required_argument, NULL, 'w' },
        { "tcp-established", no_argument, NULL, 'T' }, { "ext-unix-sk", no_argument, NULL, 'U' },
        { "shell-job", no_argument, NULL, 'J' }, { "file-locks", no_argument, NULL, 'L' },
        { "manage-cgroups-mode", required_argument, NULL, 'M' }, { "help", no_argument, NULL, 'h' },
        { "bundle", required_argument, NULL, 'b' },
        { "detach", no_argument, NULL, 'd' },
        { "pid-file", required_argument, NULL, 'p' },
        { "console-socket", required_argument, NULL, 'c' },
        { "no-subreaper", no_argument, NULL, 'S' },
        { "no-pivot", no_argument, NULL, 'N' },
        { "no-new-keyring", no_argument, NULL, 'K' },
        { NULL, 0, NULL, 0 },
    };
    struct criu_opts o = { .criu = g->criu };
    struct create_flags f = { 0 };
    struct husk_container c;
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_close_ int sfd = -1;
    bool subreaper = true;
    int ch;
    while ((ch = cli_getopt(argc, argv, "+b:dh", opts)) != -1) {
        if (cli_criu_flag(ch, &o))
            continue;
        switch (ch) {
        case 'b': f.bundle = optarg; break;
        case 'd': f.detach = true; break;
        case 'p': f.pid_file = optarg; break;
        case 'c': f.console_socket = optarg; break;
        case 'S': subreaper = false; break;
        case 'N': f.no_pivot = true; break;   /* criu restores the mounts as they were */
        case 'K': f.no_new_keyring = true; break;   /* recorded for exec, as create does */
        case 'h':
            printf("usage: husk restore [--image-path DIR] [--work-path DIR] [--bundle DIR] [--detach]\n"
                   "       [--pid-file FILE] [--console-socket SOCK] [--no-subreaper] [--no-pivot]\n"
                   "       [--no-new-keyring] [--tcp-established] [--ext-unix-sk] [--shell-job] [--file-locks]\n"
                   "       [--manage-cgroups-mode soft|full|strict|ignore] ID\n\n"
                   "Restore a container saved by `husk checkpoint` from --image-path (default\n"
                   "./checkpoint) with the bundle's config.json; criu's log (restore.log) goes to\n"
                   "--work-path or the image directory.\n");
            return 0;
        default: return cli_usage_error("restore", "unknown or incomplete flag '%s'", argv[optind - 1]);
        }
    }
    if (cli_need_args("restore", argc, argv, 1, 1, "[flags] ID"))
        return 1;
    if (cli_check_create_globals(g) < 0)
        return 1;
    const char *id = argv[optind];
    if (cli_prepare_container(g, &f, id, &c, &err) < 0)
        return cli_fail(&err);
    if (!f.detach) {
        /* The restored init is our child (criu --restore-sibling); its orphans are ours too. */
        if (subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
            husk_fail(&err, errno, "prctl(PR_SET_CHILD_SUBREAPER)");
            cli_release_container(&c);
            return cli_fail(&err);
        }
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        sfd = signalfd(-1, &all, SFD_CLOEXEC);
        if (sfd < 0) {
            husk_fail(&err, errno, "signalfd");
            cli_release_container(&c);
            return cli_fail(&err);
        }
    }
    if (container_restore(&c, &o, &err) < 0) {
        cli_release_container(&c);
        return cli_fail(&err);
    }
    if (f.detach) {
        cli_release_container(&c);
        return 0;
    }
    int status = cli_wait_container(c.pid, sfd, -1, -1);
    if (container_delete(g->root, id, true, &err) < 0)
        husk_err_report(&err);
    cli_release_container(&c);
    return status;
}
