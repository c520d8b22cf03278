/* ctr_life.c — create, start, stop, kill, remove, cleanup (ctr_life.h). */
#include "ctr_life.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "config.h"
#include "container.h"
#include "image.h"
#include "monitor.h"
#include "networks.h"
#include "overlay.h"
#include "terminal.h"
#include "volumes.h"
#include "testhooks.h"
#include "util.h"
#include "json_cleanup.h"

/* docker's json-file max-size and max-file, for every container */
#define CTR_LOG_MAX_SIZE (10LL << 20)
#define CTR_LOG_MAX_FILES 3

#define _cleanup_ctr_state_ _cleanup_(ctr_state_clear)

static struct json_object *jget(struct json_object *o, const char *path)
{
    /* "A.B": nested keys */
    char key[64];
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        struct json_object *v;
        if (!json_object_object_get_ex(o, key, &v))
            return NULL;
        o = v;
        path += n + (dot ? 1 : 0);
    }
    return o;
}

static const char *jstr(struct json_object *o, const char *path)
{
    struct json_object *v = jget(o, path);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static struct json_object *strv_json(char *const *v)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; v && v[i]; i++)
        json_object_array_add(a, json_object_new_string(v[i]));
    return a;
}

/* ---------------------------------------------------------------- create */

static int parse_restart(const char *s, const char **name, int *max, husk_err **err)
{
    *max = 0;
    if (!s || strcmp(s, "no") == 0) {
        *name = "no";
        return 0;
    }
    if (strcmp(s, "always") == 0 || strcmp(s, "unless-stopped") == 0) {
        *name = s;
        return 0;
    }
    if (strncmp(s, "on-failure", 10) == 0 && (s[10] == '\0' || s[10] == ':')) {
        *name = "on-failure";
        if (s[10] == ':') {
            char *end;
            long n = strtol(s + 11, &end, 10);
            if (!s[11] || *end || n < 0 || n > 1000000)
                return husk_fail(err, 0, "--restart \"%s\": the retry count must be a number >= 0", s);
            *max = (int)n;
        }
        return 0;
    }
    return husk_fail(err, 0, "--restart \"%s\": not no, on-failure[:N], always or unless-stopped", s);
}

