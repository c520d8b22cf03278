/* monitor_proto.h — the wire protocol of a container monitor's attach socket,
 * shared by husk-monitor (src/monitor/, links only libc) and the engine's client
 * (attach.c). Header-only, libc-only.
 *
 * ROOT/containers/<id>/attach.sock is a SOCK_SEQPACKET unix socket (mode 0600 in a
 * directory of mode 0700): every message is one frame, kept whole by the kernel, so
 * no length prefix is needed. A frame is one type byte followed by its payload:
 *
 *   monitor -> client
 *     MON_FRAME_STDOUT  bytes   output of the container (all of it with a pty)
 *     MON_FRAME_STDERR  bytes   its stderr (pipes only)
 *     MON_FRAME_EXIT    int32   the init's exit code (status, or 128+signal), in host
 *                               byte order; the last frame: the monitor then closes
 *   client -> monitor
 *     MON_FRAME_STDIN   bytes   data for the container's stdin (or the pty)
 *     MON_FRAME_STDIN_EOF       close the container's stdin (pipes; ignored with a pty,
 *                               which has no "close" but the user's own ^D)
 *     MON_FRAME_RESIZE  2×uint16 rows, cols (host order): TIOCSWINSZ on the pty master
 *
 * A frame's payload is at most MON_FRAME_MAX bytes. Output is given to every
 * connected client from the moment it connects (no replay: `logs` has the past).
 * A client too slow to take output holds the monitor's reading of the container's
 * output (and so the container), as docker's attach does; the log is written
 * before any client is given the output. Connecting: the path may exceed sun_path
 * (108 bytes) under a deep --storage-root, so clients connect through
 * /proc/self/fd/<dirfd>/attach.sock (attach.c) and the monitor binds relative to
 * its working directory, the container's dir. */
#ifndef HUSK_MONITOR_PROTO_H
#define HUSK_MONITOR_PROTO_H

#include <stdint.h>

#define MON_SOCKET_NAME "attach.sock"
#define MON_EXIT_NAME "exit"
#define MON_LOG_NAME "ctr.log"

#define MON_FRAME_MAX 8192

enum mon_frame_type {
    MON_FRAME_STDOUT = 1,
    MON_FRAME_STDERR = 2,
    MON_FRAME_EXIT = 3,
    MON_FRAME_STDIN = 4,
    MON_FRAME_STDIN_EOF = 5,
    MON_FRAME_RESIZE = 6,
};

struct mon_resize {
    uint16_t rows;
    uint16_t cols;
};

#endif
