/* net_int.h — what networks.c and ctr_net.c share. */
#ifndef HUSK_ENGINE_NET_INT_H
#define HUSK_ENGINE_NET_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "json_cleanup.h"
#include "store.h"

struct json_object;


/* PATH locked (flock, exclusive; its directory made 0700 if missing) into *fd. */
int net_lock_file(const char *path, int *fd, husk_err **err);
/* A network definition in podman's format (netavark's input); labels "K=V" or "K". */
struct json_object *net_def_json(const char *name, const char *id, const char *ifname, const char *subnet,
                                 const char *gateway, bool internal, bool dns, char *const *labels);
char *net_def_path(const struct store *st, const char *name);
int net_parse_cidr(const char *s, uint32_t *addr, int *prefix);
int net_parse_ip(const char *s, uint32_t *addr);
char *net_ip_str(uint32_t addr);
int net_def_subnet(struct json_object *def, uint32_t *net, int *prefix, uint32_t *gw);
int strcmp_p(const char **a, const char **b);

static inline uint32_t net_mask(int prefix)
{
    return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

/* ---- net_default.c: what the stores of one host share ---- */

/* the default network's bridge; host-wide locks and the default network's leases */
#define NET_DEFAULT_BRIDGE "husk0"
#define NET_RUN_DIR "/run/husk/net"

/* engine.json's network keys ($HUSK_ENGINE_CONFIG, else /etc/husk/engine.json;
 * none there: 10.89.0.0/24 and no servers) */
struct net_engine_cfg {
    char *subnet; /* "default-network-subnet" */
    char **dns;   /* "dns", NULL-terminated */
};
int net_engine_cfg_read(struct net_engine_cfg *c, husk_err **err);
void net_engine_cfg_free(struct net_engine_cfg *c);
/* The default network's definition (new), the same from every store. */
int net_default_def(struct json_object **out, husk_err **err);
/* The default network's definition (new) for that subnet and gateway. */
struct json_object *net_default_def_for(const char *subnet, const char *gateway);
/* Does an address of a host interface lie in net/prefix (or the subnet of one in it)? */
bool net_host_addr_in(uint32_t net, int prefix);
/* Lock the bridges of netavark's network_info (fds: -1-terminated) around its calls. */
int net_lock_bridges(struct json_object *network_info, int **fds_out, husk_err **err);
void net_unlock_bridges(int *fds);
/* Where a network's leases are: the default network's host-wide, others' in the store. */
char *net_lease_dir(const struct store *st, const char *name);
/* An address in dir for container id of the store at store_root (want: --ip, or NULL:
 * the first free); a lease whose container is gone from its store is taken back. */
int net_lease_at(const char *dir, const char *store_root, struct json_object *def, const char *name,
                 const char *id, const char *want, char **ip_out, husk_err **err);
/* Every lease in dir of that store's container id goes. */
void net_release_at(const char *dir, const char *store_root, const char *id);

/* An address of the network for container id (want: --ip, or NULL: the first free). */
int net_lease(struct store *st, const char *name, struct json_object *def, const char *id, const char *want,
              char **ip_out, husk_err **err);
/* Every address of the network id holds. */
void net_release(struct store *st, const char *name, const char *id);

/* ---- net_claims.c: a user network's bridge and subnet, claimed host-wide ---- */

/* where the claims are (NET_RUN_DIR/claims; a unit test's own) */
extern const char *net_claims_dir;
/* a valid claim of another network: its store (real path), name, bridge and subnet
 * (prefix -1: unknown); a list ends with store NULL */
struct net_claim {
    char *store, *name, *bridge;
    uint32_t net;
    int prefix;
};
void net_claims_free(struct net_claim *v);
static inline void net_claims_freep(struct net_claim **v)
{
    net_claims_free(*v);
}
/* The claims' host-wide lock (taken after a store's networks lock, if both). */
int net_claims_lock(int *fd, husk_err **err);
/* Every valid claim but the network name's of store (real path); stale ones go.
 * Called locked. */
int net_claims_read(const char *store, const char *name, struct net_claim **out, husk_err **err);
/* The claim in v with that bridge (NULL: any) or a subnet overlapping net/prefix
 * (prefix < 0: none), or NULL. */
const struct net_claim *net_claims_clash(const struct net_claim *v, const char *bridge, uint32_t net, int prefix);
/* Claim bridge for the network (locked, no valid claim of another there). */
int net_claim_write(const char *store, const char *name, const char *bridge, const char *subnet, husk_err **err);
/* The network's claim of bridge goes (not another's). Called locked. */
void net_claim_drop(const char *store, const char *name, const char *bridge);
/* Before netavark sets a container up on the network: claim its bridge, refused
 * while another store's network validly holds the bridge or an overlapping subnet
 * (the default network: nothing). */
int net_claim(struct store *st, const char *name, struct json_object *def, husk_err **err);

/* ---- net_bridge_keep.c: the default bridge stays up after its last container ---- */

/* Before netavark sets a container up on the default network (bridge lock held):
 * a bridge of another subnet than def's (engine.json changed) is taken down, or
 * refused while containers are on it. */
int net_default_before_setup(struct json_object *def, husk_err **err);
/* After it did: the bridge gets its keeper port, if it has none (lock held). */
void net_default_keep(void);
/* `network rm husk`: the bridge and the network's firewall rules go, unless a
 * container is on it (takes the bridge's lock). */
int net_default_down(husk_err **err);

/* netavark CMD NETNS with --config cfg, input (a file) on its stdin; *out (if not
 * NULL) its answer. No lock taken. */
int netavark_exec(const char *cfg, const char *cmd, const char *netns, const char *input, struct json_object **out,
                  husk_err **err);

/* The nameserver lines of resolv.conf at path, loopback ones left out (new). */
char *net_resolv_nameservers(const char *path);

/* The container's netopts.json (new), -1 when it has none. */
int net_ctr_read_opts(struct store *st, const char *id, struct json_object **out);

#endif
