/* testhooks.c — see testhooks.h. Compiled into every build, empty unless
 * HUSK_TEST_HOOKS (meson -Dtest_hooks=true). */
#include "testhooks.h"

#if HUSK_TEST_HOOKS

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct kill_point {
    const char *name;
    const char *process;
    const char *left;      /* what a crash here leaves behind */
} points[] = {
    /* create, the CLI process (container.c container_create / create_parent) */
    { "create.after-state-dir", "create", "a locked state dir with no state.json" },
    { "create.after-state", "create", "exec.fifo, no state.json, no config copy, no cgroup yet" },
    { "create.after-cgroup", "create", "cgroups made on every hierarchy, no state.json yet" },
    { "create.after-cgroup-recorded", "create", "state.json (pid 0) with the cgroups, no process yet" },
    { "create.after-stage1-fork", "create", "stage 1 (or the init, cloned directly) forked, not yet in the cgroups" },
    { "create.after-go", "create", "stage 1 (or the init) in the cgroups, making namespaces; no config copy" },
    { "create.after-pid", "create", "container init running, its pid not yet in state.json" },
    { "create.after-state-written", "create", "state.json with the init's pid; init not yet READY" },
    { "create.before-return", "create", "a complete created container (pid file written)" },
    /* create, stage 1 (namespaces) */
    { "create.stage1.after-namespaces", "stage1", "new namespaces, no init forked yet" },
    { "create.stage1.after-fork", "stage1", "init forked, its pid not sent to create" },
    /* create, stage 2 (the container's init, pid 1 of its pid namespace) */
    { "create.stage2.after-namespaces", "stage2", "init cloned into its namespaces (no stage 1), in the cgroups" },
    { "create.stage2.after-mounts", "stage2", "rootfs, mounts and /dev set up in its mount ns" },
    { "create.stage2.before-pivot", "stage2", "hooks ran; before pivot_root" },
    { "create.stage2.before-ready", "stage2", "set up completely, READY not sent" },
    /* start, the CLI process */
    { "start.before-release", "start", "a created container, exec.fifo not opened" },
    { "start.after-release", "start", "init released and running, exec.fifo not removed" },
    { "start.after-poststart", "start", "running container, poststart hooks ran" },
    /* start, the container's init (stage 2 after start let it go) */
    { "start.init.before-exec", "init", "privileges dropped, before telling start and execve" },
    /* exec, the CLI process */
    { "exec.after-fork", "exec", "new process forked, not yet in the container's cgroups" },
    { "exec.after-cgroup", "exec", "new process in the cgroups, waiting for GO" },
    /* exec, the new process */
    { "exec.child.after-setns", "exec-child", "joined the container's namespaces, before execve" },
    /* delete, the CLI process */
    { "delete.after-kill", "delete", "processes killed, cgroups and state still there" },
    { "delete.after-cgroup-removal", "delete", "cgroups removed, state dir still there" },
    { "delete.before-state-removal", "delete", "config read for poststop, state dir still there" },
    /* husk container (src/engine/ctr_life.c), the engine's CLI process */
    { "container-create.after-name", "container", "a locked container dir and its name, no record" },
    { "container-create.after-mount", "container", "the overlay mounted, no config.json, no record" },
    { "container-create.after-volumes", "container", "volumes made (whole), the overlay mounted, no record" },
    { "container-create.before-record", "container", "config.json written, rootfs unmounted, no record" },
    { "container-start.after-mount", "container", "a created container with its rootfs mounted, no monitor" },
    { "container-start.after-monitor", "container", "the monitor and a created (not started) init" },
    { "container-start.before-state", "container", "the container running, state.json still says created" },
    { "container-rm.after-unmount", "container", "runtime state deleted, rootfs unmounted, record there" },
    /* image pull, the engine process (src/engine/pull.c, registry_blobs.c, layer_tar.c) */
    { "pull.after-manifest", "pull", "the manifest in the blob store, no config or layer yet" },
    { "pull.after-blob", "pull", "one blob stored, others half-downloaded (unnamed O_TMPFILE files)" },
    { "pull.during-unpack", "pull", "a layer half unpacked in ROOT/layers/.tmp-* (its lock held)" },
    { "pull.during-streamed-unpack", "pull",
      "a layer half unpacked from its blob's unnamed file while that downloads (lock held)" },
    { "pull.before-register", "pull", "every blob and layer in the store, no image record" },
    { "network-start.before-setup", "container", "the network namespace made, netavark not run" },
    { "network-start.after-setup", "container", "netavark set the network up, no settings, no monitor" },
    { "bridge-down.after-setup", "network",
      "taking husk0 down: its keeper gone, a namespace of its own set up on it, not torn down" },
};

void husk_kill_points_maybe_list(void)
{
    const char *at = getenv("HUSK_TEST_KILL_AT");
    if (at == NULL || strcmp(at, "list") != 0)
        return;
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++)
        printf("%s\t%s\t%s\n", points[i].name, points[i].process, points[i].left);
    exit(0);
}

void husk_kill_point(const char *name)
{
    const char *at = getenv("HUSK_TEST_KILL_AT");
    size_t i;

    for (i = 0; i < sizeof points / sizeof points[0]; i++)
        if (strcmp(points[i].name, name) == 0)
            break;
    if (i == sizeof points / sizeof points[0]) {
        /* A point missing from the table would never be tested. */
        dprintf(STDERR_FILENO, "husk: kill point \"%s\" is not in testhooks.c's table\n", name);
        abort();
    }
    if (at == NULL || strcmp(at, name) != 0)
        return;
    /* pid 1 of a pid namespace cannot be SIGKILLed from inside it (the kernel
     * ignores it; valgrind, which expects the signal to be fatal, aborts): end it
     * the way SIGKILL would, with no clean-up, no atexit, no buffered output, and
     * 137 as the exit status. */
    if (getpid() != 1)
        raise(SIGKILL);
    _exit(128 + SIGKILL);
}

#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int husk_testhooks_unused;
#endif
