/* caps.c — see caps.h.
 *
 * The order matters and is the caller's: caps_drop_bounding() while we are still
 * fully privileged (dropping from the bounding set needs CAP_SETPCAP), then the uid
 * switch with PR_SET_KEEPCAPS (process_setup_user), then caps_apply(). */
#include "caps.h"
#include "config_json.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/vfs.h>
#include <linux/magic.h>

/* Capability numbers are below 64 for the foreseeable future: the kernel's sets are
 * two 32-bit words. Anything larger is treated as unknown. */
#define CAP_NAME_SLOTS 64

static inline void cap_freep(cap_t *c)
{
    if (*c)
        cap_free(*c);
}
#define _cleanup_cap_ _cleanup_(cap_freep)

/* Canonical upper-case names, filled lazily from libcap and kept for the life of the
 * process (cap_name_of() hands out static strings). */
static char *cap_names[CAP_NAME_SLOTS];
static bool cap_names_done[CAP_NAME_SLOTS];

const char *cap_name_of(int cap)
{
    if (cap < 0 || cap >= CAP_NAME_SLOTS)
        return NULL;
    if (!cap_names_done[cap]) {
        char *lower = cap_to_name((cap_value_t)cap);
        cap_names_done[cap] = true;
        /* libcap answers a number it has no name for with the decimal number. */
        if (lower && strncasecmp(lower, "cap_", 4) == 0) {
            char *up = xstrdup(lower);
            for (char *s = up; *s; s++)
                *s = (char)toupper((unsigned char)*s);
            cap_names[cap] = up;
        }
        if (lower)
            cap_free(lower);
    }
    return cap_names[cap];
}

int cap_number(const char *name)
{
    cap_value_t v;
    char lower[64];
    size_t n;

    /* Only the canonical spelling is accepted ("CAP_CHOWN"), as runc does; libcap
     * itself would also take "chown", "cap_chown" or a bare number. */
    if (name == NULL || strncmp(name, "CAP_", 4) != 0 || name[4] == '\0')
        return -1;
    n = strlen(name);
    if (n >= sizeof lower)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!(isupper(c) || isdigit(c) || c == '_'))
            return -1;
        lower[i] = (char)tolower(c);
    }
    lower[n] = '\0';
    if (cap_from_name(lower, &v) < 0 || v < 0 || v >= CAP_NAME_SLOTS)
        return -1;
    /* Round-trip so that nothing but the exact name maps to the number. */
    const char *canon = cap_name_of((int)v);
    if (canon == NULL || strcmp(canon, name) != 0)
        return -1;
    return (int)v;
}

int cap_last(void)
{
    static int cached = -1;
    _cleanup_close_ int fd = -1;
    char buf[32];
    ssize_t r;

    if (cached >= 0)
        return cached;
    fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && (r = read_all(fd, buf, sizeof buf - 1)) > 0) {
        char *end;
        buf[r] = '\0';
        long v = strtol(buf, &end, 10);
        if (end != buf && v >= 0 && v < CAP_NAME_SLOTS)
            cached = (int)v;
    }
    if (cached < 0) {
        /* No /proc (e.g. not mounted yet): ask the kernel directly; PR_CAPBSET_READ
         * fails with EINVAL for a capability it does not know. */
        int c = 0;
        while (c + 1 < CAP_NAME_SLOTS && prctl(PR_CAPBSET_READ, (unsigned long)(c + 1), 0, 0, 0) >= 0)
            c++;
        cached = c;
    }
    return cached;
}

void caps_note_unknown(char ***unknown, const char *name)
{
    size_t n = 0;
    for (char **u = *unknown; u && *u; u++, n++)
        if (strcmp(*u, name) == 0)
            return;
    *unknown = xrealloc(*unknown, (n + 2) * sizeof(char *));
    (*unknown)[n] = xstrdup(name);
    (*unknown)[n + 1] = NULL;
}

