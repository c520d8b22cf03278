/* spec.c — see spec.h. Built with json-c so the output is always valid JSON. */
#include "spec.h"
#include "util.h"

#include <json-c/json.h>
#include <string.h>

#include "husk-config.h"

static json_object *strv(const char *const *v)
{
    json_object *a = json_object_new_array();
    for (; *v; v++)
        json_object_array_add(a, json_object_new_string(*v));
    return a;
}

static json_object *mount(const char *dest, const char *type, const char *src, const char *const *opts)
{
    json_object *m = json_object_new_object();
    json_object_object_add(m, "destination", json_object_new_string(dest));
    json_object_object_add(m, "type", json_object_new_string(type));
    json_object_object_add(m, "source", json_object_new_string(src));
    if (opts)
        json_object_object_add(m, "options", strv(opts));
    return m;
}

static json_object *idmap(unsigned host, unsigned size)
{
    json_object *a = json_object_new_array();
    json_object *m = json_object_new_object();
    json_object_object_add(m, "containerID", json_object_new_int(0));
    json_object_object_add(m, "hostID", json_object_new_int64(host));
    json_object_object_add(m, "size", json_object_new_int64(size));
    json_object_array_add(a, m);
    return a;
}

char *spec_default_json(bool rootless, uid_t uid, gid_t gid)
{
    static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };
    static const char *const masked[] = { "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                                          "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                                          "/proc/sched_debug", "/sys/firmware", "/proc/scsi", NULL };
    static const char *const ro[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                      "/proc/sysrq-trigger", NULL };
    json_object *root = json_object_new_object();
    json_object_object_add(root, "ociVersion", json_object_new_string(HUSK_OCI_VERSION));

    json_object *proc = json_object_new_object();
    json_object_object_add(proc, "terminal", json_object_new_boolean(1));
    json_object *user = json_object_new_object();
    json_object_object_add(user, "uid", json_object_new_int(0));
    json_object_object_add(user, "gid", json_object_new_int(0));
    json_object_object_add(proc, "user", user);
    json_object_object_add(proc, "args", strv((const char *const[]){ "sh", NULL }));
    json_object_object_add(proc, "env", strv((const char *const[]){
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL }));
    json_object_object_add(proc, "cwd", json_object_new_string("/"));
    json_object *cap = json_object_new_object();
    json_object_object_add(cap, "bounding", strv(caps));
    json_object_object_add(cap, "effective", strv(caps));
    json_object_object_add(cap, "permitted", strv(caps));
    json_object_object_add(proc, "capabilities", cap);
    json_object *rl = json_object_new_object();
    json_object_object_add(rl, "type", json_object_new_string("RLIMIT_NOFILE"));
    json_object_object_add(rl, "hard", json_object_new_int(1024));
    json_object_object_add(rl, "soft", json_object_new_int(1024));
    json_object *rls = json_object_new_array();
    json_object_array_add(rls, rl);
    json_object_object_add(proc, "rlimits", rls);
    json_object_object_add(proc, "noNewPrivileges", json_object_new_boolean(1));
    json_object_object_add(root, "process", proc);

    json_object *r = json_object_new_object();
    json_object_object_add(r, "path", json_object_new_string("rootfs"));
    json_object_object_add(r, "readonly", json_object_new_boolean(1));
    json_object_object_add(root, "root", r);
    json_object_object_add(root, "hostname", json_object_new_string("husk"));

    json_object *mounts = json_object_new_array();
    json_object_array_add(mounts, mount("/proc", "proc", "proc", NULL));
    json_object_array_add(mounts, mount("/dev", "tmpfs", "tmpfs",
        (const char *const[]){ "nosuid", "strictatime", "mode=755", "size=65536k", NULL }));
    json_object_array_add(mounts, mount("/dev/pts", "devpts", "devpts",
        rootless ? (const char *const[]){ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", NULL }
                 : (const char *const[]){ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL }));
    json_object_array_add(mounts, mount("/dev/shm", "tmpfs", "shm",
        (const char *const[]){ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL }));
    json_object_array_add(mounts, mount("/dev/mqueue", "mqueue", "mqueue",
        (const char *const[]){ "nosuid", "noexec", "nodev", NULL }));
    if (rootless) {
        json_object_array_add(mounts, mount("/sys", "none", "/sys",
            (const char *const[]){ "rbind", "nosuid", "noexec", "nodev", "ro", NULL }));
    } else {
        json_object_array_add(mounts, mount("/sys", "sysfs", "sysfs",
            (const char *const[]){ "nosuid", "noexec", "nodev", "ro", NULL }));
        json_object_array_add(mounts, mount("/sys/fs/cgroup", "cgroup", "cgroup",
            (const char *const[]){ "nosuid", "noexec", "nodev", "relatime", "ro", NULL }));
    }
    json_object_object_add(root, "mounts", mounts);

    json_object *lx = json_object_new_object();
    if (rootless) {
        json_object_object_add(lx, "uidMappings", idmap(uid, 1));
        json_object_object_add(lx, "gidMappings", idmap(gid, 1));
    } else {
        json_object *dev = json_object_new_object();
        json_object_object_add(dev, "allow", json_object_new_boolean(0));
        json_object_object_add(dev, "access", json_object_new_string("rwm"));
        json_object *devs = json_object_new_array();
        json_object_array_add(devs, dev);
        json_object *res = json_object_new_object();
        json_object_object_add(res, "devices", devs);
        json_object_object_add(lx, "resources", res);
    }
    json_object *nss = json_object_new_array();
    const char *types[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", NULL };
    for (const char **t = types; *t; t++) {
        if (rootless && strcmp(*t, "network") == 0)
            continue;
        json_object *ns = json_object_new_object();
        json_object_object_add(ns, "type", json_object_new_string(*t));
        json_object_array_add(nss, ns);
    }
    if (rootless) {
        json_object *ns = json_object_new_object();
        json_object_object_add(ns, "type", json_object_new_string("user"));
        json_object_array_add(nss, ns);
    }
    json_object_object_add(lx, "namespaces", nss);
    json_object_object_add(lx, "maskedPaths", strv(masked));
    json_object_object_add(lx, "readonlyPaths", strv(ro));
    json_object_object_add(root, "linux", lx);

    char *out = xasprintf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                                      JSON_C_TO_STRING_PRETTY_TAB |
                                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
    return out;
}
