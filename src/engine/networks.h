/* networks.h — container networks: netavark (with aardvark-dns for names) does the
 * work, the engine keeps the definitions, the addresses and each container's
 * network namespace.
 *
 *   ROOT/networks/<name>.json        a network, in podman's format (name, id, driver
 *                                    "bridge", network_interface, subnets[{subnet,
 *                                    gateway}], internal, dns_enabled, labels …), so
 *                                    netavark takes it as it is
 *   ROOT/networks/leases/<name>/<ip> an address in use: the file holds the container's
 *                                    id and its store (made with O_EXCL under a lock:
 *                                    two starts cannot get one address; a lease whose
 *                                    container is gone from its store is taken back)
 *   /run/husk/net/husk0/<ip>         the same for the default network, host-wide
 *   /run/husk/net/<bridge>.lock      held around netavark's calls on that bridge
 *   /run/husk/net/aardvark-dns.lock  and this one when a network has names (one
 *                                    aardvark-dns for the host, not two at once)
 *   /run/husk/net/claims/bridge-<bridge>  a user network's bridge (and subnet),
 *                                    claimed host-wide: "STORE\nNAME\nSUBNET"; other
 *                                    stores' networks skip it at create, a start on
 *                                    it of another's is refused (net_claims.c)
 *   ROOT/containers/<id>/netopts.json    what the container asked for at create
 *                                    (networks, aliases, --ip, ports)
 *   ROOT/containers/<id>/netavark.json   the options netavark was given at start
 *                                    (written before anything exists on the host, kept
 *                                    until its teardown succeeded: the crash-safe record)
 *   ROOT/containers/<id>/network.json    docker's NetworkSettings of the running
 *                                    container, from netavark's answer
 *   /run/husk/net/ns/<id>            the container's network namespace (a bind mount
 *                                    of an nsfs file, as `ip netns add` makes one)
 *   /run/husk/net/config/            netavark's --config, host-wide as podman's
 *                                    /run/containers/networks: aardvark-dns's files
 *                                    (aardvark-dns/<name as given>, its pid file), so one
 *                                    aardvark-dns serves the networks with names of
 *                                    every store. Nothing in the runtime's root (RUNROOT),
 *                                    where `husk list` would take it for a container; an
 *                                    older husk's RUNROOT/networks serves its containers'
 *                                    records until they are gone, then goes.
 *
 * netavark is given a network by its name and the first 12 digits of its id
 * ("web-3f2a9c0d1e4b"): it names the network's firewall chain and aardvark-dns's
 * file after that name, host-wide, and a network's name is only its store's. The
 * default network is given as "husk": one network on the whole host. inspect shows
 * the names as the user gave them.
 *
 * The default network "husk" (docker's default bridge; `--network bridge`) is the
 * host's, the same from every store and in none (net_default.c): bridge husk0, a
 * fixed id, the subnet "default-network-subnet" of /etc/husk/engine.json
 * ($HUSK_ENGINE_CONFIG), else 10.89.0.0/24. A container without --network is on it.
 * Its bridge and firewall rules stay up after its last container, as docker0's do
 * (net_bridge_keep.c: a keeper port husk0-keep, one end of a veth pair whose other
 * end, husk0-keep-p, stays down), until `husk network rm husk` or a change of its
 * subnet takes them down (a takedown's namespace: /run/husk/net/husk0.down). */
#ifndef HUSK_ENGINE_NETWORKS_H
#define HUSK_ENGINE_NETWORKS_H

#include <stdbool.h>

#include "error.h"
#include "store.h"

struct json_object;

#define NET_DEFAULT_NAME "husk"

struct net_create_opts {
    const char *subnet;   /* CIDR, NULL: a free 10.89.N.0/24 */
    const char *gateway;  /* NULL: the subnet's first address */
    bool internal;        /* no route out (no NAT) */
    char **labels;        /* K=V, NULL-terminated, or NULL */
};

bool net_name_valid(const char *name);
/* Make a network; *out (optional) gets its definition. */
int net_create(struct store *st, const char *name, const struct net_create_opts *o, struct json_object **out,
               husk_err **err);
/* A network's definition (new); the default network's from engine.json. */
int net_get(struct store *st, const char *name, struct json_object **out, husk_err **err);
/* Every network's name (sorted, NULL-terminated). */
int net_list(struct store *st, char ***names_out, husk_err **err);
/* The containers (ids) that use the network. */
int net_users(struct store *st, const char *name, char ***ids_out, husk_err **err);
/* Remove a network nobody uses (the default one: take its bridge down, see
 * net_bridge_keep.c). */
int net_remove(struct store *st, const char *name, husk_err **err);

/* ---- a container's networking (ctr_life.c) ---- */

/* What `run --network/-p/-P/--ip/--dns/--add-host` gave. */
struct net_ctr_opts {
    const char *mode;     /* "none", "host", "container:X", or a network's name; NULL:
                             the default network "husk" (docker's default bridge) */
    const char *ip;       /* --ip */
    char **publish;       /* -p [IP:][HOST:]CTR[/tcp|udp] */
    bool publish_all;     /* -P */
    char **dns;           /* --dns (none: engine.json's "dns") */
    char **add_hosts;     /* --add-host NAME:IP */
};

/* At create: check the options, record them (netopts.json in ctr_dir), and write
 * userdata/hosts and resolv.conf for them. *netns_out gets the namespace's path
 * for config.json: NULL for a new empty one (none), "" for the host's. */
int net_ctr_prepare(struct store *st, const char *runroot, const char *id, const char *name,
                    const char *hostname, const struct net_ctr_opts *o, struct json_object *image_config,
                    const char *userdata, char **netns_out, husk_err **err);

/* docker's HostConfig keys of the options: NetworkMode, PortBindings,
 * PublishAllPorts, Dns, ExtraHosts (added to hc). */
void net_ctr_host_config(const struct net_ctr_opts *o, struct json_object *hc);

/* At start, before the runtime creates the container: make its namespace and
 * run netavark setup in it (nothing to do without a network). */
int net_ctr_setup(struct store *st, const char *runroot, const char *id, husk_err **err);

/* When it ended (cleanup, rm, a monitor found gone, a failed start): netavark
 * teardown, then the namespace and the addresses go. Safe to call again, and
 * after a crash at any point of setup. */
int net_ctr_teardown(struct store *st, const char *runroot, const char *id, husk_err **err);

/* docker's NetworkSettings of the container (new). */
struct json_object *net_ctr_settings(struct store *st, const char *id);

/* connect / disconnect a running or stopped container. */
int net_ctr_connect(struct store *st, const char *runroot, const char *id, const char *net, husk_err **err);
int net_ctr_disconnect(struct store *st, const char *runroot, const char *id, const char *net, husk_err **err);

/* ---- netns.c ---- */

/* Make a network namespace bound at path (a new file). */
int netns_create(const char *path, husk_err **err);
/* Is path a mounted namespace file? */
bool netns_mounted(const char *path);
/* Unmount and remove it (nothing there: fine). */
int netns_remove(const char *path, husk_err **err);

#endif
