/* networks.c — network definitions (podman's format, for netavark) and their
 * address leases. See networks.h. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "containers.h"
#include "image.h"
#include "net_int.h"
#include "networks.h"
#include "util.h"

bool net_name_valid(const char *name)
{
    /* docker's container-name rule, which keeps names safe as file names */
    return ctr_name_valid(name) && strlen(name) <= 128;
}

char *net_def_path(const struct store *st, const char *name)
{
    return xasprintf("%s/networks/%s.json", st->root, name);
}

/* ---------------------------------------------------------------- IPv4 */

int net_parse_cidr(const char *s, uint32_t *addr, int *prefix)
{
    char buf[32];
    const char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= sizeof buf)
        return -1;
    memcpy(buf, s, (size_t)(slash - s));
    buf[slash - s] = '\0';
    struct in_addr a;
    char *end;
    long p = strtol(slash + 1, &end, 10);
    if (inet_pton(AF_INET, buf, &a) != 1 || *end || end == slash + 1 || p < 8 || p > 30)
        return -1;
    *addr = ntohl(a.s_addr);
    *prefix = (int)p;
    return 0;
}

int net_parse_ip(const char *s, uint32_t *addr)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1)
        return -1;
    *addr = ntohl(a.s_addr);
    return 0;
}

char *net_ip_str(uint32_t addr)
{
    struct in_addr a = { .s_addr = htonl(addr) };
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, buf, sizeof buf);
    return xstrdup(buf);
}

/* The network's subnet and gateway. */
int net_def_subnet(struct json_object *def, uint32_t *net, int *prefix, uint32_t *gw)
{
    struct json_object *subnets, *s0, *v;
    if (!json_object_object_get_ex(def, "subnets", &subnets) || json_object_array_length(subnets) < 1)
        return -1;
    s0 = json_object_array_get_idx(subnets, 0);
    if (!json_object_object_get_ex(s0, "subnet", &v) || net_parse_cidr(json_object_get_string(v), net, prefix) < 0)
        return -1;
    if (!json_object_object_get_ex(s0, "gateway", &v) || net_parse_ip(json_object_get_string(v), gw) < 0)
        return -1;
    return 0;
}

/* ---------------------------------------------------------------- definitions */

static int networks_lock(struct store *st, int *fd, husk_err **err)
{
    _cleanup_free_ char *lk = xasprintf("%s/networks/.lock", st->root);
    return net_lock_file(lk, fd, err);
}

static int read_def(const struct store *st, const char *name, struct json_object **out, husk_err **err)
{
    _cleanup_free_ char *path = net_def_path(st, name), *text = NULL;
    if (read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, err) < 0)
        return -1;
    *out = json_tokener_parse(text);
    if (!*out || !json_object_is_type(*out, json_type_object)) {
        json_object_put(*out);
        return husk_fail(err, 0, "network \"%s\": its definition is not JSON", name);
    }
    return 0;
}

int net_list(struct store *st, char ***names_out, husk_err **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/networks", st->root);
    /* the default network first: it is in no store, every store has it */
    size_t n = 1;
    char **v = xcalloc(2, sizeof *v);
    v[0] = xstrdup(NET_DEFAULT_NAME);
    DIR *d = opendir(dir);
    if (!d) {
        if (errno != ENOENT) {
            strv_free(v);
            return husk_fail(err, errno, "%s", dir);
        }
        *names_out = v;
        return 0;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        /* an older husk's own default network: the host-wide one replaces it */
        if (l == strlen(NET_DEFAULT_NAME) + 5 && strncmp(de->d_name, NET_DEFAULT_NAME, l - 5) == 0)
            continue;
        v = xrealloc(v, (n + 2) * sizeof *v);
        v[n++] = strndup(de->d_name, l - 5);
        v[n] = NULL;
    }
    closedir(d);
    qsort(v + 1, n - 1, sizeof *v, (int (*)(const void *, const void *))strcmp_p);
    *names_out = v;
    return 0;
}

int strcmp_p(const char **a, const char **b)
{
    return strcmp(*a, *b);
}

/* Subnets and bridge names of the other networks must not clash: this store's, and
 * the valid claims of other stores' (net_claims.c). Called locked. */