static struct json_object *build_record(const char *id, const char *name, const struct image_record *img,
                                        const char *image_name, struct json_object *image_config,
                                        struct json_object *oci, const struct ctr_create_args *a,
                                        const char *restart_name, int restart_max)
{
    struct json_object *r = json_object_new_object();
    _cleanup_free_ char *now = image_now_rfc3339(), *slashed = xasprintf("/%s", name);
    struct json_object *args = jget(oci, "process.args");
    size_t nargs = args ? json_object_array_length(args) : 0;

    json_object_object_add(r, "Id", json_object_new_string(id));
    json_object_object_add(r, "Created", json_object_new_string(now));
    json_object_object_add(r, "Path", json_object_new_string(
                                          nargs ? json_object_get_string(json_object_array_get_idx(args, 0)) : ""));
    struct json_object *rest = json_object_new_array();
    for (size_t i = 1; i < nargs; i++)
        json_object_array_add(rest, json_object_get(json_object_array_get_idx(args, i)));
    json_object_object_add(r, "Args", rest);
    json_object_object_add(r, "Image", json_object_new_string(img->id));
    json_object_object_add(r, "ImageName", json_object_new_string(image_name));
    json_object_object_add(r, "Name", json_object_new_string(slashed));
    json_object_object_add(r, "Layers", strv_json(img->layers));

    struct json_object *c = json_object_new_object();
    struct json_object *ic = jget(image_config, "config");
    const char *hostname = jstr(oci, "hostname");
    json_object_object_add(c, "Hostname", json_object_new_string(hostname ? hostname : ""));
    const char *user = a->run.user ? a->run.user : (ic ? jstr(ic, "User") : NULL);
    json_object_object_add(c, "User", json_object_new_string(user ? user : ""));
    json_object_object_add(c, "Tty", json_object_new_boolean(a->run.tty));
    json_object_object_add(c, "OpenStdin", json_object_new_boolean(a->run.interactive));
    struct json_object *env = jget(oci, "process.env");
    json_object_object_add(c, "Env", env ? json_object_get(env) : json_object_new_array());
    struct json_object *v;
    if (a->run.cmd)
        json_object_object_add(c, "Cmd", strv_json(a->run.cmd));
    else if (ic && json_object_object_get_ex(ic, "Cmd", &v))
        json_object_object_add(c, "Cmd", json_object_get(v));
    else
        json_object_object_add(c, "Cmd", NULL);
    if (a->run.entrypoint) {
        struct json_object *ep = json_object_new_array();
        if (*a->run.entrypoint)
            json_object_array_add(ep, json_object_new_string(a->run.entrypoint));
        json_object_object_add(c, "Entrypoint", ep);
    } else if (ic && json_object_object_get_ex(ic, "Entrypoint", &v)) {
        json_object_object_add(c, "Entrypoint", json_object_get(v));
    } else {
        json_object_object_add(c, "Entrypoint", NULL);
    }
    const char *cwd = jstr(oci, "process.cwd");
    json_object_object_add(c, "WorkingDir", json_object_new_string(cwd ? cwd : "/"));
    json_object_object_add(c, "Image", json_object_new_string(image_name));
    struct json_object *labels = json_object_new_object();
    if (ic && json_object_object_get_ex(ic, "Labels", &v) && json_object_is_type(v, json_type_object)) {
        json_object_object_foreach(v, lk, lv)
            json_object_object_add(labels, lk, json_object_get(lv));
    }
    for (size_t i = 0; a->run.labels && a->run.labels[i]; i++) {
        const char *eq = strchr(a->run.labels[i], '=');
        _cleanup_free_ char *k = eq ? strndup(a->run.labels[i], (size_t)(eq - a->run.labels[i]))
                                    : xstrdup(a->run.labels[i]);
        json_object_object_add(labels, k, json_object_new_string(eq ? eq + 1 : ""));
    }
    json_object_object_add(c, "Labels", labels);
    const char *sig = a->run.stop_signal ? a->run.stop_signal : (ic ? jstr(ic, "StopSignal") : NULL);
    json_object_object_add(c, "StopSignal", json_object_new_string(sig ? sig : "SIGTERM"));
    json_object_object_add(c, "StopTimeout", json_object_new_int(a->stop_timeout >= 0 ? a->stop_timeout : 10));
    if (ic && json_object_object_get_ex(ic, "ExposedPorts", &v))
        json_object_object_add(c, "ExposedPorts", json_object_get(v));
    if (ic && json_object_object_get_ex(ic, "Volumes", &v))
        json_object_object_add(c, "Volumes", json_object_get(v));
    json_object_object_add(r, "Config", c);

    struct json_object *h = json_object_new_object();
    json_object_object_add(h, "AutoRemove", json_object_new_boolean(a->auto_remove));
    struct json_object *rp = json_object_new_object();
    json_object_object_add(rp, "Name", json_object_new_string(restart_name));
    json_object_object_add(rp, "MaximumRetryCount", json_object_new_int(restart_max));
    json_object_object_add(h, "RestartPolicy", rp);
    json_object_object_add(h, "Privileged", json_object_new_boolean(a->run.privileged));
    json_object_object_add(h, "ReadonlyRootfs", json_object_new_boolean(a->run.read_only));
    json_object_object_add(h, "Init", json_object_new_boolean(a->run.init));
    json_object_object_add(h, "Memory", json_object_new_int64(a->run.memory > 0 ? a->run.memory : 0));
    json_object_object_add(h, "MemorySwap", json_object_new_int64(a->run.memory_swap >= -1 ? a->run.memory_swap : 0));
    json_object_object_add(h, "NanoCpus", json_object_new_int64(a->run.nano_cpus > 0 ? a->run.nano_cpus : 0));
    json_object_object_add(h, "CpuShares", json_object_new_int64(a->run.cpu_shares > 0 ? a->run.cpu_shares : 0));
    json_object_object_add(h, "PidsLimit", json_object_new_int64(a->run.pids_limit));
    json_object_object_add(h, "ShmSize", json_object_new_int64(a->run.shm_size > 0 ? a->run.shm_size : 64 << 20));
    json_object_object_add(h, "CapAdd", strv_json(a->run.cap_add));
    json_object_object_add(h, "CapDrop", strv_json(a->run.cap_drop));
    json_object_object_add(h, "Devices", strv_json(a->run.devices));
    json_object_object_add(h, "Ulimits", strv_json(a->run.ulimits));
    json_object_object_add(h, "VolumesFrom", strv_json(a->volumes_from));
    struct json_object *tmpfs = json_object_new_object();
    for (size_t i = 0; a->run.tmpfs && a->run.tmpfs[i]; i++) {
        const char *colon = strchr(a->run.tmpfs[i], ':');
        _cleanup_free_ char *p = colon ? strndup(a->run.tmpfs[i], (size_t)(colon - a->run.tmpfs[i]))
                                       : xstrdup(a->run.tmpfs[i]);
        json_object_object_add(tmpfs, p, json_object_new_string(colon ? colon + 1 : ""));
    }
    json_object_object_add(h, "Tmpfs", tmpfs);
    struct json_object *sec = json_object_new_array();
    if (a->run.seccomp) {
        _cleanup_free_ char *s = xasprintf("seccomp=%s", a->run.seccomp);
        json_object_array_add(sec, json_object_new_string(s));
    }
    if (a->run.no_new_privileges)
        json_object_array_add(sec, json_object_new_string("no-new-privileges"));
    json_object_object_add(h, "SecurityOpt", sec);
    net_ctr_host_config(&a->net, h);
    json_object_object_add(r, "HostConfig", h);
    return r;
}

