/* seccomp_default.c — husk's default seccomp profile, written after docker's
 * documented default policy (docs.docker.com, "Seccomp security profiles for
 * Docker"):
 *
 *   - the default action is SCMP_ACT_ERRNO (EPERM): what is not listed fails;
 *   - an allowlist of the syscalls ordinary programs make (below, by topic);
 *   - left out, as the documentation's table gives the reasons: kernel keyrings
 *     (add_key keyctl request_key: not namespaced), kernel modules, kexec, reboot,
 *     the clock setters (time is not namespaced), NUMA memory policy, quotas,
 *     accounting, swap, mount/umount/pivot_root, setns/unshare and clone with
 *     namespace flags, bpf, perf_event_open, lookup_dcookie, open_by_handle_at (an
 *     old container breakout), personality other than the harmless domains, the
 *     obsolete ones (sysfs, _sysctl, ustat, uselib, vm86, nfsservctl, …),
 *     userfaultfd and io_uring (whose bugs were used to break out of containers);
 *   - a syscall a capability already grants is allowed when the container holds
 *     that capability (mount with CAP_SYS_ADMIN, reboot with CAP_SYS_BOOT, …), so
 *     --cap-add gives what it says; --privileged runs unconfined.
 *
 * clone3 passes its flags in memory a filter cannot read: without CAP_SYS_ADMIN it
 * fails with ENOSYS, on which libc falls back to clone, whose flags are filtered.
 * Syscalls newer than the profile get ENOSYS from the runtime (seccomp_filter.c),
 * names this libseccomp does not know are skipped there. */
#include "ocispec.h"
#include "ocispec_int.h"

#include "util.h"

#include <errno.h>
#include <json-c/json.h>
#include <sched.h>
#include <string.h>

#define END NULL

/* ---- the allowlist ------------------------------------------------------------- */

static const char *const allow_files[] = {
    "access", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range", "creat",
    "dup", "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "arm_fadvise64_64",
    "fallocate", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl",
    "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fremovexattr", "fsetxattr", "fstat",
    "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "getcwd",
    "getdents", "getdents64", "getxattr", "getxattrat", "lchown", "lchown32", "lgetxattr", "link", "linkat",
    "listxattr", "listxattrat", "llistxattr", "lremovexattr", "lseek", "_llseek", "lsetxattr", "lstat",
    "lstat64", "mkdir", "mkdirat", "mknod", "mknodat", "newfstatat", "open", "openat", "openat2",
    "pread64", "preadv", "preadv2", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
    "readlinkat", "readv", "removexattr", "removexattrat", "rename", "renameat", "renameat2", "rmdir",
    "sendfile", "sendfile64", "setxattr", "setxattrat", "splice", "stat", "stat64", "statfs", "statfs64",
    "statx", "symlink", "symlinkat", "sync", "sync_file_range", "sync_file_range2", "arm_sync_file_range",
    "syncfs", "tee", "truncate", "truncate64", "umask", "unlink", "unlinkat", "utime", "utimensat",
    "utimensat_time64", "utimes", "futimesat", "vmsplice", "write", "writev", "ioctl",
    "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "fanotify_mark",
    "memfd_create", "landlock_add_rule", "landlock_create_ruleset",
    "landlock_restrict_self", "file_getattr", "file_setattr", END,
};

static const char *const allow_memory[] = {
    "brk", "madvise", "membarrier", "memfd_secret", "mincore", "mlock", "mlock2", "mlockall", "mmap",
    "mmap2", "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap", "remap_file_pages",
    "pkey_alloc", "pkey_free", "pkey_mprotect", "mseal", "map_shadow_stack", "cachestat",
    "process_mrelease", "set_thread_area", "get_thread_area", "arch_prctl", "set_tls", "cacheflush",
    "breakpoint", "riscv_flush_icache", "riscv_hwprobe", "s390_pci_mmio_read", "s390_pci_mmio_write",
    "s390_runtime_instr", END,
};

static const char *const allow_processes[] = {
    "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "vfork",
    "getcpu", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
    "getgroups32", "getitimer", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom",
    "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "ugetrlimit", "get_robust_list",
    "getrusage", "getsid", "gettid", "getuid", "getuid32", "ioprio_get", "ioprio_set", "kill", "pause",
    "pidfd_open", "pidfd_send_signal", "prctl", "prlimit64", "rseq", "sched_getaffinity",
    "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
    "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
    "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "setfsgid", "setfsgid32",
    "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
    "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32",
    "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "set_tid_address", "setuid",
    "setuid32", "seccomp", "tgkill", "tkill", "times", "uname", "olduname", "oldolduname", "wait4",
    "waitid", "waitpid", "restart_syscall", "sysinfo", "ptrace", "process_vm_readv", "process_vm_writev",
    END,
};

