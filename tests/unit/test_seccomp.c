/* test_seccomp.c — linux.seccomp translated into a libseccomp filter: action, arch and
 * flag names, the errors (naming the JSON path), which rules are made, and what a
 * loaded filter does, checked by calling the syscalls in forked children (each sets
 * no_new_privs itself, so no privilege is needed). Also the containerProcessState
 * JSON and its sending with SCM_RIGHTS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "seccomp_filter.h"
#include "util.h"

/* Documents are written with ' for " to stay readable. */
static struct oci_config *parse_seccomp(const char *seccomp_json)
{
    _cleanup_free_ char *doc = xasprintf("{\"ociVersion\": \"1.2.0\", \"linux\": {\"seccomp\": %s}}", seccomp_json);
    struct oci_config *cfg = NULL;
    husk_err *err = NULL;

    for (char *p = doc; *p; p++)
        if (*p == '\'')
            *p = '"';
    if (config_parse(doc, strlen(doc), "config.json", &cfg, &err) < 0) {
        print_error("unexpected parse error: %s\n", err ? err->msg : "(null)");
        husk_err_free(&err);
        fail();
    }
    assert_true(cfg->linux_.has_seccomp);
    return cfg;
}

static struct husk_seccomp *build_ok(const struct oci_config *cfg)
{
    struct husk_seccomp *f = NULL;
    husk_err *err = NULL;
    if (seccomp_filter_build(&cfg->linux_.seccomp, &f, &err) < 0) {
        print_error("unexpected build error: %s\n", err ? err->msg : "(null)");
        husk_err_free(&err);
        fail();
    }
    assert_non_null(f);
    return f;
}

/* ---- names ---------------------------------------------------------------- */

static void test_action_values(void **state)
{
    (void)state;
    uint32_t v;

    assert_int_equal(seccomp_action_value("SCMP_ACT_KILL", false, 0, &v), 0);
    assert_int_equal(v, SCMP_ACT_KILL);
    assert_int_equal(seccomp_action_value("SCMP_ACT_KILL_PROCESS", false, 0, &v), 0);
    assert_int_equal(v, SCMP_ACT_KILL_PROCESS);
    assert_int_equal(seccomp_action_value("SCMP_ACT_KILL_THREAD", false, 0, &v), 0);
    assert_int_equal(v, SCMP_ACT_KILL_THREAD);
    assert_int_equal(seccomp_action_value("SCMP_ACT_TRAP", false, 0, &v), 0);
    assert_int_equal(v, SCMP_ACT_TRAP);
    assert_int_equal(seccomp_action_value("SCMP_ACT_ALLOW", false, 0, &v), 0);
    assert_int_equal(v, SCMP_ACT_ALLOW);
    assert_int_equal(seccomp_action_value("SCMP_ACT_LOG", false, 0, &v), 0);
    assert_int_equal(v, SCMP_ACT_LOG);
    assert_int_equal(seccomp_action_value("SCMP_ACT_NOTIFY", false, 0, &v), 0);
    assert_int_equal(v, SCMP_ACT_NOTIFY);
    /* errnoRet absent: EPERM, for ERRNO and TRACE alike */
    assert_int_equal(seccomp_action_value("SCMP_ACT_ERRNO", false, 0, &v), 0);
    assert_int_equal(v, SCMP_ACT_ERRNO(EPERM));
    assert_int_equal(seccomp_action_value("SCMP_ACT_ERRNO", true, ENOSPC, &v), 0);
    assert_int_equal(v, SCMP_ACT_ERRNO(ENOSPC));
    assert_int_equal(seccomp_action_value("SCMP_ACT_ERRNO", true, 0, &v), 0);
    assert_int_equal(v, SCMP_ACT_ERRNO(0));
    assert_int_equal(seccomp_action_value("SCMP_ACT_TRACE", false, 0, &v), 0);
    assert_int_equal(v, SCMP_ACT_TRACE(EPERM));
    assert_int_equal(seccomp_action_value("SCMP_ACT_TRACE", true, 1234, &v), 0);
    assert_int_equal(v, SCMP_ACT_TRACE(1234));
    assert_int_equal(seccomp_action_value("SCMP_ACT_FOO", false, 0, &v), -1);
    assert_int_equal(seccomp_action_value("scmp_act_allow", false, 0, &v), -1);
}

