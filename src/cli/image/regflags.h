/* regflags.h — the registry flags pull, push and login share (podman's spelling):
 * --tls-verify[=BOOL], --creds USER[:PASSWORD]. */
#ifndef HUSK_CLI_REGFLAGS_H
#define HUSK_CLI_REGFLAGS_H

#include <string.h>

#define REGFLAGS_OPTIONS                                                              \
    { "tls-verify", optional_argument, NULL, 'T' }, { "creds", required_argument, NULL, 'C' }

/* --tls-verify alone is true; =true/=false. 0 ok, -1 on another value. */
static inline int regflags_tls_verify(const char *arg, int *out)
{
    if (!arg || strcmp(arg, "true") == 0 || strcmp(arg, "1") == 0)
        *out = 1;
    else if (strcmp(arg, "false") == 0 || strcmp(arg, "0") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

#endif
