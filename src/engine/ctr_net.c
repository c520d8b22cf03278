/* ctr_net.c — a container's networking: its recorded options (create), netavark
 * setup in a namespace of its own (start), teardown (its end, however it came),
 * the NetworkSettings inspect shows, connect and disconnect. See networks.h.
 *
 * Crash safety: netavark.json (what netavark is given) is written before the
 * namespace exists, and the namespace stays mounted until `netavark teardown`
 * succeeded, so any later teardown can undo a setup killed at any point: the
 * veth, the firewall rules and port forwards, aardvark-dns's entry, the bridge
 * of a network's last container, the addresses. netavark is given each network
 * under a name unique on the host (nv_name) and one host-wide --config
 * (nv_config_dir); netavark.json keeps those names, so a teardown gives back
 * exactly what the setup was given. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containers.h"
#include "net_int.h"
#include "networks.h"
#include "testhooks.h"
#include "util.h"

#define NETAVARK "/usr/lib/podman/netavark"
#define AARDVARK "/usr/lib/podman/aardvark-dns"

static char *opts_path(struct store *st, const char *id, const char *file)
{
    return xasprintf("%s/containers/%s/%s", st->root, id, file);
}

static int read_json(const char *path, struct json_object **out)
{
    _cleanup_free_ char *text = NULL;
    husk_err *e = NULL;
    if (read_file_at(AT_FDCWD, path, 1 << 22, &text, NULL, &e) < 0) {
        husk_err_free(&e);
        return -1;
    }
    *out = json_tokener_parse(text);
    if (!*out || !json_object_is_type(*out, json_type_object)) {
        json_object_put(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static int write_json(const char *path, struct json_object *o, husk_err **err)
{
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    return write_file_atomic(AT_FDCWD, path, text, strlen(text), 0600, err);
}

int net_ctr_read_opts(struct store *st, const char *id, struct json_object **out)
{
    _cleanup_free_ char *p = opts_path(st, id, "netopts.json");
    return read_json(p, out);
}

static const char *jstr(struct json_object *o, const char *key)
{
    struct json_object *v;
    return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

/* Host-wide, as podman's /run/netns: nothing of the engine's in the runtime's
 * root, where `husk list` would take it for a container (ids are unique). */
static char *netns_path(const char *id)
{
    return xasprintf("%s/ns/%s", NET_RUN_DIR, id);
}

/* ---------------------------------------------------------------- /etc files */

/* docker's localhost lines, the container's own address and names, --add-host. */
static int write_hosts(const char *userdata, const char *ip, struct json_object *opts, husk_err **err)
{
    const char *hostname = jstr(opts, "hostname"), *name = jstr(opts, "name");
    char *text = xasprintf("127.0.0.1\tlocalhost\n"
                           "::1\tlocalhost ip6-localhost ip6-loopback\n"
                           "fe00::0\tip6-localnet\n"
                           "ff00::0\tip6-mcastprefix\n"
                           "ff02::1\tip6-allnodes\n"
                           "ff02::2\tip6-allrouters\n");
    struct json_object *add;
    if (json_object_object_get_ex(opts, "add_hosts", &add)) {
        for (size_t i = 0; i < json_object_array_length(add); i++) {
            const char *h = json_object_get_string(json_object_array_get_idx(add, i));
            const char *c = strrchr(h, ':');
            const char *sep = strchr(h, ':');
            /* NAME:IP (docker's); NAME=IP too */
            if (!c || strchr(h, '='))
                c = sep = strchr(h, '=');
            if (!sep)
                continue;
            char *t = xasprintf("%s%s\t%.*s\n", text, sep + 1, (int)(sep - h), h);
            free(text);
            text = t;
        }
    }
    char *t = xasprintf("%s%s\t%s%s%s\n", text, ip ? ip : "127.0.0.1", hostname ? hostname : "",
                        name && hostname && strcmp(name, hostname) != 0 ? " " : "",
                        name && hostname && strcmp(name, hostname) != 0 ? name : "");
    free(text);
    text = t;
    _cleanup_free_ char *p = xasprintf("%s/hosts", userdata);
    int r = write_file_atomic(AT_FDCWD, p, text, strlen(text), 0644, err);
    free(text);
    return r;
}

/* The nameservers of a resolv.conf (the host's) but loopback ones (they mean
 * nothing in another namespace), as docker does for its default bridge; none
 * left: none (docker would add a public server; we never send names elsewhere). */
char *net_resolv_nameservers(const char *path)
{
    _cleanup_free_ char *text = NULL;
    husk_err *e = NULL;
    char *out = xstrdup("");
    if (read_file_at(AT_FDCWD, path, 1 << 16, &text, NULL, &e) < 0) {
        husk_err_free(&e);
        return out;
    }
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char ns[64];
        if (sscanf(line, " nameserver %63s", ns) != 1 || strncmp(ns, "127.", 4) == 0 || strcmp(ns, "::1") == 0 ||
            strncmp(ns, "0:0:0:0:0:0:0:1", 15) == 0)
            continue;
        char *t = xasprintf("%snameserver %s\n", out, ns);
        free(out);
        out = t;
    }
    return out;
}

static int write_resolv(const char *userdata, const char *text, husk_err **err)
{
    _cleanup_free_ char *p = xasprintf("%s/resolv.conf", userdata);
    return write_file_atomic(AT_FDCWD, p, text, strlen(text), 0644, err);
}

static int copy_file(const char *from, const char *userdata, const char *name, husk_err **err)
{
    _cleanup_free_ char *text = NULL, *to = xasprintf("%s/%s", userdata, name);
    if (read_file_at(AT_FDCWD, from, 1 << 20, &text, NULL, err) < 0)
        return -1;
    return write_file_atomic(AT_FDCWD, to, text, strlen(text), 0644, err);
}

/* ---------------------------------------------------------------- ports */

