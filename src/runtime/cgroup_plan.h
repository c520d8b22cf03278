/* cgroup_plan.h — what linux.resources means as cgroup file writes.
 *
 * Turning a config into writes is pure: cgroup_v1.c and cgroup_v2.c each produce a
 * list of (controller, file, value) items for their cgroup version, with no file
 * access, so unit tests can check both on any host. cgroups.c then picks, per
 * resource group, the hierarchy that holds the controller (on a hybrid host a
 * group may live on v1 or on the unified mount) and performs the writes.
 *
 * A setting one version cannot express becomes a CG_FAIL item rather than an
 * immediate error: it only fails if that version is the one chosen. */
#ifndef HUSK_CGROUP_PLAN_H
#define HUSK_CGROUP_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Resource groups, in the order they are applied. Each maps to one controller per
 * version (v1 "blkio" is v2 "io"; net_cls/net_prio have no v2 counterpart). */
enum cg_group {
    CG_CPUSET, CG_CPU, CG_MEMORY, CG_PIDS, CG_BLKIO, CG_HUGETLB, CG_NET_CLS, CG_NET_PRIO, CG_RDMA,
    CG_DEVICES, CG_UNIFIED, CG_GROUP_COUNT
};

const char *cg_group_v1_controller(enum cg_group g);   /* NULL: none on v1 */
const char *cg_group_v2_controller(enum cg_group g);   /* NULL: none (devices: eBPF, unified: per key) */

enum cg_item_kind {
    CG_WRITE,            /* write value to file; a missing file is an error */
    CG_WRITE_IF_EXISTS,  /* the same, silently skipped when the kernel lacks the file */
    CG_FAIL,             /* the setting cannot be applied on this version: value is the reason */
    CG_WARN,             /* the setting is ignored on this version: value says why */
    CG_DEVICES_BPF,      /* v2 device rules: attach an eBPF program (cgroup_devices.c) */
};

struct cg_item {
    enum cg_group group;
    enum cg_item_kind kind;
    char *ctrl;          /* controller the file belongs to; NULL: core file (cgroup.*) */
    char *file;          /* name inside the cgroup dir */
    char *value;
    char *alt_file;      /* tried when file does not exist, with alt_value */
    char *alt_value;
    char *what;          /* JSON path of the setting, for errors */
    bool implicit;       /* husk's default (device rules), not asked for by the config */
    bool check_usage;    /* memory.max with checkBeforeUpdate: refuse below memory.current */
};

struct cg_plan {
    struct cg_item *v;
    size_t n;
};

/* linux may be NULL (no linux section). The plan is never NULL-valued: an empty
 * config gives the default device rules only. */
void cgroup_plan_v1(const struct oci_linux *linux_, struct cg_plan *out);
void cgroup_plan_v2(const struct oci_linux *linux_, struct cg_plan *out);
void cg_plan_free(struct cg_plan *p);

/* Shared by both planners (cgroup_v1.c). */
void cg_plan_add(struct cg_plan *p, enum cg_group g, enum cg_item_kind kind, const char *ctrl, const char *what,
                 char *file, char *value);
/* rdma.max: the same line on both versions. */
void cg_plan_rdma(const struct oci_resources *res, struct cg_plan *p);
/* The name the kernel gives a huge page size in hugetlb.<name>.* ("2MB", "1GB",
 * "64KB"), from the config's pageSize; NULL if it does not parse. */
char *cg_hugetlb_name(const char *page_size);

/* One device rule as v1's devices.allow/devices.deny take it ("c 1:3 rwm", "a"). */
struct cg_dev_rule {
    bool allow;
    char type;           /* 'a', 'c', 'b' */
    int64_t major, minor; /* -1: any */
    char access[4];      /* subset of "rwm" */
};
/* Every rule, in order: deny all, the config's rules, then husk's defaults (the
 * standard /dev nodes and a pty, as runc's). linux.devices adds nothing: a node
 * husk creates is usable only if these rules allow it. */
void cg_device_rules(const struct oci_linux *linux_, struct cg_dev_rule **rules, size_t *n);
char *cg_dev_rule_string(const struct cg_dev_rule *r);

/* v2 device rules (cgroup_devices.c). The rules replayed as v1's kernel does: a
 * default plus exceptions (deny-default: what is allowed; allow-default: what is
 * denied), which the eBPF program then checks. */
struct cg_dev_exc {
    char type;           /* 'c' or 'b' */
    int64_t major, minor; /* -1: any */
    unsigned access;     /* BPF_DEVCG_ACC_* bits */
};
void cg_devices_effective(const struct cg_dev_rule *rules, size_t n, bool *default_allow, struct cg_dev_exc **exc,
                          size_t *n_exc);
bool cg_devices_allowed(bool default_allow, const struct cg_dev_exc *exc, size_t n, char type, int64_t major,
                        int64_t minor, const char *access);
struct bpf_insn;
size_t cg_devices_bpf_build(bool default_allow, const struct cg_dev_exc *exc, size_t n, struct bpf_insn **out);
/* Load the program for linux_'s rules and attach it to the cgroup dir. */
int cgroup_devices_bpf(const char *dir, const struct oci_linux *linux_, husk_err **err);

/* cgroup v2 conversions (cgroup_v2.c). */
uint64_t cg_shares_to_weight(uint64_t shares);        /* 0 -> 0 (unset) */
uint64_t cg_blkio_to_io_weight(uint64_t weight);       /* 0 -> 0 (unset) */
/* memory.swap.max from the v1-style swap (memory+swap) and limit; -1 = "max".
 * Returns -1 and sets *why when they cannot be converted. */
int cg_swap_to_v2(int64_t swap, int64_t limit, int64_t *out, const char **why);

#endif
