/* monitor_harness — runs husk-monitor for real without the engine's containers
 * (tests/integration/monitor.bats). It does what `husk container run -d` does around
 * the monitor: a process M becomes a session leader and subreaper, forks the
 * "container" (CMD, with pipes or a pty for its stdio), and execs husk-monitor
 * through monitor_exec(); the harness waits until the monitor is ready, prints its
 * pid (= M's) and exits.
 *
 *   monitor_harness [-t] [-i] [-s MAX_SIZE] [-n MAX_FILES] [-x EXIT_CMD] [-e ERR_FILE]
 *                   CTR_DIR CMD [ARG…]
 *   -t  a pty (CMD gets it as its controlling terminal)   -i keep stdin open
 *   -x  the exit command (an absolute path, run without arguments)
 *   -e  the monitor's stderr (default /dev/null)
 *   -I  M ignores SIGCHLD and SIGTERM and blocks SIGINT before it execs the monitor
 *       (the monitor must not inherit that)
 *
 *   monitor_harness -a [-i] [-t] [-R ROWS,COLS] CTR_DIR
 *   attach (attach.c) to the monitor of CTR_DIR: -i copies stdin (closing the
 *   container's at EOF), -t as with a pty, -R sends that size first. Exits with the
 *   container's exit code, or prints "detached" / "lost" and exits 250 / 251.
 *
 *   monitor_harness -L CTR_DIR [-f] [-t] [--tail N] [--since T] [--until T]
 *   `container logs` (ctr_log.c) of CTR_DIR, with docker's flags. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach.h"
#include "ctr_log.h"
#include "monitor.h"
#include "util.h"

static void die(const char *what)
{
    fprintf(stderr, "monitor_harness: %s: %s\n", what, strerror(errno));
    _exit(1);
}

static int attach_mode(int interactive, int tty, const char *size, const char *dir)
{
    husk_err *err = NULL;
    int sock = attach_connect(dir, &err);
    if (sock < 0) {
        husk_err_report(&err);
        return 1;
    }
    if (size) {
        unsigned char f[1 + sizeof(struct mon_resize)] = { MON_FRAME_RESIZE };
        struct mon_resize r;
        unsigned rows, cols;
        if (sscanf(size, "%u,%u", &rows, &cols) != 2)
            return 2;
        r.rows = (uint16_t)rows;
        r.cols = (uint16_t)cols;
        memcpy(f + 1, &r, sizeof(r));
        if (send(sock, f, sizeof(f), 0) < 0)
            die("send");
    }
    struct attach_opts o = { .stdin = interactive, .tty = tty, .close_stdin = interactive };
    int code = -1;
    int r = attach_run(sock, &o, &code, &err);
    if (r < 0) {
        husk_err_report(&err);
        return 1;
    }
    if (r == ATTACH_DETACHED) {
        fprintf(stderr, "detached\n");
        return 250;
    }
    if (r == ATTACH_LOST) {
        fprintf(stderr, "lost\n");
        return 251;
    }
    return code;
}

static int logs_mode(int argc, char **argv)
{
    struct ctr_log_opts o = { .tail = -1 };
    husk_err *err = NULL;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = 0;
        if (strcmp(a, "-f") == 0)
            o.follow = true;
        else if (strcmp(a, "-t") == 0)
            o.timestamps = true;
        else if (strcmp(a, "--tail") == 0 && i + 1 < argc)
            r = ctr_log_parse_tail(argv[++i], &o.tail, &err);
        else if (strcmp(a, "--since") == 0 && i + 1 < argc)
            o.has_since = true, r = ctr_log_parse_time(argv[++i], &now, &o.since, &err);
        else if (strcmp(a, "--until") == 0 && i + 1 < argc)
            o.has_until = true, r = ctr_log_parse_time(argv[++i], &now, &o.until, &err);
        else
            return 2;
        if (r < 0) {
            husk_err_report(&err);
            return 125;
        }
    }
    if (ctr_log_show(argv[0], &o, STDOUT_FILENO, STDERR_FILENO, &err) < 0) {
        husk_err_report(&err);
        return 125;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "-L") == 0)
        return logs_mode(argc - 2, argv + 2);
    int tty = 0, interactive = 0, attach = 0, dirty_signals = 0, c;
    const char *size = NULL;
    long long max_size = 0;
    int max_files = 1;
    const char *exit_cmd = NULL, *err_file = "/dev/null";
    while ((c = getopt(argc, argv, "+tis:n:x:e:aR:I")) != -1) {
        switch (c) {
        case 't': tty = 1; break;
        case 'i': interactive = 1; break;
        case 's': max_size = atoll(optarg); break;
        case 'n': max_files = atoi(optarg); break;
        case 'x': exit_cmd = optarg; break;
        case 'e': err_file = optarg; break;
        case 'a': attach = 1; break;
        case 'R': size = optarg; break;
        case 'I': dirty_signals = 1; break;
        default: return 2;
        }
    }
    if (attach && argc - optind == 1)
        return attach_mode(interactive, tty, size, argv[optind]);
    if (argc - optind < 2) {
        fprintf(stderr, "usage: monitor_harness [-t] [-i] [-s SIZE] [-n FILES] [-x CMD] [-e FILE] DIR CMD [ARG...]\n");
        return 2;
    }
    const char *dir = argv[optind];
    char **cmd = argv + optind + 1;

    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        die("pipe");
    pid_t m = fork();
    if (m < 0)
        die("fork");
    if (m == 0) {
        close(ready[0]);
        if (setsid() < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
            die("setsid/subreaper");
        int in[2] = { -1, -1 }, out[2], errp[2], master = -1;
        char *slave_name = NULL;
        if (tty) {
            master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
            if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || !(slave_name = ptsname(master)))
                die("pty");
        } else {
            if ((interactive && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
                die("pipe");
        }
        pid_t child = fork();
        if (child < 0)
            die("fork");
        if (child == 0) {
            if (tty) {
                setsid();
                int s = open(slave_name, O_RDWR);
                if (s < 0 || ioctl(s, TIOCSCTTY, 0) < 0)
                    die("slave");
                dup2(s, 0), dup2(s, 1), dup2(s, 2);
            } else {
                int null = open("/dev/null", O_RDONLY);
                dup2(interactive ? in[0] : null, 0);
                dup2(out[1], 1);
                dup2(errp[1], 2);
            }
            execvp(cmd[0], cmd);
            die(cmd[0]);
        }
        if (!tty) {
            if (interactive)
                close(in[0]);
            close(out[1]);
            close(errp[1]);
        }
        int err_fd = open(err_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (err_fd < 0)
            die(err_file);
        char *exit_argv[] = { (char *)exit_cmd, NULL };
        struct monitor_args a = {
            .ctr_dir = dir,
            .init_pid = child,
            .stdin_fd = tty ? -1 : in[1],
            .stdout_fd = tty ? -1 : out[0],
            .stderr_fd = tty ? -1 : errp[0],
            .pty_fd = master,
            .ready_fd = ready[1],
            .err_fd = err_fd,
            .log_max_size = max_size,
            .log_max_files = max_files,
            .exit_argv = exit_cmd ? exit_argv : NULL,
        };
        if (dirty_signals) {
            sigset_t b;
            sigemptyset(&b);
            sigaddset(&b, SIGINT);
            sigprocmask(SIG_BLOCK, &b, NULL);
            signal(SIGCHLD, SIG_IGN);
            signal(SIGTERM, SIG_IGN);
        }
        husk_err *err = NULL;
        monitor_exec(&a, &err);
        husk_err_report(&err);
        _exit(1);
    }
    close(ready[1]);
    husk_err *err = NULL;
    if (monitor_wait_ready(ready[0], &err) < 0) {
        husk_err_report(&err);
        return 1;
    }
    printf("%d\n", (int)m);
    return 0;
}
