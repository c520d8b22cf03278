/* container_int.h — what the parent's side of a container's creation
 * (container.c) and the children's side (container_init.c) share. Internal to
 * those two files. */
#ifndef HUSK_CONTAINER_INT_H
#define HUSK_CONTAINER_INT_H

#include <stdbool.h>

#include "cgroups.h"
#include "config.h"
#include "container.h"
#include "namespaces.h"
#include "seccomp_filter.h"

/* What the parent hands to stage 1 / the init. */
struct stage_ctx {
    struct husk_container *c;
    int sock;          /* sync socket to the parent */
    int fifo_fd;       /* O_PATH fd of exec.fifo, or -1 (start_wfd) */
    int start_wfd;     /* start_now: where to report instead of exec.fifo, or -1 */
    char *state_json;  /* "creating" state from the parent, when hooks need it */
    struct husk_seccomp *seccomp;   /* linux.seccomp, read from seccomp_prog_fd when loaded */
    int seccomp_prog_fd;            /* memfd the parent writes the BPF program to, or -1 */
    int seccomp_listener_fd;        /* connected to listenerPath when NOTIFY is used, or -1 */
    const struct husk_cgroup *cg;   /* stage 1 moves itself in (cgroup_enter_self) */
    bool born_in_v2;                /* stage 1 was forked into the v2 cgroup already */
};

static inline bool has_hooks(const struct oci_hook_list *l) { return l->n > 0; }

static inline bool need_parent_hooks(const struct oci_config *cfg)
{
    return cfg->has_hooks && (has_hooks(&cfg->hooks.prestart) || has_hooks(&cfg->hooks.create_runtime));
}

static inline bool need_state_in_container(const struct oci_config *cfg)
{
    return cfg->has_hooks &&
           (has_hooks(&cfg->hooks.create_container) || has_hooks(&cfg->hooks.start_container));
}

/* The socket-activation fds (LISTEN_FDS) meant for this process, or 0. */
int caller_listen_fds(void);
/* The CLONE_NEW* flags to clone the init with directly, or -1 when stage 1 is
 * needed (namespaces to join by path, a user or time namespace). */
int direct_clone_flags(const struct oci_config *cfg, const struct ns_join *joins);
/* Stage 1; never returns. */
__attribute__((noreturn)) void stage1_main(struct stage_ctx *s, struct ns_join *joins);
/* The init cloned straight into its namespaces; never returns. */
__attribute__((noreturn)) void init_direct_main(struct stage_ctx *s);

#endif
