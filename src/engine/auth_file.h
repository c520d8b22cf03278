/* auth_file.h — registry credentials in the files docker and podman keep them in,
 * in their format ({"auths": {"HOST": {"auth": base64("user:password")}}}).
 *
 * Read, first match wins: $REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json,
 * ~/.config/containers/auth.json, ~/.docker/config.json. Written (login/logout):
 * $REGISTRY_AUTH_FILE, else ${XDG_RUNTIME_DIR}/containers/auth.json (podman's choice;
 * /run/containers/UID/auth.json without XDG_RUNTIME_DIR), mode 0600, replaced
 * atomically, every other key of the file kept.
 *
 * Credential helpers, as docker uses them: a file's "credHelpers": {"HOST": "NAME"}
 * entry for the host, else its "credsStore": "NAME", runs `docker-credential-NAME get`
 * (found on PATH) with the server on stdin, and takes {"Username", "Secret"} from its
 * stdout; a helper that has none ("credentials not found") passes on to the next
 * file. login and logout still write only "auths". */
#ifndef HUSK_ENGINE_AUTH_FILE_H
#define HUSK_ENGINE_AUTH_FILE_H

#include "error.h"

/* Credentials for host ("docker.io" also matches docker's "https://index.docker.io/v1/").
 * 0 and *user and *pass set, 1 when none are stored, -1 on a broken file. */
int auth_lookup(const char *host, char **user, char **pass, husk_err **err);

/* Look host up in one file's JSON text (pure, unit tested). Same returns. */
int auth_lookup_json(const char *json, const char *host, char **user, char **pass, husk_err **err);

/* The credential helper NAME a file's JSON text names for host (pure, unit tested):
 * 0 and *helper set, 1 when none, -1 when the text is broken or the name has a '/'. */
int auth_helper_json(const char *json, const char *host, char **helper, husk_err **err);

/* The file login writes (see above). */
char *auth_write_path(void);

/* Store (user, pass) for host / remove host. auth_remove returns 1 when host was not there. */
int auth_store(const char *host, const char *user, const char *pass, husk_err **err);
int auth_remove(const char *host, husk_err **err);

/* "user:pass" → user, pass (the first ':' splits; none: pass NULL). */
void auth_split_creds(const char *creds, char **user, char **pass);

#endif