/* -p [IP:][HOST:]CTR[/tcp|udp] (HOST empty or absent: a free port at start). */
static int parse_publish(const char *s, struct json_object *ports, husk_err **err)
{
    _cleanup_free_ char *copy = xstrdup(s);
    char *proto = strchr(copy, '/');
    if (proto)
        *proto++ = '\0';
    else
        proto = "tcp";
    if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)
        return husk_fail(err, 0, "-p %s: the protocol is tcp or udp", s);
    char *parts[3] = { 0 };
    int n = 0;
    for (char *p = copy, *c; n < 3; p = c + 1) {
        parts[n++] = p;
        if (!(c = strchr(p, ':')))
            break;
        *c = '\0';
        if (n == 3)
            return husk_fail(err, 0, "-p %s: not [IP:][HOST:]CONTAINER[/tcp|udp]", s);
    }
    const char *ip = n == 3 ? parts[0] : "", *host = n >= 2 ? parts[n - 2] : "", *ctr = parts[n - 1];
    uint32_t a;
    if (*ip && net_parse_ip(ip, &a) < 0)
        return husk_fail(err, 0, "-p %s: \"%s\" is not an IPv4 address", s, ip);
    char *end;
    long cp = strtol(ctr, &end, 10), hp = 0;
    if (*end || end == ctr || cp < 1 || cp > 65535)
        return husk_fail(err, 0, "-p %s: \"%s\" is not a port", s, ctr);
    if (*host) {
        hp = strtol(host, &end, 10);
        if (*end || hp < 1 || hp > 65535)
            return husk_fail(err, 0, "-p %s: \"%s\" is not a port", s, host);
    }
    struct json_object *m = json_object_new_object();
    json_object_object_add(m, "host_ip", json_object_new_string(ip));
    json_object_object_add(m, "container_port", json_object_new_int((int)cp));
    json_object_object_add(m, "host_port", json_object_new_int((int)hp));
    json_object_object_add(m, "range", json_object_new_int(1));
    json_object_object_add(m, "protocol", json_object_new_string(proto));
    json_object_array_add(ports, m);
    return 0;
}