static void test_arch_values(void **state)
{
    (void)state;
    uint32_t t;

    assert_int_equal(seccomp_arch_value("SCMP_ARCH_X86_64", &t), 0);
    assert_int_equal(t, SCMP_ARCH_X86_64);
    assert_int_equal(seccomp_arch_value("SCMP_ARCH_X86", &t), 0);
    assert_int_equal(t, SCMP_ARCH_X86);
    assert_int_equal(seccomp_arch_value("SCMP_ARCH_X32", &t), 0);
    assert_int_equal(t, SCMP_ARCH_X32);
    assert_int_equal(seccomp_arch_value("SCMP_ARCH_AARCH64", &t), 0);
    assert_int_equal(t, SCMP_ARCH_AARCH64);
    assert_int_equal(seccomp_arch_value("SCMP_ARCH_RISCV64", &t), 0);
    assert_int_equal(t, SCMP_ARCH_RISCV64);
    assert_int_equal(seccomp_arch_value("x86_64", &t), 0);
    assert_int_equal(t, 0);
#ifndef SCMP_ARCH_M68K
    assert_int_equal(seccomp_arch_value("SCMP_ARCH_M68K", &t), -1);
#endif
}

static void test_uses_notify(void **state)
{
    (void)state;
    struct oci_config *a = parse_seccomp("{'defaultAction': 'SCMP_ACT_ALLOW', "
                                         "'syscalls': [{'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO'}]}");
    struct oci_config *b = parse_seccomp("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/x', "
                                         "'syscalls': [{'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO'},"
                                         "             {'names': ['rmdir'], 'action': 'SCMP_ACT_NOTIFY'}]}");
    assert_false(seccomp_uses_notify(&a->linux_.seccomp));
    assert_true(seccomp_uses_notify(&b->linux_.seccomp));
    config_free(a);
    config_free(b);
}

/* ---- errors --------------------------------------------------------------- */

static const struct {
    const char *json;
    const char *msg;
} build_errors[] = {
#ifndef SCMP_ARCH_M68K
    { "{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_M68K']}",
      "config.json: linux.seccomp.architectures[1]: architecture \"SCMP_ARCH_M68K\" is not supported by "
      "libseccomp " },
#endif
#if !(SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6))
    { "{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_LOG', "
      "'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']}",
      "config.json: linux.seccomp.flags[1]: \"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\" needs libseccomp >= 2.6.0" },
#endif
    { "{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 70000}",
      "config.json: linux.seccomp.defaultErrnoRet: 70000 out of range [0, 65535]" },
    { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_KILL'},"
      " {'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 65536}]}",
      "config.json: linux.seccomp.syscalls[1].errnoRet: 65536 out of range [0, 65535]" },
    { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': 'SCMP_ACT_NOTIFY'}]}",
      "config.json: linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used" },
    { "{'defaultAction': 'SCMP_ACT_NOTIFY', 'listenerPath': '/x'}",
      "config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY is not supported as the default action" },
    { "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/x', "
      "'syscalls': [{'names': ['mkdir', 'sendmsg'], 'action': 'SCMP_ACT_NOTIFY'}]}",
      "config.json: linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for \"sendmsg\"" },
};

static void test_build_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof build_errors / sizeof build_errors[0]; i++) {
        struct oci_config *cfg = parse_seccomp(build_errors[i].json);
        struct husk_seccomp *f = NULL;
        husk_err *err = NULL;
        int r = seccomp_filter_build(&cfg->linux_.seccomp, &f, &err);
        if (r != -1 || err == NULL || strncmp(err->msg, build_errors[i].msg, strlen(build_errors[i].msg)) != 0) {
            print_error("case %zu: %s\n  want: %s...\n  got:  %s\n", i, build_errors[i].json, build_errors[i].msg,
                        err ? err->msg : "(no error)");
            fail();
        }
        assert_null(f);
        husk_err_free(&err);
        config_free(cfg);
    }
}

/* ---- which rules are made --------------------------------------------------- */

