/* config.h — the OCI runtime configuration (config.json) as typed C structs.
 *
 * config.c parses config.json with json-c into these structs and validates it;
 * every error names the JSON path, e.g.
 *     config.json: process.args[0]: expected a string
 * Unknown fields are ignored, as the spec requires. Optional scalars carry a
 * `has_` flag so "absent" and "zero" stay different. Strings are heap-owned;
 * the whole tree is released by config_free(). */
#ifndef HUSK_CONFIG_H
#define HUSK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct json_object;

/* ---- process --------------------------------------------------------- */

struct oci_rlimit {
    int resource;       /* RLIMIT_* resolved from "RLIMIT_NOFILE" etc. */
    char *type;         /* as written */
    uint64_t soft, hard;
};

struct oci_capabilities {   /* each: NULL-terminated array of cap numbers, terminated by -1 */
    int *bounding, *effective, *inheritable, *permitted, *ambient;
    bool has_bounding, has_effective, has_inheritable, has_permitted, has_ambient;
    /* Names in any of the five sets that husk does not know (a config written for a
     * newer kernel): left out of the sets and named in one warning (caps.h), as runc
     * and crun do. NULL-terminated, each name once, or NULL. */
    char **unknown;
};

struct oci_user {
    uid_t uid;
    gid_t gid;
    bool has_umask;
    mode_t umask;
    gid_t *additional_gids;
    size_t n_additional_gids;
    char *username;     /* ignored on linux, kept for completeness */
};

struct oci_console_size { unsigned height, width; };

struct oci_io_priority { int class_; int priority; };   /* class_: IOPRIO_CLASS_* */

struct oci_scheduler {
    char *policy;
    int nice, priority;
    char **flags;
    uint64_t runtime, deadline, period;
};

struct oci_process {
    bool terminal;
    bool has_console_size;
    struct oci_console_size console_size;
    struct oci_user user;
    char **args;            /* NULL-terminated; at least one element (required for start) */
    size_t n_args;
    char *command_line;     /* Windows only; ignored */
    char **env;             /* NULL-terminated, "KEY=VALUE" each */
    size_t n_env;
    char *cwd;              /* absolute path inside the container */
    struct oci_capabilities capabilities;
    bool has_capabilities;
    struct oci_rlimit *rlimits;
    size_t n_rlimits;
    bool no_new_privileges;
    char *apparmor_profile;
    bool has_oom_score_adj;
    int oom_score_adj;
    char *selinux_label;
    bool has_scheduler;
    struct oci_scheduler scheduler;
    bool has_io_priority;
    struct oci_io_priority io_priority;
    char *exec_cpu_affinity_initial, *exec_cpu_affinity_final;
};

/* ---- root, mounts, hooks ---------------------------------------------- */

struct oci_root {
    char *path;             /* as written (may be relative to the bundle) */
    bool readonly;
};

struct oci_id_mapping { uint32_t container_id, host_id, size; };

struct oci_mount {
    char *destination;      /* absolute path inside the container */
    char *type;             /* may be NULL (then bind if options say so) */
    char *source;           /* may be NULL */
    char **options;         /* NULL-terminated, may be NULL */
    size_t n_options;
    struct oci_id_mapping *uid_mappings, *gid_mappings;   /* idmapped mounts */
    size_t n_uid_mappings, n_gid_mappings;
};

struct oci_hook {
    char *path;             /* absolute */
    char **args;            /* NULL-terminated, may be NULL */
    char **env;             /* NULL-terminated, may be NULL */
    bool has_timeout;
    int timeout;            /* seconds, > 0 */
};

struct oci_hook_list { struct oci_hook *hooks; size_t n; };

struct oci_hooks {
    struct oci_hook_list prestart, create_runtime, create_container, start_container,
        poststart, poststop;
};

/* ---- linux ------------------------------------------------------------ */

enum oci_ns_type {
    OCI_NS_PID, OCI_NS_NETWORK, OCI_NS_MOUNT, OCI_NS_IPC, OCI_NS_UTS, OCI_NS_USER,
    OCI_NS_CGROUP, OCI_NS_TIME, OCI_NS_COUNT
};

struct oci_namespace {
    enum oci_ns_type type;
    char *path;             /* NULL: create a new one; else join this namespace */
};

struct oci_device {
    char type;              /* 'c', 'b', 'u', 'p' */
    char *path;             /* absolute path in the container */
    int64_t major, minor;   /* required for c/b/u */
    bool has_file_mode;
    mode_t file_mode;
    bool has_uid, has_gid;
    uid_t uid;
    gid_t gid;
};

struct oci_sysctl { char *key, *value; };

struct oci_time_offset { char *clock; int64_t secs; uint32_t nanosecs; };  /* "monotonic"/"boottime" */

/* linux.resources — every field optional. */
struct oci_device_cgroup {
    bool allow;
    char type;              /* 'a', 'c', 'b' (default 'a') */
    bool has_major, has_minor;
    int64_t major, minor;
    char *access;           /* "rwm" subset, may be NULL (= all) */
};

struct oci_weight_device { int64_t major, minor; bool has_weight, has_leaf_weight; uint16_t weight, leaf_weight; };
struct oci_throttle_device { int64_t major, minor; uint64_t rate; };
struct oci_hugepage_limit { char *page_size; uint64_t limit; };
struct oci_net_priority { char *name; uint32_t priority; };
struct oci_rdma_limit { char *device; bool has_hca_handles, has_hca_objects; uint32_t hca_handles, hca_objects; };
struct oci_unified_kv { char *key, *value; };

struct oci_resources {
    struct oci_device_cgroup *devices;
    size_t n_devices;

