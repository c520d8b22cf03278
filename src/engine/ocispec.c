/* ocispec.c — see ocispec.h. docker's defaults, as docker writes them into the
 * config.json it hands runc; where docker's behaviour is the point it is said so. */
#include "ocispec.h"
#include "ocispec_int.h"

#include "caps.h"
#include "paths.h"
#include "util.h"

#include "husk-config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_SHM (64LL << 20)
#define MIN_MEMORY (6LL << 20)      /* docker: "Minimum memory limit allowed is 6MB" */
#define CPU_PERIOD 100000           /* docker's --cpus: quota per 100 ms period */
#define INIT_PATH "/dev/init"       /* where docker puts its --init binary */

/* docker's default capabilities (moby's oci/caps defaults). */
static const char *const default_caps[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
    "CAP_AUDIT_WRITE", NULL,
};

/* Kernel files that leak host information or let a process reach the host (docker's
 * lists): hidden, and read-only. */
static const char *const masked_paths[] = {
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    NULL,
};
static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

/* --init: a static init (so it runs in any image), bind-mounted read-only. */
static const char *const init_binaries[] = {
    "/usr/bin/tini-static", "/usr/libexec/docker/docker-init", "/usr/bin/docker-init", NULL,
};

/* ---- small json helpers --------------------------------------------------------- */

static json_object *jstr(const char *s) { return json_object_new_string(s); }

static json_object *jstrv(const char *const *v)
{
    json_object *a = json_object_new_array();
    for (; v && *v; v++)
        json_object_array_add(a, jstr(*v));
    return a;
}

static json_object *jmount(const char *dest, const char *type, const char *src, const char *const *opts)
{
    json_object *m = json_object_new_object();
    json_object_object_add(m, "destination", jstr(dest));
    json_object_object_add(m, "type", jstr(type));
    json_object_object_add(m, "source", jstr(src));
    json_object_object_add(m, "options", jstrv(opts));
    return m;
}

/* A growable NULL-terminated string vector. */
struct strv {
    char **v;
    size_t n;
};

static void sv_add(struct strv *s, char *owned)
{
    s->v = xrealloc(s->v, (s->n + 2) * sizeof(char *));
    s->v[s->n++] = owned;
    s->v[s->n] = NULL;
}

static void sv_free(struct strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static bool sv_has(const struct strv *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0)
            return true;
    return false;
}

/* ---- args, env, cwd -------------------------------------------------------------- */

static int add_json_strings(struct strv *out, json_object *arr, const char *what, husk_err **err)
{
    if (arr == NULL || json_object_is_type(arr, json_type_null))
        return 0;
    if (!json_object_is_type(arr, json_type_array))
        return husk_fail(err, 0, "the image's %s: expected an array of strings", what);
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *s = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(s, json_type_string))
            return husk_fail(err, 0, "the image's %s[%zu]: expected a string", what, i);
        sv_add(out, xstrdup(json_object_get_string(s)));
    }
    return 0;
}

/* docker's rules: --entrypoint replaces the image's Entrypoint and drops its Cmd
 * ("" clears the Entrypoint); CMD… replaces the image's Cmd. */
static int build_args(json_object *icfg, const struct run_opts *o, struct strv *args, husk_err **err)
{
    json_object *ep = NULL, *cmd = NULL;
    if (icfg) {
        json_object_object_get_ex(icfg, "Entrypoint", &ep);
        json_object_object_get_ex(icfg, "Cmd", &cmd);
    }
    if (o->entrypoint) {
        if (o->entrypoint[0] != '\0')
            sv_add(args, xstrdup(o->entrypoint));
    } else if (add_json_strings(args, ep, "Entrypoint", err) < 0) {
        return -1;
    }
    if (o->cmd && o->cmd[0]) {
        for (char **c = o->cmd; *c; c++)
            sv_add(args, xstrdup(*c));
    } else if (!o->entrypoint && add_json_strings(args, cmd, "Cmd", err) < 0) {
        return -1;
    }
    if (args->n == 0)
        return husk_fail(err, 0, "no command specified: the image has no Entrypoint or Cmd, and none was given");
    return 0;
}

/* Set KEY=VALUE, replacing an entry of the same key (docker's ReplaceOrAppendEnvValues). */
static void env_set(struct strv *env, const char *kv)
{
    size_t klen = strcspn(kv, "=");
    for (size_t i = 0; i < env->n; i++)
        if (strncmp(env->v[i], kv, klen) == 0 && (env->v[i][klen] == '=' || env->v[i][klen] == '\0')) {
            free(env->v[i]);
            env->v[i] = xstrdup(kv);
            return;
        }
    sv_add(env, xstrdup(kv));
}