int ctr_create(struct store *st, const char *runroot, const struct ctr_create_args *a, char **id_out,
               husk_err **err)
{
    struct image_record img = { 0 };
    _cleanup_free_ char *cfg_text = NULL, *id = NULL, *name = NULL, *dir = NULL;
    _cleanup_free_ char *userdata = NULL, *bundle = NULL, *rootfs = NULL, *short_id = NULL, *cfg_path = NULL;
    _cleanup_free_ char *netns = NULL;
    _cleanup_json_ struct json_object *image_config = NULL, *oci = NULL, *rec = NULL;
    struct run_opts run = a->run;
    struct vol_plan vols = { 0 };
    _cleanup_close_ int lock = -1;
    const char *restart_name;
    int restart_max, ret = -1;
    size_t len;

    if (parse_restart(a->restart, &restart_name, &restart_max, err) < 0)
        return -1;
    if (a->restart && strcmp(restart_name, "no") != 0 && a->auto_remove)
        return husk_fail(err, 0, "--restart %s and --rm cannot be used together", a->restart);
    if (image_lookup(st, a->image, &img, err) < 0)
        return -1;
    if (store_read_blob(st, img.id, 1 << 22, &cfg_text, &len, err) < 0)
        goto out;
    image_config = json_tokener_parse(cfg_text);
    if (!image_config || !json_object_is_type(image_config, json_type_object)) {
        husk_fail(err, 0, "image \"%s\": its config is not a JSON object", a->image);
        goto out;
    }
    /* Every mount is checked before anything is made. */
    if (vol_plan_build(st, a->volumes, a->mounts, a->volumes_from, image_config, &vols, err) < 0)
        goto out;
    if (ctr_new(st, a->name, &id, &name, &lock, err) < 0)
        goto out;
    husk_kill_point("container-create.after-name");
    dir = ctr_dir(st, id);
    userdata = xasprintf("%s/userdata", dir);
    bundle = xasprintf("%s/bundle", dir);
    rootfs = xasprintf("%s/rootfs", bundle);
    if (mkdir(userdata, 0700) < 0 || mkdir(bundle, 0700) < 0) {
        husk_fail(err, errno, "container %s: mkdir", name);
        goto fail;
    }
    if (overlay_mount_volatile(st, img.layers, dir, a->auto_remove, err) < 0)
        goto fail;
    husk_kill_point("container-create.after-mount");
    short_id = xasprintf("%.12s", id);
    if (!run.hostname)
        run.hostname = short_id;
    if (ocispec_write_etc_files(userdata, run.hostname, err) < 0 ||
        net_ctr_prepare(st, runroot, id, name, run.hostname, &a->net, image_config, userdata, &netns, err) < 0)
        goto fail_mounted;
    run.netns = netns;
    if (ocispec_build(image_config, &run, id, rootfs, userdata, &oci, err) < 0)
        goto fail_mounted;
    {
        /* The volumes are made now, while the rootfs is mounted: a new one is filled
         * with the image's content at its destination. */
        _cleanup_close_ int rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0) {
            husk_fail(err, errno, "container %s: open the rootfs", name);
            goto fail_mounted;
        }
        if (vol_plan_realize(st, &vols, rootfd, err) < 0)
            goto fail_mounted;
    }
    husk_kill_point("container-create.after-volumes");
    vol_plan_apply(&vols, oci);
    cfg_path = xasprintf("%s/config.json", bundle);
    const char *text = json_object_to_json_string_ext(oci, JSON_C_TO_STRING_PLAIN);
    if (write_file_atomic(AT_FDCWD, cfg_path, text, strlen(text), 0600, err) < 0)
        goto fail_mounted;
    /* The rootfs stays unmounted while the container is not running: a created or
     * exited container holds no mount (nothing to leak if it is never removed).
     * Unless ctr_start follows at once (run): an unmount and a mount saved (the
     * unmount syncs the upper dir's filesystem: ~2-30 ms). A run killed in between
     * leaves a created container with its rootfs mounted, which start uses and rm
     * unmounts. */
    if (!a->keep_mounted && overlay_unmount(dir, err) < 0)
        goto fail;
    husk_kill_point("container-create.before-record");
    rec = build_record(id, name, &img, a->image, image_config, oci, a, restart_name, restart_max);
    vol_plan_record(&vols, rec);
    struct ctr_state s = { .status = CTR_CREATED };
    if (ctr_state_write(st, id, &s, err) < 0 || ctr_record_write(st, id, rec, err) < 0)
        goto fail_mounted;
    *id_out = steal_ptr(id);
    ret = 0;
    goto out;

fail_mounted:
    {
        husk_err *e = NULL;
        overlay_unmount(dir, &e);
        husk_err_free(&e);
    }
fail:
    {
        husk_err *e = NULL;
        ctr_release_name(st, name, id);
        ctr_remove_files(st, id, &e);
        husk_err_free(&e);
        /* after the record is gone: no container uses them any more */
        vol_plan_undo(st, &vols);
    }
