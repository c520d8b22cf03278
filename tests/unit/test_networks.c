/* test_networks.c — network definitions (subnets, gateways, overlaps, bridge names),
 * address leases (O_EXCL, taken back from a container that is gone), and the
 * -p / --ip / --add-host checks of a container's network options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "net_int.h"
#include "networks.h"
#include "util.h"

static char root[] = "/tmp/husk-test-net.XXXXXX";
static struct store st;

static int setup(void **state)
{
    (void)state;
    strcpy(root, "/tmp/husk-test-net.XXXXXX");
    assert_non_null(mkdtemp(root));
    husk_err *err = NULL;
    assert_int_equal(store_open(root, &st, &err), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_close(&st);
    char *cmd = xasprintf("rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    return 0;
}

static const char *def_str(struct json_object *d, const char *k)
{
    struct json_object *v;
    return json_object_object_get_ex(d, k, &v) ? json_object_get_string(v) : NULL;
}

static void create_fails(const char *name, const char *subnet, const char *gw, const char *want)
{
    struct net_create_opts o = { .subnet = subnet, .gateway = gw };
    husk_err *err = NULL;
    assert_int_equal(net_create(&st, name, &o, NULL, &err), -1);
    if (!strstr(err->msg, want))
        fail_msg("create %s %s: \"%s\", want \"%s\"", name, subnet ? subnet : "-", err->msg, want);
    husk_err_free(&err);
}

static void test_create(void **state)
{
    (void)state;
    husk_err *err = NULL;
    struct json_object *d = NULL;
    struct net_create_opts o = { .subnet = "10.213.60.0/24", .internal = true };
    assert_int_equal(net_create(&st, "n1", &o, &d, &err), 0);
    struct json_object *s0 = json_object_array_get_idx(json_object_object_get(d, "subnets"), 0);
    assert_string_equal(def_str(s0, "gateway"), "10.213.60.1");
    /* husk0 is the default network's */
    assert_string_equal(def_str(d, "network_interface"), "husk1");
    assert_true(json_object_get_boolean(json_object_object_get(d, "internal")));
    json_object_put(d);
    /* no subnet: the first free 10.89.N.0/24 (10.89.0.0/24 is the default
     * network's); the next bridge name */
    struct net_create_opts none = { 0 };
    assert_int_equal(net_create(&st, "n2", &none, &d, &err), 0);
    s0 = json_object_array_get_idx(json_object_object_get(d, "subnets"), 0);
    assert_string_equal(def_str(s0, "subnet"), "10.89.1.0/24");
    assert_string_equal(def_str(d, "network_interface"), "husk2");
    json_object_put(d);
    create_fails("n1", "10.213.61.0/24", NULL, "exists already");
    create_fails("n3", "10.213.60.128/25", NULL, "overlaps");
    create_fails("n3", "10.213.0.0/16", NULL, "overlaps");
    create_fails("n3", "10.213.62.1/24", NULL, "host bits");
    create_fails("n3", "10.213.62.0/31", NULL, "--subnet");
    create_fails("n3", "10.213.62.0/24", "10.213.63.1", "--gateway");
    create_fails("n3", "10.213.62.0/24", "10.213.62.255", "--gateway");
    create_fails("bad/name", NULL, NULL, "network name");
    create_fails("host", NULL, NULL, "reserved");
    create_fails("husk", NULL, NULL, "reserved");
    create_fails("n3", "10.89.0.0/16", NULL, "overlaps network \"husk\"");
    char **names = NULL;
    assert_int_equal(net_list(&st, &names, &err), 0);
    assert_string_equal(names[0], "husk");
    assert_string_equal(names[1], "n1");
    assert_string_equal(names[2], "n2");
    assert_null(names[3]);
    strv_free(names);
    assert_int_equal(net_remove(&st, "n2", &err), 0);
    assert_int_equal(net_remove(&st, "n2", &err), -1);
    husk_err_free(&err);
    /* net_remove of "husk" takes the host's bridge husk0 down: container-network.bats */
}

