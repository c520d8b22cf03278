/* testhooks.h — named kill points for the crash-safety tests (tests/integration/crash.bats).
 *
 * husk_kill_point("create.after-cgroup") marks a step after which a crash would leave
 * something half-made. In a build configured with -Dtest_hooks=true (HUSK_TEST_HOOKS),
 * the process that reaches the point dies there, with no clean-up of any kind, when
 * the environment variable HUSK_TEST_KILL_AT equals its name. In every other build
 * the macro is empty: the installed binary reads no such variable.
 *
 * Every point is listed, with the process that dies at it, in the table of
 * testhooks.c; `HUSK_TEST_KILL_AT=list husk ...` prints that table (one point a line:
 * NAME<TAB>PROCESS<TAB>what is half-made) and exits 0, so that tests enumerate them.
 * Names say the process: "VERB.step" is the CLI process of that verb, "create.stage1.",
 * "create.stage2." the two setup processes of create, "start.init." the container's
 * init once start released it, "exec.child." the process exec is starting. */
#ifndef HUSK_TESTHOOKS_H
#define HUSK_TESTHOOKS_H

#include "husk-config.h"

#if HUSK_TEST_HOOKS
/* Dies (SIGKILL; see testhooks.c for pid 1 of a pid namespace) if HUSK_TEST_KILL_AT
 * is name. An unknown name aborts: every point must be in the table. */
void husk_kill_point(const char *name);
/* With HUSK_TEST_KILL_AT=list: print the table to stdout and exit(0). */
void husk_kill_points_maybe_list(void);
#else
#define husk_kill_point(name) ((void)0)
#define husk_kill_points_maybe_list() ((void)0)
#endif

#endif
