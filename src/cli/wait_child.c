/* wait_child.c — the foreground wait of run, exec and restore (husk's and the
 * engine's): signals we get are forwarded to the process, window size changes go
 * to its terminal, and its exit becomes our status (128+N for a signal N). */
#include <errno.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

int cli_wait_container(pid_t init, int sfd, int master, pid_t proxy)
{
    for (;;) {
        struct signalfd_siginfo si;
        ssize_t n = read(sfd, &si, sizeof si);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof si)
            return 1;
        if (si.ssi_signo == SIGCHLD) {
            int status;
            pid_t p;
            while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
                if (p == proxy)
                    continue;
                if (p == init)
                    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            continue;
        }
        if (si.ssi_signo == SIGWINCH && master >= 0) {
            struct winsize ws;
            if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                ioctl(master, TIOCSWINSZ, &ws);
            continue;
        }
        kill(init, (int)si.ssi_signo);
    }
}