out:
    vol_plan_clear(&vols);
    image_record_free(&img);
    return ret;
}

/* ---------------------------------------------------------------- start */

static char *self_exe(void)
{
    /* the installed husk-engine (the CLI notes it before re-executing from a
     * protected copy, whose /proc/self/exe is no path to run) */
    const char *env = getenv("HUSK_ENGINE_EXE");
    if (env && *env == '/')
        return xstrdup(env);
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return xstrdup(buf);
}

/* Runs in M (a forked child, or the monitor's process after the init exited and
 * --restart applies): make the container with M as the init's parent, optionally
 * start it, then become its monitor. Never returns. Errors go to report_fd as
 * "E<message>"; the init's pid as "P<pid>\n" once created. */
static _Noreturn void become_monitor(struct store *st, const char *runroot, const char *id, bool tty,
                                     bool open_stdin, int report_fd, bool start_too)
{
    _cleanup_err_ husk_err *err = NULL;
    _cleanup_free_ char *dir = ctr_dir(st, id), *bundle = xasprintf("%s/bundle", dir);
    int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 }, sv[2] = { -1, -1 };
    int master = -1;
    struct husk_container c = { 0 };

    setsid();
    /* The init is forked by a setup process that exits: as a child subreaper M
     * becomes its parent, so the monitor M turns into can wait for it. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
        husk_fail(&err, errno, "prctl(PR_SET_CHILD_SUBREAPER)");
        goto fail;
    }
    if (tty) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            husk_fail(&err, errno, "socketpair");
            goto fail;
        }
    } else if ((open_stdin && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        husk_fail(&err, errno, "pipe");
        goto fail;
    }
    /* The init inherits fds 0-2 of its creator. */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) {
        husk_fail(&err, errno, "/dev/null");
        goto fail;
    }
    dup2(tty || !open_stdin ? null : in[0], 0);
    dup2(tty ? null : out[1], 1);
    dup2(tty ? null : errp[1], 2);

    c.id = id;
    c.root_dir = runroot;
    c.bundle = bundle;
    c.console_sock_fd = tty ? sv[1] : -1;
    /* every container of the store gets the same few profiles: their programs are
     * generated once (seccomp_filter.h) */
    _cleanup_free_ char *seccomp_cache = xasprintf("%s/seccomp-cache", st->root);
    c.seccomp_cache_dir = seccomp_cache;
    if (config_load(bundle, &c.config, &err) < 0 || container_create(&c, &err) < 0)
        goto fail;
    if (tty) {
        close(sv[1]);
        if (terminal_recv_master(sv[0], &master, &err) < 0)
            goto fail;
        close(sv[0]);
    }
    /* Our own stdio is not the container's: the pipes' far ends must be the init's
     * alone, or their readers would never see EOF. */
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (!tty) {
        if (in[0] >= 0)
            close(in[0]);
        close(out[1]);
        close(errp[1]);
    }
    if (start_too) {
        if (container_start(runroot, id, &err) < 0)
            goto fail;
        struct ctr_state s = { 0 };
        husk_err *e = NULL;
        if (ctr_state_read(st, id, &s, &e) < 0)
            husk_err_free(&e);
        s.status = CTR_RUNNING;
        s.pid = c.pid;
        s.monitor_pid = getpid();
        s.monitor_start = ctr_pid_start(getpid());
        free(s.started_at);
        s.started_at = image_now_rfc3339();
        if (ctr_state_write(st, id, &s, &e) < 0)
            husk_err_free(&e);
        ctr_state_clear(&s);
    }
    if (report_fd >= 0) {
        char line[32];
        int n = snprintf(line, sizeof line, "P%d\n", (int)c.pid);
        write_all(report_fd, line, (size_t)n);
    }
    _cleanup_free_ char *exe = self_exe();
    char *exit_argv[] = { exe, "--storage-root", st->root, "--root", (char *)runroot, "container", "cleanup",
                          (char *)id, NULL };
    /* What the monitor and the cleanup say goes to a file beside the log. */
    _cleanup_free_ char *mlog = xasprintf("%s/monitor.log", dir);
    int err_fd = open(mlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    struct monitor_args ma = {
        .ctr_dir = dir,
        .init_pid = c.pid,
        .stdin_fd = tty ? -1 : in[1],
        .stdout_fd = tty ? -1 : out[0],
        .stderr_fd = tty ? -1 : errp[0],
        .pty_fd = tty ? master : -1,
        .ready_fd = report_fd,
        .err_fd = err_fd,
        .log_max_size = CTR_LOG_MAX_SIZE,
        .log_max_files = CTR_LOG_MAX_FILES,
        .exit_argv = exit_argv,
    };
    monitor_exec(&ma, &err);
    /* The monitor could not start: the container must not run unwatched. */
    kill(c.pid, SIGKILL);
    {
        husk_err *e = NULL;
        container_delete(runroot, id, true, &e);
        husk_err_free(&e);
    }
fail:
    if (report_fd >= 0 && err) {
        char *m = xasprintf("E%s", err->msg);
        write_all(report_fd, m, strlen(m));
        free(m);
    }
    _exit(1);
}

