/* config.c — config.json: the document, process, root, mounts, hooks, annotations,
 * loading from a bundle, freeing, and the namespace name tables. The linux
 * section lives in config_linux.c, the JSON accessors in config_json.c. */
#include "config.h"
#include "caps.h"
#include "config_json.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

/* ---- name tables ------------------------------------------------------------ */

static const struct {
    const char *name, *proc;
    int flag;
} ns_table[OCI_NS_COUNT] = {
    [OCI_NS_PID] = { "pid", "pid", CLONE_NEWPID },
    [OCI_NS_NETWORK] = { "network", "net", CLONE_NEWNET },
    [OCI_NS_MOUNT] = { "mount", "mnt", CLONE_NEWNS },
    [OCI_NS_IPC] = { "ipc", "ipc", CLONE_NEWIPC },
    [OCI_NS_UTS] = { "uts", "uts", CLONE_NEWUTS },
    [OCI_NS_USER] = { "user", "user", CLONE_NEWUSER },
    [OCI_NS_CGROUP] = { "cgroup", "cgroup", CLONE_NEWCGROUP },
    [OCI_NS_TIME] = { "time", "time", CLONE_NEWTIME },
};

const char *ns_type_name(enum oci_ns_type t)
{
    return (unsigned)t < OCI_NS_COUNT ? ns_table[t].name : NULL;
}

int ns_type_from_name(const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < OCI_NS_COUNT; i++)
        if (strcmp(name, ns_table[i].name) == 0)
            return i;
    return -1;
}

int ns_clone_flag(enum oci_ns_type t)
{
    return (unsigned)t < OCI_NS_COUNT ? ns_table[t].flag : 0;
}

const char *ns_proc_name(enum oci_ns_type t)
{
    return (unsigned)t < OCI_NS_COUNT ? ns_table[t].proc : NULL;
}

const struct oci_namespace *config_find_ns(const struct oci_config *c, enum oci_ns_type t)
{
    if (c == NULL || !c->has_linux)
        return NULL;
    for (size_t i = 0; i < c->linux_.n_namespaces; i++)
        if (c->linux_.namespaces[i].type == t)
            return &c->linux_.namespaces[i];
    return NULL;
}