static int check_free(struct store *st, const struct net_claim *claims, uint32_t net, int prefix, char **ifname_out,
                      husk_err **err)
{
    _cleanup_strv_ char **names = NULL;
    if (net_list(st, &names, err) < 0)
        return -1;
    unsigned char used[256] = { 1 }; /* husk0: the default network's */
    for (size_t i = 0; names[i]; i++) {
        struct json_object *d = NULL;
        husk_err *e = NULL;
        if (net_get(st, names[i], &d, &e) < 0) {
            husk_err_free(&e);
            continue;
        }
        uint32_t n2, gw2;
        int p2;
        struct json_object *v;
        if (net_def_subnet(d, &n2, &p2, &gw2) == 0 && prefix >= 0) {
            int p = p2 < prefix ? p2 : prefix;
            if ((n2 & net_mask(p)) == (net & net_mask(p))) {
                _cleanup_free_ char *s = net_ip_str(n2);
                json_object_put(d);
                return husk_fail(err, 0, "subnet overlaps network \"%s\"'s (%s/%d)", names[i], s, p2);
            }
        }
        unsigned k;
        if (json_object_object_get_ex(d, "network_interface", &v) &&
            sscanf(json_object_get_string(v), "husk%u", &k) == 1 && k < 256)
            used[k] = 1;
        json_object_put(d);
    }
    const struct net_claim *c = net_claims_clash(claims, NULL, net, prefix);
    if (c && c->prefix >= 0) {
        _cleanup_free_ char *s = net_ip_str(c->net);
        return husk_fail(err, 0, "subnet overlaps network \"%s\"'s of the store %s (%s/%d)", c->name, c->store, s,
                         c->prefix);
    }
    for (size_t i = 0; claims && claims[i].store; i++) {
        unsigned k;
        char tail;
        if (sscanf(claims[i].bridge, "husk%u%c", &k, &tail) == 1 && k < 256)
            used[k] = 1;
    }
    if (ifname_out) {
        for (unsigned k = 0; k < 256; k++) {
            /* nor a bridge on the host now (another store's network) */
            _cleanup_free_ char *sys = xasprintf("/sys/class/net/husk%u", k);
            if (!used[k] && access(sys, F_OK) < 0) {
                *ifname_out = xasprintf("husk%u", k);
                return 0;
            }
        }
        return husk_fail(err, 0, "too many networks");
    }
    return 0;
}

/* A definition in podman's format, for netavark. */
struct json_object *net_def_json(const char *name, const char *id, const char *ifname, const char *subnet,
                                 const char *gateway, bool internal, bool dns, char *const *labels)
{
    _cleanup_free_ char *now = image_now_rfc3339();
    struct json_object *d = json_object_new_object();
    json_object_object_add(d, "name", json_object_new_string(name));
    json_object_object_add(d, "id", json_object_new_string(id));
    json_object_object_add(d, "driver", json_object_new_string("bridge"));
    json_object_object_add(d, "network_interface", json_object_new_string(ifname));
    json_object_object_add(d, "created", json_object_new_string(now));
    struct json_object *subs = json_object_new_array(), *s0 = json_object_new_object();
    json_object_object_add(s0, "subnet", json_object_new_string(subnet));
    json_object_object_add(s0, "gateway", json_object_new_string(gateway));
    json_object_array_add(subs, s0);
    json_object_object_add(d, "subnets", subs);
    json_object_object_add(d, "ipv6_enabled", json_object_new_boolean(false));
    json_object_object_add(d, "internal", json_object_new_boolean(internal));
    /* podman's: names between containers (aardvark-dns) */
    json_object_object_add(d, "dns_enabled", json_object_new_boolean(dns));
    struct json_object *lab = json_object_new_object();
    for (size_t i = 0; labels && labels[i]; i++) {
        const char *eq = strchr(labels[i], '=');
        _cleanup_free_ char *k = eq ? strndup(labels[i], (size_t)(eq - labels[i])) : xstrdup(labels[i]);
        json_object_object_add(lab, k, json_object_new_string(eq ? eq + 1 : ""));
    }
    json_object_object_add(d, "labels", lab);
    /* netavark's isolate: no traffic between this bridge and another network's
     * (docker's networks are so, its default bridge too); a container on both
     * reaches both */
    struct json_object *nopts = json_object_new_object();
    json_object_object_add(nopts, "isolate", json_object_new_string("true"));
    json_object_object_add(d, "options", nopts);
    struct json_object *ipam = json_object_new_object();
    json_object_object_add(ipam, "driver", json_object_new_string("host-local"));
    json_object_object_add(d, "ipam_options", ipam);
    return d;
}

