/* cgroup_devices.c — device access rules on cgroup v2: an eBPF program.
 *
 * cgroup v1 keeps the rules in the kernel (devices.allow/deny, applied in order);
 * cgroup v2 has no devices controller and asks a BPF_PROG_TYPE_CGROUP_DEVICE
 * program instead, for every open and mknod of a device node. So that a config
 * means the same on both, the rule list is first replayed here exactly as v1's
 * kernel code replays writes (a default behaviour plus a list of exceptions,
 * see security/device_cgroup.c), and the program checks the resulting
 * exceptions. Everything but the load/attach at the end is pure and unit-tested. */
#include "cgroup_plan.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

static unsigned access_bits(const char *acc)
{
    unsigned b = 0;
    for (; *acc; acc++)
        b |= *acc == 'm'   ? BPF_DEVCG_ACC_MKNOD
             : *acc == 'r' ? BPF_DEVCG_ACC_READ
             : *acc == 'w' ? BPF_DEVCG_ACC_WRITE
                           : 0;
    return b;
}

void cg_devices_effective(const struct cg_dev_rule *rules, size_t n, bool *default_allow, struct cg_dev_exc **exc,
                          size_t *n_exc)
{
    struct cg_dev_exc *v = xcalloc(n + 1, sizeof(*v));
    size_t k = 0;

    *default_allow = true;   /* a fresh cgroup allows everything */
    for (size_t i = 0; i < n; i++) {
        const struct cg_dev_rule *r = &rules[i];
        if (r->type == 'a') {
            /* "a": a new default, and every exception is dropped. */
            *default_allow = r->allow;
            k = 0;
            continue;
        }
        unsigned acc = access_bits(r->access);
        size_t j;
        for (j = 0; j < k; j++)
            if (v[j].type == r->type && v[j].major == r->major && v[j].minor == r->minor)
                break;
        if (r->allow != *default_allow) {
            /* Against the default: an exception, merged with an identical one. */
            if (j == k)
                v[k++] = (struct cg_dev_exc){ r->type, r->major, r->minor, 0 };
            v[j].access |= acc;
        } else if (j < k) {
            /* With the default: takes those bits out of an identical exception. */
            v[j].access &= ~acc;
            if (v[j].access == 0)
                memmove(&v[j], &v[j + 1], (--k - j) * sizeof(*v));
        }
    }
    *exc = v;
    *n_exc = k;
}

bool cg_devices_allowed(bool default_allow, const struct cg_dev_exc *exc, size_t n, char type, int64_t major,
                        int64_t minor, const char *access)
{
    unsigned acc = access_bits(access);
    for (size_t i = 0; i < n; i++) {
        const struct cg_dev_exc *e = &exc[i];
        if (e->type != type || (e->major >= 0 && e->major != major) || (e->minor >= 0 && e->minor != minor))
            continue;
        /* As the kernel: an allowed access must be covered entirely by one
         * exception; a denied one only has to touch one. */
        if (!default_allow && (acc & ~e->access) == 0)
            return true;
        if (default_allow && (acc & e->access) != 0)
            return false;
    }
    return default_allow;
}

/* ---- the program ---------------------------------------------------------------- */

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

