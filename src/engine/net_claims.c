/* net_claims.c — a user network's bridge and subnet, claimed host-wide.
 *
 * A user network is its store's (STORE/networks/NAME.json), but its bridge
 * (huskN) and its subnet are the host's: two stores whose networks both chose
 * husk1 would, once both have containers, share one bridge with two subnets
 * (netavark attaches both to it): no isolation between them, and their routes
 * clash. What the host has up now (net_host_addr_in, /sys/class/net) does not tell
 * a network made while no container of the other store runs. So every user
 * network claims its bridge host-wide:
 *
 *   /run/husk/net/claims/bridge-<huskN>  "STORE\nNAME\nSUBNET\n": the store's real
 *                                        path and the network's name (and, to read,
 *                                        the subnet it had when it claimed)
 *   /run/husk/net/claims/.lock           held by whoever reads or writes a claim
 *
 * One file per bridge, made with O_EXCL: a bridge has one network. A claim is
 * valid while its store's definition exists and names that bridge; else it is
 * stale (its network removed without a husk that knew claims, its store deleted,
 * the definition edited) and taken over, as a lease of a gone container is. The
 * subnet of a valid claim is read from that definition, not from the file: the
 * definition is the network.
 *
 * Claimed at `network create` (which skips the bridges and subnets of other
 * stores' valid claims) and again before each netavark setup on the network
 * (container start, connect): /run is a tmpfs, the claims go at a reboot while the
 * definitions stay, and the first setup after it claims again — or is refused
 * when another store's network holds the bridge or an overlapping subnet by then.
 * `network rm` / prune drop the claim. The default network (husk0, the host's, the
 * same from every store) claims nothing.
 *
 * Lock order: a store's networks lock, then this one; nothing is taken under it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_int.h"
#include "networks.h"
#include "util.h"

const char *net_claims_dir = NET_RUN_DIR "/claims";

void net_claims_free(struct net_claim *v)
{
    for (size_t i = 0; v && v[i].store; i++) {
        free(v[i].store);
        free(v[i].name);
        free(v[i].bridge);
    }
    free(v);
}

int net_claims_lock(int *fd, husk_err **err)
{
    _cleanup_free_ char *lk = xasprintf("%s/.lock", net_claims_dir);
    return net_lock_file(lk, fd, err);
}

/* "STORE\nNAME\n…": an absolute store path and a network's name (a file name). */
static bool claim_parse(char *text, char **store, char **name)
{
    char *nl = strchr(text, '\n');
    if (!nl)
        return false;
    *nl = '\0';
    *store = text;
    *name = nl + 1;
    char *end = strchr(*name, '\n');
    if (end)
        *end = '\0';
    return **store == '/' && net_name_valid(*name);
}

/* Is the claim of bridge by the network name of store still its? Its subnet. */
static bool claim_valid(const char *store, const char *name, const char *bridge, uint32_t *net, int *prefix)
{
    _cleanup_free_ char *path = xasprintf("%s/networks/%s.json", store, name), *text = NULL;
    husk_err *e = NULL;
    if (read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, &e) < 0) {
        bool gone = e->errnum == ENOENT || e->errnum == ENOTDIR;
        husk_err_free(&e);
        /* unreadable for another reason: kept, rather than two networks on a bridge */
        *prefix = -1;
        return !gone;
    }
    _cleanup_json_ struct json_object *def = json_tokener_parse(text);
    struct json_object *v;
    uint32_t gw;
    if (!def || !json_object_object_get_ex(def, "network_interface", &v) ||
        strcmp(json_object_get_string(v), bridge) != 0)
        return false;
    if (net_def_subnet(def, net, prefix, &gw) < 0)
        *prefix = -1;
    return true;
}

int net_claims_read(const char *store, const char *name, struct net_claim **out, husk_err **err)
{
    size_t n = 0;
    struct net_claim *v = xcalloc(1, sizeof *v);
    DIR *d = opendir(net_claims_dir);
    if (!d) {
        if (errno != ENOENT) {
            free(v);
            return husk_fail(err, errno, "%s", net_claims_dir);
        }
        *out = v;
        return 0;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "bridge-", 7) != 0 || !de->d_name[7])
            continue;
        const char *bridge = de->d_name + 7;
        _cleanup_free_ char *text = NULL;
        char *cs, *cn;
        husk_err *e = NULL;
        if (read_file_at(dirfd(d), de->d_name, 8192, &text, NULL, &e) < 0) {
            husk_err_free(&e);
            continue;
        }
        struct net_claim c = { 0 };
        if (!claim_parse(text, &cs, &cn) || !claim_valid(cs, cn, bridge, &c.net, &c.prefix)) {
            unlinkat(dirfd(d), de->d_name, 0); /* stale: free again */
            continue;
        }
        if (strcmp(cs, store) == 0 && strcmp(cn, name) == 0)
            continue; /* the asker's own */
        c.store = xstrdup(cs);
        c.name = xstrdup(cn);
        c.bridge = xstrdup(bridge);
        v = xrealloc(v, (n + 2) * sizeof *v);
        v[n++] = c;
        memset(&v[n], 0, sizeof *v);
    }
    closedir(d);
    *out = v;
    return 0;
}

