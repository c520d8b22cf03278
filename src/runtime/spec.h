/* spec.h — the default config.json of `husk spec`, like runc's. */
#ifndef HUSK_SPEC_H
#define HUSK_SPEC_H

#include <stdbool.h>
#include <sys/types.h>

/* Returns the JSON text (pretty, tab-indented like runc's). rootless: a user
 * namespace mapping uid/gid 0 to the given host ids, no network namespace, no
 * cgroup resources. */
char *spec_default_json(bool rootless, uid_t uid, gid_t gid);

#endif