static const char *const allow_signals_time_ipc[] = {
    "alarm", "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "gettimeofday", "nanosleep", "time", "timer_create", "timer_delete",
    "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
    "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64",
    "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sigaction", "sigaltstack",
    "signal", "signalfd", "signalfd4", "sigpending", "sigprocmask", "sigreturn", "sigsuspend",
    "eventfd", "eventfd2", "futex", "futex_time64", "futex_requeue", "futex_wait", "futex_waitv",
    "futex_wake", "ipc", "mq_getsetattr", "mq_notify", "mq_open",
    "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
    "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop", "semtimedop",
    "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget", "pipe", "pipe2", END,
};

static const char *const allow_io_net[] = {
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2",
    "epoll_wait", "epoll_wait_old", "poll", "ppoll", "ppoll_time64", "pselect6", "pselect6_time64",
    "select", "_newselect", "io_cancel", "io_destroy", "io_getevents", "io_pgetevents",
    "io_pgetevents_time64", "io_setup", "io_submit", "accept", "accept4", "bind", "connect",
    "getpeername", "getsockname", "getsockopt", "listen", "recv", "recvfrom", "recvmmsg",
    "recvmmsg_time64", "recvmsg", "send", "sendmmsg", "sendmsg", "sendto", "setsockopt", "shutdown",
    "socket", "socketcall", "socketpair", END,
};

/* ---- capability-conditional rules ----------------------------------------------- */

struct cap_rule {
    const char *cap;                /* the container must hold it */
    const char *const *names;
};

static const char *const with_sys_admin[] = {
    "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
    "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd",
    "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare", "name_to_handle_at",
    END,
};
static const char *const with_sys_boot[] = { "reboot", END };
static const char *const with_sys_chroot[] = { "chroot", END };
static const char *const with_sys_module[] = { "delete_module", "init_module", "finit_module", END };
static const char *const with_sys_pacct[] = { "acct", END };
static const char *const with_sys_ptrace[] = { "kcmp", "pidfd_getfd", "process_madvise", "userfaultfd", END };
static const char *const with_sys_rawio[] = { "iopl", "ioperm", END };
static const char *const with_sys_time[] = { "settimeofday", "stime", "clock_settime", "clock_settime64",
                                             "adjtimex", "clock_adjtime", "clock_adjtime64", END };
static const char *const with_sys_tty_config[] = { "vhangup", END };
static const char *const with_sys_nice[] = { "get_mempolicy", "mbind", "set_mempolicy",
                                             "set_mempolicy_home_node", "move_pages", END };
static const char *const with_syslog[] = { "syslog", END };
static const char *const with_bpf[] = { "bpf", END };
static const char *const with_perfmon[] = { "perf_event_open", END };
static const char *const with_dac_read_search[] = { "open_by_handle_at", "name_to_handle_at", END };

static const struct cap_rule cap_rules[] = {
    { "CAP_SYS_ADMIN", with_sys_admin },       { "CAP_SYS_BOOT", with_sys_boot },
    { "CAP_SYS_CHROOT", with_sys_chroot },     { "CAP_SYS_MODULE", with_sys_module },
    { "CAP_SYS_PACCT", with_sys_pacct },       { "CAP_SYS_PTRACE", with_sys_ptrace },
    { "CAP_SYS_RAWIO", with_sys_rawio },       { "CAP_SYS_TIME", with_sys_time },
    { "CAP_SYS_TTY_CONFIG", with_sys_tty_config }, { "CAP_SYS_NICE", with_sys_nice },
    { "CAP_SYSLOG", with_syslog },             { "CAP_BPF", with_bpf },
    { "CAP_PERFMON", with_perfmon },           { "CAP_DAC_READ_SEARCH", with_dac_read_search },
};

/* personality(2): the Linux domains and the query; not the emulations of other
 * systems' ABIs, which are poorly tested kernel code (docker's reason). */
static const unsigned long personalities[] = {
    0x0,         /* PER_LINUX */
    0x0008,      /* PER_LINUX32 */
    0x20000,     /* UNAME26 */
    0x20008,     /* UNAME26 | PER_LINUX32 */
    0xffffffff,  /* query the current persona */
};

/* ---- building ------------------------------------------------------------------- */

bool ocispec_has_cap(const char *const *caps, const char *cap)
{
    for (; caps && *caps; caps++)
        if (strcmp(*caps, cap) == 0)
            return true;
    return false;
}

static void add_names(json_object *arr, const char *const *names)
{
    for (; *names; names++)
        json_object_array_add(arr, json_object_new_string(*names));
}

static json_object *rule(const char *action, json_object *names)
{
    json_object *r = json_object_new_object();
    json_object_object_add(r, "names", names);
    json_object_object_add(r, "action", json_object_new_string(action));
    return r;
}

