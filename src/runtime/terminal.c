/* terminal.c — see terminal.h. */
#include "terminal.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int terminal_connect_socket(const char *path, husk_err **err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    _cleanup_close_ int fd = -1;
    int r;

    if (strlen(path) >= sizeof sa.sun_path)
        return husk_fail(err, ENAMETOOLONG, "console socket %s", path);
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return husk_fail(err, errno, "console socket %s: socket", path);
    do
        r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return husk_fail(err, errno, "connect to console socket %s", path);
    return steal_fd(fd);
}

/* Bind the pty slave onto /dev/console. The target is opened with O_NOFOLLOW and the
 * mount made through /proc/self/fd, so a /dev/console symlink planted in the image
 * cannot redirect the mount onto some other file. */
static int bind_console(int slave, husk_err **err)
{
    _cleanup_close_ int target = -1;
    struct stat st;
    char src[64], dst[64];

    target = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (target >= 0 && fstat(target, &st) == 0 && S_ISLNK(st.st_mode)) {
        /* An image's /dev/console symlink is replaced, never followed: the bind
         * would land on whatever it points at. We are past pivot_root, so the
         * unlink cannot reach anything outside the container. */
        closep(&target);
        if (unlink("/dev/console") < 0)
            return husk_fail(err, errno, "remove the /dev/console symlink");
        errno = ENOENT;
    }
    if (target < 0 && errno == ENOENT) {
        int fd = open("/dev/console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0)
            return husk_fail(err, errno, "create /dev/console");
        /* umask must not make it narrower than a console node would be. */
        if (fchmod(fd, 0666) < 0) {
            int e = errno;
            close(fd);
            return husk_fail(err, e, "chmod /dev/console");
        }
        close(fd);
        target = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    }
    if (target < 0)
        return husk_fail(err, errno, "open /dev/console");
    if (fstat(target, &st) < 0)
        return husk_fail(err, errno, "stat /dev/console");
    if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
        return husk_fail(err, EINVAL, "refusing to mount the console on /dev/console: not a regular file or device (symlink?)");
    snprintf(src, sizeof src, "/proc/self/fd/%d", slave);
    snprintf(dst, sizeof dst, "/proc/self/fd/%d", target);
    if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
        return husk_fail(err, errno, "bind mount the console onto /dev/console");
    return 0;
}

static int setup_pty(int sock, const struct oci_process *p, bool console, husk_err **err)
{
    _cleanup_close_ int master = -1, slave = -1;
    char name[64] = "";

    master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return husk_fail(err, errno, "open /dev/ptmx");
    if (unlockpt(master) < 0)
        return husk_fail(err, errno, "unlockpt");
    /* Open the peer from the master itself: a lookup of /dev/pts/N would go through
     * the container's /dev, which the image controls. */
    slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0)
        return husk_fail(err, errno, "open the pty slave (TIOCGPTPEER)");
    if (ptsname_r(master, name, sizeof name) != 0)
        snprintf(name, sizeof name, "/dev/ptmx");

    if (p->has_console_size) {
        struct winsize ws = { .ws_row = (unsigned short)p->console_size.height,
                              .ws_col = (unsigned short)p->console_size.width };
        if (ioctl(master, TIOCSWINSZ, &ws) < 0)
            return husk_fail(err, errno, "set console size %ux%u", p->console_size.width, p->console_size.height);
    }
    /* Let the process user open its own terminal again (/dev/tty, /dev/console): the
     * node is created owned by us. The group stays devpts' tty group. */
    if (fchown(slave, p->user.uid, (gid_t)-1) < 0)
        return husk_fail(err, errno, "chown the pty slave %s to uid %u", name, (unsigned)p->user.uid);

    if (console && bind_console(slave, err) < 0)
        return -1;
    /* Hand the master over before the slave becomes our controlling terminal: if we
     * closed the only master while being its controlling process (any error path
     * below), the kernel would SIGHUP us before the error could be reported. */
    if (send_fd(sock, master, name, strlen(name)) < 0)
        return husk_fail(err, errno, "send the pty master to the console socket");
    closep(&master);

    /* A new session, then this pty as its controlling terminal, so job control and
     * SIGHUP work inside the container and nothing ties it to the caller's tty. */
    if (setsid() < 0 && !(errno == EPERM && getsid(0) == getpid()))
        return husk_fail(err, errno, "setsid");
    if (ioctl(slave, TIOCSCTTY, 0) < 0)
        return husk_fail(err, errno, "make %s the controlling terminal", name);
    for (int i = 0; i < 3; i++)
        if (dup2(slave, i) < 0)
            return husk_fail(err, errno, "dup2 the pty slave onto fd %d", i);
    return 0;
}

