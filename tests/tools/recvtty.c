/* recvtty — the receiving end of `--console-socket`, for the integration tests.
 *
 *   recvtty [-o OUT] [-n NAMEFILE] [-i INPUT] [-w WINSIZE] SOCK
 *
 * Listens on the unix socket SOCK, accepts one connection, receives the pty master
 * the runtime sends with SCM_RIGHTS, then copies everything read from the master to
 * OUT (default stdout) until the master reports that every slave is closed (EIO) or
 * hangs up. With -i, INPUT is written to the master first (a "\n" in it is a
 * newline); with -n, the name sent along with the fd (the slave's path) is written
 * to NAMEFILE; with -w ROWSxCOLS the window size is set on the master.
 *
 * SOCK appears only once the socket is listening (bound under a temporary name, then
 * renamed), so a test can wait for the path to exist and then connect at once. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "recvtty: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* "a\nb" as typed on a command line -> "a<newline>b". */
static char *unescape(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    if (!out)
        die("malloc");
    for (; *s; s++) {
        if (s[0] == '\\' && s[1] == 'n') {
            *o++ = '\n';
            s++;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

static int recv_master(int conn, char *name, size_t name_size)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { .iov_base = name, .iov_len = name_size - 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                          .msg_controllen = sizeof(cbuf) };
    ssize_t n;

    do
        n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        die("recvmsg");
    name[n > 0 ? n : 0] = '\0';
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len == CMSG_LEN(sizeof(int))) {
            int fd;
            memcpy(&fd, CMSG_DATA(c), sizeof(fd));
            return fd;
        }
    }
    errno = EBADMSG;
    die("no file descriptor in the message");
    return -1;
}

int main(int argc, char **argv)
{
    const char *out_path = NULL, *name_path = NULL, *input = NULL, *winsize = NULL;
    int opt;

    while ((opt = getopt(argc, argv, "o:n:i:w:")) != -1) {
        switch (opt) {
        case 'o': out_path = optarg; break;
        case 'n': name_path = optarg; break;
        case 'i': input = optarg; break;
        case 'w': winsize = optarg; break;
        default:
            fprintf(stderr, "usage: recvtty [-o OUT] [-n NAMEFILE] [-i INPUT] [-w ROWSxCOLS] SOCK\n");
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: recvtty [-o OUT] [-n NAMEFILE] [-i INPUT] [-w ROWSxCOLS] SOCK\n");
        return 2;
    }
    const char *sock_path = argv[optind];

    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char tmp[sizeof(sa.sun_path)];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", sock_path) >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        die(sock_path);
    }
    strcpy(sa.sun_path, tmp);
    unlink(tmp);

    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        die("socket");
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("bind");
    if (listen(lfd, 1) < 0)
        die("listen");
    if (rename(tmp, sock_path) < 0)
        die("rename socket");

    int conn;
    do
        conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    while (conn < 0 && errno == EINTR);
    if (conn < 0)
        die("accept");

    char name[256];
    int master = recv_master(conn, name, sizeof(name));
    close(conn);
    close(lfd);
    unlink(sock_path);

    if (name_path) {
        FILE *f = fopen(name_path, "w");
        if (!f || fprintf(f, "%s\n", name) < 0 || fclose(f) != 0)
            die(name_path);
    }
    if (winsize) {
        struct winsize ws = { 0 };
        if (sscanf(winsize, "%hux%hu", &ws.ws_row, &ws.ws_col) != 2) {
            fprintf(stderr, "recvtty: -w wants ROWSxCOLS\n");
            return 2;
        }
        if (ioctl(master, TIOCSWINSZ, &ws) < 0)
            die("TIOCSWINSZ");
    }

    int out = STDOUT_FILENO;
    if (out_path) {
        out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0)
            die(out_path);
    }
    if (input) {
        char *text = unescape(input);
        if (write_all(master, text, strlen(text)) < 0)
            die("write to the pty master");
        free(text);
    }

    char buf[4096];
    for (;;) {
        ssize_t n = read(master, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EIO)
            break; /* every slave is closed: the container is done with it */
        if (n < 0)
            die("read the pty master");
        if (n == 0)
            break;
        if (write_all(out, buf, (size_t)n) < 0)
            die("write output");
    }
    return 0;
}