const struct net_claim *net_claims_clash(const struct net_claim *v, const char *bridge, uint32_t net, int prefix)
{
    for (size_t i = 0; v && v[i].store; i++) {
        if (bridge && strcmp(v[i].bridge, bridge) == 0)
            return &v[i];
        if (prefix >= 0 && v[i].prefix >= 0) {
            int p = v[i].prefix < prefix ? v[i].prefix : prefix;
            if ((v[i].net & net_mask(p)) == (net & net_mask(p)))
                return &v[i];
        }
    }
    return NULL;
}

int net_claim_write(const char *store, const char *name, const char *bridge, const char *subnet, husk_err **err)
{
    _cleanup_free_ char *p = xasprintf("%s/bridge-%s", net_claims_dir, bridge);
    _cleanup_free_ char *mine = xasprintf("%s\n%s\n%s\n", store, name, subnet);
    /* the caller has checked (locked) that no valid claim of another is there: one
     * that is there now is stale or the network's own, and is written anew (the
     * same already: nothing to do, as at each start of a container on it) */
    _cleanup_free_ char *old = NULL;
    husk_err *e0 = NULL;
    if (read_file_at(AT_FDCWD, p, 8192, &old, NULL, &e0) == 0 && strcmp(old, mine) == 0)
        return 0;
    husk_err_free(&e0);
    unlink(p);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return husk_fail(err, errno, "%s", p);
    bool ok = write_all(fd, mine, strlen(mine)) == (ssize_t)strlen(mine);
    int e = errno;
    close(fd);
    if (!ok) {
        unlink(p);
        return husk_fail(err, e, "%s", p);
    }
    return 0;
}

void net_claim_drop(const char *store, const char *name, const char *bridge)
{
    _cleanup_free_ char *p = xasprintf("%s/bridge-%s", net_claims_dir, bridge), *text = NULL;
    husk_err *e = NULL;
    char *cs, *cn;
    if (read_file_at(AT_FDCWD, p, 8192, &text, NULL, &e) < 0) {
        husk_err_free(&e);
        return;
    }
    /* only its own: a bridge another store's network took over stays that one's */
    if (claim_parse(text, &cs, &cn) && strcmp(cs, store) == 0 && strcmp(cn, name) == 0)
        unlink(p);
}

int net_claim(struct store *st, const char *name, struct json_object *def, husk_err **err)
{
    if (strcmp(name, NET_DEFAULT_NAME) == 0)
        return 0;
    struct json_object *v;
    uint32_t net, gw;
    int prefix;
    if (!json_object_object_get_ex(def, "network_interface", &v) || net_def_subnet(def, &net, &prefix, &gw) < 0)
        return husk_fail(err, 0, "network \"%s\": no bridge or IPv4 subnet in its definition", name);
    const char *bridge = json_object_get_string(v);
    if (!*bridge || strchr(bridge, '/'))
        return husk_fail(err, 0, "network \"%s\": bridge \"%s\" is not an interface name", name, bridge);
    _cleanup_free_ char *store = realpath(st->root, NULL);
    if (!store)
        return husk_fail(err, errno, "storage root %s", st->root);
    _cleanup_close_ int lock = -1;
    if (net_claims_lock(&lock, err) < 0)
        return -1;
    struct net_claim *claims = NULL;
    if (net_claims_read(store, name, &claims, err) < 0)
        return -1;
    const struct net_claim *c = net_claims_clash(claims, bridge, net, prefix);
    int r = 0;
    if (c && strcmp(c->bridge, bridge) == 0) {
        r = husk_fail(err, 0, "network \"%s\": bridge %s is network \"%s\"'s of the store %s (remove one, or "
                      "recreate it)", name, bridge, c->name, c->store);
    } else if (c) {
        _cleanup_free_ char *s = net_ip_str(c->net);
        r = husk_fail(err, 0, "network \"%s\": its subnet overlaps network \"%s\"'s of the store %s (%s/%d) "
                      "(remove one, or recreate it)", name, c->name, c->store, s, c->prefix);
    } else {
        _cleanup_free_ char *ns = net_ip_str(net), *subnet = xasprintf("%s/%d", ns, prefix);
        r = net_claim_write(store, name, bridge, subnet, err);
    }
    net_claims_free(claims);
    return r;
}