static int open_pidfd(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Wait for the monitor process to be gone (its cleanup done), up to timeout_ms
 * (-1: forever). 0 when gone, 1 on timeout. */
static int wait_monitor_gone(const struct ctr_state *s, int timeout_ms)
{
    if (!ctr_pid_is(s->monitor_pid, s->monitor_start))
        return 0;
    _cleanup_close_ int pfd = open_pidfd(s->monitor_pid);
    if (pfd < 0 || !ctr_pid_is(s->monitor_pid, s->monitor_start))
        return 0;
    struct pollfd p = { .fd = pfd, .events = POLLIN };
    for (;;) {
        int r = poll(&p, 1, timeout_ms);
        if (r > 0)
            return 0;
        if (r == 0)
            return 1;
        if (errno != EINTR)
            return 0;
    }
}

int ctr_start(struct store *st, const char *runroot, const char *id, bool attach, bool attach_stdin,
              int *exit_code, husk_err **err)
{
    _cleanup_close_ int lock = -1, rd = -1;
    _cleanup_json_ struct json_object *rec = NULL;
    _cleanup_ctr_state_ struct ctr_state s = { 0 };
    _cleanup_free_ char *dir = ctr_dir(st, id), *name = NULL;
    int conn = -1;
    int wr = -1;

    if (ctr_state_get(st, runroot, id, &s, err) < 0 || ctr_lock(st, id, &lock, err) < 0 ||
        ctr_record_read(st, id, &rec, err) < 0)
        return -1;
    ctr_state_clear(&s);
    if (ctr_state_read(st, id, &s, err) < 0)
        return -1;
    name = ctr_record_name(rec);
    if (s.status == CTR_RUNNING || s.status == CTR_PAUSED) {
        if (attach)
            return husk_fail(err, 0, "container \"%s\" is running already: use attach", name);
        return 0;
    }
    bool tty = json_object_get_boolean(jget(rec, "Config.Tty"));
    bool open_stdin = json_object_get_boolean(jget(rec, "Config.OpenStdin"));

    /* What a killed earlier start may have left: a monitor of a container that
     * never started (killed, so that its cleanup cannot run after ours and take
     * the new run's rootfs away), runtime state, a stale exit record. */
    husk_err *e = NULL;
    if (s.monitor_pid > 0 && ctr_pid_is(s.monitor_pid, s.monitor_start)) {
        kill(s.monitor_pid, SIGKILL);
        wait_monitor_gone(&s, 10000);
    }
    if (container_delete(runroot, id, true, &e) < 0)
        husk_err_free(&e);
    _cleanup_free_ char *exit_path = xasprintf("%s/exit", dir), *stopping = xasprintf("%s/stopping", dir);
    unlink(exit_path);
    unlink(stopping);

    struct json_object *layers = jget(rec, "Layers");
    size_t nl = layers ? json_object_array_length(layers) : 0;
    _cleanup_free_ char **lv = xcalloc(nl + 1, sizeof *lv);
    for (size_t i = 0; i < nl; i++)
        lv[i] = (char *)json_object_get_string(json_object_array_get_idx(layers, i));
    if (overlay_mount_volatile(st, lv, dir, json_object_get_boolean(jget(rec, "HostConfig.AutoRemove")), err) < 0)
        return husk_err_prefix(err, "container \"%s\"", name);
    husk_kill_point("container-start.after-mount");
    if (net_ctr_setup(st, runroot, id, err) < 0) {
        husk_err_prefix(err, "container \"%s\"", name);
        goto fail_unmount;
    }

    int pp[2];
    if (pipe2(pp, O_CLOEXEC) < 0) {
        husk_fail(err, errno, "pipe");
        goto fail_unmount;
    }
    rd = pp[0];
    wr = pp[1];
    pid_t m = fork();
    if (m < 0) {
        husk_fail(err, errno, "fork");
        close(wr);
        goto fail_unmount;
    }
    if (m == 0) {
        close(rd);
        close(lock);
        /* the report fd lives on in the monitor (it writes "ready" there) */
        int keep = fcntl(wr, F_DUPFD, 3);
        become_monitor(st, runroot, id, tty, open_stdin, keep, false);
    }
    close(wr);
    /* recorded at once: a later start must find this monitor if we are killed */
    s.monitor_pid = m;
    s.monitor_start = ctr_pid_start(m);
    if (ctr_state_write(st, id, &s, err) < 0) {
        kill(m, SIGKILL);
        waitpid(m, NULL, 0);
        goto fail_unmount;
    }

    /* "P<pid>\n" once created, then the monitor's ready byte; "E…" on a failure. */
    char buf[4096];
    size_t got = 0;
    pid_t init = 0;
    bool ready = false;
    while (!ready && got < sizeof buf - 1) {
        ssize_t n = read(rd, buf + got, sizeof buf - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
        if (buf[0] == 'P') {
            char *nl2 = strchr(buf, '\n');
            if (nl2) {
                init = (pid_t)atoi(buf + 1);
                ready = nl2[1] != '\0' && nl2[1] != 'E';
            }
        } else if (buf[0] == 'E') {
            continue;
        }
    }
    if (!ready) {
        waitpid(m, NULL, 0);
        char *emsg = buf[0] == 'E' ? buf + 1 : strstr(buf, "\nE");
        if (emsg && *emsg == '\n')
            emsg += 2;
        husk_fail(err, 0, "container \"%s\": %s", name, emsg && *emsg ? emsg : "its monitor did not start");
        goto fail_unmount;
    }
    husk_kill_point("container-start.after-monitor");
    if (attach && (conn = attach_connect(dir, err)) < 0)
        goto fail_kill;
    if (container_start(runroot, id, err) < 0)
        goto fail_kill;
    husk_kill_point("container-start.before-state");
    s.status = CTR_RUNNING;
    s.pid = init;
    s.monitor_pid = m;
    s.monitor_start = ctr_pid_start(m);
    free(s.started_at);
    s.started_at = image_now_rfc3339();
    free(s.error);
    s.error = NULL;
    if (ctr_state_write(st, id, &s, err) < 0)
        goto fail_kill;
    close(lock);
    lock = -1;
    if (!attach)
        return 0;

    struct attach_opts ao = { .stdin = attach_stdin, .tty = tty, .close_stdin = attach_stdin };
    int code = -1;
    husk_err *ae = NULL;
    int ar = attach_run(conn, &ao, &code, &ae);
    if (ar < 0)
        husk_err_report(&ae);
    if (ar == ATTACH_DETACHED)
        return *exit_code = 0, 0;
    if (ar != ATTACH_EXITED)
        code = -1;
    /* Wait for the monitor's cleanup (--rm, the state) before saying the status. */
    wait_monitor_gone(&s, -1);
    waitpid(m, NULL, WNOHANG);
    if (code < 0) {
        struct ctr_state now = { 0 };
        husk_err *e2 = NULL;
        if (ctr_state_read(st, id, &now, &e2) == 0)
            code = now.exit_code;
        husk_err_free(&e2);
        ctr_state_clear(&now);
    }
    *exit_code = code;
    return 0;

fail_kill:
    if (conn >= 0)
        close(conn);
    {
        husk_err *e2 = NULL;
        container_kill(runroot, id, SIGKILL, true, &e2);
        husk_err_free(&e2);
    }
    close(lock);
    lock = -1;
    /* the monitor's cleanup records the end and unmounts */
    s.monitor_pid = m;
    s.monitor_start = ctr_pid_start(m);
    wait_monitor_gone(&s, 10000);
    waitpid(m, NULL, WNOHANG);
    return -1;
fail_unmount:
    {
        husk_err *e2 = NULL;
        if (net_ctr_teardown(st, runroot, id, &e2) < 0)
            husk_err_free(&e2);
        overlay_unmount(dir, &e2);
        husk_err_free(&e2);
    }
    return -1;
}

/* ---------------------------------------------------------------- stop, kill */

static int signal_of(struct json_object *rec)
{
    const char *s = jstr(rec, "Config.StopSignal");
    int sig = s ? signal_parse(s) : -1;
    return sig > 0 ? sig : SIGTERM;
}

int ctr_stop(struct store *st, const char *runroot, const char *id, int timeout, husk_err **err)
{
    _cleanup_close_ int lock = -1;
    _cleanup_json_ struct json_object *rec = NULL;
    _cleanup_ctr_state_ struct ctr_state s = { 0 };
    _cleanup_free_ char *dir = ctr_dir(st, id);

    if (ctr_state_get(st, runroot, id, &s, err) < 0 || ctr_record_read(st, id, &rec, err) < 0)
        return -1;
    if (s.status != CTR_RUNNING && s.status != CTR_PAUSED)
        return 0;
    if (timeout < 0)
        timeout = (int)json_object_get_int(jget(rec, "Config.StopTimeout"));
    if (ctr_lock(st, id, &lock, err) < 0)
        return -1;
    /* --restart must not bring back what the user stopped. */
    _cleanup_free_ char *stopping = xasprintf("%s/stopping", dir);
    _cleanup_close_ int sf = open(stopping, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    husk_err *e = NULL;
    if (timeout > 0 && container_kill(runroot, id, signal_of(rec), false, &e) < 0)
        husk_err_free(&e);
    if (s.status == CTR_PAUSED && container_resume(runroot, id, &e) < 0)
        husk_err_free(&e);
    close(lock);
    lock = -1;
    if (timeout > 0 && wait_monitor_gone(&s, timeout * 1000) == 0)
        return 0;
    if (container_kill(runroot, id, SIGKILL, true, &e) < 0)
        husk_err_free(&e);
    if (wait_monitor_gone(&s, 30000) != 0)
        return husk_fail(err, 0, "container %.12s: did not exit after SIGKILL", id);
    return 0;
}

int ctr_kill(struct store *st, const char *runroot, const char *id, int sig, husk_err **err)
{
    _cleanup_ctr_state_ struct ctr_state s = { 0 };
    if (ctr_state_get(st, runroot, id, &s, err) < 0)
        return -1;
    if (s.status != CTR_RUNNING && s.status != CTR_PAUSED)
        return husk_fail(err, 0, "container %.12s is not running", id);
    return container_kill(runroot, id, sig, false, err);
}

int ctr_pause(struct store *st, const char *runroot, const char *id, bool pause, husk_err **err)
{
    _cleanup_close_ int lock = -1;
    _cleanup_ctr_state_ struct ctr_state s = { 0 };
    if (ctr_state_get(st, runroot, id, &s, err) < 0 || ctr_lock(st, id, &lock, err) < 0)
        return -1;
    ctr_state_clear(&s);
    if (ctr_state_read(st, id, &s, err) < 0)
        return -1;
    if (pause && s.status != CTR_RUNNING)
        return husk_fail(err, 0, "container %.12s is not running", id);
    if (!pause && s.status != CTR_PAUSED)
        return husk_fail(err, 0, "container %.12s is not paused", id);
    if ((pause ? container_pause(runroot, id, err) : container_resume(runroot, id, err)) < 0)
        return -1;
    s.status = pause ? CTR_PAUSED : CTR_RUNNING;
    return ctr_state_write(st, id, &s, err);
}

/* ---------------------------------------------------------------- remove */

int ctr_remove(struct store *st, const char *runroot, const char *id, bool force, bool volumes, husk_err **err)
{
    _cleanup_close_ int lock = -1;
    _cleanup_ctr_state_ struct ctr_state s = { 0 };
    _cleanup_json_ struct json_object *rec = NULL;
    _cleanup_free_ char *dir = ctr_dir(st, id);

    _cleanup_free_ char *rec_path = xasprintf("%s/container.json", dir);
    if (access(rec_path, F_OK) < 0 && errno == ENOENT)
        return 0; /* gone already (its --rm) */
    if (ctr_state_get(st, runroot, id, &s, err) < 0 || ctr_record_read(st, id, &rec, err) < 0)
        return -1;
    _cleanup_free_ char *name = ctr_record_name(rec);
    if (s.status == CTR_RUNNING || s.status == CTR_PAUSED) {
        if (!force)
            return husk_fail(err, 0, "cannot remove container \"%s\": it is %s: stop it first, or use -f", name,
                             ctr_status_name(s.status));
        if (ctr_stop(st, runroot, id, 0, err) < 0)
            return -1;
    }
    if (ctr_lock(st, id, &lock, err) < 0) {
        if (access(rec_path, F_OK) < 0 && errno == ENOENT) {
            husk_err_free(err);
            return 0; /* removed meanwhile, directory and all (--rm) */
        }
        return -1;
    }
    if (access(rec_path, F_OK) < 0)
        return 0; /* removed meanwhile (--rm) */
    husk_err *e = NULL;
    if (container_delete(runroot, id, true, &e) < 0)
        husk_err_free(&e);
    if (net_ctr_teardown(st, runroot, id, err) < 0)
        return -1;
    if (overlay_unmount(dir, err) < 0)
        return -1;
    husk_kill_point("container-rm.after-unmount");
    if (ctr_remove_files(st, id, err) < 0)
        return -1;
    if (volumes)
        vol_remove_anonymous(st, rec, id);
    return 0;
}

/* ---------------------------------------------------------------- the init exited */

static bool should_restart(struct json_object *rec, const struct ctr_state *s, int code, bool stopped)
{
    const char *policy = jstr(rec, "HostConfig.RestartPolicy.Name");
    int max = json_object_get_int(jget(rec, "HostConfig.RestartPolicy.MaximumRetryCount"));
    if (stopped || !policy)
        return false;
    if (strcmp(policy, "always") == 0 || strcmp(policy, "unless-stopped") == 0)
        return true;
    if (strcmp(policy, "on-failure") == 0)
        return code != 0 && (max == 0 || s->restart_count < max);
    return false;
}

static void read_exit(const char *dir, int *code, char **when)
{
    _cleanup_free_ char *path = xasprintf("%s/exit", dir), *text = NULL;
    size_t len;
    husk_err *e = NULL;
    *code = 255;
    *when = NULL;
    if (read_file_at(AT_FDCWD, path, 256, &text, &len, &e) < 0) {
        husk_err_free(&e);
        return;
    }
    char t[128];
    int c;
    if (sscanf(text, "%d %127s", &c, t) == 2) {
        *code = c;
        *when = xstrdup(t);
    }
}

int ctr_cleanup(struct store *st, const char *runroot, const char *id, husk_err **err)
{
    _cleanup_close_ int lock = -1;
    _cleanup_json_ struct json_object *rec = NULL;
    _cleanup_ctr_state_ struct ctr_state s = { 0 };
    _cleanup_free_ char *dir = ctr_dir(st, id), *when = NULL;
    int code;

    if (ctr_lock(st, id, &lock, err) < 0 || ctr_record_read(st, id, &rec, err) < 0 ||
        ctr_state_read(st, id, &s, err) < 0)
        return -1;
    read_exit(dir, &code, &when);
    husk_err *e = NULL;
    if (container_delete(runroot, id, true, &e) < 0)
        husk_err_free(&e);
    _cleanup_free_ char *stopping = xasprintf("%s/stopping", dir);
    bool stopped = access(stopping, F_OK) == 0;

    s.exit_code = code;
    free(s.finished_at);
    s.finished_at = when ? xstrdup(when) : image_now_rfc3339();
    if (should_restart(rec, &s, code, stopped)) {
        s.restart_count++;
        s.status = CTR_RUNNING;
        if (ctr_state_write(st, id, &s, &e) < 0)
            husk_err_free(&e);
        /* docker's backoff: 100 ms, doubled each time, at most 10 s here */
        int shift = s.restart_count < 8 ? s.restart_count - 1 : 7;
        long ms = 100L << shift;
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        close(lock);
        lock = -1;
        _cleanup_free_ char *exit_path = xasprintf("%s/exit", dir);
        unlink(exit_path);
        bool tty = json_object_get_boolean(jget(rec, "Config.Tty"));
        bool open_stdin = json_object_get_boolean(jget(rec, "Config.OpenStdin"));
        /* Under the lock again: a stop or rm meanwhile wins. */
        if (ctr_lock(st, id, &lock, err) < 0)
            return -1;
        if (access(stopping, F_OK) == 0 || access(dir, F_OK) < 0)
            goto ended;
        int keep_lock = lock; /* close-on-exec: released when the monitor execs */
        (void)keep_lock;
        become_monitor(st, runroot, id, tty, open_stdin, -1, true);
    }
ended:
    unlink(stopping);
    if (net_ctr_teardown(st, runroot, id, err) < 0)
        return -1;
    if (overlay_unmount(dir, err) < 0)
        return -1;
    if (json_object_get_boolean(jget(rec, "HostConfig.AutoRemove"))) {
        /* --rm takes the anonymous volumes too, as docker's */
        if (ctr_remove_files(st, id, err) < 0)
            return -1;
        vol_remove_anonymous(st, rec, id);
        return 0;
    }
    s.status = CTR_EXITED;
    s.pid = 0;
    return ctr_state_write(st, id, &s, err);
}

/* ---------------------------------------------------------------- state, wait */

int ctr_state_get(struct store *st, const char *runroot, const char *id, struct ctr_state *out, husk_err **err)
{
    if (ctr_state_read(st, id, out, err) < 0)
        return -1;
    if ((out->status != CTR_RUNNING && out->status != CTR_PAUSED) || ctr_pid_is(out->monitor_pid, out->monitor_start))
        return 0;
    /* The monitor is gone without its cleanup: under the lock, look again. */
    _cleanup_close_ int lock = -1;
    if (ctr_lock(st, id, &lock, err) < 0)
        return -1;
    ctr_state_clear(out);
    if (ctr_state_read(st, id, out, err) < 0)
        return -1;
    if ((out->status != CTR_RUNNING && out->status != CTR_PAUSED) || ctr_pid_is(out->monitor_pid, out->monitor_start))
        return 0;
    _cleanup_free_ char *dir = ctr_dir(st, id), *when = NULL;
    husk_err *e = NULL;
    /* Nobody watches its processes any more (no log, no stdio, no exit status):
     * they are ended, as a reboot would have. */
    if (container_kill(runroot, id, SIGKILL, true, &e) < 0)
        husk_err_free(&e);
    if (container_delete(runroot, id, true, &e) < 0)
        husk_err_free(&e);
    if (net_ctr_teardown(st, runroot, id, &e) < 0) /* rm tries again */
        husk_err_free(&e);
    if (overlay_unmount(dir, &e) < 0)
        husk_err_free(&e);
    read_exit(dir, &out->exit_code, &when);
    out->status = CTR_EXITED;
    out->pid = 0;
    free(out->finished_at);
    out->finished_at = when ? steal_ptr(when) : image_now_rfc3339();
    return ctr_state_write(st, id, out, err);
}

int ctr_wait(struct store *st, const char *runroot, const char *id, int *code, husk_err **err)
{
    for (;;) {
        _cleanup_ctr_state_ struct ctr_state s = { 0 };
        if (ctr_state_get(st, runroot, id, &s, err) < 0)
            return -1;
        if (s.status != CTR_RUNNING && s.status != CTR_PAUSED) {
            *code = s.exit_code;
            return 0;
        }
        wait_monitor_gone(&s, 100);
    }
}