int terminal_setup(int sock, const struct oci_process *p, husk_err **err)
{
    return setup_pty(sock, p, true, err);
}

int terminal_setup_exec(int sock, const struct oci_process *p, husk_err **err)
{
    return setup_pty(sock, p, false, err);
}

int terminal_recv_master(int sock, int *master, husk_err **err)
{
    char buf[256];

    if (recv_fd(sock, master, buf, sizeof buf) < 0)
        return husk_fail(err, errno, "receive the pty master");
    if (*master < 0)
        return husk_fail(err, EBADMSG, "receive the pty master: no file descriptor in the message");
    return 0;
}

/* ---- the copying helper ------------------------------------------------- */

static struct termios saved_tios;
static bool tios_saved;

static void restore_tty(void)
{
    if (tios_saved)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tios);
}

static void copy_winsize(int master)
{
    struct winsize ws;
    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
        ioctl(master, TIOCSWINSZ, &ws);
}

/* Write everything, dropping the data when the reader is gone (stdout closed): the
 * master must keep being drained or the container would block on output. */
static void write_or_drop(int fd, const char *buf, size_t len, bool *dead)
{
    if (!*dead && write_all(fd, buf, len) < 0)
        *dead = true;
}

static int proxy_loop(int master)
{
    sigset_t mask;
    _cleanup_close_ int sfd = -1;
    char inbuf[4096], outbuf[16384];
    size_t inlen = 0, inoff = 0;
    bool stdin_open = true, stdout_dead = false;

    sigemptyset(&mask);
    sigaddset(&mask, SIGWINCH);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    if (sigprocmask(SIG_SETMASK, &mask, NULL) < 0)
        return 1;
    sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0)
        return 1;
    /* Non-blocking master: a container that is not reading its input must not stop
     * us from draining its output. */
    int fl = fcntl(master, F_GETFL);
    if (fl < 0 || fcntl(master, F_SETFL, fl | O_NONBLOCK) < 0)
        return 1;
    if (isatty(STDIN_FILENO))
        copy_winsize(master);

    for (;;) {
        struct pollfd pf[3] = {
            { .fd = master, .events = POLLIN | (inlen > inoff ? POLLOUT : 0) },
            { .fd = sfd, .events = POLLIN },
            { .fd = stdin_open && inlen == inoff ? STDIN_FILENO : -1, .events = POLLIN },
        };
        if (poll(pf, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        if (pf[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGWINCH)
                    copy_winsize(master);
                else
                    return 0;
            }
        }
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(master, outbuf, sizeof outbuf);
            if (r > 0)
                write_or_drop(STDOUT_FILENO, outbuf, (size_t)r, &stdout_dead);
            else if (r == 0 || (errno != EAGAIN && errno != EINTR))
                return 0;   /* EIO: every slave fd is closed, the container is gone */
        }
        if ((pf[0].revents & POLLOUT) && inlen > inoff) {
            ssize_t w = write(master, inbuf + inoff, inlen - inoff);
            if (w > 0)
                inoff += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                inoff = inlen = 0, stdin_open = false;
            if (inoff == inlen)
                inoff = inlen = 0;
        }
        if (pf[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(STDIN_FILENO, inbuf, sizeof inbuf);
            if (r > 0)
                inlen = (size_t)r, inoff = 0;
            else if (r == 0 || errno != EINTR)
                stdin_open = false;
        }
    }
}

pid_t terminal_proxy_start(int master, husk_err **err)
{
    pid_t ppid = getpid();
    pid_t pid = fork();

    if (pid < 0)
        return husk_fail(err, errno, "fork the terminal proxy");
    if (pid > 0)
        return pid;

    /* Child. Hold nothing of the caller's but stdio and the master: a stray copy of
     * a sync socket or pipe here could keep the other end from seeing EOF. */
    if (master != 3) {
        if (dup2(master, 3) < 0)
            _exit(1);
        master = 3;
    }
    close_range(4, ~0U, 0);
    signal(SIGPIPE, SIG_IGN);
    /* ^C / ^\ typed at a non-raw terminal reach the whole foreground group; husk
     * forwards them to the container, and we keep draining its output until the end. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    /* Do not outlive husk: it would leave the caller's terminal in raw mode. */
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    if (getppid() != ppid)
        _exit(0);

    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tios) == 0) {
        struct termios raw = saved_tios;
        tios_saved = true;
        /* Raw: every key goes to the container's terminal, which does its own line
         * discipline (echo, ^C as SIGINT to its foreground group). */
        cfmakeraw(&raw);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    int rc = proxy_loop(master);
    restore_tty();
    _exit(rc);
}
