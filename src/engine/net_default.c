/* net_default.c — what every store shares on one host: the default network, its
 * address leases, the engine configuration's network keys, the host's addresses,
 * and a lock per bridge around netavark's calls.
 *
 * The default network "husk" is docker's default bridge: a container without
 * --network is on it. Its bridge and firewall rules are the host's, not a store's,
 * so it is the same network from every store (--storage-root): the fixed name, the
 * fixed bridge husk0, a fixed id, netavark given its own name (netavark names a
 * network's firewall chains after the name it gets, so every store's containers
 * share them; a user network gets NAME-<id prefix>, ctr_net.c), and the subnet of
 * /etc/husk/engine.json. Its bridge outlives its last container (net_bridge_keep.c).
 * It is never written to a store; its addresses are leased host-wide, under
 * /run/husk/net/husk0/, each lease naming its store and container. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <json-c/json.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include "image.h"
#include "net_int.h"
#include "networks.h"
#include "util.h"

#define DEFAULT_SUBNET "10.89.0.0/24"
/* sha256("husk"), as podman's default network's id is sha256("podman") */
#define DEFAULT_ID "c8b1f4b76229cb72d6bc950f3d2e2b5891e14a35743e3b6f21bf0cd87511a1ba"

/* ---------------------------------------------------------------- engine.json */

static const char *engine_config_path(void)
{
    const char *path = getenv("HUSK_ENGINE_CONFIG");
    return path && *path ? path : "/etc/husk/engine.json";
}

void net_engine_cfg_free(struct net_engine_cfg *c)
{
    free(c->subnet);
    strv_free(c->dns);
    c->subnet = NULL;
    c->dns = NULL;
}

