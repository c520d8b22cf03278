/* cgroups.h — putting the container in its own cgroup on every hierarchy.
 *
 * The host layout is detected from /proc/self/mountinfo: cgroup v1 controllers
 * (one mount each, possibly co-mounted, plus named hierarchies like name=systemd),
 * a unified cgroup2 hierarchy, or both (hybrid, like this machine). The container's
 * path is linux.cgroupsPath (absolute: from each hierarchy's root; relative: below
 * husk's own cgroup) or /husk/<id>. Only directories husk made are ever removed.
 * linux.resources become file writes planned by cgroup_v1.c / cgroup_v2.c (see
 * cgroup_plan.h) and performed by cgroup_apply_resources(). */
#ifndef HUSK_CGROUPS_H
#define HUSK_CGROUPS_H

#include <stdbool.h>
#include <sys/types.h>
#include "error.h"

struct husk_cgroup {
    char **paths;        /* container dir per hierarchy, absolute, NULL-terminated */
    char **created;      /* dirs created by husk, parents before children, NULL-terminated */
    char *freezer;       /* v1 freezer dir, or v2 dir (cgroup.freeze), or NULL */
};

enum cgroup_layout { CGROUP_LAYOUT_V1, CGROUP_LAYOUT_V2, CGROUP_LAYOUT_HYBRID, CGROUP_LAYOUT_NONE };
enum cgroup_layout cgroup_detect_layout(void);
/* The same from the given text of a mountinfo file (for tests). */
enum cgroup_layout cgroup_layout_of(const char *mountinfo);

/* Where cgroup_create would put the container, without touching anything: from the
 * texts of /proc/self/mountinfo and /proc/self/cgroup (the latter only matters for a
 * relative cgroups_path). *paths is NULL-terminated, in cgroup_create's order. Lets
 * unit tests check v1, v2, hybrid and namespaced layouts on any host. */
int cgroup_resolve(const char *mountinfo, const char *self_cgroup, const char *cgroups_path, const char *id,
                   char ***paths, husk_err **err);

/* Create (mkdir -p, recording what was new) the container's cgroup on every hierarchy.
 * cpuset.cpus/mems are copied down from the parent for new v1 cpuset dirs so that a
 * process can be added. On failure, whatever was created is removed. */
int cgroup_create(const char *cgroups_path, const char *id, struct husk_cgroup *out, husk_err **err);
struct oci_linux;
/* Apply linux.resources (and the default device rules) to the container's new
 * cgroup, before any process is in it. Each resource group goes to the hierarchy
 * that holds its controller: v1 first, else the unified one (on a hybrid host,
 * e.g. hugetlb). A controller the host lacks is ignored when the config does not
 * ask for it and an error naming it when it does. linux_ may be NULL. Errors name
 * the JSON path ("linux.resources.cpu.cpus: write ..."). */
int cgroup_apply_resources(const struct husk_cgroup *cg, const struct oci_linux *linux_, husk_err **err);
/* The same for a running container (`husk update`): only what linux_ sets, and
 * never the device rules. */
int cgroup_update_resources(const struct husk_cgroup *cg, const struct oci_linux *linux_, husk_err **err);
/* Write pid to cgroup.procs on every hierarchy. */
int cgroup_enter(const struct husk_cgroup *cg, pid_t pid, husk_err **err);
/* The calling single-threaded process moves itself into every hierarchy (the v2 one
 * too unless skip_v2): no global lock and RCU wait on Linux >= 6.0 (cgroups.c). */
int cgroup_enter_self(const struct husk_cgroup *cg, bool skip_v2, husk_err **err);
/* fork(), with the child born in the container's cgroup v2 directory when there is
 * one and clone3 allows it (*born_in_v2). */
pid_t cgroup_fork_into(const struct husk_cgroup *cg, bool *born_in_v2);
/* The same, the child also born in the new namespaces of ns_flags (CLONE_NEW*):
 * clone3, or clone(2) where clone3 is refused; -1 with errno if that fails. */
pid_t cgroup_clone_into(const struct husk_cgroup *cg, int ns_flags, bool *born_in_v2);
/* Pids in the container's cgroup (first hierarchy that lists them). *pids malloc'd. */
int cgroup_pids(const struct husk_cgroup *cg, pid_t **pids, size_t *n, husk_err **err);
/* rmdir what husk created, children first; EBUSY is retried briefly (processes exiting). */
int cgroup_destroy(const struct husk_cgroup *cg, husk_err **err);
void cgroup_free(struct husk_cgroup *cg);

/* Pause/resume (cgroup_freezer.c): v1 freezer.state or v2 cgroup.freeze on
 * cg->freezer, waiting until the kernel reports the whole cgroup frozen (thawed).
 * A freeze that does not complete in time is undone and is an error. */
#include <stdbool.h>
#include <stdint.h>
int cgroup_freeze(const struct husk_cgroup *cg, husk_err **err);
int cgroup_thaw(const struct husk_cgroup *cg, husk_err **err);
bool cgroup_frozen(const struct husk_cgroup *cg);   /* FROZEN or FREEZING */
/* Whether any of the container's cgroups is frozen or freezing, whoever froze it
 * (`husk pause`, a write to freezer.state or cgroup.freeze, a frozen ancestor):
 * NULL, or a malloc'd "<dir> (<what says so>)" for an error message. */
char *cgroup_frozen_why(const struct husk_cgroup *cg);
/* Thaw the container's own freezer (v1) and v2 dirs, so a SIGKILL can land (v1
 * holds it back from a frozen task). false if still frozen (a frozen ancestor). */
bool cgroup_thaw_all(const struct husk_cgroup *cg);
/* For a cgroup create just made: an error if it is frozen (nothing could run in
 * it, and create would wait forever); a warning if a cgroup that was already
 * there holds processes, as runc prints ("container's cgroup is not empty"). */
int cgroup_check_new(const struct husk_cgroup *cg, husk_err **err);

/* Statistics (cgroup_stats.c): runc's types.Stats as a new JSON object. */
struct json_object;
int cgroup_stats(const struct husk_cgroup *cg, struct json_object **out, husk_err **err);
/* OOM-kill notifications. *w stays NULL (and 0 is returned) when the host has no
 * memory controller for the container. Poll the fd cgroup_oom_watch_pollfd fills
 * in; when it is ready, cgroup_oom_watch_read says how many OOMs happened. */
struct cgroup_oom_watch;
struct pollfd;
int cgroup_oom_watch_open(const struct husk_cgroup *cg, struct cgroup_oom_watch **w, husk_err **err);
void cgroup_oom_watch_pollfd(const struct cgroup_oom_watch *w, struct pollfd *p);
int cgroup_oom_watch_read(struct cgroup_oom_watch *w, uint64_t *n, husk_err **err);
void cgroup_oom_watch_free(struct cgroup_oom_watch *w);

#endif