int net_create(struct store *st, const char *name, const struct net_create_opts *o, struct json_object **out,
               husk_err **err)
{
    if (!net_name_valid(name))
        return husk_fail(err, 0, "network name \"%s\": use [a-zA-Z0-9][a-zA-Z0-9_.-]*", name);
    if (strcmp(name, "none") == 0 || strcmp(name, "host") == 0 || strcmp(name, "bridge") == 0 ||
        strcmp(name, "default") == 0 || strcmp(name, NET_DEFAULT_NAME) == 0)
        return husk_fail(err, 0, "network name \"%s\" is reserved", name);
    _cleanup_close_ int lock = -1;
    if (networks_lock(st, &lock, err) < 0)
        return -1;
    _cleanup_free_ char *path = net_def_path(st, name), *ifname = NULL, *subnet = NULL, *gw_s = NULL;
    if (access(path, F_OK) == 0)
        return husk_fail(err, 0, "network \"%s\" exists already", name);
    /* the bridges and subnets other stores' networks hold, host-wide: kept locked
     * until this one's claim is written */
    _cleanup_free_ char *store = realpath(st->root, NULL);
    if (!store)
        return husk_fail(err, errno, "storage root %s", st->root);
    _cleanup_close_ int clock = -1;
    if (net_claims_lock(&clock, err) < 0)
        return -1;
    _cleanup_(net_claims_freep) struct net_claim *claims = NULL;
    if (net_claims_read(store, name, &claims, err) < 0)
        return -1;
    uint32_t net = 0, gw = 0;
    int prefix = 24;
    if (o->subnet) {
        if (net_parse_cidr(o->subnet, &net, &prefix) < 0)
            return husk_fail(err, 0, "--subnet \"%s\": not an IPv4 CIDR with a prefix from /8 to /30", o->subnet);
        if (net & ~net_mask(prefix))
            return husk_fail(err, 0, "--subnet \"%s\": host bits are set", o->subnet);
        if (check_free(st, claims, net, prefix, &ifname, err) < 0)
            return husk_err_prefix(err, "--subnet %s", o->subnet);
    } else {
        /* the first free 10.89.N.0/24: no other network's, nor one an interface of
         * the host is on now (as podman: another store's network that is up) */
        int n;
        for (n = 1; n < 256; n++) {
            husk_err *e = NULL;
            uint32_t cand = 0x0a590000u | ((uint32_t)n << 8);
            if (check_free(st, claims, cand, 24, NULL, &e) == 0 && !net_host_addr_in(cand, 24))
                break;
            husk_err_free(&e);
        }
        if (n == 256)
            return husk_fail(err, 0, "no free subnet in 10.89.0.0/16: give --subnet");
        net = 0x0a590000u | ((uint32_t)n << 8);
        if (check_free(st, claims, net, 24, &ifname, err) < 0)
            return -1;
    }
    uint32_t bcast = net | ~net_mask(prefix);
    if (o->gateway) {
        if (net_parse_ip(o->gateway, &gw) < 0 || (gw & net_mask(prefix)) != net || gw == net || gw == bcast)
            return husk_fail(err, 0, "--gateway \"%s\": not a host address in the subnet", o->gateway);
    } else {
        gw = net + 1;
    }
    _cleanup_free_ char *ns = net_ip_str(net);
    subnet = xasprintf("%s/%d", ns, prefix);
    gw_s = net_ip_str(gw);

    _cleanup_free_ char *id = ctr_random_id();
    struct json_object *d = net_def_json(name, id, ifname, subnet, gw_s, o->internal, true, o->labels);
    const char *text = json_object_to_json_string_ext(d, JSON_C_TO_STRING_PRETTY);
    if (write_file_atomic(AT_FDCWD, path, text, strlen(text), 0644, err) < 0) {
        json_object_put(d);
        return -1;
    }
    if (net_claim_write(store, name, ifname, subnet, err) < 0) {
        unlink(path);
        json_object_put(d);
        return -1;
    }
    if (out)
        *out = d;
    else
        json_object_put(d);
    return 0;
}