int net_engine_cfg_read(struct net_engine_cfg *c, husk_err **err)
{
    const char *path = engine_config_path();
    _cleanup_free_ char *text = NULL;
    husk_err *e = NULL;
    c->subnet = NULL;
    c->dns = xcalloc(1, sizeof *c->dns);
    if (read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, &e) < 0) {
        bool missing = e->errnum == ENOENT;
        husk_err_free(&e);
        if (missing) {
            c->subnet = xstrdup(DEFAULT_SUBNET);
            return 0;
        }
        net_engine_cfg_free(c);
        return husk_fail(err, 0, "engine configuration %s: cannot read it", path);
    }
    _cleanup_json_ struct json_object *root = json_tokener_parse(text);
    struct json_object *v;
    if (!root || !json_object_is_type(root, json_type_object)) {
        net_engine_cfg_free(c);
        return husk_fail(err, 0, "engine configuration %s: not a JSON object", path);
    }
    if (json_object_object_get_ex(root, "default-network-subnet", &v)) {
        uint32_t a;
        int p;
        if (!json_object_is_type(v, json_type_string) || net_parse_cidr(json_object_get_string(v), &a, &p) < 0 ||
            (a & ~net_mask(p))) {
            net_engine_cfg_free(c);
            return husk_fail(err, 0, "engine configuration %s: default-network-subnet: not an IPv4 subnet "
                             "(like \"10.89.0.0/24\")", path);
        }
        c->subnet = xstrdup(json_object_get_string(v));
    } else {
        c->subnet = xstrdup(DEFAULT_SUBNET);
    }
    /* docker daemon.json's "dns": the servers of every container with a network,
     * unless it has --dns */
    if (json_object_object_get_ex(root, "dns", &v)) {
        size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
        if (!json_object_is_type(v, json_type_array)) {
            net_engine_cfg_free(c);
            return husk_fail(err, 0, "engine configuration %s: dns: not a list of addresses", path);
        }
        c->dns = xrealloc(c->dns, (n + 1) * sizeof *c->dns);
        c->dns[0] = NULL;
        for (size_t i = 0; i < n; i++) {
            struct json_object *s = json_object_array_get_idx(v, i);
            uint32_t a;
            if (!json_object_is_type(s, json_type_string) || net_parse_ip(json_object_get_string(s), &a) < 0) {
                net_engine_cfg_free(c);
                return husk_fail(err, 0, "engine configuration %s: dns: %s is not an IPv4 address", path,
                                 json_object_to_json_string(s));
            }
            c->dns[i] = xstrdup(json_object_get_string(s));
            c->dns[i + 1] = NULL;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- the definition */

struct json_object *net_default_def_for(const char *subnet, const char *gateway)
{
    /* no names between containers: docker's default bridge has none either */
    return net_def_json(NET_DEFAULT_NAME, DEFAULT_ID, NET_DEFAULT_BRIDGE, subnet, gateway, false, false, NULL);
}

int net_default_def(struct json_object **out, husk_err **err)
{
    struct net_engine_cfg c;
    if (net_engine_cfg_read(&c, err) < 0)
        return husk_err_prefix(err, "the default network");
    uint32_t net;
    int prefix;
    net_parse_cidr(c.subnet, &net, &prefix);
    _cleanup_free_ char *gw = net_ip_str(net + 1);
    *out = net_default_def_for(c.subnet, gw);
    net_engine_cfg_free(&c);
    return 0;
}

/* ---------------------------------------------------------------- the host */

bool net_host_addr_in(uint32_t net, int prefix)
{
    struct ifaddrs *ifa = NULL;
    bool found = false;
    if (getifaddrs(&ifa) < 0)
        return false;
    for (struct ifaddrs *i = ifa; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        uint32_t a = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
        uint32_t m = 0;
        if (i->ifa_netmask)
            m = ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
        /* the interface's own subnet overlaps ours: either contains the other */
        uint32_t common = m < net_mask(prefix) ? m : net_mask(prefix);
        if ((a & common) == (net & common))
            found = true;
    }
    freeifaddrs(ifa);
    return found;
}

/* ---------------------------------------------------------------- locks */

int net_lock_file(const char *path, int *fd, husk_err **err)
{
    _cleanup_free_ char *dir = xstrdup(path);
    *strrchr(dir, '/') = '\0';
    if (mkdir_p(dir, 0700, err) < 0)
        return -1;
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0)
        return husk_fail(err, errno, "%s", path);
    while (flock(*fd, LOCK_EX) < 0)
        if (errno != EINTR) {
            int e = errno;
            close(*fd);
            *fd = -1;
            return husk_fail(err, e, "flock %s", path);
        }
    return 0;
}

int net_lock_bridges(struct json_object *network_info, int **fds_out, husk_err **err)
{
    /* one bridge is the host's whatever store made it: two netavarks at once could
     * make it twice, or one remove it (its last container gone) while the other
     * attaches to it. Taken in name order, so two callers never wait on each other. */
    size_t n = 0;
    bool dns = false;
    const char **names = xcalloc((size_t)json_object_object_length(network_info) + 2, sizeof *names);
    json_object_object_foreach(network_info, k, def) {
        (void)k;
        struct json_object *v;
        if (json_object_object_get_ex(def, "network_interface", &v) && strchr(json_object_get_string(v), '/') == NULL)
            names[n++] = json_object_get_string(v);
        if (json_object_object_get_ex(def, "dns_enabled", &v) && json_object_get_boolean(v))
            dns = true;
    }
    /* and aardvark-dns, one for the host: two netavarks on two networks with names
     * at once each found none running and started one, the second left behind for
     * good (its pid file names the first) */
    if (dns)
        names[n++] = "aardvark-dns";
    qsort(names, n, sizeof *names, (int (*)(const void *, const void *))strcmp_p);
    int *fds = xcalloc(n + 1, sizeof *fds);
    fds[n] = -1;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s.lock", NET_RUN_DIR, names[i]);
        if (net_lock_file(p, &fds[i], err) < 0) {
            for (size_t j = 0; j < i; j++)
                close(fds[j]);
            free(fds);
            free(names);
            return -1;
        }
    }
    free(names);
    *fds_out = fds;
    return 0;
}

void net_unlock_bridges(int *fds)
{
    for (size_t i = 0; fds && fds[i] >= 0; i++)
        close(fds[i]);
    free(fds);
}

/* ---------------------------------------------------------------- leases */

char *net_lease_dir(const struct store *st, const char *name)
{
    if (strcmp(name, NET_DEFAULT_NAME) == 0)
        return xasprintf("%s/%s", NET_RUN_DIR, NET_DEFAULT_BRIDGE);
    return xasprintf("%s/networks/leases/%s", st->root, name);
}

