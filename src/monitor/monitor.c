/* husk-monitor — the per-container monitor of `husk container …` (no daemon).
 *
 * One per running container, it is what stays of `husk container run -d`: the
 * parent (and subreaper) of the container's init, holding its stdio. It writes the
 * output to ROOT/containers/<id>/ctr.log in docker's json-file format (bounded and
 * rotated), serves attach.sock (output live, stdin, resize; monitor_proto.h), and
 * when the init exits records ROOT/containers/<id>/exit and execs the exit command
 * (the engine's `container cleanup`). The argv and fd convention is in
 * src/engine/monitor.h, which the engine uses to exec it.
 *
 * It links only libc and allocates nothing (static buffers, touched only when used)
 * so that it costs as little resident memory as possible while idle: the issue's
 * goal is at most 1 MiB, under conmon's. Built with musl, statically, when
 * musl-gcc is present (meson.build). Idle VmRSS measured here (Linux 6.18):
 * static musl 84-88 KiB (104 KiB after logging 4 MB); static glibc 820 KiB;
 * dynamic glibc 1420 KiB (PSS 157); conmon 2.1.6 under podman 2064 KiB (PSS 981). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "json_log.h"
#include "monitor_proto.h"

#define MAX_CLIENTS 32
#define READ_CHUNK 4096
/* At the end, a client that takes no output for this long is dropped. */
#define FINAL_SEND_TIMEOUT_MS 2000

enum { OUT_STDOUT, OUT_STDERR, N_OUT };
static const char *const stream_name[N_OUT] = { "stdout", "stderr" };

static struct {
    pid_t init_pid;
    int stdin_fd;              /* pipe write end, or the pty master; -1 when closed */
    int out_fd[N_OUT];         /* pipe read ends (the pty master as stdout); -1 at EOF */
    int pty;                   /* out_fd[OUT_STDOUT] == stdin_fd is a pty master */
    int ready_fd;
    long long log_max;         /* bytes; 0: unbounded */
    int log_files;             /* files kept, the current one included (>= 1) */
    char **exit_argv;

    int log_fd;
    long long log_size;
    int listen_fd;
    int sig_fd;
    int clients[MAX_CLIENTS];
    unsigned char client_pending[MAX_CLIENTS];  /* the current frame not yet taken */
    int n_pending;
    int exited;
    int exit_code;

    /* per stream: a UTF-8 sequence cut by the last read, carried to the next */
    char carry[N_OUT][4];
    size_t carry_len[N_OUT];
    char stdin_buf[MON_FRAME_MAX];
    size_t stdin_off, stdin_len;
} m = {
    .stdin_fd = -1,
    .out_fd = { -1, -1 },
    .ready_fd = -1,
    .log_files = 1,
    .log_fd = -1,
    .listen_fd = -1,
    .sig_fd = -1,
};

static unsigned char frame[1 + MON_FRAME_MAX];
static size_t frame_len;
static char json_buf[JSON_LOG_MAX(READ_CHUNK + 4)];

static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    static const char prefix[] = "husk-monitor: ";
    struct iovec iov[2] = { { (void *)prefix, sizeof(prefix) - 1 }, { buf, (size_t)n } };
    (void)!writev(STDERR_FILENO, iov, 2);
}

static void usage(void)
{
    warn("usage: husk-monitor --pid PID (--stdout FD --stderr FD | --pty FD) [--stdin FD] [--ready FD] "
         "[--log-max-size BYTES] [--log-max-files N] DIR [-- EXIT-COMMAND...]");
    exit(2);
}

