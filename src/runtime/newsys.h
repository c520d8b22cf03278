/* newsys.h — the system calls husk needs that are newer than its tools:
 * openat2(2) (the one way husk resolves a path under a root it does not trust:
 * RESOLVE_IN_ROOT, RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS) and the new mount API
 * calls open_tree(2), move_mount(2), mount_setattr(2), fsopen(2), fsconfig(2),
 * fsmount(2); pidfd_open(2), pidfd_send_signal(2), setrlimit(2), seccomp(2) and
 * setdomainname(2) are at the end.
 *
 * Outside valgrind each is the plain system call. Under valgrind (`make
 * valgrind-check`) there is a wrinkle: valgrind 3.19 (Debian 12) knows none of
 * them (syscalls 428 to 432, 437, 442) and answers ENOSYS without calling the
 * kernel, so every container would fail. Falling back to openat()/mount() is not
 * an option (the point of these calls is that the kernel confines the walk and no
 * half-set-up mount is ever visible), so under valgrind they are made natively, on
 * the real CPU, through valgrind's VALGRIND_NON_SIMD_CALL client request. All of
 * them only read the caller's memory (paths, open_how, mount_attr, fsconfig keys
 * and values) and return an fd or 0, so memcheck loses nothing it would check
 * after the call. The native function must not touch errno (it runs on valgrind's own thread state, where the client's
 * TLS is not set up), hence the raw `syscall` instruction and the -errno return.
 * RUNNING_ON_VALGRIND is a client request only valgrind answers (a no-op on the
 * real CPU), so nothing changes for a husk not run by valgrind. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#if defined(__x86_64__) && defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define HUSK_NEWSYS_NATIVE 1
#endif
#endif

#ifdef HUSK_NEWSYS_NATIVE
struct husk_native_call {
    long nr;
    long a[5];
};

/* Runs on the real CPU: arguments in registers, result in rax, no libc. */
static inline long husk_native_syscall(long tid, struct husk_native_call *c)
{
    (void)tid;
    long ret;
    register long r10 __asm__("r10") = c->a[3];
    register long r8 __asm__("r8") = c->a[4];
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"(c->nr), "D"(c->a[0]), "S"(c->a[1]), "d"(c->a[2]), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return ret;
}
#endif

static inline long husk_newsys(long nr, long a0, long a1, long a2, long a3, long a4)
{
#ifdef HUSK_NEWSYS_NATIVE
    if (RUNNING_ON_VALGRIND) {
        struct husk_native_call c = { nr, { a0, a1, a2, a3, a4 } };
        long r = (long)VALGRIND_NON_SIMD_CALL1(husk_native_syscall, &c);
        if (r < 0) {
            errno = (int)-r;
            return -1;
        }
        return r;
    }
#endif
    return syscall(nr, a0, a1, a2, a3, a4);
}

static inline int husk_openat2(int dirfd, const char *path, const struct open_how *how)
{
    return (int)husk_newsys(SYS_openat2, dirfd, (long)path, (long)how, (long)sizeof(*how), 0);
}

static inline int husk_open_tree(int dirfd, const char *path, unsigned int flags)
{
    return (int)husk_newsys(SYS_open_tree, dirfd, (long)path, (long)flags, 0, 0);
}

static inline int husk_move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path,
                                  unsigned int flags)
{
    return (int)husk_newsys(SYS_move_mount, from_dirfd, (long)from_path, to_dirfd, (long)to_path, (long)flags);
}

static inline int husk_mount_setattr(int dirfd, const char *path, unsigned int flags, struct mount_attr *attr,
                                     size_t size)
{
    return (int)husk_newsys(SYS_mount_setattr, dirfd, (long)path, (long)flags, (long)attr, (long)size);
}

static inline int husk_fsopen(const char *fsname, unsigned int flags)
{
    return (int)husk_newsys(SYS_fsopen, (long)fsname, (long)flags, 0, 0, 0);
}

static inline int husk_fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux)
{
    return (int)husk_newsys(SYS_fsconfig, fd, (long)cmd, (long)key, (long)value, aux);
}

static inline int husk_fsmount(int fd, unsigned int flags, unsigned int attr_flags)
{
    return (int)husk_newsys(SYS_fsmount, fd, (long)flags, (long)attr_flags, 0, 0);
}

/* Not a new call, but one valgrind does not pass on: it keeps RLIMIT_NOFILE, DATA
 * and STACK to itself (it answers setrlimit from its own bookkeeping, and refuses
 * any NOFILE hard limit but its own), so the container's program, which runs
 * natively after execve, would not get the limits config.json asks for. Under
 * valgrind the kernel is asked directly (prlimit64 on ourselves); valgrind's own
 * fds, above the new limit, stay open and are close-on-exec. */
static inline int husk_setrlimit(int resource, const struct rlimit *rl)
{
#ifdef HUSK_NEWSYS_NATIVE
    if (RUNNING_ON_VALGRIND)
        return (int)husk_newsys(SYS_prlimit64, 0, resource, (long)rl, 0, 0);
#endif
    return setrlimit((__rlimit_resource_t)resource, rl);
}

/* pidfd_open(2) (syscall 434, unknown to valgrind 3.19 too): returns an fd, reads
 * nothing. */
static inline int husk_pidfd_open(pid_t pid, unsigned int flags)
{
    return (int)husk_newsys(SYS_pidfd_open, pid, (long)flags, 0, 0, 0);
}

/* pidfd_send_signal(2) with no siginfo (syscall 424, unknown to valgrind 3.19). */
static inline int husk_pidfd_send_signal(int pidfd, int sig)
{
    return (int)husk_newsys(SYS_pidfd_send_signal, pidfd, sig, 0, 0, 0);
}

/* seccomp(2) SECCOMP_SET_MODE_FILTER: valgrind 3.19 answers ENOSYS (a filter would
 * also judge valgrind's own system calls). Under valgrind it is loaded natively: it
 * then applies to valgrind's emulation of our last steps too, until execve hands
 * the process to the container's program, which runs natively under it as it
 * should. A filter so strict that valgrind's own calls fail shows up as a failed
 * test under `make valgrind-check`, never outside valgrind. */
static inline long husk_seccomp_set_filter(unsigned int flags, const void *prog)
{
    return husk_newsys(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, (long)flags, (long)prog, 0, 0);
}

/* setdomainname(2): valgrind 3.19 does not know it either (syscall 171 on x86-64:
 * ENOSYS). It only reads the name. */
static inline int husk_setdomainname(const char *name, size_t len)
{
    return (int)husk_newsys(SYS_setdomainname, (long)name, (long)len, 0, 0, 0);
}