char *caps_ignored_list(const struct oci_capabilities *caps, int last)
{
    if (caps == NULL)
        return NULL;
    const int *sets[] = {
        caps->has_bounding ? caps->bounding : NULL, caps->has_effective ? caps->effective : NULL,
        caps->has_inheritable ? caps->inheritable : NULL, caps->has_permitted ? caps->permitted : NULL,
        caps->has_ambient ? caps->ambient : NULL,
    };
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (f == NULL)
        return NULL;
    const char *sep = "";
    for (char **u = caps->unknown; u && *u; u++) {
        _cleanup_free_ char *q = cj_quote(*u);
        fprintf(f, "%s%s", sep, q);
        sep = ", ";
    }
    /* Known to husk, but not to the running kernel (a config for a newer one). */
    unsigned long long seen = 0;
    for (size_t s = 0; s < ARRAY_SIZE(sets); s++)
        for (const int *p = sets[s]; p && *p >= 0; p++) {
            if (*p <= last || *p >= CAP_NAME_SLOTS || (seen & (1ULL << *p)))
                continue;
            seen |= 1ULL << *p;
            const char *name = cap_name_of(*p);
            if (name)
                fprintf(f, "%s\"%s\"", sep, name);
            else
                fprintf(f, "%scapability %d", sep, *p);
            sep = ", ";
        }
    fclose(f);
    if (out && *out == '\0') {
        free(out);
        out = NULL;
    }
    return out;
}

void caps_warn_ignored(const struct oci_capabilities *caps)
{
    _cleanup_free_ char *list = caps_ignored_list(caps, cap_last());
    if (list)
        husk_log(HUSK_LOG_WARNING, "ignoring unknown or unavailable capabilities: %s", list);
}

/* Whether cap is listed in a -1-terminated set (NULL set = empty). */
static bool set_has(const int *set, int cap)
{
    if (set == NULL)
        return false;
    for (; *set >= 0; set++)
        if (*set == cap)
            return true;
    return false;
}

static const int *set_of(const struct oci_capabilities *caps, cap_flag_t which)
{
    if (caps == NULL)
        return NULL;
    switch (which) {
    case CAP_EFFECTIVE:
        return caps->has_effective ? caps->effective : NULL;
    case CAP_PERMITTED:
        return caps->has_permitted ? caps->permitted : NULL;
    case CAP_INHERITABLE:
        return caps->has_inheritable ? caps->inheritable : NULL;
    }
    return NULL;
}

static const char *name_or_number(int cap, char *buf, size_t len)
{
    const char *n = cap_name_of(cap);
    if (n)
        return n;
    snprintf(buf, len, "capability %d", cap);
    return buf;
}

/* The bounding set from the CapBnd line of /proc/self/status, in one read instead
 * of a PR_CAPBSET_READ per capability. Only from a file that is on a procfs: past
 * pivot_root /proc is the container's, and without a proc mount in the config the
 * image's own directory, whose "self/status" could claim anything. ("self" exists
 * only at the root of a procfs, so a procfs file reached by that name is ours.) */
static bool read_bounding(uint64_t *set)
{
    char buf[4096];
    struct statfs sfs;
    _cleanup_close_ int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
        return false;
    ssize_t n = read_all(fd, buf, sizeof buf - 1);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    const char *k = strstr(buf, "\nCapBnd:");
    if (k == NULL)
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(k + 9, &end, 16);
    if (errno || end == k + 9 || (*end != '\n' && *end != '\0'))
        return false;
    *set = v;
    return true;
}

int caps_drop_bounding(const struct oci_capabilities *caps, husk_err **err)
{
    /* An absent process.capabilities, or an absent bounding list, means an empty
     * bounding set, as runc does. Keeping the full set here would be unsafe: a uid 0
     * process gets its permitted set refilled from the bounding set at execve, so
     * clearing effective/permitted alone would not take anything away from root. */
    const int *keep = caps && caps->has_bounding ? caps->bounding : NULL;
    int last = cap_last();
    char nb[32];
    uint64_t held = 0;
    bool known = read_bounding(&held);

    for (int c = 0; c <= last; c++) {
        if (set_has(keep, c))
            continue;
        /* Already gone (a parent runtime or the host dropped it): nothing to do, and
         * no CAP_SETPCAP needed. (The set only ever shrinks, so what the read above
         * says is gone still is.) */
        if (known && c < 64 && !((held >> c) & 1))
            continue;
        int in = known ? 1 : prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0);
        if (in == 0)
            continue;
        if (in < 0 && errno == EINVAL)
            break;
        if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) < 0)
            return husk_fail(err, errno, "drop %s from the bounding set", name_or_number(c, nb, sizeof nb));
    }
    return 0;
}

/* Fill one flag of cap_d from a -1-terminated set, skipping capabilities the running
 * kernel does not know (runc ignores those too; the kernel would reject the set). */