/* A lease file: "ID\nSTORE" (an older one: "ID", of the lease dir's store). */
static bool holder_parse(char *text, const char **id, const char **store)
{
    char *nl = strchr(text, '\n');
    *id = text;
    *store = NULL;
    if (nl) {
        *nl = '\0';
        *store = nl + 1;
        size_t l = strlen(*store);
        if (l && (*store)[l - 1] == '\n')
            nl[l] = '\0';
    }
    return **id && !strchr(*id, '/');
}

int net_lease_at(const char *dir, const char *store_root, struct json_object *def, const char *name,
                 const char *id, const char *want, char **ip_out, husk_err **err)
{
    uint32_t net, gw;
    int prefix;
    if (net_def_subnet(def, &net, &prefix, &gw) < 0)
        return husk_fail(err, 0, "network \"%s\": no IPv4 subnet in its definition", name);
    _cleanup_free_ char *lk = xasprintf("%s/.lock", dir), *store = realpath(store_root, NULL);
    if (!store)
        return husk_fail(err, errno, "storage root %s", store_root);
    _cleanup_close_ int lock = -1;
    /* one chooser at a time: taking back a stale lease is a read, an unlink and a
     * create, which must not interleave with another's */
    if (net_lock_file(lk, &lock, err) < 0)
        return -1;
    uint32_t first = net + 1, last = (net | ~net_mask(prefix)) - 1, w = 0;
    if (want) {
        if (net_parse_ip(want, &w) < 0 || w < first || w > last || w == gw)
            return husk_fail(err, 0, "--ip %s: not a free host address of network \"%s\"", want, name);
        first = last = w;
    }
    _cleanup_free_ char *mine = xasprintf("%s\n%s", id, store);
    for (uint32_t a = first; a <= last && a >= first; a++) {
        if (a == gw)
            continue;
        _cleanup_free_ char *ip = net_ip_str(a), *p = xasprintf("%s/%s", dir, ip);
        for (int tries = 0; tries < 2; tries++) {
            int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd >= 0) {
                bool ok = write_all(fd, mine, strlen(mine)) == (ssize_t)strlen(mine);
                close(fd);
                if (!ok) {
                    unlink(p);
                    return husk_fail(err, errno, "%s", p);
                }
                *ip_out = steal_ptr(ip);
                return 0;
            }
            if (errno != EEXIST)
                return husk_fail(err, errno, "%s", p);
            /* a lease whose container is gone from its store (removed after a
             * crash, or its whole store deleted) is free */
            _cleanup_free_ char *holder = NULL, *hdir = NULL;
            const char *hid, *hstore;
            husk_err *e = NULL;
            if (read_file_at(AT_FDCWD, p, 8192, &holder, NULL, &e) < 0) {
                husk_err_free(&e);
                break;
            }
            if (!holder_parse(holder, &hid, &hstore))
                break;
            if (strcmp(hid, id) == 0 && (!hstore || strcmp(hstore, store) == 0)) {
                *ip_out = steal_ptr(ip);
                return 0;
            }
            hdir = xasprintf("%s/containers/%s", hstore ? hstore : store, hid);
            if (access(hdir, F_OK) == 0 || errno != ENOENT)
                break;
            unlink(p);
        }
    }
    if (want)
        return husk_fail(err, 0, "--ip %s: the address is in use on network \"%s\"", want, name);
    return husk_fail(err, 0, "network \"%s\": no free address left", name);
}

void net_release_at(const char *dir, const char *store_root, const char *id)
{
    _cleanup_free_ char *lk = xasprintf("%s/.lock", dir), *store = realpath(store_root, NULL);
    DIR *d = opendir(dir);
    if (!d)
        return;
    _cleanup_close_ int lock = -1;
    husk_err *e = NULL;
    if (net_lock_file(lk, &lock, &e) < 0)
        husk_err_free(&e);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        _cleanup_free_ char *holder = NULL;
        const char *hid, *hstore;
        if (read_file_at(dirfd(d), de->d_name, 8192, &holder, NULL, &e) < 0) {
            husk_err_free(&e);
            continue;
        }
        if (holder_parse(holder, &hid, &hstore) && strcmp(hid, id) == 0 &&
            (!hstore || (store && strcmp(hstore, store) == 0)))
            unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}
