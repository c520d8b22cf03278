/* net_int.h — what networks.c and ctr_net.c share. */
#ifndef HUSK_ENGINE_NET_INT_H
#define HUSK_ENGINE_NET_INT_H

#include <stdint.h>

#include "error.h"
#include "json_cleanup.h"
#include "store.h"

struct json_object;


char *net_def_path(const struct store *st, const char *name);
int net_parse_cidr(const char *s, uint32_t *addr, int *prefix);
int net_parse_ip(const char *s, uint32_t *addr);
char *net_ip_str(uint32_t addr);
int net_def_subnet(struct json_object *def, uint32_t *net, int *prefix, uint32_t *gw);
int strcmp_p(const char **a, const char **b);

/* An address of the network for container id (want: --ip, or NULL: the first free). */
int net_lease(struct store *st, const char *name, struct json_object *def, const char *id, const char *want,
              char **ip_out, husk_err **err);
/* Every address of the network id holds. */
void net_release(struct store *st, const char *name, const char *id);

/* The container's netopts.json (new), -1 when it has none. */
int net_ctr_read_opts(struct store *st, const char *id, struct json_object **out);

#endif