size_t cg_devices_bpf_build(bool default_allow, const struct cg_dev_exc *exc, size_t n, struct bpf_insn **out)
{
    /* At most 5 header + 9 per exception + 2 trailer instructions. */
    struct bpf_insn *p = xcalloc(7 + 9 * n, sizeof(*p));
    size_t k = 0;

    /* r2 = access_type; r3 = type (low 16 bits); r4 = access (high 16); r5 = major; r6 = minor */
    p[k++] = INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
    p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 3, 2, 0, 0);
    p[k++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, 3, 0, 0, 0xffff);
    p[k++] = INSN(BPF_ALU64 | BPF_RSH | BPF_K, 2, 0, 0, 16);   /* r2 now the access */
    p[k++] = INSN(BPF_LDX | BPF_MEM | BPF_W, 5, 1, offsetof(struct bpf_cgroup_dev_ctx, major), 0);
    p[k++] = INSN(BPF_LDX | BPF_MEM | BPF_W, 6, 1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
    for (size_t i = 0; i < n; i++) {
        const struct cg_dev_exc *e = &exc[i];
        size_t jumps[4], nj = 0;
        p[k] = INSN(BPF_JMP | BPF_JNE | BPF_K, 3, 0, 0, e->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
        jumps[nj++] = k++;
        if (e->major >= 0) {
            p[k] = INSN(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, (int32_t)e->major);
            jumps[nj++] = k++;
        }
        if (e->minor >= 0) {
            p[k] = INSN(BPF_JMP | BPF_JNE | BPF_K, 6, 0, 0, (int32_t)e->minor);
            jumps[nj++] = k++;
        }
        p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 7, 2, 0, 0);
        if (!default_allow) {
            /* allowed if no requested bit is outside the exception */
            p[k++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, 7, 0, 0, (int32_t)(~e->access & 0x7));
            p[k] = INSN(BPF_JMP | BPF_JNE | BPF_K, 7, 0, 0, 0);
        } else {
            /* denied if any requested bit is in the exception */
            p[k++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, 7, 0, 0, (int32_t)e->access);
            p[k] = INSN(BPF_JMP | BPF_JEQ | BPF_K, 7, 0, 0, 0);
        }
        jumps[nj++] = k++;
        p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, default_allow ? 0 : 1);
        p[k++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        for (size_t j = 0; j < nj; j++)
            p[jumps[j]].off = (int16_t)(k - jumps[j] - 1);
    }
    p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, default_allow ? 1 : 0);
    p[k++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    *out = p;
    return k;
}

#define LOG_SIZE (64 * 1024)

static int sys_bpf(int cmd, union bpf_attr *attr)
{
    return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

int cgroup_devices_bpf(const char *dir, const struct oci_linux *l, husk_err **err)
{
    _cleanup_free_ struct cg_dev_rule *rules = NULL;
    _cleanup_free_ struct cg_dev_exc *exc = NULL;
    _cleanup_free_ struct bpf_insn *insns = NULL;
    _cleanup_free_ char *log = xcalloc(1, LOG_SIZE);
    _cleanup_close_ int prog = -1, dfd = -1;
    size_t n, n_exc, n_insns;
    bool def;
    union bpf_attr attr;

    cg_device_rules(l, &rules, &n);
    cg_devices_effective(rules, n, &def, &exc, &n_exc);
    n_insns = cg_devices_bpf_build(def, exc, n_exc, &insns);

    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = (uint32_t)n_insns;
    attr.license = (uint64_t)(uintptr_t) "Apache-2.0";
    prog = sys_bpf(BPF_PROG_LOAD, &attr);
    if (prog < 0 && (errno == EINVAL || errno == EACCES)) {
        /* Rejected by the verifier: load again with its log, for the message. */
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = LOG_SIZE;
        attr.log_level = 1;
        prog = sys_bpf(BPF_PROG_LOAD, &attr);
    }
    if (prog < 0) {
        int e = errno;
        size_t len = strnlen(log, LOG_SIZE - 1);
        while (len > 0 && log[len - 1] == '\n')
            log[--len] = '\0';
        char *last = strrchr(log, '\n');
        return husk_fail(err, e, "linux.resources.devices: load the device filter (eBPF)%s%s", len ? ": " : "",
                         last ? last + 1 : log);
    }

    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return husk_fail(err, errno, "open cgroup %s", dir);
    /* ALLOW_MULTI: the program adds to (never replaces) what ancestors attached,
     * and a descendant cannot detach it. */
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)dfd;
    attr.attach_bpf_fd = (uint32_t)prog;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
        return husk_fail(err, errno, "linux.resources.devices: attach the device filter to %s", dir);
    return 0;
}
