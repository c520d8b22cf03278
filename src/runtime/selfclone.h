/* selfclone.h — protecting the husk binary from the container (CVE-2019-5736).
 *
 * Any process husk forks into a container runs the husk binary until it execs the
 * user's program, and a program whose interpreter is "/proc/self/exe" is executed
 * *by the kernel* through that link, so without care a container could get a handle
 * on the host's husk binary and rewrite it once husk exits. Before create, run and
 * exec, husk re-executes itself through a detached, read-only bind mount of its
 * binary (no copy; a write through /proc/PID/exe fails with EROFS), or, where the
 * new mount API is missing or refused, from a sealed memfd copy: either way
 * /proc/PID/exe never names the writable host binary. */
#ifndef HUSK_SELFCLONE_H
#define HUSK_SELFCLONE_H

#include "error.h"

/* Returns 0 when already running from a protected binary; otherwise re-execs (does not
 * return on success) or returns -1. */
int selfclone_ensure(char **argv, husk_err **err);

/* Execute another binary (husk-engine, for the engine's verbs that fork into a
 * container) the same protected way: it starts as a protected copy, and its own
 * selfclone_ensure has nothing left to do (one exec, not two). Returns on failure. */
int selfclone_exec_protected(const char *path, char **argv, husk_err **err);

#endif
