/* netns.c — a container's network namespace as a file: a new namespace made by a
 * short-lived child and bind-mounted from /proc/<child>/ns/net onto /run/husk/net/ns/<id>,
 * as `ip netns add` does. The mount keeps the namespace alive with no process in
 * it, so netavark can set it up before the container exists and tear it down after
 * the container is gone; the runtime joins it by path (config.json). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "networks.h"
#include "util.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

int netns_create(const char *path, husk_err **err)
{
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
    if (fd < 0)
        return husk_fail(err, errno, "network namespace %s", path);
    close(fd);
    pid_t pid = fork();
    if (pid < 0) {
        unlink(path);
        return husk_fail(err, errno, "fork");
    }
    if (pid == 0) {
        /* the child is still in our mount namespace: its bind mount is ours */
        if (unshare(CLONE_NEWNET) < 0)
            _exit(1);
        if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
            _exit(2);
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        unlink(path);
        return husk_fail(err, 0, "network namespace %s: %s failed", path,
                         WIFEXITED(status) && WEXITSTATUS(status) == 1 ? "unshare(CLONE_NEWNET)" : "bind mount");
    }
    return 0;
}

bool netns_mounted(const char *path)
{
    struct statfs sf;
    return statfs(path, &sf) == 0 && (unsigned long)sf.f_type == (unsigned long)NSFS_MAGIC;
}

int netns_remove(const char *path, husk_err **err)
{
    /* MNT_DETACH: a process still entering it keeps its own reference; the file
     * goes now either way */
    while (netns_mounted(path))
        if (umount2(path, MNT_DETACH) < 0)
            return husk_fail(err, errno, "unmount %s", path);
    if (unlink(path) < 0 && errno != ENOENT)
        return husk_fail(err, errno, "remove %s", path);
    return 0;
}
