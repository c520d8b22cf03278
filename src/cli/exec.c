/* exec.c — `husk exec [flags] ID CMD [ARG...]` or `husk exec --process FILE ID`:
 * run one more process in a running container (src/runtime/exec.c).
 *
 * Unless --detach, husk waits for it, forwards the signals it gets to it and exits
 * with its status (128+N when signal N killed it). Errors of husk exec itself (bad
 * flags, unknown or stopped container, a program that cannot be found or executed,
 * a pid file that cannot be written ...) exit 255, as runc's exec does, so that a
 * caller can tell "exec failed" from "the process exited 1". */
#include "cli.h"
#include "config.h"
#include "exec.h"
#include "terminal.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

static void usage(void)
{
    printf("usage: husk exec [flags] ID CMD [ARG...]\n"
           "       husk exec [flags] --process FILE ID\n\n"
           "  --process, -p FILE       the process to run, a process.json as in the spec's config.md\n"
           "  --tty, -t                allocate a pseudo-terminal\n"
           "  --console-socket SOCK    send the pty master there (SCM_RIGHTS)\n"
           "  --detach, -d             do not wait for the process\n"
           "  --pid-file FILE          write the process's host pid there\n"
           "  --cwd DIR                working directory inside the container\n"
           "  --env, -e KEY=VALUE      add to the environment (repeatable)\n"
           "  --user, -u UID[:GID]     run as this user\n"
           "  --additional-gids, -g G  add a supplementary group (repeatable)\n"
           "  --cap, -c CAP_NAME       add a capability (repeatable)\n"
           "  --no-new-privs           set no_new_privs\n"
           "  --preserve-fds N         pass fds 3..3+N-1 on\n"
           "  --ignore-paused          exec even if the container is paused\n"
           "  --cgroup SUB             join this existing sub-cgroup of the container's\n"
           "  --apparmor, --process-label  not supported (husk has no LSM support)\n");
}

/* runc's exit status for a failure of exec itself. */
#define EXEC_FAILED 255

static int exec_fail(husk_err **err)
{
    cli_fail(err);
    return EXEC_FAILED;
}
#define exec_usage_error(...) (cli_usage_error("exec", __VA_ARGS__), EXEC_FAILED)

static void strv_push(char ***v, size_t *n, const char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof(char *));
    (*v)[(*n)++] = xstrdup(s);
    (*v)[*n] = NULL;
}

static int load_process(const char *path, struct oci_process **p, husk_err **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (read_file_at(AT_FDCWD, path, 32 << 20, &text, &len, err) < 0)
        return husk_err_prefix(err, "--process %s", path);
    return config_parse_process(text, len, path, p, err);
}