static int build_env(json_object *icfg, const struct run_opts *o, const char *hostname, struct strv *env,
                     husk_err **err)
{
    sv_add(env, xstrdup(DEFAULT_PATH));
    _cleanup_free_ char *h = xasprintf("HOSTNAME=%s", hostname);
    sv_add(env, steal_ptr(h));
    if (o->tty)
        sv_add(env, xstrdup("TERM=xterm"));
    json_object *ienv = NULL;
    if (icfg && json_object_object_get_ex(icfg, "Env", &ienv) && !json_object_is_type(ienv, json_type_null)) {
        struct strv tmp = { 0 };
        if (add_json_strings(&tmp, ienv, "Env", err) < 0) {
            sv_free(&tmp);
            return -1;
        }
        for (size_t i = 0; i < tmp.n; i++)
            env_set(env, tmp.v[i]);
        sv_free(&tmp);
    }
    for (char **e = o->env; e && *e; e++) {
        if ((*e)[0] == '=' || (*e)[0] == '\0')
            return husk_fail(err, 0, "-e \"%s\": invalid environment variable", *e);
        if (strchr(*e, '=')) {
            env_set(env, *e);
            continue;
        }
        /* -e NAME: the caller's value, or nothing when it has none (docker). */
        const char *v = getenv(*e);
        if (v) {
            _cleanup_free_ char *kv = xasprintf("%s=%s", *e, v);
            env_set(env, kv);
        }
    }
    return 0;
}

static int build_cwd(json_object *icfg, const struct run_opts *o, char **out, husk_err **err)
{
    if (o->workdir && o->workdir[0]) {
        if (o->workdir[0] != '/')
            return husk_fail(err, 0, "-w %s: the working directory must be an absolute path", o->workdir);
        *out = path_clean(o->workdir);
        return 0;
    }
    json_object *wd = NULL;
    if (icfg && json_object_object_get_ex(icfg, "WorkingDir", &wd) && json_object_is_type(wd, json_type_string) &&
        json_object_get_string(wd)[0]) {
        /* An image's relative WorkingDir is relative to "/" (docker's builder). */
        _cleanup_free_ char *abs = xasprintf("/%s", json_object_get_string(wd));
        *out = path_clean(abs);
        return 0;
    }
    *out = xstrdup("/");
    return 0;
}

/* ---- capabilities ---------------------------------------------------------------- */

