/* paths.h — resolving paths inside a container's rootfs without leaving it.
 *
 * Every mount destination, device node, masked path and cwd is resolved relative
 * to an fd of the rootfs with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS):
 * a symlink in the rootfs pointing at "/etc" or "../../.." resolves to the rootfs'
 * own /etc, never to the host's. The operation (mount, mknod, ...) is then made on
 * the fd that was resolved (through /proc/self/fd/N), so a symlink swapped in
 * after the check cannot redirect it (the CVE-2021-30465 class). */
#ifndef HUSK_PATHS_H
#define HUSK_PATHS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* openat2 with RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS below rootfd. flags as for open(2)
 * (O_CLOEXEC is always added). Returns fd or -1 (err set, naming path). */
int open_in_root(int rootfd, const char *path, int flags, mode_t mode, husk_err **err);

/* Make sure `path` exists inside rootfd: every missing parent is created as a
 * directory (0755), the last component as a directory (is_dir) or an empty regular
 * file (0644). Existing components are kept, symlinks among them resolved inside the
 * root. Returns an O_PATH fd of the final object, or -1. */
int mkpath_in_root(int rootfd, const char *path, bool is_dir, husk_err **err);

/* "/proc/self/fd/N" for an fd, into buf (>= 32 bytes). Returns buf. */
char *fd_path(int fd, char *buf, size_t size);

/* Lexically clean an absolute container path: collapse "//", "/./", resolve ".."
 * without going above "/". Returns a new string. */
char *path_clean(const char *path);

#endif