static void test_leases(void **state)
{
    (void)state;
    husk_err *err = NULL;
    struct json_object *d = NULL;
    struct net_create_opts o = { .subnet = "10.213.64.0/30" };
    assert_int_equal(net_create(&st, "small", &o, &d, &err), 0);
    /* /30: .1 the gateway, .2 the only host address */
    char *dir_a = xasprintf("%s/containers/aaaa", root);
    assert_int_equal(mkdir_p(dir_a, 0700, &err), 0);
    char *ip = NULL;
    assert_int_equal(net_lease(&st, "small", d, "aaaa", NULL, &ip, &err), 0);
    assert_string_equal(ip, "10.213.64.2");
    free(ip);
    assert_int_equal(net_lease(&st, "small", d, "bbbb", NULL, &ip, &err), -1);
    assert_non_null(strstr(err->msg, "no free address"));
    husk_err_free(&err);
    assert_int_equal(net_lease(&st, "small", d, "bbbb", "10.213.64.1", &ip, &err), -1);
    husk_err_free(&err);
    /* the holder's container is gone (a crash): its lease is free again */
    assert_int_equal(rmdir(dir_a), 0);
    assert_int_equal(net_lease(&st, "small", d, "bbbb", "10.213.64.2", &ip, &err), 0);
    free(ip);
    net_release(&st, "small", "bbbb");
    assert_int_equal(net_lease(&st, "small", d, "cccc", NULL, &ip, &err), 0);
    free(ip);
    free(dir_a);
    json_object_put(d);
}

static void write_config(const char *text)
{
    char *p = xasprintf("%s/engine.json", root);
    husk_err *err = NULL;
    assert_int_equal(write_file_atomic(-100, p, text, strlen(text), 0644, &err), 0);
    setenv("HUSK_ENGINE_CONFIG", p, 1);
    free(p);
}

static void test_default(void **state)
{
    (void)state;
    husk_err *err = NULL;
    struct json_object *d = NULL;
    /* the same from every store, and in none of them */
    write_config("{\"default-network-subnet\": \"10.213.70.0/24\"}");
    assert_int_equal(net_get(&st, "husk", &d, &err), 0);
    assert_string_equal(def_str(d, "id"), "c8b1f4b76229cb72d6bc950f3d2e2b5891e14a35743e3b6f21bf0cd87511a1ba");
    assert_string_equal(def_str(d, "network_interface"), "husk0");
    assert_false(json_object_get_boolean(json_object_object_get(d, "dns_enabled")));
    struct json_object *s0 = json_object_array_get_idx(json_object_object_get(d, "subnets"), 0);
    assert_string_equal(def_str(s0, "subnet"), "10.213.70.0/24");
    assert_string_equal(def_str(s0, "gateway"), "10.213.70.1");
    json_object_put(d);
    char *p = xasprintf("%s/networks/husk.json", root);
    assert_int_equal(access(p, F_OK), -1);
    free(p);
    /* a bad subnet or dns is one error naming the key */
    write_config("{\"default-network-subnet\": \"10.213.70.1/24\"}");
    assert_int_equal(net_get(&st, "husk", &d, &err), -1);
    assert_non_null(strstr(err->msg, "default-network-subnet"));
    husk_err_free(&err);
    write_config("{\"dns\": [\"nonsense\"]}");
    struct net_engine_cfg c;
    assert_int_equal(net_engine_cfg_read(&c, &err), -1);
    assert_non_null(strstr(err->msg, "dns"));
    husk_err_free(&err);
    write_config("{\"dns\": [\"10.0.0.2\", \"10.0.0.3\"]}");
    assert_int_equal(net_engine_cfg_read(&c, &err), 0);
    assert_string_equal(c.subnet, "10.89.0.0/24");
    assert_string_equal(c.dns[0], "10.0.0.2");
    assert_string_equal(c.dns[1], "10.0.0.3");
    assert_null(c.dns[2]);
    net_engine_cfg_free(&c);
    /* no --network: the default network, engine.json's servers; --dns wins */
    char *ud = xasprintf("%s/containers/ffff/userdata", root), *ns = NULL, *rp = xasprintf("%s/resolv.conf", ud);
    char *resolv = NULL, *mine[] = { "10.0.0.9", NULL };
    assert_int_equal(mkdir_p(ud, 0700, &err), 0);
    struct json_object *img = json_object_new_object(), *opts = NULL;
    assert_int_equal(net_ctr_prepare(&st, "/run/x", "ffff", "c", "h", &(struct net_ctr_opts){ 0 }, img, ud, &ns, &err), 0);
    assert_string_equal(ns, "/run/husk/net/ns/ffff");
    free(ns);
    assert_int_equal(net_ctr_read_opts(&st, "ffff", &opts), 0);
    assert_string_equal(def_str(opts, "mode"), "bridge");
    assert_true(json_object_object_get_ex(json_object_object_get(opts, "networks"), "husk", NULL));
    json_object_put(opts);
    assert_int_equal(read_file_at(-100, rp, 4096, &resolv, NULL, &err), 0);
    assert_string_equal(resolv, "nameserver 10.0.0.2\nnameserver 10.0.0.3\n");
    free(resolv);
    assert_int_equal(net_ctr_prepare(&st, "/run/x", "ffff", "c", "h", &(struct net_ctr_opts){ .dns = mine }, img, ud,
                                     &ns, &err), 0);
    free(ns);
    assert_int_equal(read_file_at(-100, rp, 4096, &resolv, NULL, &err), 0);
    assert_string_equal(resolv, "nameserver 10.0.0.9\n");
    free(resolv);
    json_object_put(img);
    free(ud);
    free(rp);
    unsetenv("HUSK_ENGINE_CONFIG");
}