static void test_rule_count(void **state)
{
    (void)state;
    struct oci_config *cfg = parse_seccomp(
        "{'defaultAction': 'SCMP_ACT_ERRNO', 'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],"
        " 'flags': ['SECCOMP_FILTER_FLAG_LOG'],"
        " 'syscalls': ["
        "  {'names': ['read', 'write', 'no_such_syscall_husk'], 'action': 'SCMP_ACT_ALLOW'},"    /* 2 */
        "  {'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO'},"     /* = default: skipped */
        "  {'names': ['rmdir'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 28},"                       /* 1 */
        "  {'names': ['kill'], 'action': 'SCMP_ACT_ALLOW', 'args': ["                              /* 1: AND */
        "     {'index': 0, 'value': 1, 'op': 'SCMP_CMP_EQ'}, {'index': 1, 'value': 10, 'op': 'SCMP_CMP_EQ'}]},"
        "  {'names': ['tkill'], 'action': 'SCMP_ACT_ALLOW', 'args': ["                             /* 2: OR */
        "     {'index': 1, 'value': 10, 'op': 'SCMP_CMP_EQ'}, {'index': 1, 'value': 12, 'op': 'SCMP_CMP_EQ'}]},"
        "  {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW', 'args': ["                       /* 1 */
        "     {'index': 0, 'value': 4294967295, 'op': 'SCMP_CMP_EQ'}]},"
        "  {'names': ['socketcall'], 'action': 'SCMP_ACT_ALLOW'}"  /* x86 only: 1 */
        "]}");
    struct husk_seccomp *f = build_ok(cfg);
    assert_int_equal(seccomp_filter_n_rules(f), 8);

    /* the exported filter names the syscalls kept, for each architecture */
    int fd = memfd_create("pfc", MFD_CLOEXEC);
    husk_err *err = NULL;
    assert_true(fd >= 0);
    assert_int_equal(seccomp_filter_export_pfc(f, fd, &err), 0);
    char buf[65536];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    assert_true(n > 0);
    buf[n] = '\0';
    close(fd);
    assert_non_null(strstr(buf, "x86_64"));
    assert_non_null(strstr(buf, "x32"));
    assert_non_null(strstr(buf, "filter for syscall \"rmdir\""));
    assert_non_null(strstr(buf, "filter for syscall \"tkill\""));
    assert_null(strstr(buf, "filter for syscall \"mkdir\""));
    assert_non_null(strstr(buf, "action ERRNO(28)"));
    seccomp_filter_free(f);
    config_free(cfg);
}

/* ---- what a loaded filter does ---------------------------------------------- */

