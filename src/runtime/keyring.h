/* keyring.h — the container's session keyring (keyrings(7), keyctl(2)).
 *
 * A process inherits its parent's session keyring. husk's caller's is the host's
 * (a login's, root's _uid_ses.0, a service's), and a process that has it as its
 * session keyring "possesses" it: it can read the keys in it. So every process of
 * a container, the init and each exec'd one, joins the container's own keyring,
 * "_ses.<id>", as with runc, unless create was given --no-new-keyring. */
#ifndef HUSK_KEYRING_H
#define HUSK_KEYRING_H

#include <stdbool.h>

#include "error.h"

/* Join "_ses.<id>" (made if it does not exist yet). With make_searchable (the
 * init, which makes it), the keyring's owner gets search permission on it, so an
 * exec'd process, running as the same owner before its user switch, can find it by
 * name. If the named keyring cannot be joined, the process gets an anonymous one:
 * never the caller's. A kernel without keyrings (ENOSYS) is not an error. */
int keyring_join_session(const char *id, bool make_searchable, husk_err **err);

#endif
