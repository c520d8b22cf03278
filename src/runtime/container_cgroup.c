/* container_cgroup.c — the verbs that act on a created container through its
 * cgroups: pause, resume, update, events, ps.
 *
 * Each finds the container's cgroup directories in its state (create recorded
 * them), checks the live status, and leaves the kernel work to cgroup_freezer.c,
 * cgroups.c (cgroup_update_resources) and cgroup_stats.c. pause, resume and
 * update hold the container's lock, so they serialize with start, kill and
 * delete; events and ps only read, and must not keep delete waiting. */
#include "container.h"

#include "cgroups.h"
#include "config_json.h"
#include "newsys.h"
#include "log.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

static void cgroup_of(const struct husk_state *st, struct husk_cgroup *cg)
{
    cg->paths = st->cgroup_paths;
    cg->created = st->cgroup_created;
    cg->freezer = st->cgroup_freezer;
}

/* ---- pause, resume ------------------------------------------------------------- */

int container_pause(const char *root, const char *id, husk_err **err)
{
    _cleanup_close_ int dirfd = -1;
    _cleanup_state_ struct husk_state *st = NULL;
    struct husk_cgroup cg;

    if (container_load_state(root, id, &dirfd, &st, err) < 0)
        return -1;
    enum husk_status s = state_status(dirfd, st);
    if (s == HUSK_PAUSED)
        return husk_fail(err, 0, "container %s is already paused", id);
    /* A created container may be paused too (its init waits for start), as runc allows. */
    if (s != HUSK_RUNNING && s != HUSK_CREATED)
        return husk_fail(err, 0, "cannot pause container %s: it is %s", id, status_name(s));
    cgroup_of(st, &cg);
    if (cgroup_freeze(&cg, err) < 0)
        return husk_err_prefix(err, "pause %s", id);
    return 0;
}

int container_resume(const char *root, const char *id, husk_err **err)
{
    _cleanup_close_ int dirfd = -1;
    _cleanup_state_ struct husk_state *st = NULL;
    struct husk_cgroup cg;

    if (container_load_state(root, id, &dirfd, &st, err) < 0)
        return -1;
    enum husk_status s = state_status(dirfd, st);
    if (s != HUSK_PAUSED)
        return husk_fail(err, 0, "cannot resume container %s: it is %s, not paused", id, status_name(s));
    cgroup_of(st, &cg);
    if (cgroup_thaw(&cg, err) < 0)
        return husk_err_prefix(err, "resume %s", id);
    return 0;
}

/* ---- update -------------------------------------------------------------------- */

int resources_parse(const char *text, size_t len, const char *name, struct oci_linux **out, husk_err **err)
{
    struct json_object *doc = NULL;
    struct cj c = { .name = name, .err = err };

    *out = NULL;
    if (cj_parse_text(text, len, name, &doc, err) < 0)
        return -1;
    /* The document is a linux.resources object: parse it as the resources of an
     * otherwise empty linux section, so errors name "linux.resources.<field>". */
    struct json_object *wrap = json_object_new_object();
    json_object_object_add(wrap, "resources", doc);
    struct oci_linux *l = xcalloc(1, sizeof(*l));
    int r = config_parse_linux(&c, wrap, "linux", l);
    json_object_put(wrap);
    if (r < 0) {
        resources_free(l);
        return -1;
    }
    *out = l;
    return 0;
}

void resources_free(struct oci_linux *l)
{
    if (l == NULL)
        return;
    config_linux_clear(l);
    free(l);
}

/* The v1 memory dir of the container, if the memory controller is on v1. */
static const char *v1_memory_dir(const struct husk_cgroup *cg)
{
    for (char **p = cg->paths; p && *p; p++) {
        _cleanup_free_ char *f = xasprintf("%s/memory.limit_in_bytes", *p);
        if (access(f, F_OK) == 0)
            return *p;
    }
    return NULL;
}

/* v1 refuses memory.limit_in_bytes above memory.memsw.limit_in_bytes and the
 * reverse, so when both change, the order of the two writes matters: raise
 * memsw first when the new memsw is above the current limit (or unlimited),
 * else lower the limit first. The memory limit alone going to -1 takes memsw
 * with it (it could not stay below an unlimited limit). Facts from the kernel's
 * mem_cgroup_resize_max checks; runc orders them the same way. */