/* Run fn in a child under the filter; return its wait status. */
static int run_filtered(struct husk_seccomp *f, int (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        husk_err *err = NULL;
        int nfd;
        /* cmocka catches SIGSYS; the container's process has the default action. */
        signal(SIGSYS, SIG_DFL);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            _exit(100);
        if (seccomp_filter_load(f, &nfd, &err) < 0) {
            fprintf(stderr, "load: %s\n", err->msg);
            _exit(101);
        }
        _exit(fn());
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            dprintf(2, "%s:%d: check failed: %s (errno %d)\n", __FILE__,   \
                    __LINE__, #cond, errno);                                \
            return 1;                                                       \
        }                                                                   \
    } while (0)

static char tmpdir[64];

static int mkdir_errors(void)
{
    _cleanup_free_ char *a = xasprintf("%s/a", tmpdir);
    _cleanup_free_ char *b = xasprintf("%s/b", tmpdir);
    errno = 0;
    CHECK(syscall(SYS_mkdir, a, 0755) == -1 && errno == ENOSPC);
    errno = 0;
    CHECK(syscall(SYS_mkdirat, AT_FDCWD, a, 0755) == -1 && errno == EPERM);   /* errnoRet absent */
    CHECK(syscall(SYS_rmdir, b) == -1 && errno == ENOENT);                    /* not filtered */
    return 0;
}

static void test_load_errno(void **state)
{
    (void)state;
    struct oci_config *cfg = parse_seccomp(
        "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
        "  {'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 28},"
        "  {'names': ['mkdirat'], 'action': 'SCMP_ACT_ERRNO'},"
        "  {'names': ['no_such_syscall_husk'], 'action': 'SCMP_ACT_KILL'}]}");
    struct husk_seccomp *f = build_ok(cfg);
    int st = run_filtered(f, mkdir_errors);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    struct stat sb;
    _cleanup_free_ char *a = xasprintf("%s/a", tmpdir);
    assert_int_equal(stat(a, &sb), -1);   /* the denied mkdir made nothing */
    seccomp_filter_free(f);
    config_free(cfg);
}

/* A syscall above the highest the profile names gets ENOSYS (libc falls back); one
 * below it that the profile does not name gets the default errno. */
static int enosys_errors(void)
{
    errno = 0;
    CHECK(syscall(SYS_getcpu, NULL, NULL, NULL) == -1 && errno == EPERM);   /* 309 < rseq (334) */
    errno = 0;
    CHECK(syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS);           /* 435 */
    errno = 0;
    CHECK(syscall(SYS_faccessat2, AT_FDCWD, "/", 0, 0) == -1 && errno == ENOSYS);   /* 439 */
    return 0;
}

static void test_load_enosys(void **state)
{
    (void)state;
    /* What the process itself needs, ASan's runtime included (sigaltstack, mmap …):
     * all numbered below getcpu (309), which must stay unnamed. */
    struct oci_config *cfg = parse_seccomp(
        "{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
        "  {'names': ['write', 'exit', 'exit_group', 'rseq', 'read', 'close', 'mmap', 'munmap', 'mprotect',"
        "             'madvise', 'brk', 'sigaltstack', 'rt_sigaction', 'rt_sigprocmask', 'getpid', 'gettid',"
        "             'tgkill', 'prctl', 'futex', 'openat', 'newfstatat', 'readlinkat', 'readlink',"
        "             'prlimit64', 'sched_yield'], 'action': 'SCMP_ACT_ALLOW'}]}");
    struct husk_seccomp *f = build_ok(cfg);
    assert_true(seccomp_filter_n_enosys(f) > 0);
    assert_int_equal(seccomp_filter_n_rules(f), 25);
    int st = run_filtered(f, enosys_errors);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    seccomp_filter_free(f);
    config_free(cfg);

    /* Not with a default that lets calls through, nor one that already is ENOSYS. */
    cfg = parse_seccomp("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                        "  {'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO'}]}");
    f = build_ok(cfg);
    assert_int_equal(seccomp_filter_n_enosys(f), 0);
    seccomp_filter_free(f);
    config_free(cfg);
    cfg = parse_seccomp("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38, 'syscalls': ["
                        "  {'names': ['read'], 'action': 'SCMP_ACT_ALLOW'}]}");
    f = build_ok(cfg);
    assert_int_equal(seccomp_filter_n_enosys(f), 0);
    seccomp_filter_free(f);
    config_free(cfg);
}

/* The state-dir copy exec loads: the restored program filters as the built one, and
 * a missing file, one of another format and a damaged one are told apart. */
static void test_saved_at(void **state)
{
    (void)state;
    struct oci_config *cfg = parse_seccomp(
        "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
        "  {'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 28},"
        "  {'names': ['mkdirat'], 'action': 'SCMP_ACT_ERRNO'}]}");
    struct husk_seccomp *f = build_ok(cfg), *g = NULL;
    husk_err *err = NULL;
    _cleanup_close_ int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);

    assert_int_equal(seccomp_filter_restore_at(dfd, "prog", &g, &err), 0);   /* none */
    assert_null(g);
    assert_int_equal(seccomp_filter_save_at(f, dfd, "prog", &err), 0);
    struct stat sb;
    assert_int_equal(fstatat(dfd, "prog", &sb, 0), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    assert_int_equal(seccomp_filter_restore_at(dfd, "prog", &g, &err), 0);
    assert_non_null(g);
    int st = run_filtered(g, mkdir_errors);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    seccomp_filter_free(g);
    g = NULL;

    /* Truncated by one instruction: refused, naming the file. */
    int fd = openat(dfd, "prog", O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, sb.st_size - 8), 0);
    assert_int_equal(seccomp_filter_restore_at(dfd, "prog", &g, &err), -1);
    assert_null(g);
    assert_non_null(strstr(err->msg, "prog is damaged"));
    husk_err_free(&err);
    /* Another format's magic: not ours to read, built from the config instead. */
    assert_int_equal(pwrite(fd, "HUSK", 4, 0), 4);
    close(fd);
    assert_int_equal(seccomp_filter_restore_at(dfd, "prog", &g, &err), 0);
    assert_null(g);
    assert_int_equal(unlinkat(dfd, "prog", 0), 0);
    seccomp_filter_free(f);
    config_free(cfg);
}