int net_get(struct store *st, const char *name, struct json_object **out, husk_err **err)
{
    if (strcmp(name, NET_DEFAULT_NAME) == 0)
        return net_default_def(out, err);
    _cleanup_free_ char *path = net_def_path(st, name);
    if (access(path, F_OK) < 0)
        return husk_fail(err, 0, "no such network: \"%s\"", name);
    return read_def(st, name, out, err);
}

int net_users(struct store *st, const char *name, char ***ids_out, husk_err **err)
{
    _cleanup_strv_ char **ids = NULL;
    if (ctr_list(st, &ids, err) < 0)
        return -1;
    size_t n = 0;
    char **v = xcalloc(1, sizeof *v);
    for (size_t i = 0; ids[i]; i++) {
        struct json_object *o = NULL, *nets;
        if (net_ctr_read_opts(st, ids[i], &o) < 0)
            continue;
        if (json_object_object_get_ex(o, "networks", &nets) && json_object_object_get_ex(nets, name, NULL)) {
            v = xrealloc(v, (n + 2) * sizeof *v);
            v[n++] = xstrdup(ids[i]);
            v[n] = NULL;
        }
        json_object_put(o);
    }
    *ids_out = v;
    return 0;
}

int net_remove(struct store *st, const char *name, husk_err **err)
{
    /* the default network is never removed; its bridge and rules, the host's, go
     * (they come back with its next container) */
    if (strcmp(name, NET_DEFAULT_NAME) == 0)
        return net_default_down(err);
    _cleanup_close_ int lock = -1;
    if (networks_lock(st, &lock, err) < 0)
        return -1;
    _cleanup_free_ char *path = net_def_path(st, name);
    if (access(path, F_OK) < 0)
        return husk_fail(err, 0, "no such network: \"%s\"", name);
    _cleanup_strv_ char **users = NULL;
    if (net_users(st, name, &users, err) < 0)
        return -1;
    if (users[0]) {
        struct json_object *rec = NULL;
        husk_err *e = NULL;
        _cleanup_free_ char *cname = NULL;
        if (ctr_record_read(st, users[0], &rec, &e) == 0)
            cname = ctr_record_name(rec);
        husk_err_free(&e);
        json_object_put(rec);
        return husk_fail(err, 0, "network \"%s\" is in use by container \"%s\"", name,
                         cname ? cname : users[0]);
    }
    _cleanup_free_ char *leases = xasprintf("%s/networks/leases/%s", st->root, name);
    DIR *d = opendir(leases);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)))
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) /* .lock too */
                unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
        rmdir(leases);
    }
    /* its bridge is free again for any store's network */
    _cleanup_json_ struct json_object *def = NULL;
    _cleanup_free_ char *store = realpath(st->root, NULL);
    _cleanup_close_ int clock = -1;
    husk_err *e = NULL;
    if (read_def(st, name, &def, &e) < 0)
        husk_err_free(&e);
    if (net_claims_lock(&clock, err) < 0)
        return -1;
    if (unlink(path) < 0)
        return husk_fail(err, errno, "remove %s", path);
    struct json_object *br;
    if (def && store && json_object_object_get_ex(def, "network_interface", &br))
        net_claim_drop(store, name, json_object_get_string(br));
    return 0;
}

/* ---------------------------------------------------------------- leases */

int net_lease(struct store *st, const char *name, struct json_object *def, const char *id, const char *want,
              char **ip_out, husk_err **err)
{
    _cleanup_free_ char *dir = net_lease_dir(st, name);
    return net_lease_at(dir, st->root, def, name, id, want, ip_out, err);
}

void net_release(struct store *st, const char *name, const char *id)
{
    _cleanup_free_ char *dir = net_lease_dir(st, name);
    net_release_at(dir, st->root, id);
}