static json_object *arg_cond(unsigned index, uint64_t value, uint64_t value_two, const char *op)
{
    json_object *a = json_object_new_object();
    json_object_object_add(a, "index", json_object_new_int(index));
    json_object_object_add(a, "value", json_object_new_uint64(value));
    json_object_object_add(a, "valueTwo", json_object_new_uint64(value_two));
    json_object_object_add(a, "op", json_object_new_string(op));
    return a;
}

static json_object *one_name(const char *name)
{
    json_object *a = json_object_new_array();
    json_object_array_add(a, json_object_new_string(name));
    return a;
}

static json_object *architectures(void)
{
    json_object *a = json_object_new_array();
    /* The native architecture and the compat ABIs its kernel may run. */
#if defined(__x86_64__)
    const char *const arches[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", END };
#elif defined(__aarch64__)
    const char *const arches[] = { "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", END };
#elif defined(__i386__)
    const char *const arches[] = { "SCMP_ARCH_X86", END };
#elif defined(__arm__)
    const char *const arches[] = { "SCMP_ARCH_ARM", END };
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const char *const arches[] = { "SCMP_ARCH_PPC64LE", END };
#elif defined(__s390x__)
    const char *const arches[] = { "SCMP_ARCH_S390X", "SCMP_ARCH_S390", END };
#elif defined(__riscv) && __riscv_xlen == 64
    const char *const arches[] = { "SCMP_ARCH_RISCV64", END };
#else
    const char *const arches[] = { END };
#endif
    add_names(a, arches);
    return a;
}

json_object *ocispec_seccomp_for_caps(const char *const *caps)
{
    json_object *s = json_object_new_object();
    json_object_object_add(s, "defaultAction", json_object_new_string("SCMP_ACT_ERRNO"));
    json_object_object_add(s, "defaultErrnoRet", json_object_new_int(EPERM));
    json_object_object_add(s, "architectures", architectures());
    json_object *rules = json_object_new_array();

    json_object *allowed = json_object_new_array();
    add_names(allowed, allow_files);
    add_names(allowed, allow_memory);
    add_names(allowed, allow_processes);
    add_names(allowed, allow_signals_time_ipc);
    add_names(allowed, allow_io_net);
    json_object_array_add(rules, rule("SCMP_ACT_ALLOW", allowed));

    for (size_t i = 0; i < ARRAY_SIZE(personalities); i++) {
        json_object *r = rule("SCMP_ACT_ALLOW", one_name("personality"));
        json_object *args = json_object_new_array();
        json_object_array_add(args, arg_cond(0, personalities[i], 0, "SCMP_CMP_EQ"));
        json_object_object_add(r, "args", args);
        json_object_array_add(rules, r);
    }

    bool sys_admin = ocispec_has_cap(caps, "CAP_SYS_ADMIN");
    if (!sys_admin) {
        /* clone without a namespace flag: threads and forks, not new namespaces. */
        uint64_t ns_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                            CLONE_NEWNET | CLONE_NEWCGROUP;
#if defined(__s390x__) || defined(__s390__)
        unsigned flags_arg = 1;   /* s390's clone takes the stack first */
#else
        unsigned flags_arg = 0;
#endif
        json_object *r = rule("SCMP_ACT_ALLOW", one_name("clone"));
        json_object *args = json_object_new_array();
        json_object_array_add(args, arg_cond(flags_arg, ns_flags, 0, "SCMP_CMP_MASKED_EQ"));
        json_object_object_add(r, "args", args);
        json_object_array_add(rules, r);

        json_object *c3 = rule("SCMP_ACT_ERRNO", one_name("clone3"));
        json_object_object_add(c3, "errnoRet", json_object_new_int(ENOSYS));
        json_object_array_add(rules, c3);
    }

    /* One rule for what the capabilities open, each name once (syslog is both
     * CAP_SYSLOG's and CAP_SYS_ADMIN's). */
    json_object *granted = json_object_new_array();
    for (size_t i = 0; i < ARRAY_SIZE(cap_rules); i++) {
        if (!ocispec_has_cap(caps, cap_rules[i].cap))
            continue;
        for (const char *const *n = cap_rules[i].names; *n; n++) {
            bool dup = false;
            for (size_t k = 0; k < json_object_array_length(granted) && !dup; k++)
                dup = strcmp(json_object_get_string(json_object_array_get_idx(granted, k)), *n) == 0;
            if (!dup)
                json_object_array_add(granted, json_object_new_string(*n));
        }
    }
    if (json_object_array_length(granted) > 0)
        json_object_array_add(rules, rule("SCMP_ACT_ALLOW", granted));
    else
        json_object_put(granted);
    json_object_object_add(s, "syscalls", rules);
    return s;
}

json_object *ocispec_seccomp_default(void)
{
    static const char *const docker_caps[] = {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", END,
    };
    return ocispec_seccomp_for_caps(docker_caps);
}