/* The default network's leases are the host's: two stores share one directory;
 * each lease names its store, and is taken back once its container is gone from
 * that store (or the whole store is). */
static void test_host_leases(void **state)
{
    (void)state;
    husk_err *err = NULL;
    struct json_object *d = NULL;
    struct net_create_opts o = { .subnet = "10.213.71.0/29" };
    assert_int_equal(net_create(&st, "tiny", &o, &d, &err), 0);
    char *dir = xasprintf("%s/hostwide", root), *sa = xasprintf("%s/sa", root), *sb = xasprintf("%s/sb", root);
    char *ca = xasprintf("%s/containers/c1", sa), *cb = xasprintf("%s/containers/c1", sb);
    assert_int_equal(mkdir_p(ca, 0700, &err), 0);
    assert_int_equal(mkdir_p(cb, 0700, &err), 0);
    char *ip = NULL, *ip2 = NULL;
    /* the same container id in two stores: two addresses */
    assert_int_equal(net_lease_at(dir, sa, d, "tiny", "c1", NULL, &ip, &err), 0);
    assert_string_equal(ip, "10.213.71.2");
    assert_int_equal(net_lease_at(dir, sb, d, "tiny", "c1", NULL, &ip2, &err), 0);
    assert_string_equal(ip2, "10.213.71.3");
    free(ip2);
    /* asked again: the same one */
    assert_int_equal(net_lease_at(dir, sa, d, "tiny", "c1", NULL, &ip2, &err), 0);
    assert_string_equal(ip2, "10.213.71.2");
    free(ip2);
    free(ip);
    char *lease = NULL, *lp = xasprintf("%s/10.213.71.3", dir);
    assert_int_equal(read_file_at(-100, lp, 4096, &lease, NULL, &err), 0);
    char *want = xasprintf("c1\n%s", sb);
    assert_string_equal(lease, want);
    free(want);
    free(lease);
    /* a wanted address another store holds is refused */
    assert_int_equal(net_lease_at(dir, sb, d, "tiny", "c2", "10.213.71.2", &ip, &err), -1);
    assert_non_null(strstr(err->msg, "in use"));
    husk_err_free(&err);
    /* store a's container is gone: its address is free for another */
    char *cmd = xasprintf("rm -rf '%s'", sa);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    assert_int_equal(net_lease_at(dir, sb, d, "tiny", "c2", "10.213.71.2", &ip, &err), 0);
    free(ip);
    /* release takes only that store's container's */
    assert_int_equal(mkdir_p(ca, 0700, &err), 0);
    net_release_at(dir, sa, "c1");
    assert_int_equal(access(lp, F_OK), 0);
    net_release_at(dir, sb, "c1");
    assert_int_equal(access(lp, F_OK), -1);
    free(lp);
    free(dir);
    free(sa);
    free(sb);
    free(ca);
    free(cb);
    json_object_put(d);
}

/* resolv.conf of the default network: the host's servers but loopback ones */
static void test_nameservers(void **state)
{
    (void)state;
    husk_err *err = NULL;
    char *p = xasprintf("%s/resolv.conf", root);
    const char *text = "# a comment\nnameserver 127.0.0.53\nsearch example\nnameserver 10.1.2.3\n"
                       "nameserver ::1\n  nameserver 192.0.2.7\nnameserver 127.0.0.1\n";
    assert_int_equal(write_file_atomic(-100, p, text, strlen(text), 0644, &err), 0);
    char *ns = net_resolv_nameservers(p);
    assert_string_equal(ns, "nameserver 10.1.2.3\nnameserver 192.0.2.7\n");
    free(ns);
    text = "nameserver 127.0.0.53\n";
    assert_int_equal(write_file_atomic(-100, p, text, strlen(text), 0644, &err), 0);
    ns = net_resolv_nameservers(p);
    assert_string_equal(ns, "");
    free(ns);
    free(p);
}