static const struct {
    const char *name;
    int resource;
} rlimit_table[] = {
    { "RLIMIT_CPU", RLIMIT_CPU },         { "RLIMIT_FSIZE", RLIMIT_FSIZE },
    { "RLIMIT_DATA", RLIMIT_DATA },       { "RLIMIT_STACK", RLIMIT_STACK },
    { "RLIMIT_CORE", RLIMIT_CORE },       { "RLIMIT_RSS", RLIMIT_RSS },
    { "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_NOFILE", RLIMIT_NOFILE },
    { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_AS", RLIMIT_AS },
    { "RLIMIT_LOCKS", RLIMIT_LOCKS },     { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
    { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
    { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
};

static const char *const sched_policies[] = {
    "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE",
    "SCHED_DEADLINE", NULL,
};

static const char *const sched_flags[] = {
    "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN",
    "SCHED_FLAG_KEEP_POLICY", "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
    "SCHED_FLAG_UTIL_CLAMP_MAX", NULL,
};

static const char *const ioprio_classes[] = { "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
                                              "IOPRIO_CLASS_IDLE", NULL };
static const int ioprio_class_values[] = { IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE };

/* ---- process ------------------------------------------------------------------ */

/* Resolve "CAP_CHOWN" to its number. libcap's cap_from_name() is lenient (any
 * case, numbers, and it stops at the first non-name character), so the result is
 * mapped back and must spell exactly the name the config wrote. */
static int cap_lookup(const char *name, int *out)
{
    cap_value_t v;
    char *canon;
    bool ok;

    if (strncmp(name, "CAP_", 4) != 0 || cap_from_name(name, &v) < 0)
        return -1;
    canon = cap_to_name(v);
    if (canon == NULL)
        return -1;
    ok = strlen(canon) == strlen(name);
    for (size_t i = 0; ok && canon[i]; i++)
        ok = toupper((unsigned char)canon[i]) == name[i];
    cap_free(canon);
    if (!ok)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_cap_set(const struct cj *c, struct json_object *caps, const char *path,
                         const char *key, int **out, bool *has, char ***unknown)
{
    _cleanup_free_ char *kp = cj_path_key(path, key);
    struct json_object *arr;
    size_t n;
    int r = cj_array(c, caps, path, key, false, &arr, &n);

    if (r <= 0)
        return r;
    /* -1 terminated; pre-filled so a partial array is still well formed */
    _cleanup_free_ int *set = xmalloc((n + 1) * sizeof(int));
    for (size_t i = 0; i <= n; i++)
        set[i] = -1;
    for (size_t i = 0, k = 0; i < n; i++) {
        _cleanup_free_ char *ip = cj_path_index(kp, i);
        const char *name;

        if (cj_as_string(c, json_object_array_get_idx(arr, i), ip, &name) < 0)
            return -1;
        /* An unknown name is skipped, not refused (runc and crun): leaving out a
         * capability only ever takes privilege away. */
        if (cap_lookup(name, &set[k]) < 0)
            caps_note_unknown(unknown, name);
        else
            k++;
    }
    free(*out);
    *out = steal_ptr(set);
    *has = true;
    return 1;
}

static int parse_capabilities(const struct cj *c, struct json_object *o, const char *path,
                              struct oci_process *p)
{
    _cleanup_free_ char *cp = cj_path_key(path, "capabilities");
    struct json_object *caps;
    struct oci_capabilities *k = &p->capabilities;
    int r = cj_object(c, o, path, "capabilities", false, &caps);

    if (r <= 0)
        return r;
    p->has_capabilities = true;
    if (parse_cap_set(c, caps, cp, "bounding", &k->bounding, &k->has_bounding, &k->unknown) < 0 ||
        parse_cap_set(c, caps, cp, "effective", &k->effective, &k->has_effective, &k->unknown) < 0 ||
        parse_cap_set(c, caps, cp, "inheritable", &k->inheritable, &k->has_inheritable, &k->unknown) < 0 ||
        parse_cap_set(c, caps, cp, "permitted", &k->permitted, &k->has_permitted, &k->unknown) < 0 ||
        parse_cap_set(c, caps, cp, "ambient", &k->ambient, &k->has_ambient, &k->unknown) < 0)
        return -1;
    return 0;
}

static int parse_rlimits(const struct cj *c, struct json_object *o, const char *path,
                         struct oci_process *p)
{
    _cleanup_free_ char *rp = cj_path_key(path, "rlimits");
    struct json_object *arr;
    size_t n;
    int r = cj_array(c, o, path, "rlimits", false, &arr, &n);

    if (r <= 0)
        return r;
    p->rlimits = xcalloc(n, sizeof(*p->rlimits));
    p->n_rlimits = n;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *ip = cj_path_index(rp, i);
        _cleanup_free_ char *tp = cj_path_key(ip, "type");
        struct json_object *e = json_object_array_get_idx(arr, i);
        struct oci_rlimit *rl = &p->rlimits[i];
        size_t k;

        if (e == NULL)
            return cj_fail(c, ip, "expected an object");
        if (cj_as_object(c, e, ip) < 0 || cj_string(c, e, ip, "type", true, &rl->type) < 0)
            return -1;
        for (k = 0; k < ARRAY_SIZE(rlimit_table); k++)
            if (strcmp(rl->type, rlimit_table[k].name) == 0)
                break;
        if (k == ARRAY_SIZE(rlimit_table)) {
            _cleanup_free_ char *q = cj_quote(rl->type);
            return cj_fail(c, tp, "unknown rlimit %s", q);
        }
        rl->resource = rlimit_table[k].resource;
        /* Two entries for one resource: which one wins would be arbitrary. */
        for (size_t j = 0; j < i; j++) {
            if (p->rlimits[j].resource == rl->resource) {
                _cleanup_free_ char *q = cj_quote(rl->type);
                return cj_fail(c, ip, "duplicate rlimit %s", q);
            }
        }
        if (cj_uint(c, e, ip, "soft", true, UINT64_MAX, &rl->soft) < 0 ||
            cj_uint(c, e, ip, "hard", true, UINT64_MAX, &rl->hard) < 0)
            return -1;
        if (rl->soft > rl->hard)
            return cj_fail(c, ip, "soft limit %" PRIu64 " exceeds hard limit %" PRIu64, rl->soft,
                           rl->hard);
    }
    return 0;
}

static int parse_user(const struct cj *c, struct json_object *o, const char *path,
                      struct oci_process *p)
{
    _cleanup_free_ char *up = cj_path_key(path, "user");
    _cleanup_free_ char *gp = NULL;
    struct json_object *user, *gids;
    struct oci_user *u = &p->user;
    uint64_t v;
    size_t n;
    int r = cj_object(c, o, path, "user", false, &user);

    if (r <= 0)
        return r;
    /* CJ_MAX_ID: a uid of 4294967295 would make setresuid() leave the id unchanged,
     * i.e. the process would silently keep running as root. */
    if ((r = cj_uint(c, user, up, "uid", false, CJ_MAX_ID, &v)) < 0)
        return -1;
    if (r)
        u->uid = (uid_t)v;
    if ((r = cj_uint(c, user, up, "gid", false, CJ_MAX_ID, &v)) < 0)
        return -1;
    if (r)
        u->gid = (gid_t)v;
    if ((r = cj_uint(c, user, up, "umask", false, 0777, &v)) < 0)
        return -1;
    if (r) {
        u->has_umask = true;
        u->umask = (mode_t)v;
    }
    if ((r = cj_array(c, user, up, "additionalGids", false, &gids, &n)) < 0)
        return -1;
    if (r) {
        gp = cj_path_key(up, "additionalGids");
        u->additional_gids = xcalloc(n, sizeof(gid_t));
        u->n_additional_gids = n;
        for (size_t i = 0; i < n; i++) {
            _cleanup_free_ char *ip = cj_path_index(gp, i);
            struct json_object *e = json_object_array_get_idx(gids, i);
            if (e == NULL)
                return cj_fail(c, ip, "expected a non-negative integer");
            if (cj_as_uint(c, e, ip, CJ_MAX_ID, &v) < 0)
                return -1;
            u->additional_gids[i] = (gid_t)v;
        }
    }
    if (cj_string(c, user, up, "username", false, &u->username) < 0)
        return -1;
    return 0;
}

static int parse_scheduler(const struct cj *c, struct json_object *o, const char *path,
                           struct oci_process *p)
{
    _cleanup_free_ char *sp = cj_path_key(path, "scheduler");
    _cleanup_free_ char *fp = cj_path_key(sp, "flags");
    struct json_object *s;
    struct oci_scheduler *sc = &p->scheduler;
    size_t idx, nflags = 0;
    int64_t v;
    int r = cj_object(c, o, path, "scheduler", false, &s);

    if (r <= 0)
        return r;
    p->has_scheduler = true;
    if (cj_enum(c, s, sp, "policy", true, sched_policies, "scheduler policy", &idx) < 0)
        return -1;
    sc->policy = xstrdup(sched_policies[idx]);
    /* The kernel's ranges (sched(7)): nice -20..19; a static priority 1..99 exists
     * only for the real-time policies, every other policy takes 0. */
    if ((r = cj_int(c, s, sp, "nice", false, -20, 19, &v)) < 0)
        return -1;
    if (r)
        sc->nice = (int)v;
    bool realtime = strcmp(sc->policy, "SCHED_FIFO") == 0 || strcmp(sc->policy, "SCHED_RR") == 0;
    if ((r = cj_int(c, s, sp, "priority", false, realtime ? 1 : 0, realtime ? 99 : 0, &v)) < 0)
        return -1;
    if (r)
        sc->priority = (int)v;
    if (cj_strv(c, s, sp, "flags", false, &sc->flags, &nflags) < 0)
        return -1;
    for (size_t i = 0; i < nflags; i++) {
        size_t k;
        for (k = 0; sched_flags[k]; k++)
            if (strcmp(sc->flags[i], sched_flags[k]) == 0)
                break;
        if (sched_flags[k] == NULL) {
            _cleanup_free_ char *ip = cj_path_index(fp, i);
            _cleanup_free_ char *q = cj_quote(sc->flags[i]);
            return cj_fail(c, ip, "unknown scheduler flag %s", q);
        }
    }
    if (cj_uint(c, s, sp, "runtime", false, UINT64_MAX, &sc->runtime) < 0 ||
        cj_uint(c, s, sp, "deadline", false, UINT64_MAX, &sc->deadline) < 0 ||
        cj_uint(c, s, sp, "period", false, UINT64_MAX, &sc->period) < 0)
        return -1;
    return 0;
}

static int parse_io_priority(const struct cj *c, struct json_object *o, const char *path,
                             struct oci_process *p)
{
    _cleanup_free_ char *ip = cj_path_key(path, "ioPriority");
    struct json_object *io;
    size_t idx;
    int64_t v = 0;
    int r = cj_object(c, o, path, "ioPriority", false, &io);

    if (r <= 0)
        return r;
    if (cj_enum(c, io, ip, "class", true, ioprio_classes, "I/O priority class", &idx) < 0)
        return -1;
    if (cj_int(c, io, ip, "priority", false, 0, 7, &v) < 0)
        return -1;
    p->has_io_priority = true;
    p->io_priority.class_ = ioprio_class_values[idx];
    p->io_priority.priority = (int)v;
    return 0;
}

static int cpu_list_string(const struct cj *c, struct json_object *o, const char *path,
                           const char *key, char **out)
{
    int r = cj_string(c, o, path, key, false, out);

    if (r <= 0)
        return r;
    if ((*out)[strspn(*out, "0123456789, -")] != '\0') {
        _cleanup_free_ char *kp = cj_path_key(path, key);
        _cleanup_free_ char *q = cj_quote(*out);
        return cj_fail(c, kp, "invalid CPU list %s", q);
    }
    return 1;
}

static int parse_env(const struct cj *c, struct json_object *o, const char *path,
                     struct oci_process *p)
{
    _cleanup_free_ char *ep = cj_path_key(path, "env");

    if (cj_strv(c, o, path, "env", false, &p->env, &p->n_env) < 0)
        return -1;
    for (size_t i = 0; i < p->n_env; i++) {
        const char *eq = strchr(p->env[i], '=');
        if (eq == NULL || eq == p->env[i]) {
            _cleanup_free_ char *ip = cj_path_index(ep, i);
            _cleanup_free_ char *q = cj_quote(p->env[i]);
            return cj_fail(c, ip, "expected KEY=VALUE (got %s)", q);
        }
    }
    return 0;
}

/* path is "process" in config.json, "" for a standalone process.json. */
static int parse_process(const struct cj *c, struct json_object *o, const char *path,
                         struct oci_process *p)
{
    _cleanup_free_ char *csp = cj_path_key(path, "consoleSize");
    _cleanup_free_ char *ap = cj_path_key(path, "args");
    _cleanup_free_ char *cwdp = cj_path_key(path, "cwd");
    _cleanup_free_ char *affp = cj_path_key(path, "execCPUAffinity");
    struct json_object *cs, *aff;
    int64_t v;
    int r;

    if (cj_bool(c, o, path, "terminal", false, &p->terminal) < 0)
        return -1;
    if ((r = cj_object(c, o, path, "consoleSize", false, &cs)) < 0)
        return -1;
    if (r) {
        uint64_t h, w;
        if (cj_uint(c, cs, csp, "height", true, UINT_MAX, &h) < 0 ||
            cj_uint(c, cs, csp, "width", true, UINT_MAX, &w) < 0)
            return -1;
        p->has_console_size = true;
        p->console_size.height = (unsigned)h;
        p->console_size.width = (unsigned)w;
    }
    if (parse_user(c, o, path, p) < 0)
        return -1;
    if (cj_strv(c, o, path, "args", true, &p->args, &p->n_args) < 0)
        return -1;
    if (p->n_args == 0)
        return cj_fail(c, ap, "must have at least one element");
    if (cj_string(c, o, path, "commandLine", false, &p->command_line) < 0)
        return -1;
    if (parse_env(c, o, path, p) < 0)
        return -1;
    if (cj_string(c, o, path, "cwd", true, &p->cwd) < 0 || cj_check_abs(c, cwdp, p->cwd) < 0)
        return -1;
    if (parse_capabilities(c, o, path, p) < 0 || parse_rlimits(c, o, path, p) < 0)
        return -1;
    if (cj_bool(c, o, path, "noNewPrivileges", false, &p->no_new_privileges) < 0 ||
        cj_string(c, o, path, "apparmorProfile", false, &p->apparmor_profile) < 0)
        return -1;
    if ((r = cj_int(c, o, path, "oomScoreAdj", false, -1000, 1000, &v)) < 0)
        return -1;
    if (r) {
        p->has_oom_score_adj = true;
        p->oom_score_adj = (int)v;
    }
    if (cj_string(c, o, path, "selinuxLabel", false, &p->selinux_label) < 0)
        return -1;
    if (parse_scheduler(c, o, path, p) < 0 || parse_io_priority(c, o, path, p) < 0)
        return -1;
    if ((r = cj_object(c, o, path, "execCPUAffinity", false, &aff)) < 0)
        return -1;
    if (r && (cpu_list_string(c, aff, affp, "initial", &p->exec_cpu_affinity_initial) < 0 ||
              cpu_list_string(c, aff, affp, "final", &p->exec_cpu_affinity_final) < 0))
        return -1;
    return 0;
}

static void process_clear(struct oci_process *p)
{
    free(p->user.additional_gids);
    free(p->user.username);
    strv_free(p->args);
    free(p->command_line);
    strv_free(p->env);
    free(p->cwd);
    free(p->capabilities.bounding);
    free(p->capabilities.effective);
    free(p->capabilities.inheritable);
    free(p->capabilities.permitted);
    free(p->capabilities.ambient);
    strv_free(p->capabilities.unknown);
    for (size_t i = 0; i < p->n_rlimits; i++)
        free(p->rlimits[i].type);
    free(p->rlimits);
    free(p->apparmor_profile);
    free(p->selinux_label);
    free(p->scheduler.policy);
    strv_free(p->scheduler.flags);
    free(p->exec_cpu_affinity_initial);
    free(p->exec_cpu_affinity_final);
}

void process_free(struct oci_process *p)
{
    if (p == NULL)
        return;
    process_clear(p);
    free(p);
}

/* ---- root, mounts, hooks, annotations ----------------------------------------- */

static int parse_root(const struct cj *c, struct json_object *doc, struct oci_config *cfg)
{
    struct json_object *root;
    int r = cj_object(c, doc, "", "root", false, &root);

    if (r <= 0)
        return r;
    if (cj_string(c, root, "root", "path", true, &cfg->root.path) < 0 ||
        cj_bool(c, root, "root", "readonly", false, &cfg->root.readonly) < 0)
        return -1;
    if (cfg->root.path[0] == '\0')
        return cj_fail(c, "root.path", "must not be empty");
    cfg->has_root = true;
    return 0;
}

static int parse_mounts(const struct cj *c, struct json_object *doc, struct oci_config *cfg)
{
    struct json_object *arr;
    size_t n;
    int r = cj_array(c, doc, "", "mounts", false, &arr, &n);

    if (r <= 0)
        return r;
    cfg->mounts = xcalloc(n, sizeof(*cfg->mounts));
    cfg->n_mounts = n;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *ip = cj_path_index("mounts", i);
        _cleanup_free_ char *dp = cj_path_key(ip, "destination");
        struct json_object *e = json_object_array_get_idx(arr, i);
        struct oci_mount *m = &cfg->mounts[i];

        if (e == NULL)
            return cj_fail(c, ip, "expected an object");
        if (cj_as_object(c, e, ip) < 0 ||
            cj_string(c, e, ip, "destination", true, &m->destination) < 0 ||
            cj_check_abs(c, dp, m->destination) < 0 ||
            cj_string(c, e, ip, "type", false, &m->type) < 0 ||
            cj_string(c, e, ip, "source", false, &m->source) < 0 ||
            cj_strv(c, e, ip, "options", false, &m->options, &m->n_options) < 0 ||
            cj_id_mappings(c, e, ip, "uidMappings", &m->uid_mappings, &m->n_uid_mappings) < 0 ||
            cj_id_mappings(c, e, ip, "gidMappings", &m->gid_mappings, &m->n_gid_mappings) < 0)
            return -1;
    }
    return 0;
}

static int parse_hook_list(const struct cj *c, struct json_object *hooks, const char *key,
                           struct oci_hook_list *list)
{
    _cleanup_free_ char *lp = cj_path_key("hooks", key);
    struct json_object *arr;
    size_t n;
    int r = cj_array(c, hooks, "hooks", key, false, &arr, &n);

    if (r <= 0)
        return r;
    list->hooks = xcalloc(n, sizeof(*list->hooks));
    list->n = n;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *ip = cj_path_index(lp, i);
        _cleanup_free_ char *pp = cj_path_key(ip, "path");
        struct json_object *e = json_object_array_get_idx(arr, i);
        struct oci_hook *h = &list->hooks[i];
        int64_t t;

        if (e == NULL)
            return cj_fail(c, ip, "expected an object");
        if (cj_as_object(c, e, ip) < 0 || cj_string(c, e, ip, "path", true, &h->path) < 0 ||
            cj_check_abs(c, pp, h->path) < 0 || cj_strv(c, e, ip, "args", false, &h->args, NULL) < 0 ||
            cj_strv(c, e, ip, "env", false, &h->env, NULL) < 0)
            return -1;
        if ((r = cj_int(c, e, ip, "timeout", false, 1, INT_MAX, &t)) < 0)
            return -1;
        if (r) {
            h->has_timeout = true;
            h->timeout = (int)t;
        }
    }
    return 0;
}

/* The hook lists config.json may hold, in the order runtime.md runs them. */
static const struct {
    const char *name;
    size_t offset;   /* of the list in struct oci_hooks */
} hook_table[] = {
    { "prestart", offsetof(struct oci_hooks, prestart) },
    { "createRuntime", offsetof(struct oci_hooks, create_runtime) },
    { "createContainer", offsetof(struct oci_hooks, create_container) },
    { "startContainer", offsetof(struct oci_hooks, start_container) },
    { "poststart", offsetof(struct oci_hooks, poststart) },
    { "poststop", offsetof(struct oci_hooks, poststop) },
};

static int parse_hooks(const struct cj *c, struct json_object *doc, struct oci_config *cfg)
{
    struct json_object *hooks;
    struct oci_hooks *h = &cfg->hooks;
    int r = cj_object(c, doc, "", "hooks", false, &hooks);

    if (r <= 0)
        return r;
    cfg->has_hooks = true;
    for (size_t i = 0; i < ARRAY_SIZE(hook_table); i++)
        if (parse_hook_list(c, hooks, hook_table[i].name,
                            (struct oci_hook_list *)((char *)h + hook_table[i].offset)) < 0)
            return -1;
    return 0;
}

const char *config_hook_name(size_t i)
{
    return i < ARRAY_SIZE(hook_table) ? hook_table[i].name : NULL;
}

static int parse_annotations(const struct cj *c, struct json_object *doc, struct oci_config *cfg)
{
    _cleanup_strv_ char **kv = NULL;
    size_t n;
    int r = cj_string_map(c, doc, "", "annotations", &kv, &n);

    if (r <= 0)
        return r;
    cfg->annotations = xcalloc(n, sizeof(*cfg->annotations));
    cfg->n_annotations = n;
    for (size_t i = 0; i < n; i++) {
        cfg->annotations[i].key = steal_ptr(kv[2 * i]);
        cfg->annotations[i].value = steal_ptr(kv[2 * i + 1]);
    }
    free(steal_ptr(kv));   /* the strings moved; only the (now empty) vector is left */
    return 0;
}

static void hook_list_clear(struct oci_hook_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->hooks[i].path);
        strv_free(l->hooks[i].args);
        strv_free(l->hooks[i].env);
    }
    free(l->hooks);
}

