/* seccomp_listener — test-only seccomp agent for linux.seccomp.listenerPath.
 *
 *   seccomp_listener SOCKET OUT ERRNO
 *
 * Listens on the unix socket SOCKET, accepts one connection, receives the seccomp
 * notify fd (SCM_RIGHTS) and the container process state JSON, and writes the JSON to
 * OUT (atomically, via OUT.tmp). Then it answers every notification: with -ERRNO, or
 * with success (return value 0, the syscall not run) when ERRNO is 0, and appends
 * "<syscall nr>\n" to OUT.calls for each. It exits when the filter has no task left
 * (POLLHUP), after 60 s without notifications, or on any error (status 1). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "seccomp_listener: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int recv_state(int conn, int *fd, char *buf, size_t cap)
{
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = { .iov_base = buf, .iov_len = cap - 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b };
    ssize_t n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
    size_t got;

    if (n < 0)
        die("recvmsg");
    *fd = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            memcpy(fd, CMSG_DATA(c), sizeof(int));
    if (*fd < 0) {
        fprintf(stderr, "seccomp_listener: no fd in the first message\n");
        exit(1);
    }
    /* The rest of the JSON, until the runtime closes its end. */
    got = (size_t)n;
    while (got < cap - 1) {
        n = read(conn, buf + got, cap - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("read state");
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    return 0;
}

int main(int argc, char **argv)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    static char json[1 << 16];
    char tmp[4096], calls[4096];
    int lfd, conn, nfd, answer;

    if (argc != 4) {
        fprintf(stderr, "usage: seccomp_listener SOCKET OUT ERRNO\n");
        return 2;
    }
    answer = atoi(argv[3]);
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
    snprintf(calls, sizeof calls, "%s.calls", argv[2]);
    if (strlen(argv[1]) >= sizeof sa.sun_path) {
        fprintf(stderr, "seccomp_listener: socket path too long\n");
        return 1;
    }
    strcpy(sa.sun_path, argv[1]);
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        die("socket");
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("bind");
    if (listen(lfd, 4) < 0)
        die("listen");
    conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0)
        die("accept");
    recv_state(conn, &nfd, json, sizeof json);
    close(conn);
    close(lfd);

    FILE *f = fopen(tmp, "w");
    if (f == NULL || fputs(json, f) < 0 || fclose(f) != 0)
        die("write state");
    if (rename(tmp, argv[2]) < 0)
        die("rename state");

    struct seccomp_notif_sizes sizes;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
        die("SECCOMP_GET_NOTIF_SIZES");
    struct seccomp_notif *req = calloc(1, sizes.seccomp_notif > sizeof *req ? sizes.seccomp_notif : sizeof *req);
    struct seccomp_notif_resp *resp =
        calloc(1, sizes.seccomp_notif_resp > sizeof *resp ? sizes.seccomp_notif_resp : sizeof *resp);
    if (req == NULL || resp == NULL)
        die("calloc");

    for (;;) {
        struct pollfd p = { .fd = nfd, .events = POLLIN };
        int r = poll(&p, 1, 60000);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            die("poll");
        if (r == 0 || (p.revents & (POLLHUP | POLLERR)))
            break;
        memset(req, 0, sizes.seccomp_notif);
        if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
            if (errno == EINTR || errno == ENOENT)
                continue;
            die("SECCOMP_IOCTL_NOTIF_RECV");
        }
        FILE *c = fopen(calls, "a");
        if (c) {
            fprintf(c, "%d\n", req->data.nr);
            fclose(c);
        }
        memset(resp, 0, sizes.seccomp_notif_resp);
        resp->id = req->id;
        resp->error = answer ? -answer : 0;
        resp->val = 0;
        /* ENOENT: the task died (or was signalled) before our answer; nothing to do. */
        if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
            die("SECCOMP_IOCTL_NOTIF_SEND");
    }
    free(req);
    free(resp);
    close(nfd);
    return 0;
}
