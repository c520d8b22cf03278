/* run.c — `husk run [create flags] [--detach] [--keep] ID`: create, start, wait.
 *
 * husk stays the container's parent (a child subreaper: the init is forked by a
 * setup process that exits, and is reparented to us), forwards the signals it gets
 * to the container's init, and exits with the container's status: its exit code,
 * or 128+N when a signal N killed it. Without --keep the container is deleted. */
#include "cli.h"
#include "config.h"
#include "container.h"
#include "terminal.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

int cli_parse_create_flags(const char *verb, int argc, char **argv, struct create_flags *f, bool is_run);

int cmd_run(struct cli_global *g, int argc, char **argv)
{
    struct create_flags f;
    struct husk_container c;
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_close_ int sfd = -1, master = -1;
    int sv[2] = { -1, -1 };
    pid_t proxy = -1;
    sigset_t all, old;

    int r = cli_parse_create_flags("run", argc, argv, &f, true);
    if (r != 0)
        return r == -2 ? 0 : r;
    if (cli_check_create_globals(g) < 0)
        return 1;
    const char *id = argv[optind];
    if (cli_prepare_container(g, &f, id, &c, &err) < 0)
        return cli_fail(&err);
    /* The container starts as soon as it is created: no exec.fifo to wait on. Not
     * when we are its console: the tty relay must run before its program does. */
    c.start_now = !(c.config->has_process && c.config->process.terminal && !f.console_socket && !f.detach);

    /* A terminal with nobody to hand the master to: we are the console. */
    if (c.config->has_process && c.config->process.terminal && !f.console_socket && !f.detach) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            husk_fail(&err, errno, "socketpair");
            goto fail;
        }
        c.console_sock_fd = sv[1];
    }
    if (!f.detach) {
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
            husk_fail(&err, errno, "prctl(PR_SET_CHILD_SUBREAPER)");
            goto fail;
        }
        /* Signals become events to forward; the container's init resets its own mask. */
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, &old);
        sfd = signalfd(-1, &all, SFD_CLOEXEC);
        if (sfd < 0) {
            husk_fail(&err, errno, "signalfd");
            goto fail;
        }
    }

    if (container_create(&c, &err) < 0)
        goto fail;
    if (sv[1] >= 0) {
        close(sv[1]);
        sv[1] = -1;
        if (terminal_recv_master(sv[0], &master, &err) < 0)
            goto fail_created;
        proxy = terminal_proxy_start(master, &err);
        if (proxy < 0)
            goto fail_created;
    }
    /* start and delete take the hooks from the config parsed here, which is what
     * create saved in the state dir: no need to read and parse it twice more. */
    if ((c.start_now ? container_start_run(&c, &err) : container_start_cfg(g->root, id, c.config, &err)) < 0)
        goto fail_created;
    if (f.detach) {
        cli_release_container(&c);
        return 0;
    }

    int status = cli_wait_container(c.pid, sfd, master, proxy);
    if (!f.keep && container_delete_cfg(g->root, id, true, c.config, &err) < 0)
        husk_err_report(&err);
    if (proxy > 0)
        waitpid(proxy, NULL, 0);
    if (sv[0] >= 0)
        close(sv[0]);
    cli_release_container(&c);
    return status;

fail_created:
    {
        husk_err *e2 = NULL;
        container_delete(g->root, id, true, &e2);
        husk_err_free(&e2);
    }
fail:
    if (proxy > 0) {
        kill(proxy, SIGKILL);
        waitpid(proxy, NULL, 0);
    }
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    cli_release_container(&c);
    return cli_fail(&err);
}
