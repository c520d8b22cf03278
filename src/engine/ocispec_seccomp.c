/* ocispec_seccomp.c — a --security-opt seccomp=FILE profile made into linux.seccomp.
 *
 * Users bring docker's profiles (docker's own default, or one edited from it), so
 * docker's format is read: "archMap" (the native architecture's entry gives the
 * architectures), syscalls with "names" (or the older single "name"), and
 * "includes"/"excludes" by "caps", "arches" and "minKernel" that decide whether a
 * rule applies to this container. What the OCI object has in common ("defaultAction",
 * "defaultErrnoRet", "architectures", "flags", "listenerPath", args, errnoRet) is
 * kept as it is, so an OCI linux.seccomp object is read unchanged. */
#include "ocispec_int.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#if defined(__x86_64__)
#define NATIVE_ARCH "SCMP_ARCH_X86_64"
#define NATIVE_GOARCH "amd64"
#elif defined(__aarch64__)
#define NATIVE_ARCH "SCMP_ARCH_AARCH64"
#define NATIVE_GOARCH "arm64"
#elif defined(__i386__)
#define NATIVE_ARCH "SCMP_ARCH_X86"
#define NATIVE_GOARCH "386"
#elif defined(__arm__)
#define NATIVE_ARCH "SCMP_ARCH_ARM"
#define NATIVE_GOARCH "arm"
#elif defined(__s390x__)
#define NATIVE_ARCH "SCMP_ARCH_S390X"
#define NATIVE_GOARCH "s390x"
#elif defined(__powerpc64__)
#define NATIVE_ARCH "SCMP_ARCH_PPC64LE"
#define NATIVE_GOARCH "ppc64le"
#elif defined(__riscv)
#define NATIVE_ARCH "SCMP_ARCH_RISCV64"
#define NATIVE_GOARCH "riscv64"
#else
#define NATIVE_ARCH ""
#define NATIVE_GOARCH ""
#endif

static bool str_in(json_object *arr, const char *s)
{
    if (!arr || !json_object_is_type(arr, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        const char *x = json_object_get_string(json_object_array_get_idx(arr, i));
        if (x && strcmp(x, s) == 0)
            return true;
    }
    return false;
}

/* "5.8" <= the running kernel? */
static bool kernel_at_least(const char *want)
{
    struct utsname u;
    unsigned a = 0, b = 0, x = 0, y = 0;
    if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &x, &y) < 1 || sscanf(want, "%u.%u", &a, &b) < 1)
        return true;
    return x > a || (x == a && y >= b);
}

/* includes: every condition given must hold (caps: all of them, arches: one of them). */
static bool includes_hold(json_object *inc, const char *const *caps)
{
    if (!inc)
        return true;
    json_object *v;
    if (json_object_object_get_ex(inc, "caps", &v) && json_object_is_type(v, json_type_array))
        for (size_t i = 0; i < json_object_array_length(v); i++)
            if (!ocispec_has_cap(caps, json_object_get_string(json_object_array_get_idx(v, i))))
                return false;
    if (json_object_object_get_ex(inc, "arches", &v) && json_object_array_length(v) > 0 &&
        !str_in(v, NATIVE_GOARCH))
        return false;
    if (json_object_object_get_ex(inc, "minKernel", &v) && json_object_get_string(v) &&
        !kernel_at_least(json_object_get_string(v)))
        return false;
    return true;
}

/* excludes: the rule is dropped when any cap listed is held or the arch is listed. */
static bool excludes_hit(json_object *exc, const char *const *caps)
{
    if (!exc)
        return false;
    json_object *v;
    if (json_object_object_get_ex(exc, "caps", &v) && json_object_is_type(v, json_type_array))
        for (size_t i = 0; i < json_object_array_length(v); i++)
            if (ocispec_has_cap(caps, json_object_get_string(json_object_array_get_idx(v, i))))
                return true;
    if (json_object_object_get_ex(exc, "arches", &v) && str_in(v, NATIVE_GOARCH))
        return true;
    if (json_object_object_get_ex(exc, "minKernel", &v) && json_object_get_string(v) &&
        kernel_at_least(json_object_get_string(v)))
        return true;
    return false;
}

