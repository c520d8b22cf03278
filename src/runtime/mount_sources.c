/* mount_sources.c — see mount_sources.h. */
#include "mount_sources.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mounts.h"
#include "namespaces.h"
#include "newsys.h"
#include "sync.h"
#include "util.h"

static void opts_cleanup(struct mount_opts *o) { mount_opts_free(o); }

static bool is_bind(const struct oci_mount *m, const struct mount_opts *o)
{
    return o->bind || o->rbind || (m->type && strcmp(m->type, "bind") == 0);
}

static bool is_idmapped(const struct oci_mount *m, const struct mount_opts *o)
{
    return o->idmap || o->ridmap || m->n_uid_mappings || m->n_gid_mappings;
}

/* A new user namespace with mappings of its own (not a joined one). */
static bool own_userns_maps(const struct oci_config *cfg)
{
    const struct oci_namespace *ns = config_find_ns(cfg, OCI_NS_USER);
    return ns && ns->path == NULL && cfg->linux_.n_uid_mappings && cfg->linux_.n_gid_mappings;
}

int mount_sources_check(const struct oci_config *cfg, husk_err **err)
{
    for (size_t i = 0; i < cfg->n_mounts; i++) {
        const struct oci_mount *m = &cfg->mounts[i];
        _cleanup_(opts_cleanup) struct mount_opts o;
        mount_opts_parse(m->options, &o);

        if (m->n_uid_mappings && !m->n_gid_mappings)
            return husk_fail(err, 0, "mounts[%zu].gidMappings: required with uidMappings", i);
        if (m->n_gid_mappings && !m->n_uid_mappings)
            return husk_fail(err, 0, "mounts[%zu].uidMappings: required with gidMappings", i);
        if (!is_idmapped(m, &o))
            continue;
        const char *what = m->n_uid_mappings ? "uidMappings" : o.ridmap ? "options: ridmap" : "options: idmap";
        if (!is_bind(m, &o))
            return husk_fail(err, 0, "mounts[%zu].%s: idmapped mounts are only supported for bind mounts "
                             "(type \"%s\")", i, what, m->type ? m->type : "");
        if (o.flags & MS_REMOUNT)
            return husk_fail(err, 0, "mounts[%zu].%s: an idmapped mount cannot be a remount", i, what);
        if (m->source == NULL || *m->source == '\0')
            return husk_fail(err, 0, "mounts[%zu].source: required for an idmapped bind mount", i);
        /* runtime-spec 1.2: without mappings of its own, the mount takes the
         * container's user namespace mappings; there must be some. */
        if (!m->n_uid_mappings && !own_userns_maps(cfg))
            return husk_fail(err, 0, "mounts[%zu].%s: without uidMappings and gidMappings the mount takes "
                             "the container's user namespace mappings, and there are none", i, what);
    }
    return 0;
}

bool mount_source_from_parent(const struct oci_config *cfg, size_t i)
{
    const struct oci_mount *m = &cfg->mounts[i];
    _cleanup_(opts_cleanup) struct mount_opts o;
    mount_opts_parse(m->options, &o);
    if (!is_bind(m, &o) || (o.flags & MS_REMOUNT) || m->source == NULL || *m->source == '\0')
        return false;
    return is_idmapped(m, &o) || config_find_ns(cfg, OCI_NS_USER) != NULL;
}

bool mount_sources_needed(const struct oci_config *cfg)
{
    for (size_t i = 0; i < cfg->n_mounts; i++)
        if (mount_source_from_parent(cfg, i))
            return true;
    return false;
}

/* ---- the parent's helper ---------------------------------------------------- */

/* An fd of a user namespace with these mappings, for MOUNT_ATTR_IDMAP: a child
 * makes a new user namespace and says so, we write its maps and keep a reference
 * to the namespace, and it exits. (fork + unshare rather than clone(CLONE_NEWUSER),
 * which valgrind does not run.) */
static int userns_with_maps(const struct oci_id_mapping *u, size_t nu, const struct oci_id_mapping *g, size_t ng,
                            husk_err **err)
{
    int ready[2], hold[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        return husk_fail(err, errno, "pipe");
    if (pipe2(hold, O_CLOEXEC) < 0) {
        int e = errno;
        close(ready[0]);
        close(ready[1]);
        return husk_fail(err, e, "pipe");
    }
    pid_t pid = fork();
    if (pid == 0) {
        char ch = unshare(CLONE_NEWUSER) == 0 ? 'u' : 'e';
        close(ready[0]);
        close(hold[1]);
        if (write(ready[1], &ch, 1) == 1 && ch == 'u' && read(hold[0], &ch, 1) < 0) {
            /* EOF or error: either way, done */
        }
        _exit(0);
    }
    int e = errno;
    close(ready[1]);
    close(hold[0]);
    char ch = 0;
    int fd = -1;
    if (pid < 0)
        husk_fail(err, e, "fork");
    else if (read_all(ready[0], &ch, 1) != 1 || ch != 'u')
        husk_fail(err, 0, "create a user namespace for an idmapped mount");
    else {
        struct oci_linux lx = { .uid_mappings = (struct oci_id_mapping *)u, .n_uid_mappings = nu,
                                .gid_mappings = (struct oci_id_mapping *)g, .n_gid_mappings = ng };
        if (ns_write_id_maps(pid, &lx, err) == 0) {
            _cleanup_free_ char *path = xasprintf("/proc/%d/ns/user", (int)pid);
            fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                husk_fail(err, errno, "open %s", path);
        }
    }
    close(ready[0]);
    close(hold[1]);
    while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return fd;
}

static int idmap_tree(const struct oci_config *cfg, const struct oci_mount *m, const struct mount_opts *o,
                      int tree, const char *src, husk_err **err)
{
    bool own = m->n_uid_mappings > 0;
    _cleanup_close_ int userns =
        userns_with_maps(own ? m->uid_mappings : cfg->linux_.uid_mappings,
                         own ? m->n_uid_mappings : cfg->linux_.n_uid_mappings,
                         own ? m->gid_mappings : cfg->linux_.gid_mappings,
                         own ? m->n_gid_mappings : cfg->linux_.n_gid_mappings, err);
    if (userns < 0)
        return -1;
    /* ridmap: every mount of an rbind tree; idmap: the top one alone. */
    struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns };
    if (husk_mount_setattr(tree, "", AT_EMPTY_PATH | (o->ridmap ? AT_RECURSIVE : 0), &a, sizeof a) < 0) {
        int e = errno;
        return husk_fail(err, e, "idmap %s%s", src,
                         e == EINVAL ? " (does its filesystem support idmapped mounts?)" : "");
    }
    return 0;
}

