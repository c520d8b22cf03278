/* sync.c — see sync.h. */
#include "sync.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

int sync_send(int sock, int type, int value, const char *text)
{
    struct sync_msg m = { .type = type, .value = value };
    size_t len = offsetof(struct sync_msg, text);

    if (text) {
        size_t n = strnlen(text, sizeof m.text - 1);
        memcpy(m.text, text, n);
        m.text[n] = '\0';
        len += n + 1;
    }
    ssize_t r;
    do
        r = send(sock, &m, len, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : 0;
}

int sync_recv(int sock, struct sync_msg *m, int expect, husk_err **err)
{
    ssize_t r;
    memset(m, 0, sizeof *m);
    do
        r = recv(sock, m, sizeof *m, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return husk_fail(err, errno, "read from container setup");
    if (r == 0)
        return husk_fail(err, 0, "container setup exited unexpectedly");
    if ((size_t)r < offsetof(struct sync_msg, text))
        return husk_fail(err, 0, "short message from container setup");
    m->text[sizeof m->text - 1] = '\0';
    if (m->type == SYNC_ERROR && expect != 0) {
        husk_fail(err, 0, "%s", m->text);
        (*err)->errnum = m->value;
        return -1;
    }
    if (expect != 0 && m->type != expect)
        return husk_fail(err, 0, "unexpected message %d from container setup (wanted %d)", m->type, expect);
    return 0;
}

int sync_send_fd(int sock, int type, int value, int fd)
{
    struct sync_msg m = { .type = type, .value = value };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = { .iov_base = &m, .iov_len = offsetof(struct sync_msg, text) + 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
    memset(u.buf, 0, sizeof u.buf);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t r;
    do
        r = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : 0;
}

int sync_recv_fd(int sock, struct sync_msg *m, int *fd, husk_err **err)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = { .iov_base = m, .iov_len = sizeof *m };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
    ssize_t r;

    *fd = -1;
    memset(m, 0, offsetof(struct sync_msg, text) + 1);
    do
        r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return husk_fail(err, errno, "read from container setup");
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(fd, CMSG_DATA(c), sizeof(int));
    if (r == 0)
        return husk_fail(err, 0, "container setup exited unexpectedly");
    if ((size_t)r < offsetof(struct sync_msg, text))
        return husk_fail(err, 0, "short message from container setup");
    m->text[sizeof m->text - 1] = '\0';
    return 0;
}

void sync_send_error(int sock, husk_err **err)
{
    sync_send(sock, SYNC_ERROR, err && *err ? (*err)->errnum : 0,
              err && *err ? (*err)->msg : "unknown error");
    husk_err_free(err);
}