static int args_checks(void)
{
    pid_t me = getpid();
    /* EQ on a full 64-bit-wide value: personality(0xffffffff) queries, allowed */
    errno = 0;
    CHECK(syscall(SYS_personality, 0xffffffffUL) != -1);
    CHECK(syscall(SYS_personality, 8UL) == -1 && errno == EDOM);
    /* AND: kill(0x3ffffffe, SIGUSR1) denied only when both arguments match; the pid
     * does not exist, so an unfiltered call fails with ESRCH */
    CHECK(syscall(SYS_kill, 0x3ffffffe, SIGUSR1) == -1 && errno == EXDEV);
    CHECK(syscall(SYS_kill, 0x3ffffffe, 0) == -1 && errno == ESRCH);
    CHECK(syscall(SYS_kill, 0x3fffffff, SIGUSR1) == -1 && errno == ESRCH);
    /* OR (same index twice): tgkill with SIGUSR1 or SIGUSR2 denied (else it would kill us) */
    CHECK(syscall(SYS_tgkill, me, me, SIGUSR1) == -1 && errno == ENOTTY);
    CHECK(syscall(SYS_tgkill, me, me, SIGUSR2) == -1 && errno == ENOTTY);
    CHECK(syscall(SYS_tgkill, me, me, 0) == 0);
    /* MASKED_EQ: openat with O_CREAT in flags denied, without allowed */
    _cleanup_free_ char *c = xasprintf("%s/c", tmpdir);
    CHECK(open(c, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) == -1 && errno == EROFS);
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    close(fd);
    /* GT / LE: umask above 0777 (never valid) vs a normal one */
    CHECK(syscall(SYS_umask, 022) >= 0);
    CHECK(syscall(SYS_umask, 01000) == -1 && errno == E2BIG);
    return 0;
}

static void test_load_args(void **state)
{
    (void)state;
    struct oci_config *cfg = parse_seccomp(
        "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
        "  {'names': ['personality'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 33,"
        "   'args': [{'index': 0, 'value': 8, 'op': 'SCMP_CMP_EQ'}]},"
        "  {'names': ['kill'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 18, 'args': ["
        "     {'index': 0, 'value': 1073741822, 'op': 'SCMP_CMP_EQ'}, {'index': 1, 'value': 10, 'op': 'SCMP_CMP_EQ'}]},"
        "  {'names': ['tgkill'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 25, 'args': ["
        "     {'index': 2, 'value': 10, 'op': 'SCMP_CMP_EQ'}, {'index': 2, 'value': 12, 'op': 'SCMP_CMP_EQ'}]},"
        "  {'names': ['openat'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 30, 'args': ["
        "     {'index': 2, 'value': 64, 'valueTwo': 64, 'op': 'SCMP_CMP_MASKED_EQ'}]},"
        "  {'names': ['open'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 30, 'args': ["
        "     {'index': 1, 'value': 64, 'valueTwo': 64, 'op': 'SCMP_CMP_MASKED_EQ'}]},"
        "  {'names': ['umask'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 7, 'args': ["
        "     {'index': 0, 'value': 511, 'op': 'SCMP_CMP_GT'}]}"
        "]}");
    struct husk_seccomp *f = build_ok(cfg);
    int st = run_filtered(f, args_checks);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    seccomp_filter_free(f);
    config_free(cfg);
}

static int call_getppid(void)
{
    syscall(SYS_getppid);
    return 0;
}

static void test_load_kill_trap(void **state)
{
    (void)state;
    const char *acts[] = { "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP" };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        _cleanup_free_ char *j = xasprintf("{'defaultAction': 'SCMP_ACT_ALLOW', "
                                           "'syscalls': [{'names': ['getppid'], 'action': '%s'}]}", acts[i]);
        struct oci_config *cfg = parse_seccomp(j);
        struct husk_seccomp *f = build_ok(cfg);
        int st = run_filtered(f, call_getppid);
        if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS) {
            print_error("%s: wait status %#x, expected death by SIGSYS\n", acts[i], st);
            fail();
        }
        seccomp_filter_free(f);
        config_free(cfg);
    }
}

