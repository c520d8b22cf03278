/* sync.c — see sync.h. */
#include "sync.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Only the bytes a message uses are built and sent: the header, then the text with
 * its NUL straight from the caller's string. A whole struct sync_msg is 64 KiB, and
 * zeroing one per message (plus touching that much fresh stack in each freshly
 * forked stage) showed in the profile of a container start. */
int sync_send(int sock, int type, int value, const char *text)
{
    struct sync_msg_head { int type, value; } h = { .type = type, .value = value };
    _Static_assert(sizeof h == offsetof(struct sync_msg, text), "sync_msg header layout");
    static const char nul = '\0';
    struct iovec iov[3] = { { .iov_base = &h, .iov_len = sizeof h } };
    int n_iov = 1;

    if (text) {
        size_t n = strnlen(text, sizeof ((struct sync_msg *)0)->text - 1);
        iov[1] = (struct iovec){ .iov_base = (void *)text, .iov_len = n };
        iov[2] = (struct iovec){ .iov_base = (void *)&nul, .iov_len = 1 };
        n_iov = 3;
    }
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n_iov };
    ssize_t r;
    do
        r = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : 0;
}

int sync_recv(int sock, struct sync_msg *m, int expect, husk_err **err)
{
    ssize_t r;
    bool reset = false;
    /* ECONNRESET: the peer closed its end with a message of ours unread (an init
     * that failed before reading a READY ack sent ahead). The kernel reports that
     * once, before what the peer sent before closing: read on for its SYNC_ERROR. */
    do
        r = recv(sock, m, sizeof *m, 0);
    while (r < 0 && (errno == EINTR || (errno == ECONNRESET && !reset && (reset = true))));
    if (r < 0)
        return husk_fail(err, errno, "read from container setup");
    if (r == 0)
        return husk_fail(err, 0, "container setup exited unexpectedly");
    if ((size_t)r < offsetof(struct sync_msg, text))
        return husk_fail(err, 0, "short message from container setup");
    /* The text ends where the message does (no text: empty), never past the buffer. */
    size_t tl = (size_t)r - offsetof(struct sync_msg, text);
    m->text[tl < sizeof m->text ? tl : sizeof m->text - 1] = '\0';
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
