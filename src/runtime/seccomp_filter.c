/* seccomp_filter.c — see seccomp_filter.h. */
#include "seccomp_filter.h"
#include "newsys.h"

#include "husk-config.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <json-c/json.h>
#include <seccomp.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define PFX "config.json: linux.seccomp"

struct husk_seccomp {
    scmp_filter_ctx ctx;
    bool notify;        /* some action is SCMP_ACT_NOTIFY: the load makes a listener fd */
    size_t n_rules;
    size_t n_enosys;    /* ENOSYS rules for syscalls newer than the profile (add_enosys) */
    /* The BPF program libseccomp generated from ctx, by seccomp_filter_build (see
     * compile_filter()), and how the kernel is to take it. */
    struct sock_filter *prog;
    unsigned short prog_len;
    unsigned int load_flags;   /* SECCOMP_FILTER_FLAG_* from linux.seccomp.flags */
    bool notify_in_prog;       /* the program can return SECCOMP_RET_USER_NOTIF */
};

/* ---- name tables -------------------------------------------------------------- */

static const struct {
    const char *name;
    uint32_t value;
    bool takes_errno;   /* the low 16 bits carry errnoRet (ERRNO) or the tracer's msg (TRACE) */
} actions[] = {
    { "SCMP_ACT_KILL", SCMP_ACT_KILL, false },
    { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
    { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false },
    { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
    { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true },
    { "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true },
    { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
    { "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
    { "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false },
};

/* The spec's list (libseccomp 2.6); the ones this libseccomp predates map to 0. */
static const struct {
    const char *name;
    uint32_t token;
} arches[] = {
    { "SCMP_ARCH_X86", SCMP_ARCH_X86 },
    { "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 },
    { "SCMP_ARCH_X32", SCMP_ARCH_X32 },
    { "SCMP_ARCH_ARM", SCMP_ARCH_ARM },
    { "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 },
    { "SCMP_ARCH_MIPS", SCMP_ARCH_MIPS },
    { "SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64 },
    { "SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32 },
    { "SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL },
    { "SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64 },
    { "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32 },
    { "SCMP_ARCH_PPC", SCMP_ARCH_PPC },
    { "SCMP_ARCH_PPC64", SCMP_ARCH_PPC64 },
    { "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
    { "SCMP_ARCH_S390", SCMP_ARCH_S390 },
    { "SCMP_ARCH_S390X", SCMP_ARCH_S390X },
    { "SCMP_ARCH_PARISC", SCMP_ARCH_PARISC },
    { "SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64 },
    { "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
#ifdef SCMP_ARCH_LOONGARCH64
    { "SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64 },
#else
    { "SCMP_ARCH_LOONGARCH64", 0 },
#endif
#ifdef SCMP_ARCH_M68K
    { "SCMP_ARCH_M68K", SCMP_ARCH_M68K },
#else
    { "SCMP_ARCH_M68K", 0 },
#endif
#ifdef SCMP_ARCH_SH
    { "SCMP_ARCH_SH", SCMP_ARCH_SH },
#else
    { "SCMP_ARCH_SH", 0 },
#endif
#ifdef SCMP_ARCH_SHEB
    { "SCMP_ARCH_SHEB", SCMP_ARCH_SHEB },
#else
    { "SCMP_ARCH_SHEB", 0 },
#endif
};

#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
#define HAVE_WAITKILL 1
#else
#define HAVE_WAITKILL 0
#endif

int seccomp_action_value(const char *name, bool has_errno, uint32_t errno_ret, uint32_t *out)
{
    for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
        if (strcmp(name, actions[i].name) != 0)
            continue;
        uint32_t v = actions[i].value;
        /* EPERM when errnoRet is absent (the spec's default, for TRACE too as runc). */
        if (actions[i].takes_errno)
            v |= (has_errno ? errno_ret : (uint32_t)EPERM) & 0xffffu;
        *out = v;
        return 0;
    }
    return -1;
}

int seccomp_arch_value(const char *name, uint32_t *out)
{
    for (size_t i = 0; i < ARRAY_SIZE(arches); i++) {
        if (strcmp(name, arches[i].name) != 0)
            continue;
        if (arches[i].token == 0)
            return -1;
        *out = arches[i].token;
        return 0;
    }
    *out = 0;
    return 0;
}

const char *seccomp_action_name_at(size_t i)
{
    return i < ARRAY_SIZE(actions) ? actions[i].name : NULL;
}

const char *seccomp_arch_name_at(size_t i, bool *usable)
{
    if (i >= ARRAY_SIZE(arches))
        return NULL;
    *usable = arches[i].token != 0;
    return arches[i].name;
}

bool seccomp_uses_notify(const struct oci_seccomp *s)
{
    if (s->default_action && strcmp(s->default_action, "SCMP_ACT_NOTIFY") == 0)
        return true;
    for (size_t i = 0; i < s->n_syscalls; i++)
        if (s->syscalls[i].action && strcmp(s->syscalls[i].action, "SCMP_ACT_NOTIFY") == 0)
            return true;
    return false;
}

/* ---- building the filter ------------------------------------------------------- */

/* The kernel's return value has 16 bits for the errno; a larger errnoRet would be cut
 * to something else silently. */
static int check_errno(bool has, uint32_t v, const char *path, husk_err **err)
{
    if (has && v > 0xffff)
        return husk_fail(err, 0, PFX "%s: %u out of range [0, 65535]", path, v);
    return 0;
}

static int add_arches(struct husk_seccomp *f, const struct oci_seccomp *s, husk_err **err)
{
    for (size_t i = 0; s->architectures && s->architectures[i]; i++) {
        const char *name = s->architectures[i];
        uint32_t token;
        if (seccomp_arch_value(name, &token) < 0)
            return husk_fail(err, 0, PFX ".architectures[%zu]: architecture \"%s\" is not supported by "
                                     "libseccomp %d.%d.%d", i, name, SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO);
        if (token == 0)
            return husk_fail(err, 0, PFX ".architectures[%zu]: unknown architecture \"%s\"", i, name);
        /* The native architecture is in every new filter already. */
        int r = seccomp_arch_add(f->ctx, token);
        /* One filter holds one byte order: libseccomp refuses a big-endian arch beside a
         * little-endian native one (and the reverse) with EDOM. */
        if (r == -EDOM)
            return husk_fail(err, 0, PFX ".architectures[%zu]: architecture \"%s\" has another byte order than "
                                     "this host's and cannot be in the same filter", i, name);
        if (r < 0 && r != -EEXIST)
            return husk_fail(err, -r, PFX ".architectures[%zu]: add architecture \"%s\"", i, name);
    }
    return 0;
}

#ifdef HUSK_NEWSYS_NATIVE
/* Under valgrind (make valgrind-check) only. libseccomp learns what the kernel can
 * do (its "API level": the seccomp() call itself, the filter flags, the actions)
 * by asking the kernel with seccomp(2), which valgrind 3.19 answers ENOSYS: it
 * would then refuse KILL_PROCESS, LOG, NOTIFY and every flag. So the same
 * questions are asked natively here (newsys.h), the way libseccomp asks them, and
 * the answer handed to libseccomp with seccomp_api_set(). */
static bool native_flag(unsigned long flag)
{
    /* A known flag gets as far as reading the (NULL) program: EFAULT, not EINVAL. */
    return husk_newsys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (long)flag, 0, 0, 0) < 0 && errno == EFAULT;
}

static bool native_action(uint32_t action)
{
    return husk_newsys(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, (long)&action, 0, 0) == 0;
}

static void api_level_under_valgrind(void)
{
    static bool done;
    if (!RUNNING_ON_VALGRIND || done)
        return;
    done = true;
    unsigned int level = 1;
    if (native_action(SECCOMP_RET_ALLOW) && native_flag(SECCOMP_FILTER_FLAG_TSYNC)) {
        level = 2;
        if (native_flag(SECCOMP_FILTER_FLAG_LOG) && native_action(SECCOMP_RET_LOG)) {
            level = 3;
            if (native_action(SECCOMP_RET_KILL_PROCESS)) {
                level = 4;
                if (native_flag(SECCOMP_FILTER_FLAG_NEW_LISTENER) && native_action(SECCOMP_RET_USER_NOTIF)) {
                    level = 5;
                    if (native_flag(SECCOMP_FILTER_FLAG_TSYNC_ESRCH))
                        level = 6;
                }
            }
        }
    }
    seccomp_api_set(level);
}
#else
static void api_level_under_valgrind(void) {}
#endif

/* The libseccomp attribute of a flag name: 0, -1 for an unknown name, -2 for one this
 * libseccomp is too old to set. */
static int flag_attr(const char *name, enum scmp_filter_attr *attr)
{
    if (strcmp(name, "SECCOMP_FILTER_FLAG_TSYNC") == 0) {
        *attr = SCMP_FLTATR_CTL_TSYNC;
    } else if (strcmp(name, "SECCOMP_FILTER_FLAG_LOG") == 0) {
        *attr = SCMP_FLTATR_CTL_LOG;
    } else if (strcmp(name, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0) {
        *attr = SCMP_FLTATR_CTL_SSB;
    } else if (strcmp(name, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0) {
#if HAVE_WAITKILL
        *attr = SCMP_FLTATR_CTL_WAITKILL;
#else
        return -2;
#endif
    } else {
        return -1;
    }
    return 0;
}

bool seccomp_flag_supported(const char *name)
{
    enum scmp_filter_attr attr;
    if (flag_attr(name, &attr) < 0)
        return false;
    /* The same test set_flags() makes: libseccomp checks the running kernel. */
    api_level_under_valgrind();
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL)
        return false;
    bool ok = seccomp_attr_set(ctx, attr, 1) == 0;
    seccomp_release(ctx);
    return ok;
}

static int set_flags(struct husk_seccomp *f, const struct oci_seccomp *s, husk_err **err)
{
    for (size_t i = 0; s->flags && s->flags[i]; i++) {
        const char *name = s->flags[i];
        enum scmp_filter_attr attr;
        int k = flag_attr(name, &attr);
        if (k == -2)
            return husk_fail(err, 0, PFX ".flags[%zu]: \"%s\" needs libseccomp >= 2.6.0, husk is built with "
                                     "%d.%d.%d", i, name, SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO);
        if (k < 0)
            return husk_fail(err, 0, PFX ".flags[%zu]: unknown seccomp flag \"%s\"", i, name);
        /* libseccomp refuses a flag the running kernel lacks (EOPNOTSUPP): better an
         * error now than a filter that is not what the config asked for. */
        int r = seccomp_attr_set(f->ctx, attr, 1);
        if (r < 0)
            return husk_fail(err, -r, PFX ".flags[%zu]: \"%s\" cannot be applied", i, name);
    }
    return 0;
}

/* One entry of syscalls[] for one syscall number. The args follow runc's semantics:
 * all conditions on one rule (they must all match: AND), unless an argument index
 * appears more than once — libseccomp cannot hold two conditions on one argument in a
 * rule — in which case each condition is a rule of its own (any may match: OR). */
static int add_syscall_rules(struct husk_seccomp *f, const struct oci_seccomp_syscall *sc, size_t i,
                             size_t k, int nr, uint32_t action, husk_err **err)
{
    struct scmp_arg_cmp cmp[6 * 8];
    unsigned count[6] = { 0 };
    bool repeated = false;
    size_t n = sc->n_args;
    int r;

    if (n > ARRAY_SIZE(cmp))
        return husk_fail(err, 0, PFX ".syscalls[%zu].args: too many conditions (%zu, at most %zu)", i, n,
                         ARRAY_SIZE(cmp));
    for (size_t a = 0; a < n; a++) {
        const struct oci_seccomp_arg *arg = &sc->args[a];
        if (arg->index > 5)
            return husk_fail(err, 0, PFX ".syscalls[%zu].args[%zu].index: %u out of range [0, 5]", i, a,
                             arg->index);
        if (arg->op < SCMP_CMP_NE || arg->op > SCMP_CMP_MASKED_EQ)
            return husk_fail(err, 0, PFX ".syscalls[%zu].args[%zu].op: unknown operator", i, a);
        /* For SCMP_CMP_MASKED_EQ, value is the mask and valueTwo what the masked
         * argument must equal; the other operators use value only. */
        cmp[a] = (struct scmp_arg_cmp){
            .arg = arg->index, .op = (enum scmp_compare)arg->op, .datum_a = arg->value, .datum_b = arg->value_two,
        };
        if (++count[arg->index] > 1)
            repeated = true;
    }

    if (!repeated) {
        r = seccomp_rule_add_array(f->ctx, action, nr, (unsigned)n, n ? cmp : NULL);
        if (r < 0)
            goto fail;
        f->n_rules++;
        return 0;
    }
    for (size_t a = 0; a < n; a++) {
        r = seccomp_rule_add_array(f->ctx, action, nr, 1, &cmp[a]);
        if (r < 0)
            goto fail;
        f->n_rules++;
    }
    return 0;
fail:
    return husk_fail(err, -r, PFX ".syscalls[%zu].names[%zu]: add rule for \"%s\"", i, k, sc->names[k]);
}

static int add_syscalls(struct husk_seccomp *f, const struct oci_seccomp *s, uint32_t def, husk_err **err)
{
    for (size_t i = 0; i < s->n_syscalls; i++) {
        const struct oci_seccomp_syscall *sc = &s->syscalls[i];
        uint32_t action;
        char path[64];

        snprintf(path, sizeof path, ".syscalls[%zu].errnoRet", i);
        if (check_errno(sc->has_errno_ret, sc->errno_ret, path, err) < 0)
            return -1;
        if (seccomp_action_value(sc->action, sc->has_errno_ret, sc->errno_ret, &action) < 0)
            return husk_fail(err, 0, PFX ".syscalls[%zu].action: unknown seccomp action \"%s\"", i, sc->action);
        for (size_t k = 0; k < sc->n_names; k++) {
            const char *name = sc->names[k];
            /* Sending the listener its fd is itself a sendmsg(): a NOTIFY on it would
             * wait for an answer from a listener that has no fd yet. */
            if (action == SCMP_ACT_NOTIFY && strcmp(name, "sendmsg") == 0)
                return husk_fail(err, 0, PFX ".syscalls[%zu].names[%zu]: SCMP_ACT_NOTIFY cannot be used for "
                                         "\"sendmsg\": husk sends the listener its fd with it", i, k);
            int nr = seccomp_syscall_resolve_name(name);
            if (nr == __NR_SCMP_ERROR) {
                /* Profiles list syscalls of other kernels and libseccomp versions. */
                husk_log(HUSK_LOG_DEBUG, "seccomp: unknown syscall \"%s\" (syscalls[%zu]) skipped", name, i);
                continue;
            }
            if (action == def) {
                husk_log(HUSK_LOG_DEBUG, "seccomp: rule for \"%s\" (syscalls[%zu]) has the default action, "
                                         "skipped", name, i);
                continue;
            }
            if (add_syscall_rules(f, sc, i, k, nr, action, err) < 0)
                return -1;
        }
    }
    return 0;
}

/* ---- ENOSYS for syscalls newer than the profile --------------------------------- */

/* A profile written before a syscall existed does not name it, so with an errno or
 * kill default the new syscall gets that default: a libc that tries clone3 (or
 * faccessat2, close_range...) first and falls back on ENOSYS then fails instead,
 * e.g. EPERM from a profile that predates clone3. runc's answer, followed here:
 * per architecture of the filter, every syscall numbered above the highest one the
 * profile names (under any action) returns ENOSYS, as on a kernel that lacks it.
 * Not when the default lets calls through (ALLOW, LOG, TRACE: a tracer handles new
 * syscalls itself) or already is ENOSYS. runc prepends hand-written BPF that
 * compares the number; here they are ordinary rules, one per syscall this
 * libseccomp knows above that mark (a syscall newer than libseccomp itself keeps
 * the default). A rule is added by name, so it applies on every architecture of the
 * filter that has the syscall, which for a profile naming the same syscalls on all
 * of them is the same set. */

/* How far above the profile's highest syscall number to look for known ones: the
 * tables have holes (x86_64 jumps from 334 to 424) but no arch adds 512 at once. */
#define ENOSYS_SCAN 512

static bool enosys_wanted(uint32_t def)
{
    return def != SCMP_ACT_ALLOW && def != SCMP_ACT_LOG && (def & 0xffff0000u) != SCMP_ACT_TRACE(0) &&
           def != SCMP_ACT_ERRNO(ENOSYS);
}

static int add_enosys_one_arch(struct husk_seccomp *f, const struct oci_seccomp *s, uint32_t arch, husk_err **err)
{
    int max = -1;
    for (size_t i = 0; i < s->n_syscalls; i++)
        for (size_t k = 0; k < s->syscalls[i].n_names; k++) {
            int nr = seccomp_syscall_resolve_name_arch(arch, s->syscalls[i].names[k]);
            if (nr >= 0 && nr > max)
                max = nr;
        }
    if (max < 0)
        return 0;   /* the profile names nothing of this arch: nothing to compare with */
    for (int nr = max + 1; nr <= max + ENOSYS_SCAN; nr++) {
        _cleanup_free_ char *name = seccomp_syscall_resolve_num_arch(arch, nr);
        if (name == NULL)
            continue;
        int native = seccomp_syscall_resolve_name(name);
        if (native == __NR_SCMP_ERROR)
            continue;
        /* -EEXIST: another arch's scan added it already. */
        int r = seccomp_rule_add(f->ctx, SCMP_ACT_ERRNO(ENOSYS), native, 0);
        if (r < 0 && r != -EEXIST)
            return husk_fail(err, -r, PFX ": add the ENOSYS rule for \"%s\" (newer than the profile)", name);
        if (r == 0)
            f->n_enosys++;
    }
    return 0;
}

static int add_enosys(struct husk_seccomp *f, const struct oci_seccomp *s, uint32_t def, husk_err **err)
{
    if (!enosys_wanted(def))
        return 0;
    if (add_enosys_one_arch(f, s, seccomp_arch_native(), err) < 0)
        return -1;
    for (size_t i = 0; s->architectures && s->architectures[i]; i++) {
        uint32_t token;
        if (seccomp_arch_value(s->architectures[i], &token) == 0 && token != 0 && token != seccomp_arch_native() &&
            add_enosys_one_arch(f, s, token, err) < 0)
            return -1;
    }
    return 0;
}

/* Generate the BPF program here, in `create`, rather than let seccomp_load() generate it
 * in stage 2: for the ~400-syscall default profile on three architectures the
 * generation is ~20 ms of CPU and ~300 pages of scratch heap; in stage 2, a fork of the
 * parent, every one of those pages is first a copy-on-write fault, which made it cost
 * ~1.5 times that (bench/README.md). The program is the one seccomp_load() would
 * have generated (the same libseccomp code, from the same ctx); stage 2 only hands it
 * to the kernel. It also means a filter libseccomp cannot generate fails in `create`,
 * before the container exists. */
static int compile_filter(struct husk_seccomp *f, husk_err **err)
{
    _cleanup_close_ int fd = memfd_create("husk-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return husk_fail(err, errno, "seccomp: memfd_create");
    int r = seccomp_export_bpf(f->ctx, fd);
    if (r < 0)
        return husk_fail(err, -r, "seccomp: generate the filter");
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 0)
        return husk_fail(err, errno, "seccomp: generate the filter");
    size_t n = (size_t)size / sizeof(struct sock_filter);
    if (size == 0 || (size_t)size % sizeof(struct sock_filter) != 0 || n > USHRT_MAX)
        return husk_fail(err, EINVAL, "seccomp: libseccomp generated a filter of %lld bytes", (long long)size);
    f->prog = xmalloc((size_t)size);
    for (size_t done = 0; done < (size_t)size;) {
        ssize_t k = pread(fd, (char *)f->prog + done, (size_t)size - done, (off_t)done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return husk_fail(err, k < 0 ? errno : EIO, "seccomp: read the generated filter");
        done += (size_t)k;
    }
    f->prog_len = (unsigned short)n;
    /* libseccomp asks the kernel for a listener only when the program can notify
     * (a NOTIFY rule may have been skipped: unknown syscall, default action). */
    for (size_t i = 0; i < n; i++)
        if (f->prog[i].code == (BPF_RET | BPF_K) && (f->prog[i].k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF)
            f->notify_in_prog = true;
    /* linux.seccomp.flags, as set_flags() gave them to libseccomp. */
    static const struct {
        enum scmp_filter_attr attr;
        unsigned int flag;
    } flag_attrs[] = {
        { SCMP_FLTATR_CTL_TSYNC, SECCOMP_FILTER_FLAG_TSYNC },
        { SCMP_FLTATR_CTL_LOG, SECCOMP_FILTER_FLAG_LOG },
        { SCMP_FLTATR_CTL_SSB, SECCOMP_FILTER_FLAG_SPEC_ALLOW },
#if HAVE_WAITKILL
        { SCMP_FLTATR_CTL_WAITKILL, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
#endif
    };
    for (size_t i = 0; i < ARRAY_SIZE(flag_attrs); i++) {
        uint32_t v = 0;
        r = seccomp_attr_get(f->ctx, flag_attrs[i].attr, &v);
        if (r < 0)
            return husk_fail(err, -r, "seccomp: read filter attributes");
        if (v)
            f->load_flags |= flag_attrs[i].flag;
    }
    /* As libseccomp does where the kernel has it (its API level 6): a thread that
     * cannot be synchronised is then reported as ESRCH rather than by its id. */
    if ((f->load_flags & SECCOMP_FILTER_FLAG_TSYNC) && seccomp_api_get() >= 6)
        f->load_flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
#ifdef __GLIBC__
    /* The generation's ~1.2 MB of scratch heap is free again: give it back before
     * the fork, or it stays in the peak RSS of create and of every stage (+~300 KiB
     * measured; no measurable time). */
    malloc_trim(0);
#endif
    return 0;
}

int seccomp_filter_check(const struct oci_seccomp *s, husk_err **err)
{
    uint32_t def;

    if (check_errno(s->has_default_errno_ret, s->default_errno_ret, ".defaultErrnoRet", err) < 0)
        return -1;
    if (s->default_action == NULL)
        return husk_fail(err, 0, PFX ".defaultAction: missing required field");
    if (seccomp_action_value(s->default_action, s->has_default_errno_ret, s->default_errno_ret, &def) < 0)
        return husk_fail(err, 0, PFX ".defaultAction: unknown seccomp action \"%s\"", s->default_action);
    /* Between the kernel accepting the filter and the listener receiving its fd husk
     * makes syscalls of its own; with NOTIFY as the default they would wait forever. */
    if (def == SCMP_ACT_NOTIFY)
        return husk_fail(err, 0, PFX ".defaultAction: SCMP_ACT_NOTIFY is not supported as the default action "
                                 "(husk's own syscalls before the listener has the fd would block)");
    if (seccomp_uses_notify(s) && (s->listener_path == NULL || s->listener_path[0] == '\0'))
        return husk_fail(err, 0, PFX ".listenerPath: required when SCMP_ACT_NOTIFY is used");
    return 0;
}

int seccomp_filter_build(const struct oci_seccomp *s, struct husk_seccomp **out, husk_err **err)
{
    struct husk_seccomp *f;
    uint32_t def;

    if (seccomp_filter_check(s, err) < 0)
        return -1;
    /* Checked above: known, with a valid errnoRet. */
    seccomp_action_value(s->default_action, s->has_default_errno_ret, s->default_errno_ret, &def);
    f = xcalloc(1, sizeof *f);
    f->notify = seccomp_uses_notify(s);
    api_level_under_valgrind();
    f->ctx = seccomp_init(def);
    if (f->ctx == NULL) {
        free(f);
        return husk_fail(err, ENOMEM, "seccomp_init");
    }
    /* no_new_privs follows process.noNewPrivileges, set by husk itself: libseccomp
     * would otherwise set it on every load. The kernel's errors come back as they are. */
    int r = seccomp_attr_set(f->ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (r == 0)
        r = seccomp_attr_set(f->ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
    if (r < 0) {
        husk_fail(err, -r, "seccomp: set filter attributes");
        goto fail;
    }
    if (add_arches(f, s, err) < 0 || set_flags(f, s, err) < 0 || add_syscalls(f, s, def, err) < 0 ||
        add_enosys(f, s, def, err) < 0 || compile_filter(f, err) < 0)
        goto fail;
    *out = f;
    return 0;
fail:
    seccomp_filter_free(f);
    return -1;
}

size_t seccomp_filter_n_rules(const struct husk_seccomp *f)
{
    return f->n_rules;
}

size_t seccomp_filter_n_enosys(const struct husk_seccomp *f)
{
    return f->n_enosys;
}

int seccomp_filter_export_pfc(const struct husk_seccomp *f, int fd, husk_err **err)
{
    int r = seccomp_export_pfc(f->ctx, fd);
    if (r < 0)
        return husk_fail(err, -r, "seccomp: export filter");
    return 0;
}

/* What seccomp_filter_save writes: this header, then prog_len BPF instructions. */
struct saved_filter {
    uint32_t magic;
    uint32_t load_flags;
    uint16_t prog_len;
    uint8_t notify, notify_in_prog;
};
#define SAVED_FILTER_MAGIC 0x6875736bU   /* "husk" */

int seccomp_filter_save(const struct husk_seccomp *f, int fd, husk_err **err)
{
    struct saved_filter h = { .magic = SAVED_FILTER_MAGIC, .load_flags = f->load_flags,
                              .prog_len = f->prog_len, .notify = f->notify, .notify_in_prog = f->notify_in_prog };
    size_t len = (size_t)f->prog_len * sizeof *f->prog;
    /* pwrite: the file offset is shared with the forked processes that hold the fd. */
    if (pwrite(fd, &h, sizeof h, 0) != (ssize_t)sizeof h ||
        pwrite(fd, f->prog, len, sizeof h) != (ssize_t)len)
        return husk_fail(err, errno, "seccomp: save the filter program");
    return 0;
}

int seccomp_filter_restore(int fd, struct husk_seccomp **out, husk_err **err)
{
    struct saved_filter h;
    if (pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h || h.magic != SAVED_FILTER_MAGIC)
        return husk_fail(err, errno ? errno : EINVAL, "seccomp: the filter program was not handed over");
    struct husk_seccomp *f = xcalloc(1, sizeof *f);
    size_t len = (size_t)h.prog_len * sizeof *f->prog;
    f->prog = xmalloc(len ? len : 1);
    if (pread(fd, f->prog, len, sizeof h) != (ssize_t)len) {
        seccomp_filter_free(f);
        return husk_fail(err, errno ? errno : EINVAL, "seccomp: read the filter program");
    }
    f->prog_len = h.prog_len;
    f->load_flags = h.load_flags;
    f->notify = h.notify;
    f->notify_in_prog = h.notify_in_prog;
    *out = f;
    return 0;
}

/* The state-dir copy for exec: the same header and program as above, with a magic
 * of its own that also names the format's version (a change of struct saved_filter
 * must change it, so an older container's file is rebuilt rather than misread). */
#define SAVED_FILE_MAGIC 0x686b3031U   /* "hk01" */

char *seccomp_filter_serialize(const struct husk_seccomp *f, size_t *len)
{
    struct saved_filter h = { .magic = SAVED_FILE_MAGIC, .load_flags = f->load_flags,
                              .prog_len = f->prog_len, .notify = f->notify, .notify_in_prog = f->notify_in_prog };
    size_t n = (size_t)f->prog_len * sizeof *f->prog;
    char *buf = xmalloc(sizeof h + n);
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, f->prog, n);
    *len = sizeof h + n;
    return buf;
}

int seccomp_filter_deserialize(const char *buf, size_t n, struct husk_seccomp **out)
{
    struct saved_filter h;
    *out = NULL;
    if (n < sizeof h)
        return -1;
    memcpy(&h, buf, sizeof h);
    if (h.magic != SAVED_FILE_MAGIC)
        return 0;
    if (h.prog_len == 0 || h.prog_len > BPF_MAXINSNS || n != sizeof h + (size_t)h.prog_len * sizeof(struct sock_filter))
        return -1;
    struct husk_seccomp *f = xcalloc(1, sizeof *f);
    f->prog = xmalloc(n - sizeof h);
    memcpy(f->prog, buf + sizeof h, n - sizeof h);
    f->prog_len = h.prog_len;
    f->load_flags = h.load_flags;
    f->notify = h.notify;
    f->notify_in_prog = h.notify_in_prog;
    *out = f;
    return 0;
}

int seccomp_filter_save_at(const struct husk_seccomp *f, int dirfd, const char *name, husk_err **err)
{
    size_t len;
    _cleanup_free_ char *buf = seccomp_filter_serialize(f, &len);
    if (write_file_atomic(dirfd, name, buf, len, 0600, err) < 0)
        return husk_err_prefix(err, "seccomp: save the filter program for exec");
    return 0;
}

int seccomp_filter_restore_at(int dirfd, const char *name, struct husk_seccomp **out, husk_err **err)
{
    _cleanup_free_ char *buf = NULL;
    size_t n = 0;

    *out = NULL;
    /* BPF_MAXINSNS instructions at most: anything larger is not a program of ours. */
    if (read_file_at(dirfd, name, sizeof(struct saved_filter) + BPF_MAXINSNS * sizeof(struct sock_filter), &buf, &n,
                     err) < 0) {
        if (err && *err && (*err)->errnum == ENOENT) {
            husk_err_free(err);
            return 0;
        }
        return husk_err_prefix(err, "seccomp: the saved filter program");
    }
    if (seccomp_filter_deserialize(buf, n, out) < 0)
        return husk_fail(err, EINVAL, "seccomp: the saved filter program %s is damaged (%zu bytes)", name, n);
    if (*out == NULL)
        husk_log(HUSK_LOG_DEBUG, "seccomp: %s is of another format: building the filter from the config", name);
    return 0;
}

/* The program compiled by seccomp_filter_build, with the flags libseccomp's
 * seccomp_load() would pass: NEW_LISTENER when the program can notify (TSYNC then needs
 * TSYNC_ESRCH, for the return value to be the fd), and a failed TSYNC is ESRCH. */
int seccomp_filter_load(struct husk_seccomp *f, int *notify_fd, husk_err **err)
{
    struct sock_fprog prog = { .len = f->prog_len, .filter = f->prog };
    unsigned int flags = f->load_flags;

    *notify_fd = -1;
    if (f->notify_in_prog) {
        flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        if (flags & SECCOMP_FILTER_FLAG_TSYNC)
            flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    }
    long r = husk_seccomp_set_filter(flags, &prog);
    if (r < 0)
        return husk_fail(err, errno, "load seccomp filter");
    if (r > 0 && !f->notify_in_prog)   /* TSYNC: the id of a thread that could not sync */
        return husk_fail(err, ESRCH, "load seccomp filter");
    if (f->notify) {
        if (!f->notify_in_prog)
            return husk_fail(err, 0, "seccomp: no listener fd: every SCMP_ACT_NOTIFY rule was skipped "
                                     "(unknown syscall or the default action)");
        *notify_fd = (int)r;
    }
    return 0;
}

void seccomp_filter_free(struct husk_seccomp *f)
{
    if (f == NULL)
        return;
    if (f->ctx)
        seccomp_release(f->ctx);
    free(f->prog);
    free(f);
}

/* ---- the listener --------------------------------------------------------------- */

int seccomp_listener_connect(const char *path, husk_err **err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    _cleanup_close_ int fd = -1;
    int r;

    if (strlen(path) >= sizeof sa.sun_path)
        return husk_fail(err, ENAMETOOLONG, PFX ".listenerPath: \"%s\"", path);
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return husk_fail(err, errno, "seccomp listener %s: socket", path);
    do
        r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return husk_fail(err, errno, "connect to seccomp listener %s (linux.seccomp.listenerPath)", path);
    return steal_fd(fd);
}

char *seccomp_process_state(const char *state_json, const char *metadata, husk_err **err)
{
    return seccomp_process_state_pid(state_json, metadata, 0, err);
}

char *seccomp_process_state_pid(const char *state_json, const char *metadata, pid_t proc_pid, husk_err **err)
{
    struct json_object *state = json_tokener_parse(state_json);
    struct json_object *pid;

    if (state == NULL || !json_object_is_type(state, json_type_object)) {
        json_object_put(state);
        husk_fail(err, 0, "seccomp: container state is not a JSON object");
        return NULL;
    }
    if (!json_object_object_get_ex(state, "pid", &pid) || !json_object_is_type(pid, json_type_int)) {
        json_object_put(state);
        husk_fail(err, 0, "seccomp: container state has no pid");
        return NULL;
    }
    struct json_object *o = json_object_new_object();
    struct json_object *fds = json_object_new_array();
    json_object_array_add(fds, json_object_new_string("seccompFd"));
    json_object_object_add(o, "ociVersion", json_object_new_string(HUSK_OCI_VERSION));
    json_object_object_add(o, "fds", fds);
    json_object_object_add(o, "pid", json_object_new_int(proc_pid > 0 ? (int)proc_pid : json_object_get_int(pid)));
    if (metadata)
        json_object_object_add(o, "metadata", json_object_new_string(metadata));
    json_object_object_add(o, "state", state);   /* o owns it now */
    char *s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return s;
}

int seccomp_listener_send(int sock, int notify_fd, const char *msg, husk_err **err)
{
    size_t len = strlen(msg), off = 0;
    struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
    ssize_t r;

    memset(&u, 0, sizeof u);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &notify_fd, sizeof(int));

    /* The fd goes with the first sendmsg() only, as the spec requires; a stream socket
     * may take less than all of the JSON at once. MSG_NOSIGNAL: a listener that went
     * away is an error to report, not a SIGPIPE to die of. */
    do
        r = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return husk_fail(err, errno, "send seccomp fd to the listener (linux.seccomp.listenerPath)");
    off = (size_t)r;
    while (off < len) {
        r = send(sock, msg + off, len - off, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return husk_fail(err, errno, "send container process state to the seccomp listener");
        off += (size_t)r;
    }
    /* One state per connection, and the listener sees the end of it. */
    shutdown(sock, SHUT_WR);
    return 0;
}