/* "net_admin", "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; "all" -> "ALL". NULL if unknown. */
static char *cap_normalize(const char *name)
{
    _cleanup_free_ char *up = xstrdup(name);
    for (char *p = up; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    if (strcmp(up, "ALL") == 0)
        return steal_ptr(up);
    char *full = strncmp(up, "CAP_", 4) == 0 ? steal_ptr(up) : xasprintf("CAP_%s", up);
    if (cap_number(full) < 0) {
        free(full);
        return NULL;
    }
    return full;
}

static int cap_list(char **in, const char *flag, struct strv *out, husk_err **err)
{
    for (char **c = in; c && *c; c++) {
        char *n = cap_normalize(*c);
        if (n == NULL)
            return husk_fail(err, 0, "%s %s: unknown capability", flag, *c);
        if (!sv_has(out, n))
            sv_add(out, n);
        else
            free(n);
    }
    return 0;
}

/* "All" capabilities are those the running kernel knows that we may still hand on:
 * docker too takes them from its own bounding set, so that --privileged works
 * where the engine itself runs with fewer (a capability outside it could not be
 * granted, and the runtime would refuse the config). */
/* Everything we can give: docker takes its bounding set; a capability we do not
 * hold in our permitted set (CAP_SYS_RESOURCE on some hosts) the runtime could
 * not grant, so it is left out too. */
static void all_caps(struct strv *out)
{
    int last = cap_last();
    cap_t self = cap_get_proc();
    for (int i = 0; i <= last; i++) {
        cap_flag_value_t v = CAP_CLEAR;
        if (prctl(PR_CAPBSET_READ, i, 0, 0, 0) != 1 ||
            (self && (cap_get_flag(self, (cap_value_t)i, CAP_PERMITTED, &v) < 0 || v != CAP_SET)))
            continue;
        const char *n = cap_name_of(i);
        if (n && !sv_has(out, n))
            sv_add(out, xstrdup(n));
    }
    if (self)
        cap_free(self);
}

/* docker's TweakCapabilities: --privileged is everything; --cap-add ALL is everything
 * but --cap-drop; --cap-drop ALL keeps only --cap-add; else defaults - drop + add. */
static int build_caps(const struct run_opts *o, struct strv *caps, husk_err **err)
{
    struct strv add = { 0 }, drop = { 0 };
    int ret = -1;
    if (cap_list(o->cap_add, "--cap-add", &add, err) < 0 || cap_list(o->cap_drop, "--cap-drop", &drop, err) < 0)
        goto out;
    if (o->privileged) {
        all_caps(caps);
    } else if (sv_has(&add, "ALL")) {
        struct strv all = { 0 };
        all_caps(&all);
        for (size_t i = 0; i < all.n; i++)
            if (!sv_has(&drop, all.v[i]))
                sv_add(caps, xstrdup(all.v[i]));
        sv_free(&all);
    } else {
        if (!sv_has(&drop, "ALL"))
            for (const char *const *c = default_caps; *c; c++)
                if (!sv_has(&drop, *c))
                    sv_add(caps, xstrdup(*c));
        for (size_t i = 0; i < add.n; i++)
            if (!sv_has(caps, add.v[i]))
                sv_add(caps, xstrdup(add.v[i]));
    }
    ret = 0;
out:
    sv_free(&add);
    sv_free(&drop);
    return ret;
}

/* ---- rlimits ------------------------------------------------------------------- */

static const struct {
    const char *name;   /* docker's --ulimit names */
    const char *type;
} ulimit_names[] = {
    { "as", "RLIMIT_AS" },           { "core", "RLIMIT_CORE" },       { "cpu", "RLIMIT_CPU" },
    { "data", "RLIMIT_DATA" },       { "fsize", "RLIMIT_FSIZE" },     { "locks", "RLIMIT_LOCKS" },
    { "memlock", "RLIMIT_MEMLOCK" }, { "msgqueue", "RLIMIT_MSGQUEUE" }, { "nice", "RLIMIT_NICE" },
    { "nofile", "RLIMIT_NOFILE" },   { "nproc", "RLIMIT_NPROC" },     { "rss", "RLIMIT_RSS" },
    { "rtprio", "RLIMIT_RTPRIO" },   { "rttime", "RLIMIT_RTTIME" },   { "sigpending", "RLIMIT_SIGPENDING" },
    { "stack", "RLIMIT_STACK" },
};

/* "-1" and "unlimited" are RLIM_INFINITY. */
static int parse_limit(const char *s, uint64_t *out)
{
    if (strcmp(s, "unlimited") == 0 || strcmp(s, "-1") == 0) {
        *out = UINT64_MAX;
        return 0;
    }
    if (*s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int build_rlimits(const struct run_opts *o, json_object **out, husk_err **err)
{
    *out = NULL;
    if (o->ulimits == NULL || o->ulimits[0] == NULL)
        return 0;
    json_object *arr = json_object_new_array();
    for (char **u = o->ulimits; *u; u++) {
        _cleanup_free_ char *copy = xstrdup(*u);
        char *eq = strchr(copy, '=');
        if (eq == NULL) {
            json_object_put(arr);
            return husk_fail(err, 0, "--ulimit %s: expected NAME=SOFT[:HARD]", *u);
        }
        *eq = '\0';
        const char *type = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(ulimit_names); i++)
            if (strcmp(copy, ulimit_names[i].name) == 0)
                type = ulimit_names[i].type;
        if (type == NULL) {
            json_object_put(arr);
            return husk_fail(err, 0, "--ulimit %s: unknown limit \"%s\"", *u, copy);
        }
        char *hard_s = strchr(eq + 1, ':');
        if (hard_s)
            *hard_s++ = '\0';
        uint64_t soft, hard;
        if (parse_limit(eq + 1, &soft) < 0 || (hard_s && parse_limit(hard_s, &hard) < 0)) {
            json_object_put(arr);
            return husk_fail(err, 0, "--ulimit %s: invalid value", *u);
        }
        if (!hard_s)
            hard = soft;
        if (soft > hard) {
            json_object_put(arr);
            return husk_fail(err, 0, "--ulimit %s: the soft limit must not be above the hard limit", *u);
        }
        /* A later --ulimit of the same name wins. */
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            json_object *t = json_object_object_get(json_object_array_get_idx(arr, i), "type");
            if (strcmp(json_object_get_string(t), type) == 0) {
                json_object_array_del_idx(arr, i, 1);
                break;
            }
        }
        json_object *r = json_object_new_object();
        json_object_object_add(r, "type", jstr(type));
        json_object_object_add(r, "soft", json_object_new_uint64(soft));
        json_object_object_add(r, "hard", json_object_new_uint64(hard));
        json_object_array_add(arr, r);
    }
    *out = arr;
    return 0;
}

/* ---- process --------------------------------------------------------------------- */

static int build_process(json_object *icfg, const struct run_opts *o, const char *rootfs, const char *hostname,
                         const struct strv *caps, json_object **out, husk_err **err)
{
    struct strv args = { 0 }, env = { 0 };
    _cleanup_free_ char *cwd = NULL;
    struct ocispec_user user = { 0 };
    json_object *rlimits = NULL;
    _cleanup_free_ char *what = NULL;
    int ret = -1;

    if (build_args(icfg, o, &args, err) < 0 || build_env(icfg, o, hostname, &env, err) < 0 ||
        build_cwd(icfg, o, &cwd, err) < 0 || build_rlimits(o, &rlimits, err) < 0)
        goto out;

    const char *spec = o->user;
    json_object *iu = NULL;
    if (spec) {
        what = xasprintf("-u %s", spec);
    } else if (icfg && json_object_object_get_ex(icfg, "User", &iu) && json_object_is_type(iu, json_type_string)) {
        spec = json_object_get_string(iu);
        what = xasprintf("the image's User \"%s\"", spec);
    } else {
        spec = "";
        what = xstrdup("the default user");
    }
    if (ocispec_resolve_user(rootfs, spec, what, &user, err) < 0)
        goto out;

    if (o->init) {
        /* tini as pid 1: it reaps orphans and forwards signals to the command. */
        char **old = args.v;
        size_t n = args.n;
        args.v = NULL;
        args.n = 0;
        sv_add(&args, xstrdup(INIT_PATH));
        sv_add(&args, xstrdup("--"));
        for (size_t i = 0; i < n; i++)
            sv_add(&args, old[i]);
        free(old);
    }

    json_object *p = json_object_new_object();
    json_object_object_add(p, "terminal", json_object_new_boolean(o->tty));
    json_object *u = json_object_new_object();
    json_object_object_add(u, "uid", json_object_new_int64(user.uid));
    json_object_object_add(u, "gid", json_object_new_int64(user.gid));
    if (user.n_sgids) {
        json_object *g = json_object_new_array();
        for (size_t i = 0; i < user.n_sgids; i++)
            json_object_array_add(g, json_object_new_int64(user.sgids[i]));
        json_object_object_add(u, "additionalGids", g);
    }
    json_object_object_add(p, "user", u);
    json_object_object_add(p, "args", jstrv((const char *const *)args.v));
    json_object_object_add(p, "env", jstrv((const char *const *)env.v));
    json_object_object_add(p, "cwd", jstr(cwd));
    json_object *c = json_object_new_object();
    /* docker: bounding, effective and permitted; inheritable stays empty
     * (CVE-2022-24769), ambient unset. */
    json_object_object_add(c, "bounding", jstrv((const char *const *)caps->v));
    json_object_object_add(c, "effective", jstrv((const char *const *)caps->v));
    json_object_object_add(c, "permitted", jstrv((const char *const *)caps->v));
    json_object_object_add(p, "capabilities", c);
    if (rlimits)
        json_object_object_add(p, "rlimits", steal_ptr(rlimits));
    if (o->no_new_privileges)
        json_object_object_add(p, "noNewPrivileges", json_object_new_boolean(1));
    *out = p;
    ret = 0;
out:
    sv_free(&args);
    sv_free(&env);
    ocispec_user_free(&user);
    json_object_put(rlimits);
    return ret;
}

/* ---- mounts ---------------------------------------------------------------------- */

/* Replace a mount of the same destination (a --tmpfs over a default one), else append. */
static void mount_put(json_object *mounts, json_object *m)
{
    const char *dest = json_object_get_string(json_object_object_get(m, "destination"));
    for (size_t i = 0; i < json_object_array_length(mounts); i++) {
        json_object *old = json_object_array_get_idx(mounts, i);
        if (strcmp(json_object_get_string(json_object_object_get(old, "destination")), dest) == 0) {
            json_object_array_put_idx(mounts, i, m);
            return;
        }
    }
    json_object_array_add(mounts, m);
}

/* docker's MergeTmpfsOptions: later options win ("exec" undoes "noexec", a later
 * size= replaces an earlier one). */
static void opt_merge(struct strv *opts, const char *o)
{
    static const char *const pairs[][2] = {
        { "exec", "noexec" },   { "suid", "nosuid" },   { "dev", "nodev" },     { "ro", "rw" },
        { "atime", "noatime" }, { "diratime", "nodiratime" }, { "relatime", "norelatime" },
        { "strictatime", "nostrictatime" }, { "sync", "async" },
    };
    size_t klen = strcspn(o, "=");
    for (size_t i = 0; i < opts->n; i++) {
        const char *x = opts->v[i];
        bool same = o[klen] == '=' ? strncmp(x, o, klen + 1) == 0 : strcmp(x, o) == 0;
        for (size_t k = 0; k < ARRAY_SIZE(pairs) && !same; k++)
            same = (strcmp(x, pairs[k][0]) == 0 && strcmp(o, pairs[k][1]) == 0) ||
                   (strcmp(x, pairs[k][1]) == 0 && strcmp(o, pairs[k][0]) == 0);
        if (same) {
            free(opts->v[i]);
            opts->v[i] = xstrdup(o);
            return;
        }
    }
    sv_add(opts, xstrdup(o));
}

static int add_tmpfs(json_object *mounts, const struct run_opts *o, husk_err **err)
{
    struct strv seen = { 0 };
    for (char **t = o->tmpfs; t && *t; t++) {
        _cleanup_free_ char *copy = xstrdup(*t);
        char *colon = strchr(copy, ':');
        if (colon)
            *colon++ = '\0';
        if (copy[0] != '/') {
            sv_free(&seen);
            return husk_fail(err, 0, "--tmpfs %s: the mount point must be an absolute path", *t);
        }
        _cleanup_free_ char *dest = path_clean(copy);
        if (strcmp(dest, "/") == 0 || sv_has(&seen, dest)) {
            sv_free(&seen);
            return husk_fail(err, 0, "--tmpfs %s: %s", *t, strcmp(dest, "/") == 0 ? "cannot mount over /" :
                                                                                 "duplicate mount point");
        }
        sv_add(&seen, xstrdup(dest));
        struct strv opts = { 0 };
        for (const char *const *d = (const char *const[]){ "noexec", "nosuid", "nodev", NULL }; *d; d++)
            sv_add(&opts, xstrdup(*d));
        for (char *save = NULL, *x = colon ? strtok_r(colon, ",", &save) : NULL; x; x = strtok_r(NULL, ",", &save))
            opt_merge(&opts, x);
        mount_put(mounts, jmount(dest, "tmpfs", "tmpfs", (const char *const *)opts.v));
        sv_free(&opts);
    }
    sv_free(&seen);
    return 0;
}

static const char *find_init(void)
{
    for (const char *const *p = init_binaries; *p; p++)
        if (access(*p, X_OK) == 0)
            return *p;
    return NULL;
}

static int build_mounts(const struct run_opts *o, const char *userdata, json_object **out, husk_err **err)
{
    json_object *m = json_object_new_array();
    const char *ro = o->privileged ? "rw" : "ro";
    json_object_array_add(m, jmount("/proc", "proc", "proc", (const char *const[]){ "nosuid", "noexec", "nodev", NULL }));
    json_object_array_add(m, jmount("/dev", "tmpfs", "tmpfs",
                                    (const char *const[]){ "nosuid", "strictatime", "mode=755", "size=65536k", NULL }));
    json_object_array_add(m, jmount("/dev/pts", "devpts", "devpts",
                                    (const char *const[]){ "nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                                           "mode=0620", "gid=5", NULL }));
    /* /sys and its cgroups read-only, but for --privileged (docker). */
    json_object_array_add(m, jmount("/sys", "sysfs", "sysfs", (const char *const[]){ "nosuid", "noexec", "nodev", ro, NULL }));
    json_object_array_add(m, jmount("/sys/fs/cgroup", "cgroup", "cgroup",
                                    (const char *const[]){ ro, "nosuid", "noexec", "nodev", NULL }));
    json_object_array_add(m, jmount("/dev/mqueue", "mqueue", "mqueue", (const char *const[]){ "nosuid", "noexec", "nodev", NULL }));
    int64_t shm = o->shm_size == -1 || o->shm_size == 0 ? DEFAULT_SHM : o->shm_size;
    if (shm < 0) {
        json_object_put(m);
        return husk_fail(err, 0, "--shm-size: must be a positive size");
    }
    _cleanup_free_ char *shm_opt = xasprintf("size=%" PRId64, shm);
    json_object_array_add(m, jmount("/dev/shm", "tmpfs", "shm",
                                    (const char *const[]){ "nosuid", "noexec", "nodev", "mode=1777", shm_opt, NULL }));
    if (add_tmpfs(m, o, err) < 0) {
        json_object_put(m);
        return -1;
    }
    /* The per-container files; read-only with a read-only rootfs, as docker. */
    const char *rw = o->read_only ? "ro" : "rw";
    static const char *const etc[] = { "resolv.conf", "hostname", "hosts" };
    for (size_t i = 0; i < ARRAY_SIZE(etc); i++) {
        _cleanup_free_ char *src = xasprintf("%s/%s", userdata, etc[i]);
        _cleanup_free_ char *dst = xasprintf("/etc/%s", etc[i]);
        mount_put(m, jmount(dst, "bind", src, (const char *const[]){ "rbind", "rprivate", rw, NULL }));
    }
    if (o->init) {
        const char *init = find_init();
        if (init == NULL) {
            json_object_put(m);
            return husk_fail(err, 0, "--init: no static init found (looked for %s, %s, %s; Debian's package tini "
                                     "has it)", init_binaries[0], init_binaries[1], init_binaries[2]);
        }
        json_object_array_add(m, jmount(INIT_PATH, "bind", init, (const char *const[]){ "bind", "ro", "nosuid", "nodev", NULL }));
    }
    *out = m;
    return 0;
}

/* ---- devices and resources ------------------------------------------------------- */

static json_object *dev_rule(bool allow, const char *type, int64_t major, int64_t minor, const char *access)
{
    json_object *r = json_object_new_object();
    json_object_object_add(r, "allow", json_object_new_boolean(allow));
    if (type)
        json_object_object_add(r, "type", jstr(type));
    if (major >= 0)
        json_object_object_add(r, "major", json_object_new_int64(major));
    if (minor >= 0)
        json_object_object_add(r, "minor", json_object_new_int64(minor));
    json_object_object_add(r, "access", jstr(access));
    return r;
}

static bool valid_perms(const char *s)
{
    if (*s == '\0' || strlen(s) > 3)
        return false;
    for (const char *p = s; *p; p++)
        if (!strchr("rwm", *p) || strchr(p + 1, *p))
            return false;
    return true;
}

/* --device HOST[:CTR[:PERMS]] (HOST:PERMS too, as docker reads it). */
static int add_devices(const struct run_opts *o, json_object *ldevs, json_object *rules, husk_err **err)
{
    for (char **d = o->devices; d && *d; d++) {
        _cleanup_free_ char *copy = xstrdup(*d);
        char *f[4] = { copy, NULL, NULL, NULL };
        size_t n = 1;
        for (char *p = copy; *p && n < 4; p++)
            if (*p == ':') {
                *p = '\0';
                f[n++] = p + 1;
            }
        const char *host = f[0], *ctr = f[0], *perms = "rwm";
        if (n > 3)
            return husk_fail(err, 0, "--device %s: expected HOST[:CONTAINER[:PERMISSIONS]]", *d);
        if (n == 3) {
            ctr = f[1];
            perms = f[2];
            if (!valid_perms(perms))
                return husk_fail(err, 0, "--device %s: invalid permissions \"%s\" (a subset of rwm)", *d, perms);
        } else if (n == 2) {
            if (valid_perms(f[1]))
                perms = f[1];
            else
                ctr = f[1];
        }
        if (host[0] != '/' || ctr[0] != '/')
            return husk_fail(err, 0, "--device %s: %s is not an absolute path", *d, host[0] != '/' ? host : ctr);
        /* The host node: followed through symlinks (/dev/disk/by-id/…), as docker. */
        struct stat st;
        if (stat(host, &st) < 0)
            return husk_fail(err, errno, "--device %s: %s", *d, host);
        const char *type = S_ISCHR(st.st_mode) ? "c" : S_ISBLK(st.st_mode) ? "b" : NULL;
        if (type == NULL)
            return husk_fail(err, 0, "--device %s: %s is not a character or block device", *d, host);
        int64_t maj = major(st.st_rdev), min = minor(st.st_rdev);
        _cleanup_free_ char *dest = path_clean(ctr);
        json_object *dev = json_object_new_object();
        json_object_object_add(dev, "path", jstr(dest));
        json_object_object_add(dev, "type", jstr(type));
        json_object_object_add(dev, "major", json_object_new_int64(maj));
        json_object_object_add(dev, "minor", json_object_new_int64(min));
        json_object_object_add(dev, "fileMode", json_object_new_int(st.st_mode & 07777));
        json_object_object_add(dev, "uid", json_object_new_int64(st.st_uid));
        json_object_object_add(dev, "gid", json_object_new_int64(st.st_gid));
        json_object_array_add(ldevs, dev);
        json_object_array_add(rules, dev_rule(true, type, maj, min, perms));
    }
    return 0;
}

/* Whether the memory controller can limit swap here (cgroup v1 without swap
 * accounting cannot): docker then drops the swap limit, and so do we. */
static bool swap_limit_supported(void)
{
    struct stat st;
    if (stat("/sys/fs/cgroup/memory", &st) == 0 && S_ISDIR(st.st_mode))
        return access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0;
    return true;
}

static int build_resources(const struct run_opts *o, json_object *ldevs, json_object **out, husk_err **err)
{
    json_object *res = json_object_new_object();
    json_object *rules = json_object_new_array();
    json_object_object_add(res, "devices", rules);
    if (o->privileged) {
        json_object_array_add(rules, dev_rule(true, NULL, -1, -1, "rwm"));
    } else {
        /* docker's: nothing but mknod of any node, the standard devices, ptys, tun. */
        json_object_array_add(rules, dev_rule(false, NULL, -1, -1, "rwm"));
        json_object_array_add(rules, dev_rule(true, "c", -1, -1, "m"));
        json_object_array_add(rules, dev_rule(true, "b", -1, -1, "m"));
        static const int std[][2] = { { 1, 3 }, { 1, 8 }, { 1, 7 }, { 5, 0 }, { 1, 5 }, { 1, 9 }, { 5, 2 }, { 10, 200 } };
        for (size_t i = 0; i < ARRAY_SIZE(std); i++)
            json_object_array_add(rules, dev_rule(true, "c", std[i][0], std[i][1], "rwm"));
        json_object_array_add(rules, dev_rule(true, "c", 136, -1, "rwm"));
    }
    if (add_devices(o, ldevs, rules, err) < 0)
        goto fail;

    if (o->memory >= 0 || (o->memory_swap != -2 && o->memory_swap != 0)) {
        if (o->memory < 0) {
            husk_fail(err, 0, "--memory-swap: needs -m (--memory) too");
            goto fail;
        }
        if (o->memory < MIN_MEMORY) {
            husk_fail(err, 0, "-m: the minimum memory limit is 6MB");
            goto fail;
        }
        if (o->memory_swap > 0 && o->memory_swap < o->memory) {
            husk_fail(err, 0, "--memory-swap: must not be below the memory limit (-m)");
            goto fail;
        }
        if (o->memory_swap < -2) {
            husk_fail(err, 0, "--memory-swap: invalid value");
            goto fail;
        }
        json_object *mem = json_object_new_object();
        json_object_object_add(mem, "limit", json_object_new_int64(o->memory));
        /* docker: without --memory-swap as much swap again as memory; -1 unlimited. */
        int64_t swap = o->memory_swap == -2 || o->memory_swap == 0 ? 2 * o->memory : o->memory_swap;
        if (swap_limit_supported())
            json_object_object_add(mem, "swap", json_object_new_int64(swap));
        json_object_object_add(res, "memory", mem);
    }
    json_object *cpu = NULL;
    if (o->nano_cpus >= 0) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        if (o->nano_cpus < 10000000 || (ncpu > 0 && o->nano_cpus > (int64_t)ncpu * 1000000000)) {
            husk_fail(err, 0, "--cpus: the range is 0.01 to %ld (the CPUs available)", ncpu > 0 ? ncpu : 1);
            goto fail;
        }
        cpu = json_object_new_object();
        json_object_object_add(cpu, "quota", json_object_new_int64(o->nano_cpus * CPU_PERIOD / 1000000000));
        json_object_object_add(cpu, "period", json_object_new_int64(CPU_PERIOD));
    }
    if (o->cpu_shares > 0) {   /* 0: docker's "unset" */
        if (!cpu)
            cpu = json_object_new_object();
        json_object_object_add(cpu, "shares", json_object_new_int64(o->cpu_shares));
    } else if (o->cpu_shares < -1) {
        json_object_put(cpu);
        husk_fail(err, 0, "--cpu-shares: must not be negative");
        goto fail;
    }
    if (cpu)
        json_object_object_add(res, "cpu", cpu);
    if (o->pids_limit != 0) {
        json_object *p = json_object_new_object();
        json_object_object_add(p, "limit", json_object_new_int64(o->pids_limit < 0 ? -1 : o->pids_limit));
        json_object_object_add(res, "pids", p);
    }
    *out = res;
    return 0;
fail:
    json_object_put(res);
    return -1;
}

/* ---- seccomp ---------------------------------------------------------------------- */

static int build_seccomp(const struct run_opts *o, const struct strv *caps, json_object **out, husk_err **err)
{
    *out = NULL;
    /* --privileged runs unconfined whatever the profile, as docker. */
    if (o->privileged || (o->seccomp && strcmp(o->seccomp, "unconfined") == 0))
        return 0;
    if (o->seccomp == NULL || o->seccomp[0] == '\0') {
        *out = ocispec_seccomp_for_caps((const char *const *)caps->v);
        return 0;
    }
    if (ocispec_seccomp_from_file(o->seccomp, (const char *const *)caps->v, out, err) < 0)
        return husk_err_prefix(err, "--security-opt seccomp=%s", o->seccomp);
    return 0;
}

/* ---- the whole config ------------------------------------------------------------- */

static char *default_hostname(const struct run_opts *o, const char *id)
{
    if (o->hostname && o->hostname[0])
        return xstrdup(o->hostname);
    return strndup(id, 12) ?: xstrdup("localhost");
}

static int check_hostname(const char *h, husk_err **err)
{
    /* HOST_NAME_MAX, and no character that would break /etc/hosts or the hostname file. */
    if (strlen(h) > 64)
        return husk_fail(err, 0, "--hostname %s: longer than 64 characters", h);
    for (const char *p = h; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
            return husk_fail(err, 0, "--hostname %s: invalid character '%c'", h, *p);
    return 0;
}

int ocispec_build(json_object *image_config, const struct run_opts *o, const char *id, const char *rootfs,
                  const char *userdata, json_object **out, husk_err **err)
{
    struct strv caps = { 0 };
    json_object *cfg = NULL, *proc = NULL, *mounts = NULL, *res = NULL, *seccomp = NULL;
    json_object *icfg = NULL;
    _cleanup_free_ char *hostname = default_hostname(o, id);
    int ret = -1;

    if (image_config && json_object_is_type(image_config, json_type_object))
        json_object_object_get_ex(image_config, "config", &icfg);
    if (icfg && !json_object_is_type(icfg, json_type_object))
        icfg = NULL;

    json_object *ldevs = json_object_new_array();
    if (check_hostname(hostname, err) < 0 || build_caps(o, &caps, err) < 0 ||
        build_process(icfg, o, rootfs, hostname, &caps, &proc, err) < 0 || build_mounts(o, userdata, &mounts, err) < 0 ||
        build_resources(o, ldevs, &res, err) < 0 || build_seccomp(o, &caps, &seccomp, err) < 0)
        goto out;

    cfg = json_object_new_object();
    json_object_object_add(cfg, "ociVersion", jstr(HUSK_OCI_VERSION));
    json_object_object_add(cfg, "process", steal_ptr(proc));
    json_object *root = json_object_new_object();
    json_object_object_add(root, "path", jstr(rootfs));
    json_object_object_add(root, "readonly", json_object_new_boolean(o->read_only));
    json_object_object_add(cfg, "root", root);
    json_object_object_add(cfg, "hostname", jstr(hostname));
    json_object_object_add(cfg, "mounts", steal_ptr(mounts));

    json_object *lx = json_object_new_object();
    json_object *nss = json_object_new_array();
    bool host_net = o->netns && !*o->netns;
    for (const char *const *t = (const char *const[]){ "pid", "ipc", "uts", "mount", "network", NULL }; *t; t++) {
        bool net = strcmp(*t, "network") == 0;
        if (net && host_net)
            continue;
        json_object *ns = json_object_new_object();
        json_object_object_add(ns, "type", jstr(*t));
        if (net && o->netns)
            json_object_object_add(ns, "path", jstr(o->netns));
        json_object_array_add(nss, ns);
    }
    json_object_object_add(lx, "namespaces", nss);
    /* docker's, for a container with a network namespace of its own: any user may
     * bind a low port and send ICMP echo with a datagram socket there, which
     * touches no one else's network (net.* sysctls are per namespace). */
    if (!host_net) { /* never the host's own settings */
        json_object *sysctl = json_object_new_object();
        json_object_object_add(sysctl, "net.ipv4.ip_unprivileged_port_start", jstr("0"));
        json_object_object_add(sysctl, "net.ipv4.ping_group_range", jstr("0 2147483647"));
        json_object_object_add(lx, "sysctl", sysctl);
    }
    if (json_object_array_length(ldevs) > 0)
        json_object_object_add(lx, "devices", json_object_get(ldevs));
    json_object_object_add(lx, "resources", steal_ptr(res));
    if (!o->privileged) {
        json_object_object_add(lx, "maskedPaths", jstrv(masked_paths));
        json_object_object_add(lx, "readonlyPaths", jstrv(readonly_paths));
    }
    if (seccomp)
        json_object_object_add(lx, "seccomp", steal_ptr(seccomp));
    json_object_object_add(cfg, "linux", lx);
    *out = steal_ptr(cfg);
    ret = 0;
out:
    json_object_put(ldevs);
    json_object_put(proc);
    json_object_put(mounts);
    json_object_put(res);
    json_object_put(seccomp);
    sv_free(&caps);
    return ret;
}

/* ---- /etc files ------------------------------------------------------------------- */

int ocispec_write_etc_files(const char *userdata, const char *hostname, husk_err **err)
{
    if (check_hostname(hostname, err) < 0)
        return -1;
    _cleanup_close_ int dfd = open(userdata, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return husk_fail(err, errno, "open %s", userdata);
    _cleanup_free_ char *hn = xasprintf("%s\n", hostname);
    /* docker's localhost lines; the container's own name on the loopback address,
     * since it has no other until it is on a network. */
    _cleanup_free_ char *hosts = xasprintf("127.0.0.1\tlocalhost\n"
                                           "::1\tlocalhost ip6-localhost ip6-loopback\n"
                                           "fe00::0\tip6-localnet\n"
                                           "ff00::0\tip6-mcastprefix\n"
                                           "ff02::1\tip6-allnodes\n"
                                           "ff02::2\tip6-allrouters\n"
                                           "127.0.0.1\t%s\n", hostname);
    /* No nameserver: without a network no lookup may leave the container (and the
     * host's resolver may be a loopback address that means nothing in here). */
    static const char resolv[] = "# husk: no network in this container, so no name server\n";
    if (write_file_atomic(dfd, "hostname", hn, strlen(hn), 0644, err) < 0 ||
        write_file_atomic(dfd, "hosts", hosts, strlen(hosts), 0644, err) < 0 ||
        write_file_atomic(dfd, "resolv.conf", resolv, sizeof(resolv) - 1, 0644, err) < 0)
        return husk_err_prefix(err, "%s", userdata);
    return 0;
}