static int parse_num(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int take_fd(const char *s)
{
    long long v;
    if (parse_num(s, 0, 1 << 20, &v) < 0 || fcntl((int)v, F_GETFD) < 0) {
        warn("bad fd %s", s);
        exit(2);
    }
    /* Nothing of ours may reach the exit command (it gets 0, 1, 2 only). */
    if (fcntl((int)v, F_SETFD, FD_CLOEXEC) < 0)
        exit(2);
    return (int)v;
}

/* ------------------------------------------------------------------ the log */

static int log_open(void)
{
    m.log_fd = open(MON_LOG_NAME, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (m.log_fd < 0) {
        warn("open %s: %s", MON_LOG_NAME, strerror(errno));
        return -1;
    }
    struct stat st;
    m.log_size = fstat(m.log_fd, &st) == 0 ? (long long)st.st_size : 0;
    return 0;
}

/* docker's json-file rotation: ctr.log -> ctr.log.1 -> … ctr.log.<files-1>, the
 * oldest dropped; with one file, the log is truncated. */
static void log_rotate(void)
{
    if (m.log_files <= 1) {
        if (ftruncate(m.log_fd, 0) == 0)
            m.log_size = 0;
        return;
    }
    char from[32], to[32];
    for (int i = m.log_files - 1; i >= 1; i--) {
        if (i == 1)
            snprintf(from, sizeof(from), "%s", MON_LOG_NAME);
        else
            snprintf(from, sizeof(from), "%s.%d", MON_LOG_NAME, i - 1);
        snprintf(to, sizeof(to), "%s.%d", MON_LOG_NAME, i);
        if (rename(from, to) < 0 && errno != ENOENT)
            warn("rename %s %s: %s", from, to, strerror(errno));
    }
    close(m.log_fd);
    m.log_fd = -1;
    log_open();
}

static void log_entry(const char *data, size_t len, int stream, const char *now)
{
    if (len == 0 || (m.log_fd < 0 && log_open() < 0))   /* reopened after a failed rotation */
        return;
    size_t n = json_log_encode(json_buf, data, len, stream_name[stream], now);
    if (m.log_max > 0 && m.log_size > 0 && m.log_size + (long long)n > m.log_max) {
        log_rotate();
        if (m.log_fd < 0)
            return;
    }
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(m.log_fd, json_buf + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            /* A full disk loses log lines, never the container. */
            warn("write %s: %s", MON_LOG_NAME, strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    m.log_size += (long long)off;
}

/* Log what was read: one entry per line (the newline included), the rest of a line
 * as an entry of its own now (docker's partial line), a cut UTF-8 character kept. */
static void log_output(int stream, const char *data, size_t len, int final)
{
    static char buf[READ_CHUNK + 4];
    size_t n = m.carry_len[stream];
    memcpy(buf, m.carry[stream], n);
    if (len > sizeof(buf) - n)
        len = sizeof(buf) - n;
    memcpy(buf + n, data, len);
    n += len;
    size_t tail = final ? 0 : json_log_utf8_tail(buf, n);
    n -= tail;
    memcpy(m.carry[stream], buf + n, tail);
    m.carry_len[stream] = tail;

    struct timespec ts;
    char now[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    json_log_time(now, &ts);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            log_entry(buf + start, i + 1 - start, stream, now);
            start = i + 1;
        }
    }
    log_entry(buf + start, n - start, stream, now);
}

/* ------------------------------------------------------------------ clients */

static void client_drop(int i)
{
    if (m.clients[i] < 0)
        return;
    close(m.clients[i]);
    m.clients[i] = -1;
    if (m.client_pending[i]) {
        m.client_pending[i] = 0;
        m.n_pending--;
    }
}

static void client_send(int i, int final)
{
    for (;;) {
        ssize_t w = send(m.clients[i], frame, frame_len, MSG_NOSIGNAL | (final ? 0 : MSG_DONTWAIT));
        if (w >= 0) {
            if (m.client_pending[i]) {
                m.client_pending[i] = 0;
                m.n_pending--;
            }
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN && !final) {
            if (!m.client_pending[i]) {
                m.client_pending[i] = 1;
                m.n_pending++;
            }
            return;
        }
        client_drop(i);   /* gone, or (final) too slow */
        return;
    }
}

/* Give the current frame to every client; final: blocking, with a timeout. */
static void broadcast(int final)
{
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (m.clients[i] >= 0)
            client_send(i, final);
}

/* Take one connection waiting on the (non-blocking) socket: 0 when there was none. */
static int client_accept(void)
{
    int fd = accept4(m.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return errno == EINTR || errno == ECONNABORTED;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (m.clients[i] < 0) {
            m.clients[i] = fd;
            return 1;
        }
    }
    close(fd);   /* full: the client sees the socket closed without an exit frame */
    return 1;
}

static void stdin_close(void)
{
    if (m.stdin_fd >= 0 && !m.pty)
        close(m.stdin_fd);
    m.stdin_fd = -1;
    m.stdin_len = m.stdin_off = 0;
}

/* Write what is buffered for the container's stdin, as far as it takes it. */
static void stdin_flush(void)
{
    while (m.stdin_off < m.stdin_len && m.stdin_fd >= 0) {
        ssize_t w = write(m.stdin_fd, m.stdin_buf + m.stdin_off, m.stdin_len - m.stdin_off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            return;
        if (w <= 0) {   /* the container closed its stdin: drop what it will never read */
            stdin_close();
            return;
        }
        m.stdin_off += (size_t)w;
    }
    m.stdin_len = m.stdin_off = 0;
}

static void client_input(int i)
{
    static unsigned char in[1 + MON_FRAME_MAX];
    ssize_t n = recv(m.clients[i], in, sizeof(in), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        client_drop(i);
        return;
    }
    switch (in[0]) {
    case MON_FRAME_STDIN:
        if (m.stdin_fd < 0 || n == 1)
            return;
        memcpy(m.stdin_buf, in + 1, (size_t)n - 1);
        m.stdin_off = 0;
        m.stdin_len = (size_t)n - 1;
        stdin_flush();
        return;
    case MON_FRAME_STDIN_EOF:
        if (!m.pty)
            stdin_close();
        return;
    case MON_FRAME_RESIZE: {
        struct mon_resize r;
        if (!m.pty || (size_t)n != 1 + sizeof(r))
            return;
        memcpy(&r, in + 1, sizeof(r));
        struct winsize ws = { .ws_row = r.rows, .ws_col = r.cols };
        (void)ioctl(m.out_fd[OUT_STDOUT], TIOCSWINSZ, &ws);
        return;
    }
    default:
        return;   /* unknown frames are ignored: newer clients, older monitor */
    }
}

/* ------------------------------------------------------------------ output */

/* Read once from a stream: log it, then give it to the clients. Returns the bytes
 * read, 0 at EOF (the fd is then closed), -1 when nothing is there now. */
static ssize_t output_read(int stream, int final)
{
    int fd = m.out_fd[stream];
    ssize_t n = read(fd, frame + 1, READ_CHUNK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return -1;
    if (n <= 0) {
        /* EOF, or EIO: a pty whose last slave fd closed */
        log_output(stream, "", 0, 1);
        if (m.pty)
            stdin_close();   /* the same fd: input pending for it is dropped */
        close(fd);
        m.out_fd[stream] = -1;
        return 0;
    }
    log_output(stream, (const char *)frame + 1, (size_t)n, 0);
    frame[0] = stream == OUT_STDOUT ? MON_FRAME_STDOUT : MON_FRAME_STDERR;
    frame_len = 1 + (size_t)n;
    broadcast(final);
    return n;
}

/* ------------------------------------------------------------------ the end */

static void reap(void)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            return;
        if (pid == m.init_pid && !m.exited) {
            m.exited = 1;
            m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
    }
}

static void write_exit_file(void)
{
    struct timespec ts;
    char now[40], line[80];
    clock_gettime(CLOCK_REALTIME, &ts);
    json_log_time(now, &ts);
    int n = snprintf(line, sizeof(line), "%d %s\n", m.exit_code, now);
    /* temp + rename: a reader sees no file or the whole line */
    int fd = open(MON_EXIT_NAME ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 || write(fd, line, (size_t)n) != n || close(fd) < 0 || rename(MON_EXIT_NAME ".tmp", MON_EXIT_NAME) < 0)
        warn("write %s: %s", MON_EXIT_NAME, strerror(errno));
}

static void finish(void)
{
    /* A client that connected before the init exited but is not accepted yet (we
     * ran no poll between its connection and the exit: not scheduled, on a loaded
     * machine, from the ready byte until the container had run) is a client still:
     * it gets the output left in the pipes and the exit frame. Dropped with the
     * listening socket, an attached `run` had no exit status (255) and no output. */
    while (client_accept())
        ;
    /* From now on a client is given each frame or dropped after a timeout: the
     * container is gone, nothing is held by waiting for it. */
    struct timeval tv = { FINAL_SEND_TIMEOUT_MS / 1000, (FINAL_SEND_TIMEOUT_MS % 1000) * 1000 };
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (m.clients[i] < 0)
            continue;
        fcntl(m.clients[i], F_SETFL, fcntl(m.clients[i], F_GETFL) & ~O_NONBLOCK);
        setsockopt(m.clients[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (m.client_pending[i])
            client_send(i, 1);   /* the frame it had not taken yet */
    }
    /* The init is gone: what it wrote is in the pipes (or the pty) already. */
    for (int s = 0; s < N_OUT; s++)
        while (m.out_fd[s] >= 0 && output_read(s, 1) > 0)
            ;
    write_exit_file();

    /* Clients vanish from the socket before they are told: a late `attach` finds
     * no socket and reads the exit file. */
    unlink(MON_SOCKET_NAME);
    close(m.listen_fd);
    int32_t code = m.exit_code;
    frame[0] = MON_FRAME_EXIT;
    memcpy(frame + 1, &code, sizeof(code));
    frame_len = 1 + sizeof(code);
    broadcast(1);
    for (int i = 0; i < MAX_CLIENTS; i++)
        client_drop(i);
    if (m.log_fd >= 0)
        close(m.log_fd);
    for (int s = 0; s < N_OUT; s++)
        if (m.out_fd[s] >= 0)
            close(m.out_fd[s]);
    if (m.stdin_fd >= 0 && !m.pty)
        close(m.stdin_fd);
    close(m.sig_fd);

    if (!m.exit_argv || !m.exit_argv[0])
        exit(0);
    /* The exit command starts as from a clean exec: default signals, none blocked. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (chdir("/") < 0)
        exit(1);
    execv(m.exit_argv[0], m.exit_argv);
    warn("exec %s: %s", m.exit_argv[0], strerror(errno));
    exit(127);
}

/* ------------------------------------------------------------------ setup */

static void listen_socket(void)
{
    m.listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (m.listen_fd < 0) {
        warn("socket: %s", strerror(errno));
        exit(1);
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    memcpy(sa.sun_path, MON_SOCKET_NAME, sizeof(MON_SOCKET_NAME));
    unlink(MON_SOCKET_NAME);   /* a dead monitor's */
    /* Only the owner (root, the engine) may attach: the socket is the container's
     * stdin. Made 0600 from the start by the umask, never briefly wider. */
    mode_t old = umask(0177);
    int r = bind(m.listen_fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (r < 0 || listen(m.listen_fd, 16) < 0) {
        warn("listen on %s: %s", MON_SOCKET_NAME, strerror(errno));
        exit(1);
    }
}

static void parse_args(int argc, char **argv)
{
    static const struct option opts[] = {
        { "pid", required_argument, NULL, 'p' },
        { "stdin", required_argument, NULL, 'i' },
        { "stdout", required_argument, NULL, 'o' },
        { "stderr", required_argument, NULL, 'e' },
        { "pty", required_argument, NULL, 't' },
        { "ready", required_argument, NULL, 'r' },
        { "log-max-size", required_argument, NULL, 's' },
        { "log-max-files", required_argument, NULL, 'f' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    long long v;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (parse_num(optarg, 1, INT32_MAX, &v) < 0)
                usage();
            m.init_pid = (pid_t)v;
            break;
        case 'i': m.stdin_fd = take_fd(optarg); break;
        case 'o': m.out_fd[OUT_STDOUT] = take_fd(optarg); break;
        case 'e': m.out_fd[OUT_STDERR] = take_fd(optarg); break;
        case 't':
            m.pty = 1;
            m.out_fd[OUT_STDOUT] = m.stdin_fd = take_fd(optarg);
            break;
        case 'r': m.ready_fd = take_fd(optarg); break;
        case 's':
            if (parse_num(optarg, 0, INT64_MAX, &m.log_max) < 0)
                usage();
            break;
        case 'f':
            if (parse_num(optarg, 1, 1000, &v) < 0)
                usage();
            m.log_files = (int)v;
            break;
        default:
            usage();
        }
    }
    if (optind >= argc || m.init_pid == 0 || (m.pty && m.out_fd[OUT_STDERR] >= 0))
        usage();
    if (chdir(argv[optind]) < 0) {
        warn("%s: %s", argv[optind], strerror(errno));
        exit(1);
    }
    optind++;
    if (optind < argc) {
        if (strcmp(argv[optind], "--") != 0)
            usage();
        m.exit_argv = argv + optind + 1;
    }
}

/* The C library keeps a few real-time signals for itself (32 and 33 for glibc's
 * threads, 32-34 in musl) and refuses to change them, but an engine started from a
 * shell that ignores them would pass that on to the exit command through us (an
 * ignored signal stays ignored across execve). The kernel's own call sets them. */
static void default_reserved_signal(int sig)
{
    struct {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)(void);
        unsigned long mask;
    } ksa = { .handler = SIG_DFL };
    syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof ksa.mask);
}

int main(int argc, char **argv)
{
    for (int i = 0; i < MAX_CLIENTS; i++)
        m.clients[i] = -1;
    parse_args(argc, argv);

    /* SIGTERM, SIGINT, SIGHUP (a closing terminal, a `kill` meant for someone else)
     * must not end the monitor mid-log: the container's end is what ends it. They
     * are read from the signalfd and dropped, with SIGCHLD. */
    /* Whatever the engine's process had: an ignored SIGCHLD would make the kernel
     * reap the init itself (no status), and the exit command must start clean. */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP && signal(sig, SIG_DFL) == SIG_ERR)
            default_reserved_signal(sig);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    sigprocmask(SIG_SETMASK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    m.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (m.sig_fd < 0) {
        warn("signalfd: %s", strerror(errno));
        exit(1);
    }
    /* The init must be our child, or its end would never be seen. */
    siginfo_t si;
    if (waitid(P_PID, (id_t)m.init_pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
        warn("pid %d is not a child of the monitor: %s", (int)m.init_pid, strerror(errno));
        exit(1);
    }
    for (int s = 0; s < N_OUT; s++)
        if (m.out_fd[s] >= 0)
            fcntl(m.out_fd[s], F_SETFL, fcntl(m.out_fd[s], F_GETFL) | O_NONBLOCK);
    if (m.stdin_fd >= 0)
        fcntl(m.stdin_fd, F_SETFL, fcntl(m.stdin_fd, F_GETFL) | O_NONBLOCK);

    /* The exit record of a previous run (a restarted container) is not this one's:
     * `logs -f` and the engine take a present `exit` as "this run is over". */
    unlink(MON_EXIT_NAME);
    unlink(MON_EXIT_NAME ".tmp");
    if (log_open() < 0)
        exit(1);
    listen_socket();
    if (m.ready_fd >= 0) {
        (void)!write(m.ready_fd, "1", 1);
        close(m.ready_fd);
        m.ready_fd = -1;
    }

    struct pollfd pfd[3 + N_OUT + MAX_CLIENTS];
    int client_at[MAX_CLIENTS];
    for (;;) {
        reap();
        if (m.exited)
            finish();

        int n = 0;
        pfd[n++] = (struct pollfd){ .fd = m.sig_fd, .events = POLLIN };
        pfd[n++] = (struct pollfd){ .fd = m.listen_fd, .events = POLLIN };
        int out_at = n;
        for (int s = 0; s < N_OUT; s++)
            /* a client yet to take the last frame holds the reading (back-pressure) */
            pfd[n++] = (struct pollfd){ .fd = m.n_pending ? -1 : m.out_fd[s], .events = POLLIN };
        int stdin_at = n;
        pfd[n++] = (struct pollfd){ .fd = m.stdin_len ? m.stdin_fd : -1, .events = POLLOUT };
        int nc = 0;
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (m.clients[i] < 0)
                continue;
            short ev = (short)((m.stdin_len ? 0 : POLLIN) | (m.client_pending[i] ? POLLOUT : 0));
            client_at[nc++] = i;
            /* not polled at all when there is nothing to do for it: a hung-up
             * client would report POLLHUP on every turn */
            pfd[n++] = (struct pollfd){ .fd = ev ? m.clients[i] : -1, .events = ev };
        }
        if (poll(pfd, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            warn("poll: %s", strerror(errno));
            exit(1);
        }
        if (pfd[0].revents) {
            struct signalfd_siginfo ssi;
            while (read(m.sig_fd, &ssi, sizeof(ssi)) == sizeof(ssi))
                ;   /* SIGCHLD: reaped at the top of the loop; the others: ignored */
        }
        if (pfd[1].revents)
            client_accept();
        for (int s = 0; s < N_OUT; s++)
            if (pfd[out_at + s].revents && m.out_fd[s] >= 0 && !m.n_pending)
                output_read(s, 0);
        if (pfd[stdin_at].revents)
            stdin_flush();
        for (int k = 0; k < nc; k++) {
            int i = client_at[k];
            short re = pfd[stdin_at + 1 + k].revents;
            if (m.clients[i] < 0 || !re)
                continue;
            if ((re & POLLOUT) && m.client_pending[i])
                client_send(i, 0);
            if ((re & (POLLIN | POLLHUP | POLLERR)) && m.clients[i] >= 0 && !m.stdin_len)
                client_input(i);
        }
    }
}
