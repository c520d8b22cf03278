/* sync.h — the messages husk and the container's setup processes exchange.
 *
 * One SOCK_SEQPACKET socketpair joins `husk create` (the parent) with stage 1 (the
 * process that joins and creates namespaces) and stage 2 (the future container
 * init, forked by stage 1 inside the new pid namespace). Seqpacket keeps message
 * boundaries, so every message is one struct sync_msg. */
#ifndef HUSK_SYNC_H
#define HUSK_SYNC_H

#include <sys/types.h>
#include "error.h"

enum sync_type {
    SYNC_GO = 1,          /* parent -> stage 1: you are in your cgroups, go on */
    SYNC_USERMAP_PLS,     /* stage 1 -> parent: user ns made, write my uid/gid maps */
    SYNC_USERMAP_ACK,     /* parent -> stage 1: maps written */
    SYNC_PID,             /* stage 1 -> parent: value = host pid of stage 2 */
    SYNC_HOOKS_PLS,       /* stage 2 -> parent: namespaces ready, run prestart/createRuntime */
    SYNC_HOOKS_DONE,      /* parent -> stage 2: hooks ran */
    SYNC_READY,           /* stage 2 -> parent: set up, now waiting on exec.fifo */
    SYNC_ERROR,           /* any -> parent: value = errno, text = message */
    SYNC_READY_ACK,       /* parent -> stage 2: state and pid file written; wait for start */
    SYNC_MOUNTSRC_PLS,    /* stage 2 -> parent: open my bind sources with host credentials */
    SYNC_MOUNT_FD,        /* parent's helper -> stage 2: value = mount index, fd attached */
    SYNC_MOUNTSRC_DONE,   /* parent -> stage 2: every source was sent */
    SYNC_IN_CGROUP,       /* exec'd process -> parent: moved itself into the cgroups */
};

struct sync_msg {
    int type;
    int value;
    char text[65536];  /* NUL-terminated; state JSON with annotations can be large */
};

int sync_send(int sock, int type, int value, const char *text);
/* Receive one message; EOF is an error "container setup exited unexpectedly". If
 * expect is non-zero, any other type (a SYNC_ERROR included) becomes an error. */
int sync_recv(int sock, struct sync_msg *m, int expect, husk_err **err);
/* The same with one fd attached (SCM_RIGHTS), and its receiving side: *fd is the
 * fd that came with the message, or -1. */
int sync_send_fd(int sock, int type, int value, int fd);
int sync_recv_fd(int sock, struct sync_msg *m, int *fd, husk_err **err);
/* From a setup stage: send err's message to the parent (and free it). */
void sync_send_error(int sock, husk_err **err);

#endif
