/* net_bridge_keep.c — the default network's bridge outlives its last container, as
 * docker's docker0 outlives its: husk0 and the network's firewall rules stay set up
 * from the first container on the default network until `husk network rm husk`.
 *
 * Why: netavark removes a bridge, and with it the network's own firewall rules
 * (NAT, forwarding, isolation: about thirty iptables runs between setup and
 * teardown), whenever the bridge's last container goes. A `run --rm` on the default
 * network, alone on it, paid all of that every time. netavark leaves a bridge that
 * still has a port, so the bridge gets one of its own: "husk0-keep", one end of a
 * veth pair whose other end ("husk0-keep-p") stays down in the host's namespace.
 * Nothing ever flows through it; the bridge shows NO-CARRIER with no container on
 * it, as docker0 does. A container's own state (its veth, port forwards, address
 * lease, namespace) still goes with it.
 *
 * Taking it down (network rm husk, or engine.json's subnet changed while no container
 * is on it): the keeper goes, then a container made for the purpose — a namespace of
 * its own, set up and at once torn down by netavark — is the bridge's last, and
 * netavark's teardown removes the bridge and the network's rules as it removes any
 * network's. Every step runs under the bridge's lock (net_lock_bridges), the one
 * every netavark call on husk0 holds.
 *
 * Crash safety: the keeper is made after netavark's setup succeeded; without it the
 * bridge simply goes with its last container, as before. A takedown killed halfway
 * leaves its namespace (NET_RUN_DIR/husk0.down) mounted: the next call on the bridge
 * unmounts it, which takes its veth off the bridge, and a takedown then starts over. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <json-c/json.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net_int.h"
#include "networks.h"
#include "testhooks.h"
#include "util.h"

#define KEEP_PORT NET_DEFAULT_BRIDGE "-keep"
#define KEEP_PEER NET_DEFAULT_BRIDGE "-keep-p"
#define DOWN_NS NET_RUN_DIR "/" NET_DEFAULT_BRIDGE ".down"
#define DOWN_INPUT NET_RUN_DIR "/" NET_DEFAULT_BRIDGE ".down.json"
/* the id netavark gets for the takedown's container (it names a port-forward chain
 * after it: none is made, there are no ports) */
#define DOWN_ID "husk0-takedown"

static bool link_exists(const char *name)
{
    _cleanup_free_ char *p = xasprintf("/sys/class/net/%s", name);
    return access(p, F_OK) == 0;
}

/* ip ARGS… (iproute2; netlink is its business, not ours) */
static int run_ip(const char *const *args, husk_err **err)
{
    static const char *const paths[] = { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" };
    const char *ip = NULL;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0] && !ip; i++)
        if (access(paths[i], X_OK) == 0)
            ip = paths[i];
    if (!ip)
        return husk_fail(err, 0, "ip (iproute2) not found");
    _cleanup_close_ int e = memfd_create("ip-err", MFD_CLOEXEC);
    if (e < 0)
        return husk_fail(err, errno, "memfd_create");
    pid_t pid = fork();
    if (pid < 0)
        return husk_fail(err, errno, "fork");
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        dup2(null, 0);
        dup2(null, 1);
        dup2(e, 2);
        syscall(SYS_close_range, 3, ~0U, 0);
        execv(ip, (char *const *)args);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return husk_fail(err, errno, "waitpid");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    char buf[512];
    ssize_t n = pread(e, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return husk_fail(err, 0, "ip %s %s %s: %s", args[1], args[2], args[3], *buf ? buf : "failed");
}

/* The bridge's ports but the keeper: containers' veths (and a takedown's). */
static size_t bridge_ports(void)
{
    DIR *d = opendir("/sys/class/net/" NET_DEFAULT_BRIDGE "/brif");
    size_t n = 0;
    if (!d)
        return 0;
    for (struct dirent *de; (de = readdir(d));)
        if (de->d_name[0] != '.' && strcmp(de->d_name, KEEP_PORT) != 0)
            n++;
    closedir(d);
    return n;
}

/* The bridge's IPv4 address (the network's gateway) and prefix, if it has one. */
static bool bridge_addr(uint32_t *addr, int *prefix)
{
    struct ifaddrs *ifa = NULL;
    bool found = false;
    if (getifaddrs(&ifa) < 0)
        return false;
    for (struct ifaddrs *i = ifa; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || strcmp(i->ifa_name, NET_DEFAULT_BRIDGE) != 0)
            continue;
        *addr = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
        uint32_t m = i->ifa_netmask ? ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr) : 0xffffffffu;
        *prefix = __builtin_popcount(m);
        found = true;
    }
    freeifaddrs(ifa);
    return found;
}

/* A takedown killed halfway: its namespace goes, and with it its veth (the kernel
 * frees a namespace, and destroys its veths, a moment after its last reference). */
