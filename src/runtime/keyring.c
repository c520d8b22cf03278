/* keyring.c — the container's session keyring. See keyring.h for why. */
#include "keyring.h"

#include <errno.h>
#include <linux/keyctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* keyrings(7): the permission bits of the key's owner ("user"); SEARCH lets a
 * process find the keyring by name (KEYCTL_JOIN_SESSION_KEYRING). */
#define KEY_USR_SEARCH 0x00080000u

/* The permission mask of a key, from KEYCTL_DESCRIBE's "type;uid;gid;perm;desc". */
static int key_perm(long key, unsigned *perm)
{
    char buf[512];
    long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, key, buf, sizeof buf - 1);
    if (n < 0)
        return -1;
    buf[(size_t)n < sizeof buf - 1 ? (size_t)n : sizeof buf - 1] = '\0';
    char *p = buf;
    for (int field = 0; field < 3; field++) {
        p = strchr(p, ';');
        if (p == NULL) {
            errno = EINVAL;
            return -1;
        }
        p++;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(p, &end, 16);
    if (errno || end == p || *end != ';' || v > 0xffffffffu) {
        errno = EINVAL;
        return -1;
    }
    *perm = (unsigned)v;
    return 0;
}

int keyring_join_session(const char *id, bool make_searchable, husk_err **err)
{
    _cleanup_free_ char *name = xasprintf("_ses.%s", id);
    long key = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
    bool named = key >= 0;
    /* EACCES: a keyring of that name exists that we may not search (not ours);
     * EDQUOT: the owner's key quota (a user namespace's root has 200 keys). The
     * container still must not keep the caller's keyring: an anonymous one. */
    if (key < 0 && (errno == EACCES || errno == EPERM || errno == EDQUOT))
        key = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL);
    if (key < 0) {
        if (errno == ENOSYS)
            return 0;   /* a kernel without keyrings: there is nothing to inherit */
        return husk_fail(err, errno, "join session keyring %s", name);
    }
    if (named && make_searchable) {
        unsigned perm;
        if (key_perm(key, &perm) < 0)
            return husk_fail(err, errno, "read the permissions of session keyring %s", name);
        if ((perm & KEY_USR_SEARCH) == 0 &&
            syscall(SYS_keyctl, KEYCTL_SETPERM, key, perm | KEY_USR_SEARCH) < 0)
            return husk_fail(err, errno, "make session keyring %s searchable", name);
    }
    return 0;
}
