/* ocispec_user.c — "user[:group]" through the image's /etc/passwd and /etc/group,
 * with docker's (libcontainer's) rules:
 *   - a numeric user is always a uid: its passwd entry, if any, gives the primary
 *     gid; without one it is still allowed, with gid 0;
 *   - a user name must be in /etc/passwd; "" means uid 0;
 *   - an explicit group (name, or a gid allowed without an entry) replaces the
 *     primary gid; without one, the groups listing the matched user name become
 *     the supplementary groups.
 *
 * The files belong to the image, i.e. to whoever built it: they are opened with
 * openat2(RESOLVE_IN_ROOT) from the rootfs (paths.c), so a symlink /etc/passwd ->
 * /etc/shadow or -> ../../../../etc/passwd names the rootfs's own file, never the
 * host's; only regular files are read (a FIFO would block us forever), and only so
 * much of them. */
#include "ocispec_int.h"

#include "paths.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ID_MAX 2147483647L   /* docker's range for uids and gids */
#define DB_MAX (8 << 20)     /* a passwd or group file larger than this is not one */

/* A whole id: digits only, within [0, ID_MAX]. -1 if not numeric, -2 out of range. */
static long parse_id(const char *s)
{
    if (*s == '\0')
        return -1;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE || v > ID_MAX)
        return -2;
    return (long)v;
}

/* Read rootfs/etc/NAME. *text NULL (and 0) when the file does not exist. */
static int read_db(int rootfd, const char *name, char **text, husk_err **err)
{
    _cleanup_err_ husk_err *e = NULL;
    *text = NULL;
    _cleanup_close_ int fd = open_in_root(rootfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, &e);
    if (fd < 0) {
        if (e && (e->errnum == ENOENT || e->errnum == ENOTDIR))
            return 0;
        *err = steal_ptr(e);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0)
        return husk_fail(err, errno, "stat %s in the image", name);
    if (!S_ISREG(st.st_mode))
        return husk_fail(err, 0, "%s in the image is not a regular file", name);
    if (st.st_size > DB_MAX)
        return husk_fail(err, 0, "%s in the image is larger than %d bytes", name, DB_MAX);
    char *buf = xmalloc((size_t)st.st_size + 1);
    ssize_t n = read_all(fd, buf, (size_t)st.st_size);
    if (n < 0) {
        free(buf);
        return husk_fail(err, errno, "read %s in the image", name);
    }
    buf[n] = '\0';
    *text = buf;
    return 0;
}

/* Split one line into at most max ':'-separated fields (in place). */
static size_t split_fields(char *line, char **f, size_t max)
{
    size_t n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == ':') {
            *p = '\0';
            f[n++] = p + 1;
        }
    return n;
}

/* Next line of text (in place), NULL at the end. Blank and '#' lines skipped. */
static char *next_line(char **cur)
{
    while (*cur && **cur) {
        char *line = *cur;
        char *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
            *cur = nl + 1;
        } else {
            *cur = line + strlen(line);
        }
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line && *line != '#')
            return line;
    }
    return NULL;
}

static bool list_has(char *members, const char *name)
{
    if (name == NULL || *name == '\0')
        return false;
    for (char *save = NULL, *m = strtok_r(members, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
        while (*m == ' ')
            m++;
        size_t len = strlen(m);
        while (len > 0 && (m[len - 1] == ' ' || m[len - 1] == '\r'))
            m[--len] = '\0';
        if (strcmp(m, name) == 0)
            return true;
    }
    return false;
}

int ocispec_resolve_user(const char *rootfs, const char *spec, const char *what, struct ocispec_user *out,
                         husk_err **err)
{
    *out = (struct ocispec_user){ 0 };
    _cleanup_free_ char *copy = xstrdup(spec ? spec : "");
    char *user = copy, *group = strchr(copy, ':');
    if (group)
        *group++ = '\0';
    if (group && *group == '\0')
        group = NULL;
    long uid_arg = parse_id(user), gid_arg = group ? parse_id(group) : -1;
    if (uid_arg == -2)
        return husk_fail(err, 0, "%s: uid %s out of range [0, %ld]", what, user, ID_MAX);
    if (gid_arg == -2)
        return husk_fail(err, 0, "%s: gid %s out of range [0, %ld]", what, group, ID_MAX);

    _cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return husk_fail(err, errno, "%s: open the rootfs %s", what, rootfs);

    _cleanup_free_ char *passwd = NULL, *groupdb = NULL;
    if (read_db(rootfd, "/etc/passwd", &passwd, err) < 0 || read_db(rootfd, "/etc/group", &groupdb, err) < 0)
        return husk_err_prefix(err, "%s", what);

    /* The user: first matching entry wins, as in libc. */
    _cleanup_free_ char *matched = NULL;
    bool found = false;
    for (char *cur = passwd, *line; (line = next_line(&cur));) {
        char *f[7] = { 0 };
        if (split_fields(line, f, 7) < 4)
            continue;
        long uid = parse_id(f[2]), gid = parse_id(f[3]);
        if (uid < 0 || gid < 0)
            continue;
        bool match = *user == '\0' ? uid == 0 : uid_arg >= 0 ? uid == uid_arg : strcmp(f[0], user) == 0;
        if (!match)
            continue;
        out->uid = (uid_t)uid;
        out->gid = (gid_t)gid;
        matched = xstrdup(f[0]);
        found = true;
        break;
    }
    if (!found && *user != '\0') {
        if (uid_arg < 0)
            return husk_fail(err, 0, "%s: no such user \"%s\" in the image's /etc/passwd", what, user);
        /* A uid the image does not know is allowed, as docker allows it. */
        out->uid = (uid_t)uid_arg;
        out->gid = 0;
    }

    if (group == NULL && matched == NULL)
        return 0;
    bool group_found = false;
    for (char *cur = groupdb, *line; (line = next_line(&cur));) {
        char *f[4] = { 0 };
        if (split_fields(line, f, 4) < 3)
            continue;
        long gid = parse_id(f[2]);
        if (gid < 0)
            continue;
        if (group) {
            if (gid_arg >= 0 ? gid == gid_arg : strcmp(f[0], group) == 0) {
                out->gid = (gid_t)gid;
                group_found = true;
                break;
            }
        } else if (f[3] && list_has(f[3], matched)) {
            out->sgids = xrealloc(out->sgids, (out->n_sgids + 1) * sizeof(gid_t));
            out->sgids[out->n_sgids++] = (gid_t)gid;
        }
    }
    if (group && !group_found) {
        if (gid_arg < 0)
            return husk_fail(err, 0, "%s: no such group \"%s\" in the image's /etc/group", what, group);
        out->gid = (gid_t)gid_arg;
    }
    return 0;
}

void ocispec_user_free(struct ocispec_user *u)
{
    free(u->sgids);
    u->sgids = NULL;
    u->n_sgids = 0;
}