static int forget_killed_takedown(husk_err **err)
{
    unlink(DOWN_INPUT);
    if (access(DOWN_NS, F_OK) < 0)
        return 0;
    if (netns_remove(DOWN_NS, err) < 0)
        return -1;
    for (int i = 0; i < 200 && link_exists(NET_DEFAULT_BRIDGE) && bridge_ports() > 0; i++)
        nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
    return 0;
}

/* Is the keeper a port of the bridge? */
static bool keeper_attached(void)
{
    char target[PATH_MAX];
    ssize_t n = readlink("/sys/class/net/" KEEP_PORT "/master", target, sizeof target - 1);
    if (n <= 0)
        return false;
    target[n] = '\0';
    const char *base = strrchr(target, '/');
    return strcmp(base ? base + 1 : target, NET_DEFAULT_BRIDGE) == 0;
}

void net_default_keep(void)
{
    if (!link_exists(NET_DEFAULT_BRIDGE) || keeper_attached())
        return;
    /* a veth pair, not a dummy: veth is there wherever netavark works (it makes
     * containers' links of it); "dummy" is a module a kernel may lack. Both ends
     * stay down: nothing is sent on them, the bridge has no carrier of its own.
     * One left from a bridge someone removed by hand is attached again. */
    static const char *const add[] = { "ip", "link", "add", KEEP_PORT, "master", NET_DEFAULT_BRIDGE,
                                       "type", "veth", "peer", "name", KEEP_PEER, NULL };
    static const char *const attach[] = { "ip", "link", "set", KEEP_PORT, "master", NET_DEFAULT_BRIDGE, NULL };
    husk_err *e = NULL;
    if (run_ip(link_exists(KEEP_PORT) ? attach : add, &e) < 0) {
        /* not fatal: the bridge then goes with its last container, as netavark does */
        fprintf(stderr, "husk: warning: the default network's bridge will not stay up: %s\n", e->msg);
        husk_err_free(&e);
    }
}

/* Take the bridge and the network's rules down; def: the network as the bridge has it.
 * The caller holds the bridge's lock, and no container is on the bridge. */
static int take_down(struct json_object *def, husk_err **err)
{
    static const char *const del[] = { "ip", "link", "del", KEEP_PORT, NULL };
    if (link_exists(KEEP_PORT) && run_ip(del, err) < 0)
        return -1;
    if (!link_exists(NET_DEFAULT_BRIDGE))
        return 0;
    /* the takedown's container takes any address of the subnet: no container is on
     * the bridge, and none sets up on it before we let the lock go */
    uint32_t net, gw, a;
    int prefix;
    if (net_def_subnet(def, &net, &prefix, &gw) < 0)
        return husk_fail(err, 0, "the default network: no subnet in its definition");
    a = net + 1 == gw ? net + 2 : net + 1;
    _cleanup_free_ char *ip = net_ip_str(a);
    _cleanup_json_ struct json_object *in = json_object_new_object();
    struct json_object *nets = json_object_new_object(), *info = json_object_new_object();
    struct json_object *one = json_object_new_object(), *ips = json_object_new_array();
    json_object_object_add(in, "container_id", json_object_new_string(DOWN_ID));
    json_object_object_add(in, "container_name", json_object_new_string(DOWN_ID));
    json_object_array_add(ips, json_object_new_string(ip));
    json_object_object_add(one, "interface_name", json_object_new_string("eth0"));
    json_object_object_add(one, "static_ips", ips);
    json_object_object_add(nets, NET_DEFAULT_NAME, one);
    json_object_object_add(in, "networks", nets);
    json_object_object_add(info, NET_DEFAULT_NAME, json_object_get(def));
    json_object_object_add(in, "network_info", info);
    /* netavark removes the network's port-forward chain (NETAVARK-DN-…, which
     * published ports made) only in the teardown of a last container with a port
     * of its own: one, on the gateway's address, which nothing on the host sends
     * to, for the moment between this setup and teardown */
    _cleanup_free_ char *gwip = net_ip_str(gw);
    struct json_object *pm = json_object_new_array(), *port = json_object_new_object();
    json_object_object_add(port, "host_ip", json_object_new_string(gwip));
    json_object_object_add(port, "container_port", json_object_new_int(65535));
    json_object_object_add(port, "host_port", json_object_new_int(65535));
    json_object_object_add(port, "range", json_object_new_int(1));
    json_object_object_add(port, "protocol", json_object_new_string("tcp"));
    json_object_array_add(pm, port);
    json_object_object_add(in, "port_mappings", pm);
    const char *text = json_object_to_json_string_ext(in, JSON_C_TO_STRING_PLAIN);
    _cleanup_free_ char *cfg = xasprintf("%s/config", NET_RUN_DIR);
    if (netns_create(DOWN_NS, err) < 0)
        return -1;
    int r = write_file_atomic(AT_FDCWD, DOWN_INPUT, text, strlen(text), 0600, err);
    if (r == 0)
        r = netavark_exec(cfg, "setup", DOWN_NS, DOWN_INPUT, NULL, err);
    husk_kill_point("bridge-down.after-setup");
    if (r == 0)
        r = netavark_exec(cfg, "teardown", DOWN_NS, DOWN_INPUT, NULL, err);
    unlink(DOWN_INPUT);
    husk_err *e = NULL;
    if (netns_remove(DOWN_NS, r < 0 ? &e : err) < 0 && r == 0)
        r = -1;
    husk_err_free(&e);
    if (r < 0)
        return husk_err_prefix(err, "the default network's bridge %s", NET_DEFAULT_BRIDGE);
    return 0;
}

