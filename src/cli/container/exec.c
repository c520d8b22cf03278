/* exec.c — `husk container exec [-d] [-i] [-t] [-u USER] [-e K=V] [-w DIR]
 * [--privileged] CONTAINER CMD [ARG…]`: one more process in a running container,
 * entered through setns as the seed articles show (the runtime library's exec).
 * Exit: the process's status; 126 it cannot be invoked, 127 not found, 125 an
 * engine error (docker's). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "container_cli.h"
#include "ctr_life.h"
#include "exec.h"
#include "ocispec.h"
#include "ocispec_int.h"
#include "terminal.h"
#include "util.h"

int cmd_container_exec(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "detach", no_argument, NULL, 'd' },
        { "interactive", no_argument, NULL, 'i' },
        { "tty", no_argument, NULL, 't' },
        { "user", required_argument, NULL, 'u' },
        { "env", required_argument, NULL, 'e' },
        { "workdir", required_argument, NULL, 'w' },
        { "privileged", no_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct husk_exec e = { .root = g->root, .console_sock_fd = -1 };
    _cleanup_strv_ char **env = NULL;
    size_t n_env = 0;
    bool detach = false, interactive = false, privileged = false;
    const char *user = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "+ditu:e:w:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': detach = true; break;
        case 'i': interactive = true; break;
        case 't': e.tty = true; break;
        case 'u': user = optarg; break;
        case 'e':
            env = xrealloc(env, (n_env + 2) * sizeof *env);
            env[n_env++] = strchr(optarg, '=') ? xstrdup(optarg)
                                               : xasprintf("%s=%s", optarg, getenv(optarg) ? getenv(optarg) : "");
            env[n_env] = NULL;
            break;
        case 'w':
            if (optarg[0] != '/')
                return engine_usage_error("container exec", "-w \"%s\": the working directory must be absolute",
                                          optarg);
            e.cwd = optarg;
            break;
        case 'P': privileged = true; break;
        case 'h':
            printf("usage: husk container exec [-d] [-i] [-t] [-u USER[:GROUP]] [-e K=V] [-w DIR] [--privileged] "
                   "CONTAINER COMMAND [ARG...]\n");
            return 0;
        default: return engine_usage_error("container exec", "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (engine_need_args("container exec", argc, 2, -1, "[options] CONTAINER COMMAND [ARG...]"))
        return ENGINE_EXIT_ERROR;
    (void)interactive; /* our stdin is the process's own: -i only matters for docker's daemon */
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *id = NULL;
    struct store st;
    if (engine_open_store(g, &st, &err) < 0)
        return engine_fail(&err);
    struct ctr_state s = { 0 };
    int rc = 0;
    if (ctr_lookup(&st, argv[optind], &id, &err) < 0 || ctr_state_get(&st, g->root, id, &s, &err) < 0) {
        store_close(&st);
        return engine_fail(&err);
    }
    bool running = s.status == CTR_RUNNING;
    enum ctr_status status = s.status;
    _cleanup_free_ char *rootfs = xasprintf("%s/containers/%s/bundle/rootfs", st.root, id);
    ctr_state_clear(&s);
    store_close(&st);
    if (!running) {
        husk_log(HUSK_LOG_ERROR, "container \"%s\" is %s, not running: cannot exec in it", argv[optind],
                 ctr_status_name(status));
        return ENGINE_EXIT_ERROR;
    }
    e.id = id;
    e.args = argv + optind + 1;
    e.env = env;
    struct ocispec_user u = { 0 };
    if (user) {
        _cleanup_free_ char *what = xasprintf("-u %s", user);
        if (ocispec_resolve_user(rootfs, user, what, &u, &err) < 0)
            return engine_fail(&err);
        e.has_user = e.has_gid = true;
        e.uid = u.uid;
        e.gid = u.gid;
        e.additional_gids = u.sgids;
        e.n_additional_gids = u.n_sgids;
    }
    _cleanup_strv_ char **all_caps = NULL;
    if (privileged) {
        int last = cap_last();
        all_caps = xcalloc((size_t)last + 2, sizeof *all_caps);
        for (int c = 0, k = 0; c <= last; c++)
            if (cap_name_of(c))
                all_caps[k++] = xstrdup(cap_name_of(c));
        e.caps = all_caps;
    }

    int sv[2] = { -1, -1 };
    _cleanup_close_ int sfd = -1, master = -1;
    pid_t pid = -1, proxy = -1;
    sigset_t all;
    if (e.tty && !detach) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            husk_fail(&err, errno, "socketpair");
            return engine_fail(&err);
        }
        e.console_sock_fd = sv[1];
    }
    if (!detach) {
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        sfd = signalfd(-1, &all, SFD_CLOEXEC);
    }
    int r = exec_start(&e, &pid, &err);
    if (sv[1] >= 0)
        closep(&sv[1]);
    if (r < 0) {
        closep(&sv[0]);
        const char *m = err ? err->msg : "";
        rc = strstr(m, "executable file not found") || strstr(m, "No such file") ? 127
             : strstr(m, "exec: \"")                                              ? 126
                                                                                  : ENGINE_EXIT_ERROR;
        husk_err_report(&err);
        return rc;
    }
    if (sv[0] >= 0) {
        if (terminal_recv_master(sv[0], &master, &err) < 0 || (proxy = terminal_proxy_start(master, &err)) < 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            closep(&sv[0]);
            return engine_fail(&err);
        }
        closep(&sv[0]);
    }
    if (detach)
        return 0;
    rc = cli_wait_container(pid, sfd, master, proxy);
    if (proxy > 0)
        waitpid(proxy, NULL, 0);
    return rc;
}