void config_free(struct oci_config *c)
{
    if (c == NULL)
        return;
    free(c->oci_version);
    free(c->root.path);
    process_clear(&c->process);
    free(c->hostname);
    free(c->domainname);
    for (size_t i = 0; i < c->n_mounts; i++) {
        struct oci_mount *m = &c->mounts[i];
        free(m->destination);
        free(m->type);
        free(m->source);
        strv_free(m->options);
        free(m->uid_mappings);
        free(m->gid_mappings);
    }
    free(c->mounts);
    hook_list_clear(&c->hooks.prestart);
    hook_list_clear(&c->hooks.create_runtime);
    hook_list_clear(&c->hooks.create_container);
    hook_list_clear(&c->hooks.start_container);
    hook_list_clear(&c->hooks.poststart);
    hook_list_clear(&c->hooks.poststop);
    for (size_t i = 0; i < c->n_annotations; i++) {
        free(c->annotations[i].key);
        free(c->annotations[i].value);
    }
    free(c->annotations);
    config_linux_clear(&c->linux_);
    free(c);
}

/* ---- the document ------------------------------------------------------------- */

static int parse_document(const struct cj *c, struct json_object *doc, struct oci_config *cfg)
{
    struct json_object *o;
    int r;

    if (cj_string(c, doc, "", "ociVersion", true, &cfg->oci_version) < 0)
        return -1;
    /* Only the major version matters: 1.x documents are backwards compatible. */
    if (strncmp(cfg->oci_version, "1.", 2) != 0) {
        _cleanup_free_ char *q = cj_quote(cfg->oci_version);
        return cj_fail(c, "ociVersion", "unsupported version %s (husk supports 1.x)", q);
    }
    if (parse_root(c, doc, cfg) < 0)
        return -1;
    if ((r = cj_object(c, doc, "", "process", false, &o)) < 0)
        return -1;
    if (r) {
        cfg->has_process = true;
        if (parse_process(c, o, "process", &cfg->process) < 0)
            return -1;
    }
    if (cj_string(c, doc, "", "hostname", false, &cfg->hostname) < 0 ||
        cj_string(c, doc, "", "domainname", false, &cfg->domainname) < 0)
        return -1;
    if (parse_mounts(c, doc, cfg) < 0 || parse_hooks(c, doc, cfg) < 0 ||
        parse_annotations(c, doc, cfg) < 0)
        return -1;
    if ((r = cj_object(c, doc, "", "linux", false, &o)) < 0)
        return -1;
    if (r) {
        cfg->has_linux = true;
        if (config_parse_linux(c, o, "linux", &cfg->linux_) < 0)
            return -1;
    }
    return 0;
}