static int fill_flag(cap_t cap_d, cap_flag_t flag, const int *set, husk_err **err)
{
    int last = cap_last();
    if (set == NULL)
        return 0;
    for (; *set >= 0; set++) {
        cap_value_t v = (cap_value_t)*set;
        if (*set > last)
            continue;
        if (cap_set_flag(cap_d, flag, 1, &v, CAP_SET) < 0)
            return husk_fail(err, errno, "cap_set_flag %d", *set);
    }
    return 0;
}

/* After cap_set_proc() failed with EPERM, find the capability that explains it. */
static int explain_eperm(const struct oci_capabilities *caps, husk_err **err)
{
    _cleanup_cap_ cap_t cur = cap_get_proc();
    const int *perm = set_of(caps, CAP_PERMITTED), *inh = set_of(caps, CAP_INHERITABLE);
    int last = cap_last();
    char nb[32];

    for (const int *p = perm; cur && p && *p >= 0; p++) {
        cap_flag_value_t v = CAP_CLEAR;
        if (*p <= last && cap_get_flag(cur, (cap_value_t)*p, CAP_PERMITTED, &v) == 0 && v == CAP_CLEAR)
            return husk_fail(err, EPERM, "set capabilities: %s is in the permitted set but the runtime does not hold it",
                             name_or_number(*p, nb, sizeof nb));
    }
    for (const int *p = inh; p && *p >= 0; p++)
        if (*p <= last && prctl(PR_CAPBSET_READ, (unsigned long)*p, 0, 0, 0) == 0)
            return husk_fail(err, EPERM, "set capabilities: %s is in the inheritable set but not in the bounding set",
                             name_or_number(*p, nb, sizeof nb));
    return husk_fail(err, EPERM, "set capabilities");
}

int caps_apply(const struct oci_capabilities *caps, husk_err **err)
{
    _cleanup_cap_ cap_t want = NULL;
    const int *eff = set_of(caps, CAP_EFFECTIVE), *perm = set_of(caps, CAP_PERMITTED);
    const int *inh = set_of(caps, CAP_INHERITABLE);
    const int *amb = caps && caps->has_ambient ? caps->ambient : NULL;
    int last = cap_last();
    char nb[32];

    /* The kernel insists on effective ⊆ permitted. Quietly widening permitted would
     * grant something the config did not ask for, so say which one is wrong instead. */
    for (const int *p = eff; p && *p >= 0; p++)
        if (*p <= last && !set_has(perm, *p))
            return husk_fail(err, 0, "capability %s is in the effective set but not in the permitted set",
                             name_or_number(*p, nb, sizeof nb));
    /* An ambient capability must be both permitted and inheritable (prctl rule). */
    for (const int *p = amb; p && *p >= 0; p++)
        if (*p <= last && (!set_has(perm, *p) || !set_has(inh, *p)))
            return husk_fail(err, 0,
                             "ambient capability %s must also be in the permitted and inheritable sets",
                             name_or_number(*p, nb, sizeof nb));

    /* Exactly the configured sets, everything else cleared. In particular the
     * inheritable set starts empty: an inherited inheritable set would let file
     * capabilities of binaries in the image escalate (CVE-2022-29162). */
    want = cap_init();
    if (want == NULL)
        return husk_fail(err, errno, "cap_init");
    if (fill_flag(want, CAP_EFFECTIVE, eff, err) < 0 || fill_flag(want, CAP_PERMITTED, perm, err) < 0 ||
        fill_flag(want, CAP_INHERITABLE, inh, err) < 0)
        return -1;
    if (cap_set_proc(want) < 0) {
        if (errno == EPERM)
            return explain_eperm(caps, err);
        return husk_fail(err, errno, "set capabilities");
    }

    /* Ambient: start from nothing, then raise what is asked, so that nothing the
     * runtime itself inherited leaks into the container. */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
        return husk_fail(err, errno, "clear the ambient capability set");
    for (const int *p = amb; p && *p >= 0; p++) {
        if (*p > last)
            continue;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)*p, 0, 0) < 0)
            return husk_fail(err, errno, "raise ambient capability %s", name_or_number(*p, nb, sizeof nb));
    }

    /* The uid switch is done; keepcaps must not survive into whatever the process
     * does later (it is cleared by execve anyway, this is belt and braces). */
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return husk_fail(err, errno, "prctl(PR_SET_KEEPCAPS, 0)");
    return 0;
}
