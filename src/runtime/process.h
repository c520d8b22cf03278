/* process.h — turning the container init into the configured user process:
 * rlimits, oomScoreAdj, hostname/domainname, sysctl, user and groups, umask, cwd,
 * noNewPrivileges, environment, and the final execve. */
#ifndef HUSK_PROCESS_H
#define HUSK_PROCESS_H

#include "config.h"
#include "container.h"

/* hostname, domainname (only valid with a "uts" entry in linux.namespaces — new or
 * joined by path, as runc — error otherwise, since it would rename the host) and
 * sysctl (only namespaced keys: net.*, kernel.{shm*,msg*,sem,sem_next_id,...}, fs.mqueue.*;
 * a key outside the container's namespaces is an error naming it). Call inside the
 * container namespaces, /proc already mounted (after pivot_root). */
int process_setup_uts(const struct oci_config *cfg, husk_err **err);
int process_setup_sysctl(const struct oci_config *cfg, husk_err **err);
/* The parent's early check, before anything is forked: the sysctl keys, and neither
 * sysctl nor hostname/domainname aimed at a namespace that is joined by path but is
 * in fact the host's own (host[], from ns_open_joins). */
int process_check_host_settings(const struct oci_config *cfg, const bool host[OCI_NS_COUNT], husk_err **err);

/* Every process.rlimits entry with setrlimit(). A hard limit above the current one
 * fails with the kernel's error (EPERM without CAP_SYS_RESOURCE), naming the rlimit. */
int process_setup_rlimits(const struct oci_process *p, husk_err **err);
/* /proc/self/oom_score_adj when set. */
int process_setup_oom_score_adj(const struct oci_process *p, husk_err **err);
/* process.scheduler with sched_setattr(2) and process.ioPriority with ioprio_set(2),
 * when set. Called while the process still has its capabilities (a real-time policy
 * needs CAP_SYS_NICE); the kernel's refusal is reported with the values. */
int process_setup_scheduler(const struct oci_process *p, husk_err **err);
int process_setup_io_priority(const struct oci_process *p, husk_err **err);
/* Pin pid (0: ourselves) to the CPUs of a list like "0-3,7" (execCPUAffinity). */
int process_set_affinity(pid_t pid, const char *cpus, const char *what, husk_err **err);

/* setgroups(additionalGids) (skipped when setgroups is denied in a user ns and no
 * additional gids are asked), setresgid, setresuid, with PR_SET_KEEPCAPS around it
 * so caps_apply() can then set the configured sets. */
int process_setup_user(const struct oci_process *p, husk_err **err);

/* Whether fd was open when husk started (the caller's, not one of husk's own):
 * only those may be passed on by --preserve-fds / LISTEN_FDS. */
bool process_fd_inherited(int fd);

/* "HOME=<dir>" of uid from the container's /etc/passwd ("HOME=/" if none): the
 * default HOME when process.env has none, as runc sets it. Call after pivot_root. */
char *process_home_env(uid_t uid);

/* chdir(process.cwd) — resolved inside the new root (we are already pivoted); a
 * missing cwd is created 0755, as runc does. */
int process_setup_cwd(const struct oci_process *p, husk_err **err);

/* Find args[0] on the PATH from process.env (not husk's own PATH), as runc does.
 * Returns a new string (absolute path) or -1 with "exec: \"foo\": executable file not found in $PATH". */
int process_find_executable(const struct oci_process *p, char **out, husk_err **err);

#endif