static int convert(json_object *in, const char *const *caps, json_object **out, husk_err **err)
{
    if (!json_object_is_type(in, json_type_object))
        return husk_fail(err, 0, "expected a JSON object");
    json_object *s = json_object_new_object();
    static const char *const kept[] = { "defaultAction", "defaultErrnoRet", "architectures", "flags",
                                        "listenerPath", "listenerMetadata" };
    for (size_t i = 0; i < ARRAY_SIZE(kept); i++) {
        json_object *v;
        if (json_object_object_get_ex(in, kept[i], &v))
            json_object_object_add(s, kept[i], json_object_get(v));
    }
    json_object *v;
    if (!json_object_object_get_ex(s, "defaultAction", &v)) {
        json_object_put(s);
        return husk_fail(err, 0, "no defaultAction");
    }
    /* archMap: the entry of this machine's architecture gives the list. */
    json_object *amap;
    if (json_object_object_get_ex(in, "archMap", &amap) && json_object_is_type(amap, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(amap); i++) {
            json_object *e = json_object_array_get_idx(amap, i), *a, *subs;
            if (!json_object_object_get_ex(e, "architecture", &a) || strcmp(json_object_get_string(a), NATIVE_ARCH))
                continue;
            json_object *arches = json_object_new_array();
            json_object_array_add(arches, json_object_new_string(NATIVE_ARCH));
            if (json_object_object_get_ex(e, "subArchitectures", &subs) && json_object_is_type(subs, json_type_array))
                for (size_t k = 0; k < json_object_array_length(subs); k++)
                    json_object_array_add(arches, json_object_get(json_object_array_get_idx(subs, k)));
            json_object_object_add(s, "architectures", arches);
        }
    }
    json_object *rules = json_object_new_array(), *sys;
    if (json_object_object_get_ex(in, "syscalls", &sys) && json_object_is_type(sys, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(sys); i++) {
            json_object *r = json_object_array_get_idx(sys, i), *x;
            if (!json_object_is_type(r, json_type_object))
                continue;
            json_object *inc = json_object_object_get_ex(r, "includes", &x) ? x : NULL;
            json_object *exc = json_object_object_get_ex(r, "excludes", &x) ? x : NULL;
            if (!includes_hold(inc, caps) || excludes_hit(exc, caps))
                continue;
            json_object *o = json_object_new_object();
            json_object *names;
            if (json_object_object_get_ex(r, "names", &names)) {
                json_object_object_add(o, "names", json_object_get(names));
            } else if (json_object_object_get_ex(r, "name", &x)) {
                names = json_object_new_array();
                json_object_array_add(names, json_object_get(x));
                json_object_object_add(o, "names", names);
            }
            static const char *const fields[] = { "action", "errnoRet", "args" };
            for (size_t k = 0; k < ARRAY_SIZE(fields); k++)
                if (json_object_object_get_ex(r, fields[k], &x) && !json_object_is_type(x, json_type_null))
                    json_object_object_add(o, fields[k], json_object_get(x));
            json_object_array_add(rules, o);
        }
    }
    json_object_object_add(s, "syscalls", rules);
    *out = s;
    return 0;
}

int ocispec_seccomp_from_file(const char *path, const char *const *caps, json_object **out, husk_err **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (read_file_at(AT_FDCWD, path, 16 << 20, &text, &len, err) < 0)
        return -1;
    json_tokener *tok = json_tokener_new();
    json_object *in = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (in == NULL || je != json_tokener_success) {
        json_object_put(in);
        return husk_fail(err, 0, "not valid JSON: %s", json_tokener_error_desc(je));
    }
    int r = convert(in, caps, out, err);
    json_object_put(in);
    return r;
}
