/* caps.h — capabilities (libcap): the five sets of process.capabilities.
 *
 * Bounding first (needs CAP_SETPCAP, which we still have), then the uid switch keeps
 * the permitted set (PR_SET_KEEPCAPS), then effective/permitted/inheritable are set
 * exactly as configured, then ambient. Anything not listed is dropped: inheritable is
 * empty unless the config asks (CVE-2022-29162). */
#ifndef HUSK_CAPS_H
#define HUSK_CAPS_H

#include "config.h"

/* Capability name ("CAP_SYS_ADMIN") to number, -1 if unknown. */
int cap_number(const char *name);
/* Number to canonical "CAP_..." name (static string), NULL if unknown. */
const char *cap_name_of(int cap);
/* Highest capability the running kernel knows (from /proc/sys/kernel/cap_last_cap). */
int cap_last(void);

/* Record a capability name husk does not know in *unknown (NULL-terminated, each
 * name once), to be skipped with a warning instead of refused. */
void caps_note_unknown(char ***unknown, const char *name);
/* What of caps will not be applied: the unknown names, then the known capabilities
 * above `last` (the running kernel's highest) in any set, each quoted once, ", "
 * separated. NULL when there is none. */
char *caps_ignored_list(const struct oci_capabilities *caps, int last);
/* One warning naming them all (runc's "ignoring unknown or unavailable
 * capabilities"), or nothing. Called once per create/run/exec, in the runtime. */
void caps_warn_ignored(const struct oci_capabilities *caps);

/* Step 1: drop from the bounding set every capability not in caps->bounding.
 * caps == NULL (no process.capabilities) or no bounding list means an EMPTY bounding
 * set, as in runc: a uid 0 process refills its permitted set from the bounding set at
 * execve, so keeping the bounding set would hand root every capability. Called before
 * the uid switch. */
int caps_drop_bounding(const struct oci_capabilities *caps, husk_err **err);
/* Step 2: after setresuid (with keepcaps): set effective, permitted, inheritable
 * and ambient exactly as listed (absent set or caps == NULL = empty). Errors name
 * the capability when effective ⊄ permitted or ambient ⊄ permitted ∩ inheritable.
 * Capabilities above cap_last() are skipped. Clears PR_SET_KEEPCAPS at the end. */
int caps_apply(const struct oci_capabilities *caps, husk_err **err);

#endif
