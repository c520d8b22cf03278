/* cgroup_freezer.c — pause and resume: stopping every process of the container
 * at once, without a signal it could see or handle.
 *
 * cgroup v1 has a freezer controller: writing FROZEN to freezer.state asks the
 * kernel to stop every task of the cgroup; the file reads FREEZING until the last
 * one is stopped, then FROZEN. cgroup v2 has the same in the core of every
 * non-root cgroup: cgroup.freeze takes 1, and cgroup.events says "frozen 1" once
 * it is done (the file is pollable: the kernel notifies on every change).
 * cg->freezer (chosen by cgroup_create) is the v1 freezer dir when the host has
 * one, else the container's v2 dir.
 *
 * A freeze that does not complete (a task stuck in an uninterruptible sleep, e.g.
 * on a dead NFS server) is undone: a half-frozen container would be neither
 * running nor paused, and nothing would ever thaw it. */
#include "cgroups.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* How long a freeze may take before it is undone. runc's budget is similar. */
#define FREEZE_TIMEOUT_MS 5000

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static bool is_v1(const char *dir)
{
    _cleanup_free_ char *f = xasprintf("%s/freezer.state", dir);
    return access(f, F_OK) == 0;
}

/* freezer.state without its newline: "THAWED", "FREEZING" or "FROZEN". */
static int v1_read(const char *dir, char *buf, size_t size, husk_err **err)
{
    _cleanup_free_ char *f = xasprintf("%s/freezer.state", dir), *text = NULL;
    if (read_file_at(AT_FDCWD, f, 64, &text, NULL, err) < 0)
        return -1;
    text[strcspn(text, "\n")] = '\0';
    snprintf(buf, size, "%s", text);
    return 0;
}

static int v1_write(const char *dir, const char *value, husk_err **err)
{
    _cleanup_free_ char *f = xasprintf("%s/freezer.state", dir);
    return write_file_at(AT_FDCWD, f, value, strlen(value), err);
}

static int v1_set(const char *dir, bool freeze, husk_err **err)
{
    const char *want = freeze ? "FROZEN" : "THAWED";
    long long deadline = now_ms() + FREEZE_TIMEOUT_MS;
    char state[32] = "";

    for (int i = 0;; i++) {
        /* Written again on every round: a task forked while the cgroup was
         * FREEZING can escape the first request (runc does the same). */
        if (v1_write(dir, want, err) < 0 || v1_read(dir, state, sizeof(state), err) < 0)
            return -1;
        if (strcmp(state, want) == 0)
            return 0;
        if (now_ms() >= deadline)
            break;
        sleep_ms(i < 10 ? 1 : 10);
    }
    if (freeze) {
        /* Undo: a cgroup stuck in FREEZING would stay half-stopped forever. */
        v1_write(dir, "THAWED", NULL);
        return husk_fail(err, EBUSY, "freeze %s: still %s after %d ms (a process may be in an uninterruptible sleep)",
                         dir, state, FREEZE_TIMEOUT_MS);
    }
    return husk_fail(err, EBUSY, "thaw %s: still %s after %d ms", dir, state, FREEZE_TIMEOUT_MS);
}

/* The "frozen" line of cgroup.events: 1, 0, or -1 on error. */
static int v2_frozen(int events_fd, const char *path, husk_err **err)
{
    char buf[512];
    ssize_t n = pread(events_fd, buf, sizeof(buf) - 1, 0);
    if (n < 0)
        return husk_fail(err, errno, "read %s", path);
    buf[n] = '\0';
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, "frozen ", 7) == 0)
            return line[7] == '1';
    return husk_fail(err, 0, "read %s: no \"frozen\" line (kernel older than 5.2?)", path);
}

static int v2_set(const char *dir, bool freeze, husk_err **err)
{
    _cleanup_free_ char *ff = xasprintf("%s/cgroup.freeze", dir);
    _cleanup_free_ char *ef = xasprintf("%s/cgroup.events", dir);
    /* Opened before the write so that no change notification can be missed. */
    _cleanup_close_ int efd = open(ef, O_RDONLY | O_CLOEXEC);
    long long deadline = now_ms() + FREEZE_TIMEOUT_MS;

    if (efd < 0)
        return husk_fail(err, errno, "open %s", ef);
    if (write_file_at(AT_FDCWD, ff, freeze ? "1" : "0", 1, err) < 0)
        return -1;
    for (;;) {
        int r = v2_frozen(efd, ef, err);
        if (r < 0)
            return -1;
        if (r == (int)freeze)
            return 0;
        long long left = deadline - now_ms();
        if (left <= 0)
            break;
        /* kernfs signals a change of cgroup.events as POLLPRI (and POLLERR). */
        struct pollfd p = { .fd = efd, .events = POLLPRI };
        if (poll(&p, 1, (int)(left < 100 ? left : 100)) < 0 && errno != EINTR)
            return husk_fail(err, errno, "poll %s", ef);
    }
    if (freeze) {
        write_file_at(AT_FDCWD, ff, "0", 1, NULL);
        return husk_fail(err, EBUSY, "freeze %s: not frozen after %d ms", dir, FREEZE_TIMEOUT_MS);
    }
    return husk_fail(err, EBUSY, "thaw %s: still frozen after %d ms", dir, FREEZE_TIMEOUT_MS);
}

