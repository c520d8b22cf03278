/* selfclone.c — see selfclone.h. */
#include "selfclone.h"
#include "newsys.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif
#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

extern char **environ;

#define HUSK_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* Is the running binary one nobody can write through /proc/PID/exe? Either the sealed
 * memfd copy, or a read-only mount of the binary file alone (the detached one
 * reexec_from_tree makes: a file that is the root of its own read-only mount). A
 * binary that merely sits on a read-only filesystem does not count: the filesystem
 * could be remounted read-write while a container holds a handle on the file. */
static bool is_ro_file_mount(int fd)
{
    struct statvfs vfs;
    struct statx stx;
    return fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY) &&
           statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) == 0 &&
           S_ISREG(stx.stx_mode) && (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
           (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static bool exe_is_protected(int self)
{
    int seals = fcntl(self, F_GET_SEALS);
    return (seals >= 0 && (seals & HUSK_SEALS) == HUSK_SEALS) || is_ro_file_mount(self);
}

/* A detached, read-only bind mount of the binary (open_tree + mount_setattr, Linux
 * 5.12), executed through its fd: /proc/PID/exe of husk and of everything it forks
 * then names a file on a mount that refuses writes (EROFS), whoever opens it. The
 * mount is in no mount namespace, so nothing on the host sees it come and go and no
 * container can reach it to remount it; it lives as long as a process runs from it.
 * Unlike the memfd it copies nothing: the text pages stay the page cache's, shared
 * with every other husk. Returns only on failure (errno set). */
static void reexec_from_tree(int self, char **argv)
{
    _cleanup_close_ int tree = husk_open_tree(self, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0)
        return;
    struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
    if (husk_mount_setattr(tree, "", AT_EMPTY_PATH, &ro, sizeof ro) < 0)
        return;
    /* What the re-executed husk will check (exe_is_protected), checked here: were
     * it not to hold, it would re-execute itself again and again. */
    if (!is_ro_file_mount(tree))
        return;
    syscall(SYS_execveat, tree, "", argv, environ, AT_EMPTY_PATH);
}

/* The fallback where the new mount API is missing (before 5.12) or refused: a copy
 * of the binary in a memfd, sealed so that nobody, the container included, can ever
 * change its bytes. Returns only on failure. */
static int reexec_from_memfd(int self, char **argv, husk_err **err)
{
    struct stat st;
    if (fstat(self, &st) < 0)
        return husk_fail(err, errno, "stat /proc/self/exe");

    /* Not MFD_CLOEXEC: fexecve() of a close-on-exec memfd works for ELF binaries,
     * but keeping it open across exec would leak it; so CLOEXEC it is, and the
     * kernel holds its own reference to the executable. */
    _cleanup_close_ int mfd = memfd_create("husk", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0)
        return husk_fail(err, errno, "memfd_create");
    off_t off = 0;
    while (off < st.st_size) {
        ssize_t n = sendfile(mfd, self, &off, (size_t)(st.st_size - off));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return husk_fail(err, n < 0 ? errno : EIO, "copy /proc/self/exe to a memfd");
    }
    if (fcntl(mfd, F_ADD_SEALS, HUSK_SEALS) < 0)
        return husk_fail(err, errno, "seal the husk memfd");
    fexecve(mfd, argv, environ);
    return husk_fail(err, errno, "re-execute husk from its sealed copy");
}

int selfclone_ensure(char **argv, husk_err **err)
{
    /* Under valgrind (make valgrind-check, which looks for leaks and memory errors
     * in husk's own process) the re-exec would leave valgrind: it follows an execve
     * only with --trace-children=yes, and then it would also follow the container's
     * user program, which must run natively. There is nothing to defend there
     * either: what the kernel maps as /proc/PID/exe of husk and its stages is
     * valgrind's tool binary, not the husk binary. RUNNING_ON_VALGRIND is a client
     * request that only valgrind's CPU emulation answers (a no-op instruction
     * sequence on the real CPU), so unlike an environment variable nobody can use it
     * to turn the defence off for a real husk. */
    if (RUNNING_ON_VALGRIND)
        return 0;

    _cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (self < 0)
        return husk_fail(err, errno, "open /proc/self/exe");
    /* Already the protected copy: nothing to do (this is the re-executed husk). */
    if (exe_is_protected(self))
        return 0;

    reexec_from_tree(self, argv);
    return reexec_from_memfd(self, argv, err);
}

int selfclone_exec_protected(const char *path, char **argv, husk_err **err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return husk_fail(err, errno, "open %s", path);
    if (!RUNNING_ON_VALGRIND)
        reexec_from_tree(fd, argv);
    else
        execv(path, argv);
    return reexec_from_memfd(fd, argv, err);
}