static int update_memory_v1(const struct husk_cgroup *cg, const char *dir, struct oci_linux *l, husk_err **err)
{
    typeof(l->resources.memory) *m = &l->resources.memory;
    _cleanup_free_ char *memsw = xasprintf("%s/memory.memsw.limit_in_bytes", dir);
    bool has_memsw = access(memsw, F_OK) == 0;

    if (m->has_limit && m->limit == -1 && !m->has_swap && has_memsw) {
        m->has_swap = true;
        m->swap = -1;
    }
    if (!(m->has_limit && m->has_swap))
        return 0;
    _cleanup_free_ char *lf = xasprintf("%s/memory.limit_in_bytes", dir), *cur = NULL;
    if (read_file_at(AT_FDCWD, lf, 64, &cur, NULL, err) < 0)
        return -1;
    uint64_t current = strtoull(cur, NULL, 10);
    if (m->swap == -1 || (m->swap >= 0 && current < (uint64_t)m->swap)) {
        struct oci_linux only_swap = { .has_resources = true };
        only_swap.resources.has_memory = true;
        only_swap.resources.memory.has_swap = true;
        only_swap.resources.memory.swap = m->swap;
        if (cgroup_update_resources(cg, &only_swap, err) < 0)
            return -1;
        m->has_swap = false;
    }
    return 0;
}

int container_update(const char *root, const char *id, struct oci_linux *l, husk_err **err)
{
    _cleanup_close_ int dirfd = -1;
    _cleanup_state_ struct husk_state *st = NULL;
    struct husk_cgroup cg;
    struct oci_resources *res = &l->resources;

    if (container_load_state(root, id, &dirfd, &st, err) < 0)
        return -1;
    enum husk_status s = state_status(dirfd, st);
    if (s == HUSK_STOPPED || s == HUSK_CREATING)
        return husk_fail(err, 0, "cannot update container %s: it is %s", id, status_name(s));
    if (res->n_devices > 0)
        return husk_fail(err, 0, "linux.resources.devices: device rules cannot be changed by update (they are "
                                 "set at create)");
    /* Kernel memory limits were deprecated in 5.4 and are ignored by kernels since
     * 6.0 (runc prints a warning and moves on, as husk does). */
    if (res->memory.has_kernel || res->memory.has_kernel_tcp) {
        husk_log(HUSK_LOG_WARNING, "linux.resources.memory.%s: kernel memory limits are not supported by this "
                                   "kernel; ignored",
                 res->memory.has_kernel ? "kernel" : "kernelTCP");
        res->memory.has_kernel = res->memory.has_kernel_tcp = false;
    }
    /* As runc: 0 leaves these unchanged (none is a useful limit: 0 bytes, no CPU
     * time, no process at all). */
    if (res->memory.has_limit && res->memory.limit == 0)
        res->memory.has_limit = false;
    if (res->memory.has_swap && res->memory.swap == 0)
        res->memory.has_swap = false;
    if (res->memory.has_reservation && res->memory.reservation == 0)
        res->memory.has_reservation = false;
    if (res->cpu.has_shares && res->cpu.shares == 0)
        res->cpu.has_shares = false;
    if (res->cpu.has_period && res->cpu.period == 0)
        res->cpu.has_period = false;
    if (res->cpu.has_quota && res->cpu.quota == 0)
        res->cpu.has_quota = false;
    if (res->cpu.has_realtime_period && res->cpu.realtime_period == 0)
        res->cpu.has_realtime_period = false;
    if (res->cpu.has_realtime_runtime && res->cpu.realtime_runtime == 0)
        res->cpu.has_realtime_runtime = false;
    if (res->has_pids && res->pids.limit == 0)
        res->has_pids = false;
    if (res->block_io.has_weight && res->block_io.weight == 0)
        res->block_io.has_weight = false;
    cgroup_of(st, &cg);
    const char *mdir = v1_memory_dir(&cg);
    if (res->has_memory && mdir && update_memory_v1(&cg, mdir, l, err) < 0)
        return husk_err_prefix(err, "update %s", id);
    if (cgroup_update_resources(&cg, l, err) < 0)
        return husk_err_prefix(err, "update %s", id);
    return 0;
}

/* ---- events -------------------------------------------------------------------- */

