/* seccomp_filter.h — linux.seccomp: the syscall filter of the container process, built with
 * libseccomp (config-linux.md "Seccomp").
 *
 * The filter is translated from the config by `husk create`, before anything of the
 * container exists, so a profile libseccomp cannot express fails with one error naming
 * its JSON path and leaves nothing behind. Stage 2 inherits the built filter over fork
 * and loads it at start:
 *   - without noNewPrivileges, while it still holds CAP_SYS_ADMIN (the kernel refuses
 *     a filter from an unprivileged task that may still gain privileges by execve),
 *     i.e. before the bounding set, uid switch and capability sets;
 *   - with noNewPrivileges, as late as possible — after the capability sets and
 *     no_new_privs, right before telling `husk start` and execve() — so the profile
 *     only has to allow write, close and execve of husk's own.
 * With SCMP_ACT_NOTIFY, the notify fd is sent right after loading, with SCM_RIGHTS
 * and the containerProcessState JSON, over a socket to linux.seccomp.listenerPath that
 * `create` connected from the host (stage 2 no longer sees the host's filesystem). */
#ifndef HUSK_SECCOMP_FILTER_H
#define HUSK_SECCOMP_FILTER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"

struct husk_seccomp;   /* a built filter, ready to load */

/* libseccomp's action value for an action name and its errnoRet (EPERM when !has_errno,
 * for SCMP_ACT_ERRNO and SCMP_ACT_TRACE as runc does). -1 for an unknown name. */
int seccomp_action_value(const char *name, bool has_errno, uint32_t errno_ret, uint32_t *out);

/* libseccomp's token for "SCMP_ARCH_X86_64" etc. 0 when the name is unknown, -1 when
 * it is a valid spec name this libseccomp cannot filter for. */
int seccomp_arch_value(const char *name, uint32_t *out);

/* The tables above, for `husk features`: the i-th name, NULL past the end. *usable is
 * false for an architecture name this libseccomp predates. */
const char *seccomp_action_name_at(size_t i);
const char *seccomp_arch_name_at(size_t i, bool *usable);
/* Whether a linux.seccomp.flags name can be applied here: known to husk, settable with
 * this libseccomp, and accepted by the running kernel (libseccomp probes it). */
bool seccomp_flag_supported(const char *name);

/* True when the default action or a rule uses SCMP_ACT_NOTIFY: a listener is needed. */
bool seccomp_uses_notify(const struct oci_seccomp *s);

/* Translate s into a filter. Unknown syscall names are skipped (debug log), as runc
 * does: profiles list syscalls of newer kernels. A rule whose action is the default
 * action is skipped too (it is what the default does anyway). Errors read
 * "config.json: linux.seccomp.<path>: <problem>". The BPF program is generated here
 * too, so that the forked process that loads it does no libseccomp work. */
int seccomp_filter_build(const struct oci_seccomp *s, struct husk_seccomp **out, husk_err **err);
/* The checks seccomp_filter_build starts with, alone and cheap (no libseccomp work):
 * default action, errnoRet values, listenerPath with NOTIFY. */
int seccomp_filter_check(const struct oci_seccomp *s, husk_err **err);

/* How many libseccomp rules the filter was given (per syscall and condition set, before
 * libseccomp's per-architecture expansion); for tests and debug output. */
size_t seccomp_filter_n_rules(const struct husk_seccomp *f);
/* Syscalls newer than the profile given ENOSYS rather than the default (runc's rule). */
size_t seccomp_filter_n_enosys(const struct husk_seccomp *f);

/* Write the filter in libseccomp's pseudo-filter-code text to fd (tests, --debug). */
int seccomp_filter_export_pfc(const struct husk_seccomp *f, int fd, husk_err **err);

/* Load into the calling thread. no_new_privs is husk's business (set by the caller as
 * the config says), never implicitly libseccomp's. *notify_fd is the listener fd when
 * the filter uses SCMP_ACT_NOTIFY, else -1. Only syscalls without allocation happen
 * between the kernel accepting the filter and the return. */
int seccomp_filter_load(struct husk_seccomp *f, int *notify_fd, husk_err **err);

/* Hand a generated program to a process forked before it was generated (create
 * overlaps the generation with the container's set-up, see container.c): save writes
 * it to fd (a memfd both hold), restore reads it back as a filter that can only be
 * loaded (no libseccomp context). */
int seccomp_filter_save(const struct husk_seccomp *f, int fd, husk_err **err);
int seccomp_filter_restore(int fd, struct husk_seccomp **out, husk_err **err);

/* The same program kept for `husk exec`: create writes it to the container's state dir
 * (SECCOMP_SAVED_NAME, atomically, mode 0600) and exec loads it from there instead of
 * asking libseccomp again (~20 ms and ~350 page faults for a podman-sized profile). The
 * state dir is the runtime's own, like the config copy exec reads the profile from.
 * restore_at: 0 with *out NULL when there is no such file, or one of another husk
 * version's format (a container created before: the caller builds from the config);
 * -1 when the file is there but damaged. */
#define SECCOMP_SAVED_NAME "seccomp.bpf"
int seccomp_filter_save_at(const struct husk_seccomp *f, int dirfd, const char *name, husk_err **err);
int seccomp_filter_restore_at(int dirfd, const char *name, struct husk_seccomp **out, husk_err **err);

/* The bytes of that file, and back: deserialize gives 0 with *out NULL for another
 * format's magic, -1 when the bytes are not a whole program. */
char *seccomp_filter_serialize(const struct husk_seccomp *f, size_t *len);
int seccomp_filter_deserialize(const char *buf, size_t n, struct husk_seccomp **out);

/* seccomp_filter_build through a cache of generated programs in cache_dir (made 0700
 * when missing; NULL: no cache), for a caller that creates many containers from the
 * same profile (the engine: ~20 ms of CPU each time). An entry is the whole key (the
 * profile as parsed, libseccomp's version, the kernel's seccomp API level, the
 * native architecture and husk's own executable: everything the program depends on)
 * and the program, with a checksum; one whose key or checksum does not match is not
 * used, and is replaced by the program generated. A program from the cache has no
 * libseccomp context (loadable and savable only). The cache is never an error: when
 * it cannot be read or written, the program is generated as without one. */
int seccomp_filter_build_cached(const struct oci_seccomp *s, const char *cache_dir, struct husk_seccomp **out,
                                husk_err **err);

void seccomp_filter_free(struct husk_seccomp *f);
static inline void seccomp_filter_freep(struct husk_seccomp **f) { seccomp_filter_free(*f); }
#define _cleanup_seccomp_ __attribute__((cleanup(seccomp_filter_freep)))

/* Connect a SOCK_STREAM socket to listenerPath (from the runtime's namespaces). */
int seccomp_listener_connect(const char *path, husk_err **err);

/* The containerProcessState (config-linux.md) for a state JSON (runtime.md "State") of
 * the container: {"ociVersion", "fds": ["seccompFd"], "pid", "metadata"?, "state"}.
 * pid is taken from the state. New string, or NULL with err when state is not JSON. */
char *seccomp_process_state(const char *state_json, const char *metadata, husk_err **err);
/* The same for a process other than the init (exec): "pid" is that process's host pid,
 * the one the agent serves, while state.pid stays the init's (as runc does). */
char *seccomp_process_state_pid(const char *state_json, const char *metadata, pid_t pid, husk_err **err);

/* Send msg with notify_fd as SCM_RIGHTS in the first sendmsg(), the rest of msg after
 * it, then shut the connection down: one state per connection, as the spec says. */
int seccomp_listener_send(int sock, int notify_fd, const char *msg, husk_err **err);

#endif