static void prepare_fails(const struct net_ctr_opts *o, const char *want)
{
    husk_err *err = NULL;
    char *ud = xasprintf("%s/containers/dddd/userdata", root), *ns = NULL;
    assert_int_equal(mkdir_p(ud, 0700, &err), 0);
    struct json_object *img = json_object_new_object();
    assert_int_equal(net_ctr_prepare(&st, "/run/x", "dddd", "c", "h", o, img, ud, &ns, &err), -1);
    if (!strstr(err->msg, want))
        fail_msg("\"%s\", want \"%s\"", err->msg, want);
    husk_err_free(&err);
    json_object_put(img);
    free(ud);
    free(ns);
}

static void test_ctr_opts(void **state)
{
    (void)state;
    husk_err *err = NULL;
    struct net_create_opts c = { .subnet = "10.213.65.0/24" };
    assert_int_equal(net_create(&st, "cn", &c, NULL, &err), 0);
    char *bad_p[] = { "80/sctp", NULL }, *bad_p2[] = { "1.2.3:80:80", NULL }, *bad_p3[] = { "70000", NULL };
    char *bad_p4[] = { "1:2:3:4", NULL }, *bad_h[] = { "nocolon", NULL };
    prepare_fails(&(struct net_ctr_opts){ .mode = "cn", .publish = bad_p }, "tcp or udp");
    prepare_fails(&(struct net_ctr_opts){ .mode = "cn", .publish = bad_p2 }, "not an IPv4");
    prepare_fails(&(struct net_ctr_opts){ .mode = "cn", .publish = bad_p3 }, "not a port");
    prepare_fails(&(struct net_ctr_opts){ .mode = "cn", .publish = bad_p4 }, "-p 1:2:3:4");
    prepare_fails(&(struct net_ctr_opts){ .mode = "cn", .add_hosts = bad_h }, "--add-host");
    prepare_fails(&(struct net_ctr_opts){ .mode = "cn", .ip = "10.213.66.2" }, "not an address of network");
    char *p80[] = { "127.0.0.1:8080:80/udp", "81", NULL };
    prepare_fails(&(struct net_ctr_opts){ .mode = "none", .publish = p80 }, "no network of its own");
    prepare_fails(&(struct net_ctr_opts){ .mode = "nosuch" }, "no such network");

    char *ud = xasprintf("%s/containers/eeee/userdata", root), *ns = NULL;
    assert_int_equal(mkdir_p(ud, 0700, &err), 0);
    struct json_object *img = json_object_new_object();
    struct net_ctr_opts o = { .mode = "cn", .publish = p80, .ip = "10.213.65.9" };
    assert_int_equal(net_ctr_prepare(&st, "/run/x", "eeee", "c", "h", &o, img, ud, &ns, &err), 0);
    assert_string_equal(ns, "/run/husk/net/ns/eeee");
    struct json_object *opts = NULL;
    assert_int_equal(net_ctr_read_opts(&st, "eeee", &opts), 0);
    struct json_object *ports = json_object_object_get(opts, "ports");
    assert_int_equal(json_object_array_length(ports), 2);
    struct json_object *p0 = json_object_array_get_idx(ports, 0), *p1 = json_object_array_get_idx(ports, 1);
    assert_string_equal(def_str(p0, "host_ip"), "127.0.0.1");
    assert_int_equal(json_object_get_int(json_object_object_get(p0, "host_port")), 8080);
    assert_int_equal(json_object_get_int(json_object_object_get(p0, "container_port")), 80);
    assert_string_equal(def_str(p0, "protocol"), "udp");
    assert_int_equal(json_object_get_int(json_object_object_get(p1, "host_port")), 0);
    assert_string_equal(def_str(p1, "protocol"), "tcp");
    char *resolv = NULL, *rp = xasprintf("%s/resolv.conf", ud);
    assert_int_equal(read_file_at(-100, rp, 4096, &resolv, NULL, &err), 0);
    assert_string_equal(resolv, "search dns.podman\nnameserver 10.213.65.1\n");
    free(resolv);
    free(rp);
    json_object_put(opts);
    json_object_put(img);
    free(ud);
    free(ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctr_opts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nameservers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_leases, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