static int print_event(FILE *out, const char *type, const char *id, struct json_object *data)
{
    struct json_object *e = json_object_new_object();
    json_object_object_add(e, "type", json_object_new_string(type));
    json_object_object_add(e, "id", json_object_new_string(id));
    if (data)
        json_object_object_add(e, "data", data);
    fprintf(out, "%s\n", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(e);
    /* One line per event, as it happens: a reader (containerd) follows the pipe. */
    return fflush(out) == 0 ? 0 : -1;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool init_alive(const struct husk_state *st)
{
    return st->pid > 0 && proc_start_time(st->pid) == st->pid_start;
}

int container_events(const char *root, const char *id, bool once, long long interval_ms, FILE *out, husk_err **err)
{
    _cleanup_state_ struct husk_state *st = NULL;
    struct husk_cgroup cg;
    struct cgroup_oom_watch *oom = NULL;
    int status, ret = -1;

    if (container_peek(root, id, &st, &status, err) < 0)
        return -1;
    if (status == HUSK_STOPPED || status == HUSK_CREATING)
        return husk_fail(err, 0, "container %s is not running (it is %s)", id, status_name(status));
    cgroup_of(st, &cg);

    if (once) {
        struct json_object *stats = NULL;
        if (cgroup_stats(&cg, &stats, err) < 0)
            return husk_err_prefix(err, "events %s", id);
        if (print_event(out, "stats", id, stats) < 0)
            return husk_fail(err, errno, "write events");
        return 0;
    }

    /* The pidfd pins the init we checked: its exit ends the stream. */
    _cleanup_close_ int pidfd = husk_pidfd_open(st->pid, 0);
    if (pidfd < 0 || !init_alive(st))
        return husk_fail(err, 0, "container %s is not running", id);
    if (cgroup_oom_watch_open(&cg, &oom, err) < 0) {
        husk_err_prefix(err, "events %s", id);
        goto out;
    }
    long long next = now_ms() + interval_ms;
    for (;;) {
        struct pollfd p[2];
        p[0] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
        cgroup_oom_watch_pollfd(oom, &p[1]);
        long long left = next - now_ms();
        int r = poll(p, 2, left > 0 ? (int)(left > 60000 ? 60000 : left) : 0);
        if (r < 0 && errno != EINTR) {
            husk_fail(err, errno, "events %s: poll", id);
            goto out;
        }
        /* An OOM first: it may be what killed the init. */
        if (r > 0 && oom && (p[1].revents & (p[1].events | POLLERR))) {
            uint64_t n = 0;
            if (cgroup_oom_watch_read(oom, &n, err) < 0)
                goto out;
            for (uint64_t i = 0; i < n; i++)
                if (print_event(out, "oom", id, NULL) < 0) {
                    husk_fail(err, errno, "write events");
                    goto out;
                }
        }
        if (r > 0 && (p[0].revents & POLLIN))
            break;
        if (now_ms() >= next) {
            struct json_object *stats = NULL;
            if (cgroup_stats(&cg, &stats, err) < 0) {
                if (!init_alive(st))
                    break;   /* stopped and removed between two ticks */
                husk_err_prefix(err, "events %s", id);
                goto out;
            }
            if (print_event(out, "stats", id, stats) < 0) {
                husk_fail(err, errno, "write events");
                goto out;
            }
            next += interval_ms;
            if (next < now_ms())
                next = now_ms() + interval_ms;
        }
    }
    ret = 0;
out:
    cgroup_oom_watch_free(oom);
    return ret;
}

/* ---- ps ------------------------------------------------------------------------ */

int container_pids(const char *root, const char *id, pid_t **pids, size_t *n, husk_err **err)
{
    _cleanup_state_ struct husk_state *st = NULL;
    struct husk_cgroup cg;
    int status;

    *pids = NULL;
    *n = 0;
    if (container_peek(root, id, &st, &status, err) < 0)
        return -1;
    if (status == HUSK_CREATING)
        return husk_fail(err, 0, "container %s is still being created", id);
    cgroup_of(st, &cg);
    if (cgroup_pids(&cg, pids, n, err) < 0) {
        /* A stopped container whose cgroup is already gone has no processes. */
        if (status == HUSK_STOPPED) {
            husk_err_free(err);
            return 0;
        }
        return husk_err_prefix(err, "ps %s", id);
    }
    return 0;
}
