/* attach.c — the client of attach.sock (see attach.h, monitor_proto.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "attach.h"
#include "monitor_proto.h"
#include "util.h"

#define MAX_DETACH_KEYS 16

int attach_connect(const char *ctr_dir, husk_err **err)
{
    _cleanup_close_ int dfd = open(ctr_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return husk_fail(err, errno, "open %s", ctr_dir);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd, MON_SOCKET_NAME);
    _cleanup_close_ int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0)
        return husk_fail(err, errno, "socket");
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return husk_fail(err, errno, "connect to %s/%s", ctr_dir, MON_SOCKET_NAME);
    return steal_fd(s);
}

int attach_parse_keys(const char *spec, unsigned char *keys, int max, husk_err **err)
{
    int n = 0;
    const char *p = spec;
    while (*p) {
        size_t len = strcspn(p, ",");
        unsigned char k;
        if (len == 1) {
            k = (unsigned char)p[0];
        } else if (len == 6 && strncmp(p, "ctrl-", 5) == 0) {
            char c = p[5];
            if (c >= 'a' && c <= 'z')
                k = (unsigned char)(c - 'a' + 1);
            else if (c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' || c == '_')
                k = (unsigned char)(c - '@');
            else
                return husk_fail(err, 0, "invalid detach keys: %s: %.*s", spec, (int)len, p);
        } else {
            return husk_fail(err, 0, "invalid detach keys: %s: %.*s", spec, (int)len, p);
        }
        if (n >= max)
            return husk_fail(err, 0, "invalid detach keys: %s: too many", spec);
        keys[n++] = k;
        p += len;
        if (*p == ',') {
            p++;
            if (!*p)
                return husk_fail(err, 0, "invalid detach keys: %s", spec);
        }
    }
    return n;
}

static int send_frame(int sock, int type, const void *data, size_t len)
{
    unsigned char buf[1 + MON_FRAME_MAX];
    buf[0] = (unsigned char)type;
    if (len)
        memcpy(buf + 1, data, len);
    for (;;) {
        ssize_t w = send(sock, buf, 1 + len, MSG_NOSIGNAL);
        if (w >= 0 || errno != EINTR)
            return w < 0 ? -1 : 0;
    }
}

static void send_size(int sock)
{
    struct winsize ws;
    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
        return;
    struct mon_resize r = { .rows = ws.ws_row, .cols = ws.ws_col };
    send_frame(sock, MON_FRAME_RESIZE, &r, sizeof(r));
}

struct attach_state {
    int sock;
    unsigned char keys[MAX_DETACH_KEYS];
    int nkeys;
    int matched;            /* how many detach keys were typed so far (held back) */
};

/* Send what was read from our stdin, held back while it may be the detach keys.
 * Returns 1 when they were typed. */
static int forward_stdin(struct attach_state *st, const unsigned char *in, size_t n)
{
    unsigned char out[MON_FRAME_MAX + MAX_DETACH_KEYS];
    size_t o = 0;
    int detach = 0;
    for (size_t i = 0; i < n && !detach; i++) {
        if (st->nkeys && in[i] == st->keys[st->matched]) {
            detach = ++st->matched == st->nkeys;
            continue;
        }
        /* a partial match that breaks: the held keys were input after all */
        memcpy(out + o, st->keys, (size_t)st->matched);
        o += (size_t)st->matched;
        st->matched = 0;
        if (st->nkeys && in[i] == st->keys[0]) {
            st->matched = 1;
            detach = st->nkeys == 1;
            continue;
        }
        out[o++] = in[i];
    }
    /* what came before the keys is input (docker's escape proxy does the same) */
    for (size_t off = 0; off < o; off += MON_FRAME_MAX) {
        size_t len = o - off < MON_FRAME_MAX ? o - off : MON_FRAME_MAX;
        send_frame(st->sock, MON_FRAME_STDIN, out + off, len);
    }
    return detach;
}

int attach_run(int sock_in, const struct attach_opts *opts, int *exit_code, husk_err **err)
{
    _cleanup_close_ int sock = sock_in;
    struct attach_state st = { .sock = sock };
    if (opts->tty) {
        st.nkeys = attach_parse_keys(opts->detach_keys ? opts->detach_keys : "ctrl-p,ctrl-q", st.keys,
                                     MAX_DETACH_KEYS, err);
        if (st.nkeys < 0)
            return -1;
    }

    struct termios saved;
    bool raw = false;
    if (opts->tty && opts->stdin && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
        struct termios t = saved;
        cfmakeraw(&t);
        raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
    }
    sigset_t winch, oldmask;
    sigemptyset(&winch);
    sigaddset(&winch, SIGWINCH);
    sigprocmask(SIG_BLOCK, &winch, &oldmask);
    _cleanup_close_ int sfd = opts->tty ? signalfd(-1, &winch, SFD_CLOEXEC | SFD_NONBLOCK) : -1;
    if (opts->tty)
        send_size(sock);

    int ret = -1;
    bool in_open = opts->stdin;
    static unsigned char buf[1 + MON_FRAME_MAX];
    for (;;) {
        struct pollfd p[3] = {
            { .fd = sock, .events = POLLIN },
            { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
            { .fd = sfd, .events = POLLIN },
        };
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            husk_fail(err, errno, "poll");
            break;
        }
        if (p[2].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof(si)) == sizeof(si))
                ;
            send_size(sock);
        }
        if (p[1].revents) {
            ssize_t n = read(STDIN_FILENO, buf, MON_FRAME_MAX);
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0) {
                in_open = false;
                if (opts->close_stdin)
                    send_frame(sock, MON_FRAME_STDIN_EOF, NULL, 0);
            } else if (forward_stdin(&st, buf, (size_t)n)) {
                ret = ATTACH_DETACHED;
                break;
            }
        }
        if (p[0].revents) {
            ssize_t n = recv(sock, buf, sizeof(buf), 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                ret = ATTACH_LOST;
                break;
            }
            if (buf[0] == MON_FRAME_STDOUT || buf[0] == MON_FRAME_STDERR) {
                /* our stdout gone (a closed pipe): the output is still in the log */
                (void)write_all(buf[0] == MON_FRAME_STDOUT ? STDOUT_FILENO : STDERR_FILENO, buf + 1,
                                (size_t)n - 1);
            } else if (buf[0] == MON_FRAME_EXIT && (size_t)n == 1 + sizeof(int32_t)) {
                int32_t code;
                memcpy(&code, buf + 1, sizeof(code));
                *exit_code = code;
                ret = ATTACH_EXITED;
                break;
            }
        }
    }
    if (raw)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    return ret;
}