int config_parse(const char *text, size_t len, const char *name, struct oci_config **out,
                 husk_err **err)
{
    struct cj c = { .name = name, .err = err };
    struct json_object *doc = NULL;
    _cleanup_config_ struct oci_config *cfg = NULL;
    int r;

    if (cj_parse_text(text, len, name, &doc, err) < 0)
        return -1;
    cfg = xcalloc(1, sizeof(*cfg));
    r = parse_document(&c, doc, cfg);
    json_object_put(doc);
    if (r < 0)
        return -1;
    *out = steal_ptr(cfg);
    return 0;
}

int config_parse_process(const char *text, size_t len, const char *name, struct oci_process **out,
                         husk_err **err)
{
    struct cj c = { .name = name, .err = err };
    struct json_object *doc = NULL;
    struct oci_process *p;
    int r;

    if (cj_parse_text(text, len, name, &doc, err) < 0)
        return -1;
    p = xcalloc(1, sizeof(*p));
    r = parse_process(&c, doc, "", p);
    json_object_put(doc);
    if (r < 0) {
        process_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

int config_load(const char *bundle, struct oci_config **out, husk_err **err)
{
    _cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
    _cleanup_free_ char *buf = NULL;
    _cleanup_close_ int fd = -1;
    struct stat st;
    size_t len = 0, cap;

    /* O_NONBLOCK: opening a FIFO planted as config.json must not hang us; the
     * type is checked right after on the opened file, so there is no race. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return husk_fail(err, errno, "open %s", path);
    if (fstat(fd, &st) < 0)
        return husk_fail(err, errno, "stat %s", path);
    if (!S_ISREG(st.st_mode))
        return husk_fail(err, 0, "%s: not a regular file", path);
    if ((uint64_t)st.st_size > CJ_MAX_DOCUMENT)
        return husk_fail(err, EFBIG, "read %s", path);
    /* Read until EOF rather than trusting st_size (the file may be changing);
     * one byte beyond the limit tells "too large" from "exactly at the limit". */
    cap = (size_t)st.st_size + 1;
    buf = xmalloc(cap);
    for (;;) {
        if (len == cap) {
            if (cap > CJ_MAX_DOCUMENT)
                return husk_fail(err, EFBIG, "read %s", path);
            cap = cap * 2 > CJ_MAX_DOCUMENT + 1 ? CJ_MAX_DOCUMENT + 1 : cap * 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return husk_fail(err, errno, "read %s", path);
        if (r == 0)
            break;
        len += (size_t)r;
    }
    return config_parse(buf, len, "config.json", out, err);
}