    bool has_memory;
    struct {
        bool has_limit, has_reservation, has_swap, has_kernel, has_kernel_tcp, has_swappiness,
            has_disable_oom_killer, has_use_hierarchy, has_check_before_update;
        int64_t limit, reservation, swap, kernel, kernel_tcp;
        uint64_t swappiness;
        bool disable_oom_killer, use_hierarchy, check_before_update;
    } memory;

    bool has_cpu;
    struct {
        bool has_shares, has_quota, has_burst, has_period, has_realtime_runtime,
            has_realtime_period, has_idle;
        uint64_t shares, period, realtime_period, burst;
        int64_t quota, realtime_runtime, idle;
        char *cpus, *mems;
    } cpu;

    bool has_pids;
    struct { int64_t limit; } pids;

    bool has_block_io;
    struct {
        bool has_weight, has_leaf_weight;
        uint16_t weight, leaf_weight;
        struct oci_weight_device *weight_device;
        size_t n_weight_device;
        struct oci_throttle_device *throttle_read_bps, *throttle_write_bps,
            *throttle_read_iops, *throttle_write_iops;
        size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops, n_throttle_write_iops;
    } block_io;

    struct oci_hugepage_limit *hugepage_limits;
    size_t n_hugepage_limits;

    bool has_network;
    struct {
        bool has_class_id;
        uint32_t class_id;
        struct oci_net_priority *priorities;
        size_t n_priorities;
    } network;

    struct oci_rdma_limit *rdma;
    size_t n_rdma;

    struct oci_unified_kv *unified;
    size_t n_unified;
};

/* linux.seccomp */
struct oci_seccomp_arg {
    unsigned index;
    uint64_t value, value_two;
    int op;                 /* SCMP_CMP_* as in <seccomp.h> numbering: see config.c */
    char *op_name;
};

struct oci_seccomp_syscall {
    char **names;           /* NULL-terminated */
    size_t n_names;
    char *action;           /* "SCMP_ACT_ERRNO" etc., validated */
    bool has_errno_ret;
    uint32_t errno_ret;
    struct oci_seccomp_arg *args;
    size_t n_args;
};

struct oci_seccomp {
    char *default_action;
    bool has_default_errno_ret;
    uint32_t default_errno_ret;
    char **architectures;   /* "SCMP_ARCH_X86_64" ... NULL-terminated, may be NULL */
    char **flags;           /* "SECCOMP_FILTER_FLAG_TSYNC" ... */
    char *listener_path;
    char *listener_metadata;
    struct oci_seccomp_syscall *syscalls;
    size_t n_syscalls;
};

struct oci_linux {
    struct oci_namespace *namespaces;
    size_t n_namespaces;
    struct oci_id_mapping *uid_mappings, *gid_mappings;
    size_t n_uid_mappings, n_gid_mappings;
    struct oci_time_offset *time_offsets;
    size_t n_time_offsets;
    struct oci_device *devices;
    size_t n_devices;
    char *cgroups_path;
    bool has_resources;
    struct oci_resources resources;
    char *rootfs_propagation;   /* "shared", "slave", "private", "unbindable", ... or NULL */
    char **masked_paths;        /* NULL-terminated; NULL when absent */
    size_t n_masked_paths;
    char **readonly_paths;
    size_t n_readonly_paths;
    struct oci_sysctl *sysctl;
    size_t n_sysctl;
    bool has_seccomp;
    struct oci_seccomp seccomp;
    char *mount_label;
    char *personality_domain;   /* "LINUX" or "LINUX32" */
    char **personality_flags;
};

/* ---- the whole document ------------------------------------------------ */

struct oci_annotation { char *key, *value; };

struct oci_config {
    char *oci_version;
    struct oci_root root;
    bool has_root;
    bool has_process;
    struct oci_process process;
    char *hostname;
    char *domainname;
    struct oci_mount *mounts;
    size_t n_mounts;
    bool has_hooks;
    struct oci_hooks hooks;
    struct oci_annotation *annotations;
    size_t n_annotations;
    bool has_linux;
    struct oci_linux linux_;
};

/* Parse config.json text. `name` prefixes every error ("config.json"). On error
 * returns -1, *out untouched, err = "<name>: <json path>: <problem>". */
int config_parse(const char *text, size_t len, const char *name, struct oci_config **out, husk_err **err);

/* Open and parse <bundle>/config.json. Refuses a config that is not a regular file
 * (symlink to elsewhere is followed only inside the bundle? no: it must be a regular
 * file once opened), or larger than 32 MiB. */
int config_load(const char *bundle, struct oci_config **out, husk_err **err);

/* Parse a process object alone (exec --process FILE), errors named `name`. */
int config_parse_process(const char *text, size_t len, const char *name, struct oci_process **out, husk_err **err);

void config_free(struct oci_config *c);
void process_free(struct oci_process *p);
static inline void config_freep(struct oci_config **c) { config_free(*c); }
#define _cleanup_config_ __attribute__((cleanup(config_freep)))

/* Name tables, shared with `features` and `spec`. */
const char *ns_type_name(enum oci_ns_type t);        /* "pid", "network", ... */
int ns_type_from_name(const char *name);             /* -1 if unknown */
int ns_clone_flag(enum oci_ns_type t);               /* CLONE_NEWPID, ... */
const char *ns_proc_name(enum oci_ns_type t);        /* "pid", "net", "mnt", ... (/proc/PID/ns/NAME) */
/* The i-th name of the tables the parser checks, NULL past the end: hook lists
 * ("prestart", ...), linux.seccomp args[].op and linux.seccomp.flags. */
const char *config_hook_name(size_t i);
const char *config_seccomp_op_name(size_t i);
const char *config_seccomp_flag_name(size_t i);

/* Find a namespace of a type in linux.namespaces, or NULL. */
const struct oci_namespace *config_find_ns(const struct oci_config *c, enum oci_ns_type t);

#endif