static int helper_main(const struct husk_container *c, int sock, husk_err **err)
{
    const struct oci_config *cfg = c->config;

    /* The container's mount namespace, still showing the host's tree (stage 2 has
     * not pivoted): sources resolve as they would for stage 2, but with our
     * credentials. */
    _cleanup_free_ char *nsp = xasprintf("/proc/%d/ns/mnt", (int)c->pid);
    _cleanup_close_ int ns = open(nsp, O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNS) < 0)
        return husk_fail(err, errno, "join the container's mount namespace to open bind sources");

    for (size_t i = 0; i < cfg->n_mounts; i++) {
        if (!mount_source_from_parent(cfg, i))
            continue;
        const struct oci_mount *m = &cfg->mounts[i];
        _cleanup_(opts_cleanup) struct mount_opts o;
        mount_opts_parse(m->options, &o);
        /* type "bind" without bind/rbind is an rbind (mounts.c). */
        bool recursive = o.rbind || !o.bind;
        _cleanup_free_ char *src = m->source[0] == '/' ? xstrdup(m->source)
                                                       : xasprintf("%s/%s", c->bundle, m->source);
        _cleanup_close_ int tree =
            husk_open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
        if (tree < 0)
            husk_fail(err, errno, "clone mount tree %s", src);
        if (tree < 0 || (is_idmapped(m, &o) && idmap_tree(cfg, m, &o, tree, src, err) < 0))
            return husk_err_prefix(err, "mounts[%zu] (%s on %s)", i, m->source, m->destination ? m->destination : "?");
        if (sync_send_fd(sock, SYNC_MOUNT_FD, (int)i, tree) < 0)
            return husk_fail(err, errno, "send a mount source to the container setup");
    }
    return 0;
}

int mount_sources_serve(const struct husk_container *c, int sock, husk_err **err)
{
    int p[2], status = 0;
    if (pipe2(p, O_CLOEXEC) < 0)
        return husk_fail(err, errno, "pipe");
    /* A helper, because joining a mount namespace would also move our root and
     * cwd, which create still needs (a relative --pid-file). */
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return husk_fail(err, e, "fork");
    }
    if (pid == 0) {
        husk_err *e = NULL;
        close(p[0]);
        if (helper_main(c, sock, &e) < 0) {
            int en = e ? e->errnum : 0;
            const char *msg = e ? e->msg : "mount source helper failed";
            if (write_all(p[1], &en, sizeof en) < 0 || write_all(p[1], msg, strlen(msg)) < 0) {
                /* the parent sees the exit status */
            }
            _exit(1);
        }
        _exit(0);
    }
    close(p[1]);
    int en = 0;
    char msg[4096];
    ssize_t n = read_all(p[0], &en, sizeof en) == (ssize_t)sizeof en ? read_all(p[0], msg, sizeof msg - 1) : 0;
    close(p[0]);
    msg[n > 0 ? n : 0] = '\0';
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        husk_fail(err, 0, "%s", n > 0 ? msg : "mount source helper failed");
        (*err)->errnum = en;
        return -1;
    }
    if (sync_send(sock, SYNC_MOUNTSRC_DONE, 0, NULL) < 0)
        return husk_fail(err, errno, "sync with container setup");
    return 0;
}

/* ---- stage 2 ------------------------------------------------------------------ */

int mount_sources_receive(const struct oci_config *cfg, int sock, int **fds_out, husk_err **err)
{
    int *fds = xcalloc(cfg->n_mounts ? cfg->n_mounts : 1, sizeof(int));
    for (size_t i = 0; i < cfg->n_mounts; i++)
        fds[i] = -1;
    *fds_out = fds;
    if (sync_send(sock, SYNC_MOUNTSRC_PLS, 0, NULL) < 0)
        return husk_fail(err, errno, "sync with parent");
    _cleanup_free_ struct sync_msg *msg = xmalloc(sizeof *msg);
    for (;;) {
        int fd;
        if (sync_recv_fd(sock, msg, &fd, err) < 0)
            return -1;
        if (msg->type == SYNC_MOUNTSRC_DONE && fd < 0)
            return 0;
        if (msg->type != SYNC_MOUNT_FD || fd < 0 || msg->value < 0 || (size_t)msg->value >= cfg->n_mounts ||
            fds[msg->value] >= 0) {
            if (fd >= 0)
                close(fd);
            return husk_fail(err, 0, "unexpected message %d while receiving mount sources", msg->type);
        }
        fds[msg->value] = fd;
    }
}