/* A port nothing on the host uses now (the kernel's pick). */
static int free_port(const char *proto, const char *ip)
{
    int fd = socket(AF_INET, (strcmp(proto, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = { .sin_family = AF_INET };
    uint32_t a = 0;
    if (ip && *ip)
        net_parse_ip(ip, &a);
    sa.sin_addr.s_addr = htonl(a);
    socklen_t l = sizeof sa;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && getsockname(fd, (struct sockaddr *)&sa, &l) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/* ---------------------------------------------------------------- create */

void net_ctr_host_config(const struct net_ctr_opts *o, struct json_object *hc)
{
    const char *mode = o->mode && strcmp(o->mode, NET_DEFAULT_NAME) != 0 ? o->mode : "bridge";
    json_object_object_add(hc, "NetworkMode", json_object_new_string(mode));
    /* docker's shape: {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}, "" where
     * -p left it to the engine */
    _cleanup_json_ struct json_object *ports = json_object_new_array();
    struct json_object *pb = json_object_new_object();
    for (size_t i = 0; o->publish && o->publish[i]; i++) {
        husk_err *e = NULL;
        if (parse_publish(o->publish[i], ports, &e) < 0)
            husk_err_free(&e);
    }
    for (size_t i = 0; i < json_object_array_length(ports); i++) {
        struct json_object *m = json_object_array_get_idx(ports, i), *list;
        int hp = json_object_get_int(json_object_object_get(m, "host_port"));
        _cleanup_free_ char *key = xasprintf("%d/%s", json_object_get_int(json_object_object_get(m, "container_port")),
                                             jstr(m, "protocol"));
        _cleanup_free_ char *hps = hp ? xasprintf("%d", hp) : xstrdup("");
        if (!json_object_object_get_ex(pb, key, &list)) {
            list = json_object_new_array();
            json_object_object_add(pb, key, list);
        }
        struct json_object *b = json_object_new_object();
        json_object_object_add(b, "HostIp", json_object_new_string(jstr(m, "host_ip")));
        json_object_object_add(b, "HostPort", json_object_new_string(hps));
        json_object_array_add(list, b);
    }
    json_object_object_add(hc, "PortBindings", pb);
    json_object_object_add(hc, "PublishAllPorts", json_object_new_boolean(o->publish_all));
    struct json_object *dns = json_object_new_array(), *hosts = json_object_new_array();
    for (size_t i = 0; o->dns && o->dns[i]; i++)
        json_object_array_add(dns, json_object_new_string(o->dns[i]));
    for (size_t i = 0; o->add_hosts && o->add_hosts[i]; i++)
        json_object_array_add(hosts, json_object_new_string(o->add_hosts[i]));
    json_object_object_add(hc, "Dns", dns);
    json_object_object_add(hc, "ExtraHosts", hosts);
}

int net_ctr_prepare(struct store *st, const char *runroot, const char *id, const char *name,
                    const char *hostname, const struct net_ctr_opts *o, struct json_object *image_config,
                    const char *userdata, char **netns_out, husk_err **err)
{
    (void)runroot; /* the namespaces are host-wide (netns_path) */
    /* without --network: the default network, as docker's default bridge */
    const char *mode = o->mode ? o->mode : NET_DEFAULT_NAME;
    _cleanup_json_ struct json_object *opts = json_object_new_object();
    struct json_object *add = json_object_new_array(), *ports = json_object_new_array();
    json_object_object_add(opts, "name", json_object_new_string(name));
    json_object_object_add(opts, "hostname", json_object_new_string(hostname));
    json_object_object_add(opts, "add_hosts", add);
    json_object_object_add(opts, "ports", ports);
    for (size_t i = 0; o->add_hosts && o->add_hosts[i]; i++) {
        const char *h = o->add_hosts[i], *sep = strchr(h, ':');
        uint32_t a;
        if (!sep || sep == h || net_parse_ip(sep + 1, &a) < 0 || strpbrk(h, " \t\n"))
            return husk_fail(err, 0, "--add-host %s: not NAME:IPv4", h);
        json_object_array_add(add, json_object_new_string(h));
    }
    for (size_t i = 0; o->publish && o->publish[i]; i++)
        if (parse_publish(o->publish[i], ports, err) < 0)
            return -1;
    struct json_object *icfg, *exp, *exposed = json_object_new_array();
    json_object_object_add(opts, "exposed", exposed);
    if (json_object_object_get_ex(image_config, "config", &icfg) &&
        json_object_object_get_ex(icfg, "ExposedPorts", &exp) && json_object_is_type(exp, json_type_object)) {
        json_object_object_foreach(exp, k, v) {
            (void)v;
            husk_err *e = NULL;
            json_object_array_add(exposed, json_object_new_string(k));
            if (o->publish_all && parse_publish(k, ports, &e) < 0)
                husk_err_free(&e);
        }
    }
    bool own = strcmp(mode, "none") != 0 && strcmp(mode, "host") != 0 && strncmp(mode, "container:", 10) != 0;
    /* --dns, else engine.json's "dns" for a container with a network */
    __attribute__((cleanup(net_engine_cfg_free))) struct net_engine_cfg cfg = { 0 };
    if ((own || strcmp(mode, "host") == 0) && (!o->dns || !o->dns[0]) && net_engine_cfg_read(&cfg, err) < 0)
        return -1;
    char **servers_v = o->dns && o->dns[0] ? o->dns : cfg.dns;
    _cleanup_free_ char *dns = xstrdup("");
    for (size_t i = 0; servers_v && servers_v[i]; i++) {
        uint32_t a;
        if (net_parse_ip(servers_v[i], &a) < 0)
            return husk_fail(err, 0, "--dns %s: not an IPv4 address", servers_v[i]);
        char *t = xasprintf("%snameserver %s\n", dns, servers_v[i]);
        free(dns);
        dns = t;
    }
    if (!own && (json_object_array_length(ports) > 0))
        return husk_fail(err, 0, "-p/-P: the container has no network of its own (--network %s)", mode);
    if (!own && o->ip)
        return husk_fail(err, 0, "--ip: the container has no network of its own (--network %s)", mode);

    *netns_out = NULL;
    if (strcmp(mode, "none") == 0) {
        json_object_object_add(opts, "mode", json_object_new_string("none"));
        if (write_hosts(userdata, NULL, opts, err) < 0 || (*dns && write_resolv(userdata, dns, err) < 0))
            return -1;
    } else if (strcmp(mode, "host") == 0) {
        json_object_object_add(opts, "mode", json_object_new_string("host"));
        *netns_out = xstrdup("");
        if (copy_file("/etc/hosts", userdata, "hosts", err) < 0 ||
            (*dns ? write_resolv(userdata, dns, err) : copy_file("/etc/resolv.conf", userdata, "resolv.conf", err)) < 0)
            return -1;
    } else if (strncmp(mode, "container:", 10) == 0) {
        _cleanup_free_ char *other = NULL, *odir = NULL;
        _cleanup_json_ struct json_object *oo = NULL;
        if (ctr_lookup(st, mode + 10, &other, err) < 0)
            return husk_err_prefix(err, "--network %s", mode);
        const char *omode = net_ctr_read_opts(st, other, &oo) == 0 ? jstr(oo, "mode") : NULL;
        if (!omode || strcmp(omode, "bridge") != 0)
            return husk_fail(err, 0, "--network %s: that container has no network of its own to share", mode);
        json_object_object_add(opts, "mode", json_object_new_string("container"));
        json_object_object_add(opts, "container", json_object_new_string(other));
        *netns_out = netns_path(other);
        odir = xasprintf("%s/containers/%s/userdata", st->root, other);
        _cleanup_free_ char *oh = xasprintf("%s/hosts", odir), *orv = xasprintf("%s/resolv.conf", odir);
        if (copy_file(oh, userdata, "hosts", err) < 0 || copy_file(orv, userdata, "resolv.conf", err) < 0)
            return -1;
    } else {
        _cleanup_json_ struct json_object *def = NULL;
        if (net_get(st, mode, &def, err) < 0)
            return husk_err_prefix(err, "--network");
        uint32_t net, gw, a;
        int prefix;
        if (net_def_subnet(def, &net, &prefix, &gw) < 0)
            return husk_fail(err, 0, "network \"%s\": no IPv4 subnet in its definition", mode);
        if (o->ip && (net_parse_ip(o->ip, &a) < 0 || (a & (0xffffffffu << (32 - prefix))) != net))
            return husk_fail(err, 0, "--ip %s: not an address of network \"%s\"", o->ip, mode);
        json_object_object_add(opts, "mode", json_object_new_string("bridge"));
        struct json_object *nets = json_object_new_object(), *n = json_object_new_object();
        struct json_object *aliases = json_object_new_array();
        _cleanup_free_ char *short_id = xasprintf("%.12s", id);
        json_object_array_add(aliases, json_object_new_string(name));
        json_object_array_add(aliases, json_object_new_string(short_id));
        json_object_object_add(n, "aliases", aliases);
        if (o->ip)
            json_object_object_add(n, "ip", json_object_new_string(o->ip));
        json_object_object_add(nets, mode, n);
        json_object_object_add(opts, "networks", nets);
        struct json_object *servers = json_object_new_array();
        for (size_t i = 0; servers_v && servers_v[i]; i++)
            json_object_array_add(servers, json_object_new_string(servers_v[i]));
        json_object_object_add(opts, "dns_servers", servers);
        *netns_out = netns_path(id);
        /* With names (aardvark-dns on the gateway, podman's): only it, which
         * forwards what is not a container's name to --dns (engine.json's "dns")
         * or the host's servers; without (the default network): --dns, else
         * engine.json's, else the host's but loopback ones, else none at all
         * (never a public server of our choosing). */
        bool named = json_object_get_boolean(json_object_object_get(def, "dns_enabled"));
        _cleanup_free_ char *gws = net_ip_str(gw), *hostns = named || *dns ? NULL : net_resolv_nameservers("/etc/resolv.conf");
        _cleanup_free_ char *text = named ? xasprintf("search dns.podman\nnameserver %s\n", gws)
                                          : xstrdup(*dns ? dns : hostns);
        if (write_hosts(userdata, o->ip, opts, err) < 0 || write_resolv(userdata, text, err) < 0)
            return -1;
    }
    _cleanup_free_ char *p = opts_path(st, id, "netopts.json");
    return write_json(p, opts, err);
}

/* ---------------------------------------------------------------- netavark */

/* The name netavark is given for a network: its name and the first 12 digits of its
 * id ("web-3f2a9c0d1e4b"). netavark names a network's firewall chain after the name
 * it is given (NETAVARK-<hash of it>) and aardvark-dns's file too, both host-wide,
 * while a name is only a store's: two stores' networks "web" would share one chain,
 * and the teardown of the one's last container remove the other's NAT rule. The id
 * is random per network and kept in its definition, so the name is unique per store
 * and network and the same at every call (a teardown finds what the setup made);
 * unlike a hash of the store's path it survives a store moved, and a network made
 * again under an old name gets new chains. The default network is one network on
 * the whole host, the same from every store: its own name. */
static char *nv_name(const char *runroot, const char *name, struct json_object *def)
{
    const char *id = jstr(def, "id");
    if (strcmp(name, NET_DEFAULT_NAME) == 0 || !id || strlen(id) < 12)
        return xstrdup(name);
    /* containers an older husk started on it run still (their names are in its
     * aardvark-dns's file, nv_config_dir): the name they have, one chain and one
     * aardvark-dns on the bridge for all */
    _cleanup_free_ char *legacy = xasprintf("%s/networks/aardvark-dns/%s", runroot, name);
    if (access(legacy, F_OK) == 0)
        return xstrdup(name);
    return xasprintf("%s-%.12s", name, id);
}

/* The network's own name of one netavark was given as nv (def: its definition as
 * given); a record of an older husk gave the name itself. */
static char *user_name(const char *nv, struct json_object *def, bool *suffixed)
{
    const char *id = jstr(def, "id");
    size_t l = strlen(nv);
    bool s = id && strlen(id) >= 12 && l > 13 && nv[l - 13] == '-' && strncmp(nv + l - 12, id, 12) == 0;
    if (suffixed)
        *suffixed = s;
    return s ? strndup(nv, l - 13) : xstrdup(nv);
}

/* The key of network net (the user's name) in a record's network_info (new), or NULL. */
static char *nv_key_of(struct json_object *given, const char *net)
{
    json_object_object_foreach(json_object_object_get(given, "network_info"), k, def) {
        _cleanup_free_ char *u = user_name(k, def, NULL);
        if (strcmp(u, net) == 0)
            return xstrdup(k);
    }
    return NULL;
}

/* netavark's --config, where aardvark-dns keeps its files (aardvark-dns/<name as
 * given>, its pid file, netavark's lock of them): one host-wide directory for every
 * store, as podman's /run/containers/networks, since the names it is given are
 * unique (nv_name); so one aardvark-dns serves every network with names on the
 * host, started by the setup of the first such container, stopped by the teardown
 * of the last, and the runtime's root (where `husk list` would take a directory
 * for a container) holds nothing of it. A record of an older husk (a network with
 * names given by its own name) had them in RUNROOT/networks: its teardown must
 * find its entry there. */
/* Was the network given by its own name, with names (an older husk's record)? */
static bool nv_legacy(const char *nvname, struct json_object *def)
{
    bool suffixed;
    _cleanup_free_ char *name = user_name(nvname, def, &suffixed);
    return !suffixed && strcmp(nvname, NET_DEFAULT_NAME) != 0 &&
           json_object_get_boolean(json_object_object_get(def, "dns_enabled"));
}

static char *nv_config_dir(const char *runroot, struct json_object *network_info)
{
    json_object_object_foreach(network_info, nvname, def)
        if (nv_legacy(nvname, def))
            return xasprintf("%s/networks", runroot);
    return xasprintf("%s/config", NET_RUN_DIR);
}

/* An older husk's RUNROOT/networks (nv_config_dir), once no container of that root
 * has an entry left in it: `husk list` would show it as a container. Its
 * aardvark-dns, told by netavark that no network is left, is exiting: its pid file
 * may be there still. */
static void legacy_config_remove(const char *runroot)
{
    _cleanup_free_ char *dir = xasprintf("%s/networks", runroot), *adir = xasprintf("%s/aardvark-dns", dir);
    _cleanup_free_ char *lock = xasprintf("%s/aardvark.lock", dir), *pid = xasprintf("%s/aardvark.pid", adir);
    if (rmdir(adir) < 0) {
        if (errno != ENOTEMPTY && errno != EEXIST)
            return;
        DIR *d = opendir(adir);
        struct dirent *de;
        bool other = false;
        while (d && (de = readdir(d)))
            other |= strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
                     strcmp(de->d_name, "aardvark.pid") != 0;
        if (d)
            closedir(d);
        if (!d || other || unlink(pid) < 0 || rmdir(adir) < 0)
            return;
    }
    unlink(lock);
    rmdir(dir);
}

int netavark_exec(const char *cfg, const char *cmd, const char *netns, const char *input, struct json_object **out,
                  husk_err **err)
{
    if (mkdir_p(cfg, 0700, err) < 0)
        return -1;
    _cleanup_close_ int in = open(input, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return husk_fail(err, errno, "%s", input);
    _cleanup_close_ int o = memfd_create("netavark-out", MFD_CLOEXEC), e = memfd_create("netavark-err", MFD_CLOEXEC);
    if (o < 0 || e < 0)
        return husk_fail(err, errno, "memfd_create");
    pid_t pid = fork();
    if (pid < 0)
        return husk_fail(err, errno, "fork");
    if (pid == 0) {
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        /* aardvark-dns, which netavark starts, lives on: it must hold none of our
         * fds (a container's lock, a caller's pipe, a bridge's lock) */
        syscall(SYS_close_range, 3, ~0U, 0);
        execl(NETAVARK, "netavark", "--config", cfg, "--rootless", "false", "--aardvark-binary", AARDVARK, cmd,
              netns, (char *)NULL);
        dprintf(2, "cannot run %s: %s", NETAVARK, strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return husk_fail(err, errno, "waitpid");
    char buf[4096];
    ssize_t n;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        n = pread(e, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        /* the last line says it (netavark may first complain about syslog) */
        char *end = buf + strlen(buf);
        while (end > buf && (end[-1] == '\n' || end[-1] == ' '))
            *--end = '\0';
        char *last = strrchr(buf, '\n');
        return husk_fail(err, 0, "netavark %s: %s", cmd, *buf ? (last ? last + 1 : buf) : "failed");
    }
    if (out) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0, cap = 0;
        off_t off = 0;
        while ((n = pread(o, buf, sizeof buf, off)) > 0) {
            if (len + (size_t)n + 1 > cap)
                text = xrealloc(text, cap = (len + (size_t)n + 1) * 2);
            memcpy(text + len, buf, (size_t)n);
            len += (size_t)n;
            off += n;
        }
        *out = text ? (text[len] = '\0', json_tokener_parse(text)) : NULL;
        if (!*out)
            return husk_fail(err, 0, "netavark %s: its answer is not JSON", cmd);
    }
    return 0;
}

/* netavark CMD under the locks of the networks' bridges. mark (setup, or NULL): a
 * file made right before netavark runs, so that a teardown knows it may have. */
static int run_netavark(const char *runroot, const char *cmd, const char *netns, const char *input,
                        const char *mark, struct json_object **out, husk_err **err)
{
    _cleanup_json_ struct json_object *given = NULL;
    int *locks = NULL;
    if (read_json(input, &given) < 0)
        return husk_fail(err, 0, "%s: not JSON", input);
    struct json_object *info = json_object_object_get(given, "network_info");
    if (!json_object_is_type(info, json_type_object))
        return husk_fail(err, 0, "%s: no network_info", input);
    _cleanup_free_ char *cfg = nv_config_dir(runroot, info);
    struct json_object *dflt = json_object_object_get(info, NET_DEFAULT_NAME);
    bool setup = strcmp(cmd, "setup") == 0;
    if (net_lock_bridges(info, &locks, err) < 0)
        return -1;
    /* the default bridge as it is must be the one engine.json asks for (its subnet
     * changed: taken down first, unless containers are on it) */
    int r = setup && dflt ? net_default_before_setup(dflt, err) : 0;
    if (r == 0 && mark) {
        int mfd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        r = mfd < 0 ? husk_fail(err, errno, "%s", mark) : close(mfd);
    }
    if (r == 0)
        r = netavark_exec(cfg, cmd, netns, input, out, err);
    /* and it stays up after its last container, as docker's docker0 */
    if (r == 0 && setup && dflt)
        net_default_keep();
    net_unlock_bridges(locks);
    return r;
}

/* run_netavark for a record whose networks need two --config directories (a
 * container of an older husk connected to a network since, or one started on two
 * networks, one of which an older husk's containers use still): a call per
 * directory, its networks alone, the answers merged. A teardown drops what it
 * undid from the record at input, so a retry after a failure of the second does
 * not undo the first again (netavark would fail on the name entry gone); the
 * caller releases the addresses of the whole record it read before (after a crash
 * in between, those of the first are taken back once the container is gone). */
static int run_netavark_split(const char *runroot, const char *cmd, const char *netns, const char *input,
                              const char *mark, struct json_object **out, husk_err **err)
{
    _cleanup_json_ struct json_object *given = NULL;
    if (read_json(input, &given) < 0)
        return husk_fail(err, 0, "%s: not JSON", input);
    struct json_object *info = json_object_object_get(given, "network_info");
    int legacy = 0, n = json_object_is_type(info, json_type_object) ? json_object_object_length(info) : 0;
    json_object_object_foreach(info, k0, d0)
        legacy += nv_legacy(k0, d0);
    if (legacy == 0 || legacy == n)
        return run_netavark(runroot, cmd, netns, input, mark, out, err);
    _cleanup_free_ char *part = xasprintf("%s.part", input);
    _cleanup_json_ struct json_object *all = out ? json_object_new_object() : NULL;
    for (int pass = 1; pass >= 0; pass--) {
        _cleanup_json_ struct json_object *one = NULL, *res = NULL;
        json_object_deep_copy(given, &one, NULL);
        struct json_object *oi = json_object_object_get(one, "network_info");
        struct json_object *on = json_object_object_get(one, "networks");
        json_object_object_foreach(info, k, d)
            if (nv_legacy(k, d) != pass) {
                json_object_object_del(oi, k);
                json_object_object_del(on, k);
            }
        int r = write_json(part, one, err) < 0 ? -1
                                                : run_netavark(runroot, cmd, netns, part, mark, out ? &res : NULL, err);
        unlink(part);
        if (r < 0)
            return -1;
        if (res && all) {
            json_object_object_foreach(res, rk, rv)
                json_object_object_add(all, rk, json_object_get(rv));
        }
        if (strcmp(cmd, "teardown") == 0) {
            json_object_object_foreach(oi, k2, d2) {
                (void)d2;
                json_object_object_del(json_object_object_get(given, "networks"), k2);
            }
            json_object_object_foreach(oi, k3, d3) {
                (void)d3;
                json_object_object_del(info, k3);
            }
            if (write_json(input, given, err) < 0)
                return -1;
        }
    }
    if (out)
        *out = steal_ptr(all);
    return 0;
}

/* docker's NetworkSettings from netavark's answer. */
static struct json_object *settings_of(struct json_object *result, struct json_object *given, const char *netns)
{
    struct json_object *ns = json_object_new_object(), *nets = json_object_new_object(), *ports = json_object_new_object();
    struct json_object *ginfo = json_object_object_get(given, "network_info");
    struct json_object *gnets = json_object_object_get(given, "networks");
    const char *first_ip = NULL, *first_gw = NULL, *first_mac = NULL;
    int first_len = 0;
    json_object_object_foreach(result, nvname, r) {
        struct json_object *n = json_object_new_object(), *ifs = json_object_object_get(r, "interfaces");
        struct json_object *def = json_object_object_get(ginfo, nvname), *gn = json_object_object_get(gnets, nvname);
        /* inspect shows the network's own name */
        _cleanup_free_ char *name = user_name(nvname, def, NULL);
        json_object_object_add(n, "NetworkID", json_object_new_string(jstr(def, "id") ? jstr(def, "id") : ""));
        struct json_object *al = json_object_object_get(gn, "aliases");
        json_object_object_add(n, "Aliases", al ? json_object_get(al) : json_object_new_array());
        const char *ip = "", *gw = "", *mac = "";
        int plen = 0;
        if (ifs) {
            json_object_object_foreach(ifs, ifname, i) {
                (void)ifname;
                mac = jstr(i, "mac_address") ? jstr(i, "mac_address") : "";
                struct json_object *subs = json_object_object_get(i, "subnets");
                if (subs && json_object_array_length(subs) > 0) {
                    struct json_object *s0 = json_object_array_get_idx(subs, 0);
                    const char *ipnet = jstr(s0, "ipnet");
                    gw = jstr(s0, "gateway") ? jstr(s0, "gateway") : "";
                    static char ipbuf[64];
                    if (ipnet) {
                        snprintf(ipbuf, sizeof ipbuf, "%s", ipnet);
                        char *sl = strchr(ipbuf, '/');
                        if (sl) {
                            *sl = '\0';
                            plen = atoi(sl + 1);
                        }
                        json_object_object_add(n, "IPAddress", json_object_new_string(ipbuf));
                        ip = json_object_get_string(json_object_object_get(n, "IPAddress"));
                    }
                }
                break;
            }
        }
        if (!json_object_object_get_ex(n, "IPAddress", NULL))
            json_object_object_add(n, "IPAddress", json_object_new_string(ip));
        json_object_object_add(n, "IPPrefixLen", json_object_new_int(plen));
        json_object_object_add(n, "Gateway", json_object_new_string(gw));
        json_object_object_add(n, "MacAddress", json_object_new_string(mac));
        json_object_object_add(nets, name, n);
        if (!first_ip) {
            first_ip = json_object_get_string(json_object_object_get(n, "IPAddress"));
            first_gw = json_object_get_string(json_object_object_get(n, "Gateway"));
            first_mac = json_object_get_string(json_object_object_get(n, "MacAddress"));
            first_len = plen;
        }
    }
    struct json_object *pm = json_object_object_get(given, "port_mappings");
    for (size_t i = 0; pm && i < json_object_array_length(pm); i++) {
        struct json_object *m = json_object_array_get_idx(pm, i);
        _cleanup_free_ char *key = xasprintf("%d/%s", json_object_get_int(json_object_object_get(m, "container_port")),
                                             jstr(m, "protocol"));
        _cleanup_free_ char *hp = xasprintf("%d", json_object_get_int(json_object_object_get(m, "host_port")));
        struct json_object *list;
        if (!json_object_object_get_ex(ports, key, &list)) {
            list = json_object_new_array();
            json_object_object_add(ports, key, list);
        }
        struct json_object *b = json_object_new_object();
        const char *hip = jstr(m, "host_ip");
        json_object_object_add(b, "HostIp", json_object_new_string(hip && *hip ? hip : "0.0.0.0"));
        json_object_object_add(b, "HostPort", json_object_new_string(hp));
        json_object_array_add(list, b);
    }
    json_object_object_add(ns, "Networks", nets);
    json_object_object_add(ns, "Ports", ports);
    json_object_object_add(ns, "IPAddress", json_object_new_string(first_ip ? first_ip : ""));
    json_object_object_add(ns, "IPPrefixLen", json_object_new_int(first_len));
    json_object_object_add(ns, "Gateway", json_object_new_string(first_gw ? first_gw : ""));
    json_object_object_add(ns, "MacAddress", json_object_new_string(first_mac ? first_mac : ""));
    json_object_object_add(ns, "SandboxKey", json_object_new_string(netns));
    return ns;
}

/* netavark's options for the networks in nets (names → our per-network options). */
static int build_given(struct store *st, const char *runroot, const char *id, struct json_object *opts, struct json_object *nets,
                       bool with_ports, int first_if, struct json_object **out, husk_err **err)
{
    _cleanup_json_ struct json_object *g = json_object_new_object();
    struct json_object *gn = json_object_new_object(), *gi = json_object_new_object();
    json_object_object_add(g, "container_id", json_object_new_string(id));
    json_object_object_add(g, "container_name", json_object_new_string(jstr(opts, "name")));
    json_object_object_add(g, "networks", gn);
    json_object_object_add(g, "network_info", gi);
    int k = first_if;
    json_object_object_foreach(nets, name, n) {
        struct json_object *def = NULL;
        _cleanup_free_ char *ip = NULL;
        if (net_get(st, name, &def, err) < 0)
            return -1;
        _cleanup_free_ char *nv = nv_name(runroot, name, def);
        json_object_object_add(gi, nv, def);
        /* its bridge and subnet host-wide, before netavark makes or joins the bridge
         * (claims go at a reboot; another store's network may hold them by now) */
        if (net_claim(st, name, def, err) < 0)
            return -1;
        if (net_lease(st, name, def, id, jstr(n, "ip"), &ip, err) < 0)
            return -1;
        /* the name in the definition too: newer netavarks name the chain after it */
        json_object_object_add(def, "name", json_object_new_string(nv));
        struct json_object *o = json_object_new_object(), *ips = json_object_new_array();
        _cleanup_free_ char *ifname = xasprintf("eth%d", k++);
        json_object_object_add(o, "interface_name", json_object_new_string(ifname));
        json_object_array_add(ips, json_object_new_string(ip));
        json_object_object_add(o, "static_ips", ips);
        struct json_object *al = json_object_object_get(n, "aliases");
        json_object_object_add(o, "aliases", al ? json_object_get(al) : json_object_new_array());
        json_object_object_add(gn, nv, o);
    }
    struct json_object *pm = json_object_new_array(), *ports = json_object_object_get(opts, "ports");
    for (size_t i = 0; with_ports && ports && i < json_object_array_length(ports); i++) {
        struct json_object *m = json_object_array_get_idx(ports, i), *c = NULL;
        json_object_deep_copy(m, &c, NULL);
        if (json_object_get_int(json_object_object_get(c, "host_port")) == 0) {
            int p = free_port(jstr(c, "protocol"), jstr(c, "host_ip"));
            if (p < 0)
                return json_object_put(c), husk_fail(err, errno, "-p: no free host port");
            json_object_object_add(c, "host_port", json_object_new_int(p));
        }
        json_object_array_add(pm, c);
    }
    /* none: no key at all (netavark makes, then removes, a port-forwarding chain for
     * an empty list: four iptables runs of nothing) */
    if (json_object_array_length(pm) > 0)
        json_object_object_add(g, "port_mappings", pm);
    else
        json_object_put(pm);
    struct json_object *servers = json_object_object_get(opts, "dns_servers");
    json_object_object_add(g, "dns_servers", servers ? json_object_get(servers) : json_object_new_array());
    *out = steal_ptr(g);
    return 0;
}

int net_ctr_setup(struct store *st, const char *runroot, const char *id, husk_err **err)
{
    _cleanup_json_ struct json_object *opts = NULL, *given = NULL, *result = NULL, *settings = NULL;
    if (net_ctr_read_opts(st, id, &opts) < 0)
        return 0;
    const char *mode = jstr(opts, "mode");
    if (mode && strcmp(mode, "container") == 0) {
        _cleanup_free_ char *p = netns_path(jstr(opts, "container"));
        if (!netns_mounted(p))
            return husk_fail(err, 0, "--network container:%.12s: that container is not running",
                             jstr(opts, "container"));
        return 0;
    }
    if (!mode || strcmp(mode, "bridge") != 0)
        return 0;
    /* what a killed earlier run may have left */
    if (net_ctr_teardown(st, runroot, id, err) < 0)
        return -1;
    _cleanup_free_ char *gpath = opts_path(st, id, "netavark.json"), *ns = netns_path(id);
    _cleanup_free_ char *nsdir = xasprintf("%s/ns", NET_RUN_DIR), *spath = opts_path(st, id, "network.json");
    _cleanup_free_ char *userdata = NULL, *mark = opts_path(st, id, "netavark.started");
    if (build_given(st, runroot, id, opts, json_object_object_get(opts, "networks"), true, 0, &given, err) < 0 ||
        write_json(gpath, given, err) < 0) {
        struct json_object *nets = json_object_object_get(opts, "networks");
        json_object_object_foreach(nets, name, n) {
            (void)n;
            net_release(st, name, id);
        }
        unlink(gpath);
        return -1;
    }
    if (mkdir_p(nsdir, 0700, err) < 0 || netns_create(ns, err) < 0)
        goto fail;
    husk_kill_point("network-start.before-setup");
    /* from the mark on a teardown must run netavark's: before, there is nothing of it */
    if (run_netavark_split(runroot, "setup", ns, gpath, mark, &result, err) < 0)
        goto fail;
    husk_kill_point("network-start.after-setup");
    settings = settings_of(result, given, ns);
    /* docker shows an exposed port nothing publishes as null */
    struct json_object *exposed = json_object_object_get(opts, "exposed");
    for (size_t i = 0; exposed && i < json_object_array_length(exposed); i++) {
        const char *k = json_object_get_string(json_object_array_get_idx(exposed, i));
        _cleanup_free_ char *key = strchr(k, '/') ? xstrdup(k) : xasprintf("%s/tcp", k);
        struct json_object *sp = json_object_object_get(settings, "Ports");
        if (!json_object_object_get_ex(sp, key, NULL))
            json_object_object_add(sp, key, NULL);
    }
    if (write_json(spath, settings, err) < 0)
        goto fail;
    userdata = xasprintf("%s/containers/%s/userdata", st->root, id);
    const char *ip = json_object_get_string(json_object_object_get(settings, "IPAddress"));
    if (write_hosts(userdata, ip && *ip ? ip : NULL, opts, err) < 0)
        goto fail;
    return 0;
fail: {
    husk_err *e = NULL;
    if (net_ctr_teardown(st, runroot, id, &e) < 0)
        husk_err_free(&e);
    return -1;
}
}

/* netavark cannot finish a teardown that it (or a crash, or someone by hand) left
 * half done: with the veth or aardvark-dns's entry gone already it fails at that
 * step every time, and the container could never be removed. So the record's setup
 * is made again, whole, in a new namespace (the record names the same addresses,
 * ports and names), and torn down from there: what the first teardown left goes
 * with it. The old namespace goes first, and a veth still in it with it. */
static int redo_teardown(const char *runroot, const char *ns, const char *gpath, husk_err **err)
{
    husk_err *e = NULL;
    int r = netns_remove(ns, &e) < 0 || netns_create(ns, &e) < 0 ? -1 : 0;
    if (r == 0)
        r = run_netavark_split(runroot, "setup", ns, gpath, NULL, NULL, &e);
    if (r == 0)
        r = run_netavark_split(runroot, "teardown", ns, gpath, NULL, NULL, &e);
    if (r < 0) {
        /* the first failure says what went wrong; the redo's adds why it did not help */
        if (err && *err) {
            char *m = xasprintf("%s (set up again to be undone: %s)", (*err)->msg, e->msg);
            free((*err)->msg);
            (*err)->msg = m;
        }
        husk_err_free(&e);
        return -1;
    }
    husk_err_free(err);
    return 0;
}

/* netavark removes a network's port-forward chain (NETAVARK-DN-…, made by the first
 * container that published a port) only in the teardown of the network's last
 * container, and only if that one is given port mappings: a last container that
 * publishes nothing gets an empty list, or the chain would be left on the host.
 * "Last": no other port on its bridge (a race with a container joining at the same
 * time costs a few iptables runs of nothing, nothing more). */
static void port_list_for_last(const char *gpath, struct json_object *given)
{
    if (json_object_object_get_ex(given, "port_mappings", NULL))
        return;
    bool last = false;
    json_object_object_foreach(json_object_object_get(given, "network_info"), k, def) {
        (void)k;
        const char *br = jstr(def, "network_interface");
        _cleanup_free_ char *dir = br && !strchr(br, '/') ? xasprintf("/sys/class/net/%s/brif", br) : NULL;
        DIR *d = dir ? opendir(dir) : NULL;
        size_t ports = 0;
        for (struct dirent *de; d && (de = readdir(d));)
            ports += de->d_name[0] != '.';
        if (d)
            closedir(d);
        last |= d && ports <= 1;
    }
    husk_err *e = NULL;
    if (!last)
        return;
    json_object_object_add(given, "port_mappings", json_object_new_array());
    if (write_json(gpath, given, &e) < 0)
        husk_err_free(&e);
}

int net_ctr_teardown(struct store *st, const char *runroot, const char *id, husk_err **err)
{
    _cleanup_free_ char *gpath = opts_path(st, id, "netavark.json"), *ns = netns_path(id);
    _cleanup_free_ char *spath = opts_path(st, id, "network.json");
    _cleanup_free_ char *mark = opts_path(st, id, "netavark.started");
    _cleanup_json_ struct json_object *given = NULL, *opts = NULL;
    if (read_json(gpath, &given) < 0) {
        /* never set up (or a half-written record: netavark did not run yet, but
         * an address may be leased already) */
        struct json_object *nets = NULL;
        if (net_ctr_read_opts(st, id, &opts) == 0 && json_object_object_get_ex(opts, "networks", &nets) &&
            json_object_is_type(nets, json_type_object)) {
            json_object_object_foreach(nets, name, n) {
                (void)n;
                net_release(st, name, id);
            }
        }
        unlink(mark);
        unlink(gpath);
        unlink(spath);
        return netns_remove(ns, err);
    }
    if (access(mark, F_OK) == 0 && netns_mounted(ns))
        port_list_for_last(gpath, given);
    if (access(mark, F_OK) == 0 && netns_mounted(ns) &&
        run_netavark_split(runroot, "teardown", ns, gpath, NULL, NULL, err) < 0 &&
        redo_teardown(runroot, ns, gpath, err) < 0)
        return husk_err_prefix(err, "container %.12s", id);
    unlink(mark);
    legacy_config_remove(runroot);
    if (netns_remove(ns, err) < 0)
        return -1;
    struct json_object *info = json_object_object_get(given, "network_info");
    json_object_object_foreach(info, nvname, def) {
        _cleanup_free_ char *name = user_name(nvname, def, NULL);
        net_release(st, name, id);
    }
    unlink(spath);
    unlink(gpath);
    return 0;
}

struct json_object *net_ctr_settings(struct store *st, const char *id)
{
    _cleanup_free_ char *spath = opts_path(st, id, "network.json");
    struct json_object *s = NULL;
    if (read_json(spath, &s) == 0)
        return s;
    _cleanup_json_ struct json_object *opts = NULL;
    s = json_object_new_object();
    struct json_object *nets = json_object_new_object(), *on;
    if (net_ctr_read_opts(st, id, &opts) == 0 && json_object_object_get_ex(opts, "networks", &on)) {
        json_object_object_foreach(on, name, n) {
            struct json_object *e = json_object_new_object(), *al = json_object_object_get(n, "aliases");
            json_object_object_add(e, "IPAddress", json_object_new_string(""));
            json_object_object_add(e, "Gateway", json_object_new_string(""));
            json_object_object_add(e, "MacAddress", json_object_new_string(""));
            json_object_object_add(e, "Aliases", al ? json_object_get(al) : json_object_new_array());
            json_object_object_add(nets, name, e);
        }
    }
    json_object_object_add(s, "Networks", nets);
    json_object_object_add(s, "Ports", json_object_new_object());
    json_object_object_add(s, "IPAddress", json_object_new_string(""));
    return s;
}

/* ---------------------------------------------------------------- connect */

static int check_bridge(struct json_object *opts, const char *id, husk_err **err)
{
    const char *mode = jstr(opts, "mode");
    if (!mode || strcmp(mode, "bridge") != 0)
        return husk_fail(err, 0, "container %.12s has no network of its own (--network %s)", id,
                         mode ? mode : "none");
    return 0;
}

int net_ctr_connect(struct store *st, const char *runroot, const char *id, const char *net, husk_err **err)
{
    _cleanup_json_ struct json_object *opts = NULL, *def = NULL, *given = NULL, *one = NULL, *result = NULL;
    _cleanup_json_ struct json_object *settings = NULL, *sub = NULL;
    if (net_ctr_read_opts(st, id, &opts) < 0 || check_bridge(opts, id, err) < 0)
        return *err ? -1 : husk_fail(err, 0, "container %.12s has no network of its own", id);
    struct json_object *nets = json_object_object_get(opts, "networks");
    if (json_object_object_get_ex(nets, net, NULL))
        return husk_fail(err, 0, "container %.12s is on network \"%s\" already", id, net);
    if (net_get(st, net, &def, err) < 0)
        return -1;
    struct json_object *n = json_object_new_object(), *aliases = json_object_new_array();
    _cleanup_free_ char *short_id = xasprintf("%.12s", id);
    json_object_array_add(aliases, json_object_new_string(jstr(opts, "name")));
    json_object_array_add(aliases, json_object_new_string(short_id));
    json_object_object_add(n, "aliases", aliases);
    _cleanup_free_ char *opath = opts_path(st, id, "netopts.json"), *gpath = opts_path(st, id, "netavark.json");
    _cleanup_free_ char *cpath = opts_path(st, id, "netavark-one.json"), *spath = opts_path(st, id, "network.json");
    _cleanup_free_ char *ns = netns_path(id), *nv = NULL;
    if (read_json(gpath, &given) < 0 || !netns_mounted(ns)) {
        /* not running: it joins at its next start */
        json_object_object_add(nets, net, n);
        return write_json(opath, opts, err);
    }
    sub = json_object_new_object();
    json_object_object_add(sub, net, n);
    int k = json_object_object_length(json_object_object_get(given, "networks"));
    if (build_given(st, runroot, id, opts, sub, false, k, &one, err) < 0)
        goto fail_lease;
    /* the full record first: a crash after the setup leaves it to a teardown */
    json_object_object_foreach(json_object_object_get(one, "network_info"), k1, v1) {
        (void)v1;
        if (!nv)
            nv = xstrdup(k1);
    }
    json_object_object_add(json_object_object_get(given, "networks"), nv,
                           json_object_get(json_object_object_get(json_object_object_get(one, "networks"), nv)));
    json_object_object_add(json_object_object_get(given, "network_info"), nv,
                           json_object_get(json_object_object_get(json_object_object_get(one, "network_info"), nv)));
    if (write_json(cpath, one, err) < 0 || write_json(gpath, given, err) < 0)
        goto fail_lease;
    if (run_netavark(runroot, "setup", ns, cpath, NULL, &result, err) < 0) {
        json_object_object_del(json_object_object_get(given, "networks"), nv);
        json_object_object_del(json_object_object_get(given, "network_info"), nv);
        husk_err *e = NULL;
        if (write_json(gpath, given, &e) < 0)
            husk_err_free(&e);
        goto fail_lease;
    }
    unlink(cpath);
    json_object_object_add(nets, net, json_object_get(n));
    if (write_json(opath, opts, err) < 0)
        return -1;
    /* the settings again, from every network */
    if (read_json(spath, &settings) == 0) {
        _cleanup_json_ struct json_object *more = settings_of(result, one, ns);
        struct json_object *sn = json_object_object_get(settings, "Networks");
        json_object_object_foreach(json_object_object_get(more, "Networks"), k2, v2)
            json_object_object_add(sn, k2, json_object_get(v2));
        write_json(spath, settings, err);
    }
    return 0;
fail_lease:
    unlink(cpath);
    net_release(st, net, id);
    return -1;
}

int net_ctr_disconnect(struct store *st, const char *runroot, const char *id, const char *net, husk_err **err)
{
    _cleanup_json_ struct json_object *opts = NULL, *given = NULL, *one = NULL, *settings = NULL;
    if (net_ctr_read_opts(st, id, &opts) < 0 || check_bridge(opts, id, err) < 0)
        return *err ? -1 : husk_fail(err, 0, "container %.12s has no network of its own", id);
    struct json_object *nets = json_object_object_get(opts, "networks");
    if (!json_object_object_get_ex(nets, net, NULL))
        return husk_fail(err, 0, "container %.12s is not on network \"%s\"", id, net);
    _cleanup_free_ char *opath = opts_path(st, id, "netopts.json"), *gpath = opts_path(st, id, "netavark.json");
    _cleanup_free_ char *cpath = opts_path(st, id, "netavark-one.json"), *spath = opts_path(st, id, "network.json");
    _cleanup_free_ char *ns = netns_path(id), *nv = NULL;
    /* the name it was given to netavark as (a record of an older husk: the name) */
    if (read_json(gpath, &given) == 0 && netns_mounted(ns) && (nv = nv_key_of(given, net))) {
        struct json_object *gn = json_object_object_get(given, "networks");
        struct json_object *gi = json_object_object_get(given, "network_info");
        one = json_object_new_object();
        json_object_object_add(one, "container_id", json_object_new_string(id));
        json_object_object_add(one, "container_name", json_object_new_string(jstr(opts, "name")));
        struct json_object *on = json_object_new_object(), *oi = json_object_new_object();
        json_object_object_add(on, nv, json_object_get(json_object_object_get(gn, nv)));
        json_object_object_add(oi, nv, json_object_get(json_object_object_get(gi, nv)));
        json_object_object_add(one, "networks", on);
        json_object_object_add(one, "network_info", oi);
        struct json_object *pm = json_object_object_get(given, "port_mappings");
        if (pm)
            json_object_object_add(one, "port_mappings", json_object_get(pm));
        if (write_json(cpath, one, err) < 0)
            return -1;
        int r = run_netavark(runroot, "teardown", ns, cpath, NULL, NULL, err);
        unlink(cpath);
        if (r < 0)
            return -1;
        json_object_object_del(gn, nv);
        json_object_object_del(gi, nv);
        if (write_json(gpath, given, err) < 0)
            return -1;
        net_release(st, net, id);
        if (read_json(spath, &settings) == 0) {
            json_object_object_del(json_object_object_get(settings, "Networks"), net);
            write_json(spath, settings, err);
        }
    }
    json_object_object_del(nets, net);
    return write_json(opath, opts, err);
}