static int set_frozen(const struct husk_cgroup *cg, bool freeze, husk_err **err)
{
    if (cg->freezer == NULL)
        return husk_fail(err, ENOTSUP, "the container has no freezer cgroup (no v1 freezer controller and no "
                                       "cgroup v2 hierarchy on this host)");
    return is_v1(cg->freezer) ? v1_set(cg->freezer, freeze, err) : v2_set(cg->freezer, freeze, err);
}

int cgroup_freeze(const struct husk_cgroup *cg, husk_err **err) { return set_frozen(cg, true, err); }

int cgroup_thaw(const struct husk_cgroup *cg, husk_err **err) { return set_frozen(cg, false, err); }

bool cgroup_frozen(const struct husk_cgroup *cg)
{
    char state[32] = "";
    if (cg->freezer == NULL)
        return false;
    if (is_v1(cg->freezer))
        return v1_read(cg->freezer, state, sizeof(state), NULL) == 0 && strcmp(state, "THAWED") != 0;
    _cleanup_free_ char *ff = xasprintf("%s/cgroup.freeze", cg->freezer), *text = NULL;
    return read_file_at(AT_FDCWD, ff, 64, &text, NULL, NULL) == 0 && text[0] == '1';
}

/* ---- a cgroup frozen by someone else ------------------------------------------- */

/* v2: "frozen 1" in cgroup.events, or cgroup.freeze asked for it. -1: not a v2 dir. */
static int v2_dir_frozen(const char *dir)
{
    _cleanup_free_ char *ef = xasprintf("%s/cgroup.events", dir), *ff = xasprintf("%s/cgroup.freeze", dir);
    _cleanup_free_ char *ev = NULL, *fr = NULL;
    if (read_file_at(AT_FDCWD, ef, 512, &ev, NULL, NULL) < 0)
        return -1;
    if (strstr(ev, "frozen 1"))
        return 1;
    return read_file_at(AT_FDCWD, ff, 64, &fr, NULL, NULL) == 0 && fr[0] == '1';
}

char *cgroup_frozen_why(const struct husk_cgroup *cg)
{
    char state[32] = "";

    /* v1: a child of a frozen cgroup reads FROZEN too (freezer.parent_freezing 1). */
    if (cg->freezer && is_v1(cg->freezer) && v1_read(cg->freezer, state, sizeof(state), NULL) == 0 &&
        strcmp(state, "THAWED") != 0) {
        _cleanup_free_ char *pf = xasprintf("%s/freezer.parent_freezing", cg->freezer), *parent = NULL;
        bool by_parent = read_file_at(AT_FDCWD, pf, 64, &parent, NULL, NULL) == 0 && parent[0] == '1';
        return xasprintf("%s (freezer.state %s%s)", cg->freezer, state, by_parent ? ", from a parent cgroup" : "");
    }
    /* v2 (also the unified dir of a hybrid host): a new child of a frozen cgroup
     * starts frozen, so cgroup.events covers ancestors as well. */
    for (char **p = cg->paths; p && *p; p++)
        if (v2_dir_frozen(*p) == 1)
            return xasprintf("%s (cgroup.events: frozen)", *p);
    return NULL;
}

bool cgroup_thaw_all(const struct husk_cgroup *cg)
{
    if (cg->freezer && is_v1(cg->freezer) && cgroup_frozen(cg))
        v1_set(cg->freezer, false, NULL);
    for (char **p = cg->paths; p && *p; p++) {
        _cleanup_free_ char *ff = xasprintf("%s/cgroup.freeze", *p), *fr = NULL;
        if (read_file_at(AT_FDCWD, ff, 64, &fr, NULL, NULL) == 0 && fr[0] == '1')
            v2_set(*p, false, NULL);
    }
    _cleanup_free_ char *why = cgroup_frozen_why(cg);
    return why == NULL;
}