/* The default network's definition for the subnet the bridge has now. */
static struct json_object *def_of_bridge(uint32_t gw, int prefix)
{
    uint32_t net = gw & net_mask(prefix);
    _cleanup_free_ char *n = net_ip_str(net), *g = net_ip_str(gw);
    _cleanup_free_ char *subnet = xasprintf("%s/%d", n, prefix);
    return net_default_def_for(subnet, g);
}

int net_default_before_setup(struct json_object *def, husk_err **err)
{
    if (forget_killed_takedown(err) < 0)
        return -1;
    uint32_t want_net, want_gw, have_gw;
    int want_prefix, have_prefix;
    if (net_def_subnet(def, &want_net, &want_prefix, &want_gw) < 0)
        return husk_fail(err, 0, "the default network: no subnet in its definition");
    if (!bridge_addr(&have_gw, &have_prefix) || (have_gw == want_gw && have_prefix == want_prefix))
        return 0;
    /* engine.json's subnet changed since the bridge came up: a bridge has one
     * subnet, so it is taken down first, unless containers are on it */
    _cleanup_free_ char *have = net_ip_str(have_gw);
    if (bridge_ports() > 0) {
        const char *want = json_object_get_string(
            json_object_object_get(json_object_array_get_idx(json_object_object_get(def, "subnets"), 0), "subnet"));
        return husk_fail(err, 0, "the default network: engine.json's default-network-subnet is %s, but its bridge %s "
                         "(%s/%d) still has containers: remove them first", want, NET_DEFAULT_BRIDGE, have, have_prefix);
    }
    _cleanup_json_ struct json_object *old = def_of_bridge(have_gw, have_prefix);
    return take_down(old, err);
}

/* A container of some store on the default network (its lease names it), for a message. */
static char *a_user(void)
{
    DIR *d = opendir(NET_RUN_DIR "/" NET_DEFAULT_BRIDGE);
    char *who = NULL;
    if (!d)
        return NULL;
    for (struct dirent *de; !who && (de = readdir(d));) {
        if (de->d_name[0] == '.')
            continue;
        _cleanup_free_ char *text = NULL;
        husk_err *e = NULL;
        if (read_file_at(dirfd(d), de->d_name, 8192, &text, NULL, &e) < 0) {
            husk_err_free(&e);
            continue;
        }
        char *nl = strchr(text, '\n');
        if (!nl)
            continue;
        *nl = '\0';
        nl[1 + strcspn(nl + 1, "\n")] = '\0';
        _cleanup_free_ char *dir = xasprintf("%s/containers/%s", nl + 1, text);
        if (access(dir, F_OK) == 0)
            who = xasprintf("container %.12s of the store %s", text, nl + 1);
    }
    closedir(d);
    return who;
}

int net_default_down(husk_err **err)
{
    _cleanup_free_ char *lk = xasprintf("%s/%s.lock", NET_RUN_DIR, NET_DEFAULT_BRIDGE);
    _cleanup_close_ int lock = -1;
    if (net_lock_file(lk, &lock, err) < 0)
        return -1;
    if (forget_killed_takedown(err) < 0)
        return -1;
    if (bridge_ports() > 0) {
        _cleanup_free_ char *who = a_user();
        return husk_fail(err, 0, "network \"%s\" is in use by %s", NET_DEFAULT_NAME,
                         who ? who : "a container (its bridge " NET_DEFAULT_BRIDGE " has ports)");
    }
    uint32_t gw;
    int prefix;
    if (!bridge_addr(&gw, &prefix)) {
        /* no bridge (or one with no address, nothing of netavark's): only a keeper
         * can be left, whose bridge someone removed */
        static const char *const del[] = { "ip", "link", "del", KEEP_PORT, NULL };
        return link_exists(KEEP_PORT) ? run_ip(del, err) : 0;
    }
    _cleanup_json_ struct json_object *def = def_of_bridge(gw, prefix);
    return take_down(def, err);
}