int cmd_exec(struct cli_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "process", required_argument, NULL, 'p' },
        { "tty", no_argument, NULL, 't' },
        { "console-socket", required_argument, NULL, 'S' },
        { "detach", no_argument, NULL, 'd' },
        { "pid-file", required_argument, NULL, 'P' },
        { "cwd", required_argument, NULL, 'w' },
        { "env", required_argument, NULL, 'e' },
        { "user", required_argument, NULL, 'u' },
        { "additional-gids", required_argument, NULL, 'g' },
        { "cap", required_argument, NULL, 'c' },
        { "no-new-privs", no_argument, NULL, 'N' },
        { "apparmor", required_argument, NULL, 'A' },
        { "process-label", required_argument, NULL, 'L' },
        { "preserve-fds", required_argument, NULL, 'f' },
        { "ignore-paused", no_argument, NULL, 'I' },
        { "cgroup", required_argument, NULL, 'C' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct husk_exec e = { .root = g->root, .console_sock_fd = -1 };
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_strv_ char **env = NULL, **caps = NULL;
    _cleanup_free_ gid_t *gids = NULL;
    size_t n_env = 0, n_caps = 0;
    const char *process_file = NULL;
    bool detach = false;
    int ch;

    while ((ch = cli_getopt(argc, argv, "+p:tde:u:g:c:h", opts)) != -1) {
        switch (ch) {
        case 'p': process_file = optarg; break;
        case 't': e.tty = true; break;
        case 'S': e.console_socket = optarg; break;
        case 'd': detach = true; break;
        case 'P': e.pid_file = optarg; break;
        case 'w': e.cwd = optarg; break;
        case 'e': strv_push(&env, &n_env, optarg); break;
        case 'u':
            if (exec_parse_user(optarg, &e, &err) < 0)
                return exec_fail(&err);
            break;
        case 'g': {
            char *end;
            errno = 0;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*optarg < '0' || *optarg > '9' || *end || errno || v > 0xfffffffeUL)
                return exec_usage_error("--additional-gids: expected a number, got \"%s\"", optarg);
            gids = xrealloc(gids, (e.n_additional_gids + 1) * sizeof(gid_t));
            gids[e.n_additional_gids++] = (gid_t)v;
            break;
        }
        case 'c': strv_push(&caps, &n_caps, optarg); break;
        case 'N': e.no_new_privs = true; break;
        case 'A':
        case 'L':
            if (optarg[0] != '\0')
                return exec_usage_error("--%s \"%s\": not supported (husk has no AppArmor or SELinux support)",
                                        ch == 'A' ? "apparmor" : "process-label", optarg);
            break;
        case 'f': {
            char *end;
            errno = 0;
            long n = strtol(optarg, &end, 10);
            if (*end || errno || n < 0 || n > 65536 || *optarg == '\0')
                return exec_usage_error("--preserve-fds: expected a number, got \"%s\"", optarg);
            e.preserve_fds = (int)n;
            break;
        }
        case 'I': e.ignore_paused = true; break;
        case 'C': e.cgroup = optarg; break;
        case 'h': usage(); return 0;
        default: return exec_usage_error("unknown or incomplete flag '%s'", argv[optind - 1]);
        }
    }
    e.env = env;
    e.caps = caps;
    e.additional_gids = gids;
    if (process_file) {
        if (cli_need_args("exec", argc, argv, 1, 1, "--process FILE ID"))
            return EXEC_FAILED;
    } else if (argc - optind < 2) {
        return exec_usage_error("requires an ID and a command (usage: husk exec [flags] ID CMD [ARG...])");
    }
    e.id = argv[optind];
    if (!process_file)
        e.args = argv + optind + 1;
    if (detach && e.tty && !e.console_socket)
        return exec_usage_error("--detach with --tty needs --console-socket");

    struct oci_process *proc = NULL;
    if (process_file && load_process(process_file, &proc, &err) < 0)
        return exec_fail(&err);
    e.process = proc;

    int sv[2] = { -1, -1 };
    _cleanup_close_ int sfd = -1, master = -1;
    pid_t proxy = -1, pid = -1;
    sigset_t all;
    int r;

    bool want_tty = e.tty || (proc && proc->terminal);
    if (want_tty && !e.console_socket && !detach) {
        /* No console socket: we relay the pty ourselves, as `husk run` does. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            husk_fail(&err, errno, "socketpair");
            goto fail;
        }
        e.console_sock_fd = sv[1];
    }
    if (!detach) {
        /* Signals become events to forward; the new process resets its own mask. */
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        sfd = signalfd(-1, &all, SFD_CLOEXEC);
        if (sfd < 0) {
            husk_fail(&err, errno, "signalfd");
            goto fail;
        }
    }

    r = exec_start(&e, &pid, &err);
    if (sv[1] >= 0)
        closep(&sv[1]);
    if (r < 0) {
        if (proc)
            process_free(proc);
        closep(&sv[0]);
        /* A program that cannot be found or run (r == -127) is a failure of exec
         * too: 255 with runc's "executable file not found" message (podman and
         * docker make their 127 from that message). */
        husk_err_report(&err);
        return EXEC_FAILED;
    }
    if (proc)
        process_free(proc);
    proc = NULL;
    if (sv[0] >= 0) {
        if (terminal_recv_master(sv[0], &master, &err) < 0)
            goto fail_started;
        closep(&sv[0]);
        proxy = terminal_proxy_start(master, &err);
        if (proxy < 0)
            goto fail_started;
    }
    if (detach)
        return 0;
    int status = cli_wait_container(pid, sfd, master, proxy);
    if (proxy > 0)
        waitpid(proxy, NULL, 0);
    return status;

fail_started:
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
fail:
    if (proc)
        process_free(proc);
    closep(&sv[0]);
    closep(&sv[1]);
    return exec_fail(&err);
}
