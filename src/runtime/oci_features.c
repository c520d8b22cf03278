/* oci_features.c — see oci_features.h. */
#include "oci_features.h"

#include "caps.h"
#include "config.h"
#include "husk-config.h"
#include "mounts.h"
#include "seccomp_filter.h"
#include "util.h"

#include <json-c/json.h>
#include <seccomp.h>
#include <stdbool.h>

/* json-c returns NULL only when out of memory; like xmalloc, give up then. */
static struct json_object *must(struct json_object *o)
{
    if (o == NULL)
        abort();
    return o;
}

static void add(struct json_object *obj, const char *key, struct json_object *val)
{
    if (json_object_object_add(obj, key, must(val)) < 0)
        abort();
}

static void push(struct json_object *arr, const char *s)
{
    if (json_object_array_add(arr, must(json_object_new_string(s))) < 0)
        abort();
}

static struct json_object *enabled(bool on)
{
    struct json_object *o = must(json_object_new_object());
    add(o, "enabled", json_object_new_boolean(on));
    return o;
}

/* An array of every name a NULL-terminated accessor hands out. */
static struct json_object *names(const char *(*at)(size_t))
{
    struct json_object *a = must(json_object_new_array());
    for (size_t i = 0; at(i); i++)
        push(a, at(i));
    return a;
}

static struct json_object *mount_options(void)
{
    struct json_object *a = must(json_object_new_array());
    const char *n;
    bool applied;
    for (size_t i = 0; (n = mount_opt_name_at(i, &applied)); i++)
        if (applied)
            push(a, n);
    return a;
}

static struct json_object *namespaces(void)
{
    struct json_object *a = must(json_object_new_array());
    for (int t = 0; t < OCI_NS_COUNT; t++)
        push(a, ns_type_name((enum oci_ns_type)t));
    return a;
}

/* Every name libcap knows, which is what the config parser accepts; numbers are
 * dense from 0, so the first one without a name ends the list. A capability the
 * running kernel lacks is still recognised (create skips it), as features-linux.md
 * asks. */
static struct json_object *capabilities(void)
{
    struct json_object *a = must(json_object_new_array());
    const char *n;
    for (int c = 0; (n = cap_name_of(c)); c++)
        push(a, n);
    return a;
}

static struct json_object *seccomp(void)
{
    struct json_object *o = must(json_object_new_object());
    struct json_object *archs = must(json_object_new_array());
    struct json_object *known = must(json_object_new_array());
    struct json_object *supported = must(json_object_new_array());
    const char *n;
    bool usable;

    add(o, "enabled", json_object_new_boolean(true));
    add(o, "actions", names(seccomp_action_name_at));
    add(o, "operators", names(config_seccomp_op_name));
    /* Names the spec lists but this libseccomp cannot filter for are refused by
     * create, so they are not "recognised" here. */
    for (size_t i = 0; (n = seccomp_arch_name_at(i, &usable)); i++)
        if (usable)
            push(archs, n);
    add(o, "archs", archs);
    for (size_t i = 0; (n = config_seccomp_flag_name(i)); i++) {
        push(known, n);
        if (seccomp_flag_supported(n))
            push(supported, n);
    }
    add(o, "knownFlags", known);
    add(o, "supportedFlags", supported);
    return o;
}

static struct json_object *cgroup(void)
{
    struct json_object *o = must(json_object_new_object());
    add(o, "v1", json_object_new_boolean(true));
    add(o, "v2", json_object_new_boolean(true));
    /* --systemd-cgroup is refused (cli/main.c): husk writes cgroupfs itself. */
    add(o, "systemd", json_object_new_boolean(false));
    add(o, "systemdUser", json_object_new_boolean(false));
    add(o, "rdma", json_object_new_boolean(true));   /* linux.resources.rdma, cgroup_v1.c */
    return o;
}

static struct json_object *linux_features(void)
{
    struct json_object *o = must(json_object_new_object());
    struct json_object *ext = must(json_object_new_object());

    add(o, "namespaces", namespaces());
    add(o, "capabilities", capabilities());
    add(o, "cgroup", cgroup());
    add(o, "seccomp", seccomp());
    add(o, "apparmor", enabled(false));
    add(o, "selinux", enabled(false));
    add(o, "intelRdt", enabled(false));
    /* mounts[].uidMappings/gidMappings, idmap and ridmap (mount_sources.c). */
    add(ext, "idmap", enabled(true));
    add(o, "mountExtensions", ext);
    add(o, "netDevices", enabled(false));
    return o;
}

static struct json_object *annotations(void)
{
    struct json_object *o = must(json_object_new_object());
    /* The libseccomp husk runs with, which may be newer than the one it was built
     * against; the key is the one runc uses. */
    const struct scmp_version *v = seccomp_version();
    _cleanup_free_ char *ver = xasprintf("%u.%u.%u", v->major, v->minor, v->micro);
    add(o, "io.github.seccomp.libseccomp.version", json_object_new_string(ver));
    /* checkpoint/restore with runc's flags and semantics (criu.h), under runc's key. */
    add(o, "org.opencontainers.runc.checkpoint.enabled", json_object_new_string("true"));
    return o;
}

struct json_object *features_json(void)
{
    struct json_object *o = must(json_object_new_object());
    add(o, "ociVersionMin", json_object_new_string(HUSK_OCI_VERSION_MIN));
    add(o, "ociVersionMax", json_object_new_string(HUSK_OCI_VERSION));
    add(o, "hooks", names(config_hook_name));
    add(o, "mountOptions", mount_options());
    add(o, "linux", linux_features());
    add(o, "annotations", annotations());
    return o;
}

char *features_text(void)
{
    struct json_object *o = features_json();
    int how = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE;
    char *s = xasprintf("%s\n", json_object_to_json_string_ext(o, how));
    json_object_put(o);
    return s;
}