/* ---- the listener message --------------------------------------------------- */

static void test_process_state(void **state)
{
    (void)state;
    const char *st = "{\"ociVersion\":\"1.3.0\",\"id\":\"c1\",\"status\":\"created\",\"pid\":4422,"
                     "\"bundle\":\"/b\",\"annotations\":{\"k\":\"v\"}}";
    husk_err *err = NULL;
    _cleanup_free_ char *m = seccomp_process_state(st, "MKNOD=/dev/null", &err);
    assert_non_null(m);
    struct json_object *o = json_tokener_parse(m), *v, *s;
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "ociVersion", &v));
    assert_true(json_object_object_get_ex(o, "fds", &v));
    assert_int_equal(json_object_array_length(v), 1);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)), "seccompFd");
    assert_true(json_object_object_get_ex(o, "pid", &v));
    assert_int_equal(json_object_get_int(v), 4422);
    assert_true(json_object_object_get_ex(o, "metadata", &v));
    assert_string_equal(json_object_get_string(v), "MKNOD=/dev/null");
    assert_true(json_object_object_get_ex(o, "state", &s));
    assert_true(json_object_object_get_ex(s, "id", &v));
    assert_string_equal(json_object_get_string(v), "c1");
    assert_true(json_object_object_get_ex(s, "status", &v));
    assert_string_equal(json_object_get_string(v), "created");
    json_object_put(o);

    _cleanup_free_ char *m2 = seccomp_process_state(st, NULL, &err);
    assert_non_null(m2);
    assert_null(strstr(m2, "metadata"));

    assert_null(seccomp_process_state("not json", NULL, &err));
    assert_non_null(err);
    husk_err_free(&err);
    assert_null(seccomp_process_state("{\"id\":\"c1\"}", NULL, &err));
    assert_string_equal(err->msg, "seccomp: container state has no pid");
    husk_err_free(&err);
}

/* A message larger than a socket buffer: the fd arrives with the first part, all of
 * the text arrives, then end of stream. */
static void test_listener_send(void **state)
{
    (void)state;
    int sv[2];
    size_t len = 512 * 1024;
    char *msg = xmalloc(len + 1);
    for (size_t i = 0; i < len; i++)
        msg[i] = (char)('a' + i % 26);
    msg[len] = '\0';
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        husk_err *err = NULL;
        close(sv[1]);
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        _exit(seccomp_listener_send(sv[0], fd, msg, &err) == 0 ? 0 : 1);
    }
    close(sv[0]);

    char *got = xmalloc(len + 1);
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = { .iov_base = got, .iov_len = len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b };
    ssize_t n = recvmsg(sv[1], &mh, MSG_CMSG_CLOEXEC);
    assert_true(n > 0);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    assert_non_null(c);
    assert_int_equal(c->cmsg_type, SCM_RIGHTS);
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    struct stat a, b;
    assert_int_equal(fstat(fd, &a), 0);
    assert_int_equal(stat("/dev/null", &b), 0);
    assert_true(a.st_rdev == b.st_rdev);
    close(fd);
    size_t off = (size_t)n;
    for (;;) {
        n = read(sv[1], got + off, len + 1 - off);
        assert_true(n >= 0);
        if (n == 0)
            break;
        off += (size_t)n;
    }
    assert_int_equal(off, len);
    assert_memory_equal(got, msg, len);
    close(sv[1]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    free(got);
    free(msg);
}

static int setup_tmp(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/husk-seccomp-test.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
    (void)state;
    char p[128];
    snprintf(p, sizeof p, "%s/a", tmpdir);
    rmdir(p);
    snprintf(p, sizeof p, "%s/c", tmpdir);
    unlink(p);
    return rmdir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_action_values),
        cmocka_unit_test(test_arch_values),
        cmocka_unit_test(test_uses_notify),
        cmocka_unit_test(test_build_errors),
        cmocka_unit_test(test_rule_count),
        cmocka_unit_test(test_load_errno),
        cmocka_unit_test(test_load_enosys),
        cmocka_unit_test(test_load_args),
        cmocka_unit_test(test_saved_at),
        cmocka_unit_test(test_load_kill_trap),
        cmocka_unit_test(test_process_state),
        cmocka_unit_test(test_listener_send),
    };
    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
