/* test_config.c — unit tests for the config.json parser (config.c, config_json.c,
 * config_linux.c): a full valid config, and a table of malformed ones, each
 * checked against the exact error message. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/capability.h>
#include <linux/ioprio.h>
#include <seccomp.h>

#include "config.h"
#include "error.h"
#include "util.h"

/* Test documents are written with ' for " to stay readable; q() swaps them. */
static char *q(const char *s)
{
    char *d = xstrdup(s);
    for (char *p = d; *p; p++)
        if (*p == '\'')
            *p = '"';
    return d;
}

static struct oci_config *parse_ok(const char *json)
{
    _cleanup_free_ char *doc = q(json);
    struct oci_config *cfg = NULL;
    husk_err *err = NULL;

    if (config_parse(doc, strlen(doc), "config.json", &cfg, &err) < 0) {
        print_error("unexpected error: %s\n", err ? err->msg : "(null)");
        husk_err_free(&err);
        fail();
    }
    assert_non_null(cfg);
    return cfg;
}

/* ---- the full valid config ------------------------------------------------- */

static const char full_config[] =
    "{\n"
    "  'ociVersion': '1.2.0',\n"
    "  'process': {\n"
    "    'terminal': true,\n"
    "    'consoleSize': {'height': 25, 'width': 80},\n"
    "    'user': {'uid': 1000, 'gid': 1001, 'umask': 18, 'additionalGids': [5, 4294967294]},\n"
    "    'args': ['sh', '-c', 'echo hi'],\n"
    "    'env': ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm', 'EMPTY='],\n"
    "    'cwd': '/',\n"
    "    'capabilities': {\n"
    "      'bounding': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],\n"
    "      'effective': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],\n"
    "      'permitted': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],\n"
    "      'ambient': []\n"
    "    },\n"
    "    'rlimits': [\n"
    "      {'type': 'RLIMIT_NOFILE', 'hard': 1024, 'soft': 1024},\n"
    "      {'type': 'RLIMIT_CORE', 'hard': 18446744073709551615, 'soft': 18446744073709551615},\n"
    "      {'type': 'RLIMIT_RTTIME', 'hard': 9223372036854775808, 'soft': 0}\n"
    "    ],\n"
    "    'noNewPrivileges': true,\n"
    "    'apparmorProfile': 'husk-default',\n"
    "    'oomScoreAdj': -1000,\n"
    "    'selinuxLabel': 'system_u:system_r:container_t:s0',\n"
    "    'scheduler': {'policy': 'SCHED_BATCH', 'nice': -5, 'priority': 0,\n"
    "                  'flags': ['SCHED_FLAG_RESET_ON_FORK'], 'runtime': 1, 'deadline': 2, 'period': 3},\n"
    "    'ioPriority': {'class': 'IOPRIO_CLASS_IDLE', 'priority': 4},\n"
    "    'execCPUAffinity': {'initial': '7', 'final': '0-3,7'}\n"
    "  },\n"
    "  'root': {'path': 'rootfs', 'readonly': true},\n"
    "  'hostname': 'husk',\n"
    "  'domainname': 'example.org',\n"
    "  'mounts': [\n"
    "    {'destination': '/proc', 'type': 'proc', 'source': 'proc'},\n"
    "    {'destination': '/dev', 'type': 'tmpfs', 'source': 'tmpfs',\n"
    "     'options': ['nosuid', 'strictatime', 'mode=755', 'size=65536k']},\n"
    "    {'destination': '/data', 'type': 'bind', 'source': '/srv/data', 'options': ['rbind', 'idmap'],\n"
    "     'uidMappings': [{'containerID': 0, 'hostID': 100000, 'size': 65536}],\n"
    "     'gidMappings': [{'containerID': 0, 'hostID': 200000, 'size': 1}]}\n"
    "  ],\n"
    "  'hooks': {\n"
    "    'prestart': [{'path': '/usr/bin/fix-mounts', 'args': ['fix-mounts', 'arg1'], 'env': ['key1=value1']}],\n"
    "    'createRuntime': [{'path': '/usr/bin/setup-network', 'timeout': 5}],\n"
    "    'createContainer': [],\n"
    "    'startContainer': [{'path': '/usr/bin/refresh-ldcache'}],\n"
    "    'poststart': [{'path': '/usr/bin/notify-start', 'timeout': 5}],\n"
    "    'poststop': [{'path': '/usr/sbin/cleanup.sh', 'args': ['cleanup.sh', '-f']}]\n"
    "  },\n"
    "  'annotations': {'com.example.key1': 'value1', 'com.example.key2': 'value2'},\n"
    "  'unknownTopLevel': {'ignored': [1, 2.5, null, {'deep': true}]},\n"
    "  'linux': {\n"
    "    'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': '/var/run/netns/x'},\n"
    "                   {'type': 'ipc'}, {'type': 'uts'}, {'type': 'mount'}, {'type': 'cgroup', 'path': ''},\n"
    "                   {'type': 'user'}, {'type': 'time'}],\n"
    "    'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 32000}],\n"
    "    'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 32000}],\n"
    "    'timeOffsets': {'monotonic': {'secs': 172800, 'nanosecs': 0}, 'boottime': {'secs': -5, 'nanosecs': 999999999}},\n"
    "    'devices': [{'path': '/dev/fuse', 'type': 'c', 'major': 10, 'minor': 229, 'fileMode': 438, 'uid': 0, 'gid': 0},\n"
    "                {'path': '/dev/sda', 'type': 'b', 'major': 8, 'minor': 0},\n"
    "                {'path': '/dev/pipe', 'type': 'p'}],\n"
    "    'cgroupsPath': '/myRuntime/myContainer',\n"
    "    'resources': {\n"
    "      'devices': [{'allow': false, 'access': 'rwm'},\n"
    "                  {'allow': true, 'type': 'c', 'major': 10, 'minor': 229, 'access': 'rw'}],\n"
    "      'memory': {'limit': 536870912, 'reservation': 536870912, 'swap': -1, 'kernel': -1,\n"
    "                 'kernelTCP': -1, 'swappiness': 0, 'disableOOMKiller': false, 'useHierarchy': true,\n"
    "                 'checkBeforeUpdate': true},\n"
    "      'cpu': {'shares': 18446744073709551615, 'quota': 1000000, 'burst': 1000000, 'period': 500000,\n"
    "              'realtimeRuntime': 950000, 'realtimePeriod': 1000000, 'cpus': '2-3', 'mems': '0-7', 'idle': 0},\n"
    "      'pids': {'limit': 32771},\n"
    "      'blockIO': {'weight': 10, 'leafWeight': 10,\n"
    "                  'weightDevice': [{'major': 8, 'minor': 0, 'weight': 500, 'leafWeight': 300},\n"
    "                                   {'major': 8, 'minor': 16, 'weight': 500}],\n"
    "                  'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': 600}],\n"
    "                  'throttleWriteBpsDevice': [],\n"
    "                  'throttleReadIOPSDevice': [{'major': 8, 'minor': 16, 'rate': 300}],\n"
    "                  'throttleWriteIOPSDevice': [{'major': 8, 'minor': 16, 'rate': 18446744073709551615}]},\n"
    "      'hugepageLimits': [{'pageSize': '2MB', 'limit': 209715200}, {'pageSize': '64KB', 'limit': 1000000}],\n"
    "      'network': {'classID': 1048577, 'priorities': [{'name': 'eth0', 'priority': 500},\n"
    "                                                      {'name': 'eth1', 'priority': 1000}]},\n"
    "      'rdma': {'mlx5_1': {'hcaHandles': 3, 'hcaObjects': 10000}, 'mlx4_0': {'hcaObjects': 1000}},\n"
    "      'unified': {'io.max': '8:0 rbps=1048576', 'memory.high': 'max'}\n"
    "    },\n"
    "    'rootfsPropagation': 'rslave',\n"
    "    'maskedPaths': ['/proc/kcore', '/proc/keys'],\n"
    "    'readonlyPaths': ['/proc/bus', '/proc/sys'],\n"
    "    'sysctl': {'net.ipv4.ip_forward': '1', 'net.core.somaxconn': '256'},\n"
    "    'seccomp': {\n"
    "      'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 1,\n"
    "      'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],\n"
    "      'flags': ['SECCOMP_FILTER_FLAG_LOG'],\n"
    "      'listenerPath': '/run/seccomp-agent.sock', 'listenerMetadata': 'meta',\n"
    "      'syscalls': [\n"
    "        {'names': ['read', 'write'], 'action': 'SCMP_ACT_ALLOW'},\n"
    "        {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW',\n"
    "         'args': [{'index': 0, 'value': 8, 'op': 'SCMP_CMP_EQ'},\n"
    "                  {'index': 5, 'value': 18446744073709551615, 'valueTwo': 4, 'op': 'SCMP_CMP_MASKED_EQ'}]},\n"
    "        {'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38},\n"
    "        {'names': ['ptrace'], 'action': 'SCMP_ACT_NOTIFY'}\n"
    "      ]\n"
    "    },\n"
    "    'mountLabel': 'system_u:object_r:container_file_t:s0',\n"
    "    'personality': {'domain': 'LINUX32', 'flags': []}\n"
    "  }\n"
    "}\n";

static void test_full_config(void **state)
{
    (void)state;
    struct oci_config *c = parse_ok(full_config);
    const struct oci_process *p = &c->process;
    const struct oci_linux *l = &c->linux_;
    const struct oci_resources *r = &l->resources;

    assert_string_equal(c->oci_version, "1.2.0");
    assert_true(c->has_root);
    assert_string_equal(c->root.path, "rootfs");
    assert_true(c->root.readonly);
    assert_string_equal(c->hostname, "husk");
    assert_string_equal(c->domainname, "example.org");

    /* process */
    assert_true(c->has_process);
    assert_true(p->terminal);
    assert_true(p->has_console_size);
    assert_int_equal(p->console_size.height, 25);
    assert_int_equal(p->console_size.width, 80);
    assert_int_equal(p->user.uid, 1000);
    assert_int_equal(p->user.gid, 1001);
    assert_true(p->user.has_umask);
    assert_int_equal(p->user.umask, 022);
    assert_int_equal(p->user.n_additional_gids, 2);
    assert_int_equal(p->user.additional_gids[0], 5);
    assert_int_equal(p->user.additional_gids[1], 4294967294u);
    assert_int_equal(p->n_args, 3);
    assert_string_equal(p->args[0], "sh");
    assert_string_equal(p->args[2], "echo hi");
    assert_null(p->args[3]);
    assert_int_equal(p->n_env, 3);
    assert_string_equal(p->env[1], "TERM=xterm");
    assert_string_equal(p->env[2], "EMPTY=");
    assert_null(p->env[3]);
    assert_string_equal(p->cwd, "/");

    assert_true(p->has_capabilities);
    assert_true(p->capabilities.has_bounding);
    assert_int_equal(p->capabilities.bounding[0], CAP_AUDIT_WRITE);
    assert_int_equal(p->capabilities.bounding[1], CAP_KILL);
    assert_int_equal(p->capabilities.bounding[2], CAP_NET_BIND_SERVICE);
    assert_int_equal(p->capabilities.bounding[3], -1);
    assert_true(p->capabilities.has_effective);
    assert_true(p->capabilities.has_permitted);
    assert_false(p->capabilities.has_inheritable);
    assert_null(p->capabilities.inheritable);
    assert_true(p->capabilities.has_ambient);
    assert_int_equal(p->capabilities.ambient[0], -1);

    assert_int_equal(p->n_rlimits, 3);
    assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
    assert_string_equal(p->rlimits[0].type, "RLIMIT_NOFILE");
    assert_int_equal(p->rlimits[0].soft, 1024);
    assert_int_equal(p->rlimits[0].hard, 1024);
    assert_int_equal(p->rlimits[1].resource, RLIMIT_CORE);
    assert_true(p->rlimits[1].soft == UINT64_MAX);
    assert_true(p->rlimits[1].hard == 18446744073709551615ull);
    assert_int_equal(p->rlimits[2].resource, RLIMIT_RTTIME);
    assert_true(p->rlimits[2].hard == 9223372036854775808ull);

    assert_true(p->no_new_privileges);
    assert_string_equal(p->apparmor_profile, "husk-default");
    assert_true(p->has_oom_score_adj);
    assert_int_equal(p->oom_score_adj, -1000);
    assert_string_equal(p->selinux_label, "system_u:system_r:container_t:s0");
    assert_true(p->has_scheduler);
    assert_string_equal(p->scheduler.policy, "SCHED_BATCH");
    assert_int_equal(p->scheduler.nice, -5);
    assert_string_equal(p->scheduler.flags[0], "SCHED_FLAG_RESET_ON_FORK");
    assert_null(p->scheduler.flags[1]);
    assert_int_equal(p->scheduler.runtime, 1);
    assert_int_equal(p->scheduler.deadline, 2);
    assert_int_equal(p->scheduler.period, 3);
    assert_true(p->has_io_priority);
    assert_int_equal(p->io_priority.class_, IOPRIO_CLASS_IDLE);
    assert_int_equal(p->io_priority.priority, 4);
    assert_string_equal(p->exec_cpu_affinity_initial, "7");
    assert_string_equal(p->exec_cpu_affinity_final, "0-3,7");

    /* mounts */
    assert_int_equal(c->n_mounts, 3);
    assert_string_equal(c->mounts[0].destination, "/proc");
    assert_string_equal(c->mounts[0].type, "proc");
    assert_string_equal(c->mounts[0].source, "proc");
    assert_null(c->mounts[0].options);
    assert_int_equal(c->mounts[1].n_options, 4);
    assert_string_equal(c->mounts[1].options[3], "size=65536k");
    assert_null(c->mounts[1].options[4]);
    assert_int_equal(c->mounts[2].n_uid_mappings, 1);
    assert_int_equal(c->mounts[2].uid_mappings[0].host_id, 100000);
    assert_int_equal(c->mounts[2].uid_mappings[0].size, 65536);
    assert_int_equal(c->mounts[2].n_gid_mappings, 1);
    assert_int_equal(c->mounts[2].gid_mappings[0].host_id, 200000);

    /* hooks */
    assert_true(c->has_hooks);
    assert_int_equal(c->hooks.prestart.n, 1);
    assert_string_equal(c->hooks.prestart.hooks[0].path, "/usr/bin/fix-mounts");
    assert_string_equal(c->hooks.prestart.hooks[0].args[1], "arg1");
    assert_string_equal(c->hooks.prestart.hooks[0].env[0], "key1=value1");
    assert_false(c->hooks.prestart.hooks[0].has_timeout);
    assert_int_equal(c->hooks.create_runtime.n, 1);
    assert_true(c->hooks.create_runtime.hooks[0].has_timeout);
    assert_int_equal(c->hooks.create_runtime.hooks[0].timeout, 5);
    assert_int_equal(c->hooks.create_container.n, 0);
    assert_int_equal(c->hooks.start_container.n, 1);
    assert_int_equal(c->hooks.poststart.n, 1);
    assert_int_equal(c->hooks.poststop.n, 1);
    assert_null(c->hooks.poststop.hooks[0].env);

    /* annotations keep their order */
    assert_int_equal(c->n_annotations, 2);
    assert_string_equal(c->annotations[0].key, "com.example.key1");
    assert_string_equal(c->annotations[0].value, "value1");
    assert_string_equal(c->annotations[1].key, "com.example.key2");

    /* linux */
    assert_true(c->has_linux);
    assert_int_equal(l->n_namespaces, 8);
    assert_int_equal(l->namespaces[0].type, OCI_NS_PID);
    assert_null(l->namespaces[0].path);
    assert_int_equal(l->namespaces[1].type, OCI_NS_NETWORK);
    assert_string_equal(l->namespaces[1].path, "/var/run/netns/x");
    assert_int_equal(l->namespaces[5].type, OCI_NS_CGROUP);
    assert_null(l->namespaces[5].path);
    assert_int_equal(l->namespaces[7].type, OCI_NS_TIME);
    assert_ptr_equal(config_find_ns(c, OCI_NS_NETWORK), &l->namespaces[1]);
    assert_ptr_equal(config_find_ns(c, OCI_NS_USER), &l->namespaces[6]);
    assert_int_equal(l->n_uid_mappings, 1);
    assert_int_equal(l->uid_mappings[0].container_id, 0);
    assert_int_equal(l->uid_mappings[0].host_id, 1000);
    assert_int_equal(l->uid_mappings[0].size, 32000);
    assert_int_equal(l->n_gid_mappings, 1);
    assert_int_equal(l->n_time_offsets, 2);
    assert_string_equal(l->time_offsets[0].clock, "monotonic");
    assert_int_equal(l->time_offsets[0].secs, 172800);
    assert_string_equal(l->time_offsets[1].clock, "boottime");
    assert_int_equal(l->time_offsets[1].secs, -5);
    assert_int_equal(l->time_offsets[1].nanosecs, 999999999);
    assert_int_equal(l->n_devices, 3);
    assert_int_equal(l->devices[0].type, 'c');
    assert_string_equal(l->devices[0].path, "/dev/fuse");
    assert_int_equal(l->devices[0].major, 10);
    assert_int_equal(l->devices[0].minor, 229);
    assert_true(l->devices[0].has_file_mode);
    assert_int_equal(l->devices[0].file_mode, 0666);
    assert_true(l->devices[0].has_uid);
    assert_false(l->devices[1].has_file_mode);
    assert_int_equal(l->devices[2].type, 'p');
    assert_string_equal(l->cgroups_path, "/myRuntime/myContainer");

    assert_true(l->has_resources);
    assert_int_equal(r->n_devices, 2);
    assert_false(r->devices[0].allow);
    assert_int_equal(r->devices[0].type, 'a');
    assert_false(r->devices[0].has_major);
    assert_string_equal(r->devices[0].access, "rwm");
    assert_true(r->devices[1].allow);
    assert_int_equal(r->devices[1].type, 'c');
    assert_true(r->devices[1].has_major);
    assert_int_equal(r->devices[1].minor, 229);
    assert_true(r->has_memory);
    assert_true(r->memory.has_limit);
    assert_int_equal(r->memory.limit, 536870912);
    assert_int_equal(r->memory.swap, -1);
    assert_true(r->memory.has_swappiness);
    assert_int_equal(r->memory.swappiness, 0);
    assert_true(r->memory.has_disable_oom_killer);
    assert_false(r->memory.disable_oom_killer);
    assert_true(r->memory.use_hierarchy);
    assert_true(r->memory.check_before_update);
    assert_true(r->has_cpu);
    assert_true(r->cpu.shares == UINT64_MAX);
    assert_int_equal(r->cpu.quota, 1000000);
    assert_int_equal(r->cpu.period, 500000);
    assert_int_equal(r->cpu.realtime_runtime, 950000);
    assert_string_equal(r->cpu.cpus, "2-3");
    assert_string_equal(r->cpu.mems, "0-7");
    assert_true(r->cpu.has_idle);
    assert_true(r->has_pids);
    assert_int_equal(r->pids.limit, 32771);
    assert_true(r->has_block_io);
    assert_int_equal(r->block_io.weight, 10);
    assert_int_equal(r->block_io.n_weight_device, 2);
    assert_int_equal(r->block_io.weight_device[0].leaf_weight, 300);
    assert_false(r->block_io.weight_device[1].has_leaf_weight);
    assert_int_equal(r->block_io.n_throttle_read_bps, 1);
    assert_int_equal(r->block_io.throttle_read_bps[0].rate, 600);
    assert_int_equal(r->block_io.n_throttle_write_bps, 0);
    assert_int_equal(r->block_io.n_throttle_read_iops, 1);
    assert_int_equal(r->block_io.throttle_read_iops[0].minor, 16);
    assert_true(r->block_io.throttle_write_iops[0].rate == UINT64_MAX);
    assert_int_equal(r->n_hugepage_limits, 2);
    assert_string_equal(r->hugepage_limits[1].page_size, "64KB");
    assert_int_equal(r->hugepage_limits[0].limit, 209715200);
    assert_true(r->has_network);
    assert_int_equal(r->network.class_id, 1048577);
    assert_int_equal(r->network.n_priorities, 2);
    assert_string_equal(r->network.priorities[1].name, "eth1");
    assert_int_equal(r->network.priorities[1].priority, 1000);
    assert_int_equal(r->n_rdma, 2);
    assert_string_equal(r->rdma[0].device, "mlx5_1");
    assert_int_equal(r->rdma[0].hca_handles, 3);
    assert_false(r->rdma[1].has_hca_handles);
    assert_int_equal(r->rdma[1].hca_objects, 1000);
    assert_int_equal(r->n_unified, 2);
    assert_string_equal(r->unified[0].key, "io.max");
    assert_string_equal(r->unified[0].value, "8:0 rbps=1048576");

    assert_string_equal(l->rootfs_propagation, "rslave");
    assert_int_equal(l->n_masked_paths, 2);
    assert_string_equal(l->masked_paths[1], "/proc/keys");
    assert_null(l->masked_paths[2]);
    assert_int_equal(l->n_readonly_paths, 2);
    assert_int_equal(l->n_sysctl, 2);
    assert_string_equal(l->sysctl[0].key, "net.ipv4.ip_forward");
    assert_string_equal(l->sysctl[1].value, "256");

    assert_true(l->has_seccomp);
    assert_string_equal(l->seccomp.default_action, "SCMP_ACT_ERRNO");
    assert_true(l->seccomp.has_default_errno_ret);
    assert_int_equal(l->seccomp.default_errno_ret, 1);
    assert_string_equal(l->seccomp.architectures[2], "SCMP_ARCH_X32");
    assert_null(l->seccomp.architectures[3]);
    assert_string_equal(l->seccomp.flags[0], "SECCOMP_FILTER_FLAG_LOG");
    assert_string_equal(l->seccomp.listener_path, "/run/seccomp-agent.sock");
    assert_string_equal(l->seccomp.listener_metadata, "meta");
    assert_int_equal(l->seccomp.n_syscalls, 4);
    assert_int_equal(l->seccomp.syscalls[0].n_names, 2);
    assert_string_equal(l->seccomp.syscalls[0].names[1], "write");
    assert_string_equal(l->seccomp.syscalls[0].action, "SCMP_ACT_ALLOW");
    assert_int_equal(l->seccomp.syscalls[1].n_args, 2);
    assert_int_equal(l->seccomp.syscalls[1].args[0].op, SCMP_CMP_EQ);
    assert_int_equal(l->seccomp.syscalls[1].args[0].value, 8);
    assert_int_equal(l->seccomp.syscalls[1].args[1].index, 5);
    assert_true(l->seccomp.syscalls[1].args[1].value == UINT64_MAX);
    assert_int_equal(l->seccomp.syscalls[1].args[1].value_two, 4);
    assert_int_equal(l->seccomp.syscalls[1].args[1].op, SCMP_CMP_MASKED_EQ);
    assert_string_equal(l->seccomp.syscalls[1].args[1].op_name, "SCMP_CMP_MASKED_EQ");
    assert_true(l->seccomp.syscalls[2].has_errno_ret);
    assert_int_equal(l->seccomp.syscalls[2].errno_ret, 38);
    assert_false(l->seccomp.syscalls[3].has_errno_ret);
    assert_string_equal(l->mount_label, "system_u:object_r:container_file_t:s0");
    assert_string_equal(l->personality_domain, "LINUX32");
    assert_non_null(l->personality_flags);
    assert_null(l->personality_flags[0]);

    config_free(c);
}

static void test_minimal_config(void **state)
{
    (void)state;
    struct oci_config *c = parse_ok("{'ociVersion': '1.0.0'}");

    assert_string_equal(c->oci_version, "1.0.0");
    assert_false(c->has_root);
    assert_false(c->has_process);
    assert_false(c->has_linux);
    assert_false(c->has_hooks);
    assert_null(c->hostname);
    assert_int_equal(c->n_mounts, 0);
    assert_null(config_find_ns(c, OCI_NS_PID));
    config_free(c);

    /* null counts as absent; the defaults apply */
    c = parse_ok("{'ociVersion': '1.0.0', 'hostname': null, 'process': {'args': ['x'], 'cwd': '/',"
                 " 'user': {'uid': 5}, 'oomScoreAdj': null}, 'linux': {'resources': {'pids': {}}}}");
    assert_null(c->hostname);
    assert_int_equal(c->process.user.uid, 5);
    assert_int_equal(c->process.user.gid, 0);
    assert_false(c->process.user.has_umask);
    assert_false(c->process.has_oom_score_adj);
    assert_false(c->process.has_capabilities);
    assert_true(c->linux_.has_resources);
    assert_false(c->linux_.resources.has_pids);
    assert_null(c->linux_.masked_paths);
    assert_null(c->linux_.rootfs_propagation);
    config_free(c);

    /* Non-ASCII UTF-8 is fine; a trailing newline and whitespace too. */
    c = parse_ok("{'ociVersion': '1.1.0', 'hostname': 'h\xc3\xa9llo\xf0\x9f\x90\xb3'} \r\n\t");
    assert_string_equal(c->hostname, "h\xc3\xa9llo\xf0\x9f\x90\xb3");
    config_free(c);
}

/* ---- malformed documents -------------------------------------------------------- */

#define DOC(x) "{'ociVersion': '1.0.2', " x "}"
/* json-c keeps the last of duplicate keys, so fields given in x override the base. */
#define PROC(x) DOC("'process': {'cwd': '/', 'args': ['sh'], " x "}")
#define LNX(x) DOC("'linux': {" x "}")
#define RES(x) LNX("'resources': {" x "}")
#define SECCOMP(x) LNX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', " x "}")
#define RL(x) "{'type': 'RLIMIT_NOFILE', 'soft': 1, 'hard': 2" x "}"

struct bad_case {
    const char *json;
    const char *error;
    bool raw;           /* do not swap ' for " */
};

static const struct bad_case bad_cases[] = {
    /* ---- syntax ---- */
    { "", "config.json: invalid JSON: unexpected end of data at line 1", false },
    { "{", "config.json: invalid JSON: unexpected end of data at line 1", false },
    { "{'ociVersion': '1.0.0',\n'hostname': 'x',\n}",
      "config.json: invalid JSON: unexpected character at line 3", false },
    { "{'ociVersion': '1.0.0'}\n garbage", "config.json: invalid JSON: unexpected character at line 2",
      false },
    { "{'ociVersion': '1.0.0'}{}", "config.json: invalid JSON: unexpected character at line 1", false },
    { "{'ociVersion': 'x\n',\n 'a': 1}", "config.json: invalid JSON: control character in string at line 1", false },
    { "{\n\n'ociVersion' '1.0.0'}", "config.json: invalid JSON: object property name separator ':' expected at line 3",
      false },
    { "{\"ociVersion\": \"1.0.0\", 'hostname': \"x\"}",
      "config.json: invalid JSON: unexpected character at line 1", true },
    { "{'ociVersion': '1.0.0', /* c */ 'hostname': 'x'}",
      "config.json: invalid JSON: quoted object property name expected at line 1", false },
    { DOC("'x': 18446744073709551616"),
      "config.json: x: integer 18446744073709551616 out of range", false },
    { DOC("'x': [1,\n -9223372036854775809]"),
      "config.json: x[1]: integer -9223372036854775809 out of range", false },
    { DOC("'x': [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
      "config.json: invalid JSON: nesting too deep at line 1", false },
    { "[]", "config.json: expected an object", false },
    { "null", "config.json: expected an object", false },
    { "'str'", "config.json: expected an object", false },
    /* ---- strings ---- */
    { DOC("'hostname': 'bad\xff'"), "config.json: hostname: invalid UTF-8 in string", false },
    { DOC("'hostname': '\xc0\xaf'"), "config.json: hostname: invalid UTF-8 in string", false },
    { DOC("'hostname': '\xed\xa0\x80'"), "config.json: hostname: invalid UTF-8 in string", false },
    { DOC("'hostname': 'a\\u0000b'"), "config.json: hostname: string contains a NUL character", false },
    { PROC("'args': ['sh', 'x\xe2\x82']"), "config.json: process.args[1]: invalid UTF-8 in string",
      false },
    /* ---- ociVersion ---- */
    { "{}", "config.json: ociVersion: missing required field", false },
    { "{'ociVersion': 1}", "config.json: ociVersion: expected a string", false },
    { "{'ociVersion': '2.0.0'}", "config.json: ociVersion: unsupported version \"2.0.0\" (husk supports 1.x)",
      false },
    { "{'ociVersion': '10.0'}", "config.json: ociVersion: unsupported version \"10.0\" (husk supports 1.x)",
      false },
    { "{'ociVersion': ''}", "config.json: ociVersion: unsupported version \"\" (husk supports 1.x)", false },
    /* ---- root ---- */
    { DOC("'root': 'rootfs'"), "config.json: root: expected an object", false },
    { DOC("'root': {'readonly': true}"), "config.json: root.path: missing required field", false },
    { DOC("'root': {'path': 1}"), "config.json: root.path: expected a string", false },
    { DOC("'root': {'path': ''}"), "config.json: root.path: must not be empty", false },
    { DOC("'root': {'path': 'r', 'readonly': 'yes'}"), "config.json: root.readonly: expected a boolean",
      false },
    /* ---- process ---- */
    { DOC("'process': []"), "config.json: process: expected an object", false },
    { DOC("'process': {'cwd': '/'}"), "config.json: process.args: missing required field", false },
    { PROC("'args': []"), "config.json: process.args: must have at least one element", false },
    { PROC("'args': 'sh'"), "config.json: process.args: expected an array", false },
    { PROC("'args': [1]"), "config.json: process.args[0]: expected a string", false },
    { PROC("'args': ['a', null]"), "config.json: process.args[1]: expected a string", false },
    { DOC("'process': {'args': ['sh']}"), "config.json: process.cwd: missing required field", false },
    { PROC("'cwd': 'tmp'"), "config.json: process.cwd: must be an absolute path (got \"tmp\")", false },
    { PROC("'env': ['A=1', 'FOO']"), "config.json: process.env[1]: expected KEY=VALUE (got \"FOO\")",
      false },
    { PROC("'env': ['=x']"), "config.json: process.env[0]: expected KEY=VALUE (got \"=x\")", false },
    { PROC("'env': ['A=1', 2]"), "config.json: process.env[1]: expected a string", false },
    { PROC("'terminal': 'true'"), "config.json: process.terminal: expected a boolean", false },
    { PROC("'consoleSize': {'height': 10}"),
      "config.json: process.consoleSize.width: missing required field", false },
    { PROC("'consoleSize': {'height': -10, 'width': 1}"),
      "config.json: process.consoleSize.height: expected a non-negative integer", false },
    { PROC("'user': 0"), "config.json: process.user: expected an object", false },
    { PROC("'user': {'uid': -1, 'gid': 0}"), "config.json: process.user.uid: expected a non-negative integer",
      false },
    { PROC("'user': {'uid': 4294967296, 'gid': 0}"),
      "config.json: process.user.uid: 4294967296 out of range [0, 4294967294]", false },
    { PROC("'user': {'uid': 0, 'gid': 4294967295}"),
      "config.json: process.user.gid: 4294967295 out of range [0, 4294967294]", false },
    { PROC("'user': {'uid': 0, 'gid': 1.5}"),
      "config.json: process.user.gid: expected a non-negative integer", false },
    { PROC("'user': {'uid': '0'}"), "config.json: process.user.uid: expected a non-negative integer", false },
    { PROC("'user': {'umask': 512}"), "config.json: process.user.umask: 512 out of range [0, 511]", false },
    { PROC("'user': {'additionalGids': [1, '2']}"),
      "config.json: process.user.additionalGids[1]: expected a non-negative integer", false },
    { PROC("'user': {'additionalGids': 5}"), "config.json: process.user.additionalGids: expected an array",
      false },
    { PROC("'user': {'username': false}"), "config.json: process.user.username: expected a string", false },
    { PROC("'capabilities': []"), "config.json: process.capabilities: expected an object", false },
    { PROC("'capabilities': {'ambient': 'CAP_CHOWN'}"),
      "config.json: process.capabilities.ambient: expected an array", false },
    { PROC("'capabilities': {'ambient': [7]}"),
      "config.json: process.capabilities.ambient[0]: expected a string", false },
    { PROC("'rlimits': {}"), "config.json: process.rlimits: expected an array", false },
    { PROC("'rlimits': ['RLIMIT_NOFILE']"), "config.json: process.rlimits[0]: expected an object", false },
    { PROC("'rlimits': [" RL("") ", " RL(", 'type': 'RLIMIT_FOO'") "]"),
      "config.json: process.rlimits[1].type: unknown rlimit \"RLIMIT_FOO\"", false },
    { PROC("'rlimits': [{'soft': 1, 'hard': 1}]"),
      "config.json: process.rlimits[0].type: missing required field", false },
    { PROC("'rlimits': [{'type': 'RLIMIT_CPU', 'hard': 1}]"),
      "config.json: process.rlimits[0].soft: missing required field", false },
    { PROC("'rlimits': [" RL(", 'hard': -1") "]"),
      "config.json: process.rlimits[0].hard: expected a non-negative integer", false },
    { PROC("'rlimits': [" RL(", 'soft': 10, 'hard': 5") "]"),
      "config.json: process.rlimits[0]: soft limit 10 exceeds hard limit 5", false },
    { PROC("'rlimits': [" RL("") ", " RL(", 'type': 'RLIMIT_CPU'") ", " RL("") "]"),
      "config.json: process.rlimits[2]: duplicate rlimit \"RLIMIT_NOFILE\"", false },
    { PROC("'oomScoreAdj': 1001"), "config.json: process.oomScoreAdj: 1001 out of range [-1000, 1000]",
      false },
    { PROC("'oomScoreAdj': -1001"), "config.json: process.oomScoreAdj: -1001 out of range [-1000, 1000]",
      false },
    { PROC("'oomScoreAdj': 9223372036854775808"),
      "config.json: process.oomScoreAdj: 9223372036854775808 out of range [-1000, 1000]", false },
    { PROC("'noNewPrivileges': 1"), "config.json: process.noNewPrivileges: expected a boolean", false },
    { PROC("'apparmorProfile': {}"), "config.json: process.apparmorProfile: expected a string", false },
    { PROC("'scheduler': {'nice': 1}"), "config.json: process.scheduler.policy: missing required field",
      false },
    { PROC("'scheduler': {'policy': 'SCHED_FOO'}"),
      "config.json: process.scheduler.policy: unknown scheduler policy \"SCHED_FOO\"", false },
    { PROC("'scheduler': {'policy': 'SCHED_RR', 'flags': ['SCHED_FLAG_RECLAIM', 'SCHED_FLAG_X']}"),
      "config.json: process.scheduler.flags[1]: unknown scheduler flag \"SCHED_FLAG_X\"", false },
    { PROC("'scheduler': {'policy': 'SCHED_RR', 'nice': 2147483648}"),
      "config.json: process.scheduler.nice: 2147483648 out of range [-20, 19]", false },
    { PROC("'ioPriority': {'class': 'IOPRIO_CLASS_NONE'}"),
      "config.json: process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_NONE\"", false },
    { PROC("'ioPriority': {'priority': 1}"), "config.json: process.ioPriority.class: missing required field",
      false },
    { PROC("'ioPriority': {'class': 'IOPRIO_CLASS_BE', 'priority': 8}"),
      "config.json: process.ioPriority.priority: 8 out of range [0, 7]", false },
    { PROC("'execCPUAffinity': {'initial': 'all'}"),
      "config.json: process.execCPUAffinity.initial: invalid CPU list \"all\"", false },
    { PROC("'execCPUAffinity': {'final': 3}"),
      "config.json: process.execCPUAffinity.final: expected a string", false },
    /* ---- hostname, mounts ---- */
    { DOC("'hostname': 5"), "config.json: hostname: expected a string", false },
    { DOC("'domainname': []"), "config.json: domainname: expected a string", false },
    { DOC("'mounts': {}"), "config.json: mounts: expected an array", false },
    { DOC("'mounts': ['/proc']"), "config.json: mounts[0]: expected an object", false },
    { DOC("'mounts': [{'destination': '/a'}, {'type': 'tmpfs'}]"),
      "config.json: mounts[1].destination: missing required field", false },
    { DOC("'mounts': [{'destination': 'tmp'}]"),
      "config.json: mounts[0].destination: must be an absolute path (got \"tmp\")", false },
    { DOC("'mounts': [{'destination': '/a', 'type': 1}]"), "config.json: mounts[0].type: expected a string",
      false },
    { DOC("'mounts': [{'destination': '/a', 'source': null, 'options': [1]}]"),
      "config.json: mounts[0].options[0]: expected a string", false },
    { DOC("'mounts': [{'destination': '/a', 'uidMappings': [{'containerID': 0, 'hostID': 0, 'size': 0}]}]"),
      "config.json: mounts[0].uidMappings[0].size: 0 out of range [1, 4294967295]", false },
    { DOC("'mounts': [{'destination': '/a', 'gidMappings': [{'containerID': 0, 'size': 1}]}]"),
      "config.json: mounts[0].gidMappings[0].hostID: missing required field", false },
    /* ---- hooks ---- */
    { DOC("'hooks': []"), "config.json: hooks: expected an object", false },
    { DOC("'hooks': {'prestart': [{'path': 'bin/hook'}]}"),
      "config.json: hooks.prestart[0].path: must be an absolute path (got \"bin/hook\")", false },
    { DOC("'hooks': {'poststop': [{'path': '/a'}, {'args': []}]}"),
      "config.json: hooks.poststop[1].path: missing required field", false },
    { DOC("'hooks': {'createRuntime': [{'path': '/a', 'timeout': 0}]}"),
      "config.json: hooks.createRuntime[0].timeout: 0 out of range [1, 2147483647]", false },
    { DOC("'hooks': {'createContainer': [{'path': '/a', 'timeout': -5}]}"),
      "config.json: hooks.createContainer[0].timeout: -5 out of range [1, 2147483647]", false },
    { DOC("'hooks': {'startContainer': 'x'}"), "config.json: hooks.startContainer: expected an array", false },
    { DOC("'hooks': {'poststart': [{'path': '/a', 'args': 'x'}]}"),
      "config.json: hooks.poststart[0].args: expected an array", false },
    { DOC("'hooks': {'poststart': [{'path': '/a', 'env': [true]}]}"),
      "config.json: hooks.poststart[0].env[0]: expected a string", false },
    /* ---- annotations ---- */
    { DOC("'annotations': 'x'"), "config.json: annotations: expected an object", false },
    { DOC("'annotations': {'a': 1}"), "config.json: annotations.a: expected a string", false },
    { DOC("'annotations': {'com.example': null}"),
      "config.json: annotations[\"com.example\"]: expected a string", false },
    { DOC("'annotations': {'k\xff': 'v'}"), "config.json: annotations[\"k\\xff\"]: invalid UTF-8 in key", false },
    /* ---- linux ---- */
    { DOC("'linux': []"), "config.json: linux: expected an object", false },
    { LNX("'namespaces': {}"), "config.json: linux.namespaces: expected an array", false },
    { LNX("'namespaces': [null]"), "config.json: linux.namespaces[0]: expected an object", false },
    { LNX("'namespaces': [{'type': 'pid'}, {'type': 'mount'}, {'type': 'foo'}]"),
      "config.json: linux.namespaces[2].type: unknown namespace \"foo\"", false },
    { LNX("'namespaces': [{'type': 'pid'}, {'type': 'mount'}, {'type': 'ipc'}, {'type': 'pid', 'path': '/proc/1/ns/pid'}]"),
      "config.json: linux.namespaces[3]: duplicate namespace \"pid\"", false },
    { LNX("'namespaces': [{'path': '/proc/1/ns/net'}]"),
      "config.json: linux.namespaces[0].type: missing required field", false },
    { LNX("'namespaces': [{'type': 'network', 'path': 'proc/1/ns/net'}]"),
      "config.json: linux.namespaces[0].path: must be an absolute path (got \"proc/1/ns/net\")", false },
    { LNX("'uidMappings': [{'hostID': 1, 'size': 1}]"),
      "config.json: linux.uidMappings[0].containerID: missing required field", false },
    { LNX("'uidMappings': [{'containerID': 0, 'hostID': 4294967296, 'size': 1}]"),
      "config.json: linux.uidMappings[0].hostID: 4294967296 out of range [0, 4294967295]", false },
    { LNX("'uidMappings': [{'containerID': 4294967295, 'hostID': 0, 'size': 2}]"),
      "config.json: linux.uidMappings[0].containerID: 4294967295 + size 2 exceeds 4294967295", false },
    { LNX("'gidMappings': [{'containerID': 0, 'hostID': 0, 'size': 1}, {'containerID': 0, 'hostID': 0, 'size': 0}]"),
      "config.json: linux.gidMappings[1].size: 0 out of range [1, 4294967295]", false },
    { LNX("'timeOffsets': {'realtime': {'secs': 1}}"),
      "config.json: linux.timeOffsets.realtime: unknown clock \"realtime\"", false },
    { LNX("'timeOffsets': {'monotonic': {'nanosecs': 1000000000}}"),
      "config.json: linux.timeOffsets.monotonic.nanosecs: 1000000000 out of range [0, 999999999]", false },
    { LNX("'timeOffsets': {'boottime': {'secs': '1'}}"),
      "config.json: linux.timeOffsets.boottime.secs: expected an integer", false },
    { LNX("'devices': [{'type': 'x', 'path': '/dev/x'}]"),
      "config.json: linux.devices[0].type: unknown device type \"x\"", false },
    { LNX("'devices': [{'type': 'c', 'path': '/dev/x', 'minor': 1}]"),
      "config.json: linux.devices[0].major: missing required field", false },
    { LNX("'devices': [{'type': 'b', 'path': 'dev/x', 'major': 1, 'minor': 1}]"),
      "config.json: linux.devices[0].path: must be an absolute path (got \"dev/x\")", false },
    { LNX("'devices': [{'type': 'u', 'path': '/dev/x', 'major': 1, 'minor': 1, 'fileMode': 512}]"),
      "config.json: linux.devices[0].fileMode: 512 out of range [0, 511]", false },
    { LNX("'devices': [{'type': 'p', 'path': '/dev/x', 'uid': -1}]"),
      "config.json: linux.devices[0].uid: expected a non-negative integer", false },
    { LNX("'cgroupsPath': 1"), "config.json: linux.cgroupsPath: expected a string", false },
    { LNX("'resources': []"), "config.json: linux.resources: expected an object", false },
    { RES("'devices': [{'access': 'rwm'}]"),
      "config.json: linux.resources.devices[0].allow: missing required field", false },
    { RES("'devices': [{'allow': true, 'access': 'rwx'}]"),
      "config.json: linux.resources.devices[0].access: invalid access \"rwx\" (a combination of r, w, m)",
      false },
    { RES("'devices': [{'allow': true, 'type': 'z'}]"),
      "config.json: linux.resources.devices[0].type: unknown device type \"z\"", false },
    { RES("'memory': {'limit': '1g'}"), "config.json: linux.resources.memory.limit: expected an integer",
      false },
    { RES("'memory': {'limit': 1.5}"), "config.json: linux.resources.memory.limit: expected an integer",
      false },
    { RES("'memory': {'swap': -2}"),
      "config.json: linux.resources.memory.swap: -2 out of range [-1, 9223372036854775807]", false },
    { RES("'memory': {'kernel': 9223372036854775808}"),
      "config.json: linux.resources.memory.kernel: 9223372036854775808 out of range [-1, 9223372036854775807]",
      false },
    { RES("'memory': {'swappiness': 101}"),
      "config.json: linux.resources.memory.swappiness: 101 out of range [0, 100]", false },
    { RES("'memory': {'disableOOMKiller': 'no'}"),
      "config.json: linux.resources.memory.disableOOMKiller: expected a boolean", false },
    { RES("'cpu': {'shares': -1}"), "config.json: linux.resources.cpu.shares: expected a non-negative integer",
      false },
    { RES("'cpu': {'quota': true}"), "config.json: linux.resources.cpu.quota: expected an integer", false },
    { RES("'cpu': {'cpus': 1}"), "config.json: linux.resources.cpu.cpus: expected a string", false },
    { RES("'pids': {'limit': '10'}"), "config.json: linux.resources.pids.limit: expected an integer", false },
    { RES("'pids': 10"), "config.json: linux.resources.pids: expected an object", false },
    { RES("'blockIO': {'weight': 65536}"),
      "config.json: linux.resources.blockIO.weight: 65536 out of range [0, 1000]", false },
    { RES("'blockIO': {'weightDevice': [{'major': 8, 'minor': 0}]}"),
      "config.json: linux.resources.blockIO.weightDevice[0]: must specify weight or leafWeight", false },
    { RES("'blockIO': {'throttleReadBpsDevice': [{'major': 8, 'minor': 0}]}"),
      "config.json: linux.resources.blockIO.throttleReadBpsDevice[0].rate: missing required field", false },
    { RES("'blockIO': {'throttleWriteIOPSDevice': [{'minor': 0, 'rate': 1}]}"),
      "config.json: linux.resources.blockIO.throttleWriteIOPSDevice[0].major: missing required field",
      false },
    { RES("'blockIO': {'throttleWriteBpsDevice': [{'major': 8, 'minor': 0, 'rate': -1}]}"),
      "config.json: linux.resources.blockIO.throttleWriteBpsDevice[0].rate: expected a non-negative integer",
      false },
    { RES("'hugepageLimits': [{'pageSize': '2XB', 'limit': 1}]"),
      "config.json: linux.resources.hugepageLimits[0].pageSize: invalid page size \"2XB\"", false },
    { RES("'hugepageLimits': [{'pageSize': '../2MB', 'limit': 1}]"),
      "config.json: linux.resources.hugepageLimits[0].pageSize: invalid page size \"../2MB\"", false },
    { RES("'hugepageLimits': [{'pageSize': '2MB'}]"),
      "config.json: linux.resources.hugepageLimits[0].limit: missing required field", false },
    { RES("'network': {'classID': -1}"),
      "config.json: linux.resources.network.classID: expected a non-negative integer", false },
    { RES("'network': {'priorities': [{'priority': 1}]}"),
      "config.json: linux.resources.network.priorities[0].name: missing required field", false },
    { RES("'rdma': {'mlx5_1': {}}"),
      "config.json: linux.resources.rdma.mlx5_1: must specify hcaHandles or hcaObjects", false },
    { RES("'rdma': {'mlx5_1': {'hcaHandles': 4294967296}}"),
      "config.json: linux.resources.rdma.mlx5_1.hcaHandles: 4294967296 out of range [0, 4294967295]", false },
    { RES("'unified': {'memory.max': 1}"),
      "config.json: linux.resources.unified[\"memory.max\"]: expected a string", false },
    { RES("'unified': ['memory.max']"), "config.json: linux.resources.unified: expected an object", false },
    { LNX("'rootfsPropagation': 'bogus'"), "config.json: linux.rootfsPropagation: unknown propagation \"bogus\"",
      false },
    { LNX("'maskedPaths': ['/proc/kcore', 'proc/keys']"),
      "config.json: linux.maskedPaths[1]: must be an absolute path (got \"proc/keys\")", false },
    { LNX("'readonlyPaths': '/proc'"), "config.json: linux.readonlyPaths: expected an array", false },
    { LNX("'sysctl': {'net.ipv4.ip_forward': '1', 'kernel.hostname': 'x'}"),
      "config.json: linux.sysctl[\"kernel.hostname\"]: not allowed: the hostname is set by the \"hostname\" field",
      false },
    { LNX("'sysctl': {'kernel/hostname': 'x'}"),
      "config.json: linux.sysctl[\"kernel/hostname\"]: not allowed: the hostname is set by the \"hostname\" field",
      false },
    { LNX("'sysctl': {'net.ipv4.ip_forward': 1}"),
      "config.json: linux.sysctl[\"net.ipv4.ip_forward\"]: expected a string", false },
    { LNX("'seccomp': {}"), "config.json: linux.seccomp.defaultAction: missing required field", false },
    { LNX("'seccomp': {'defaultAction': 'SCMP_ACT_FOO'}"),
      "config.json: linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_FOO\"", false },
    { SECCOMP("'architectures': ['SCMP_ARCH_X86_64', 'x86_64']"),
      "config.json: linux.seccomp.architectures[1]: unknown architecture \"x86_64\"", false },
    { SECCOMP("'flags': ['SECCOMP_FILTER_FLAG_FOO']"),
      "config.json: linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_FOO\"", false },
    { SECCOMP("'defaultErrnoRet': 1"),
      "config.json: linux.seccomp.defaultErrnoRet: not supported with action \"SCMP_ACT_ALLOW\"", false },
    { SECCOMP("'listenerMetadata': 'x'"),
      "config.json: linux.seccomp.listenerMetadata: not allowed without listenerPath", false },
    { SECCOMP("'syscalls': [{'names': [], 'action': 'SCMP_ACT_ALLOW'}]"),
      "config.json: linux.seccomp.syscalls[0].names: must have at least one element", false },
    { SECCOMP("'syscalls': [{'names': ['read', ''], 'action': 'SCMP_ACT_ALLOW'}]"),
      "config.json: linux.seccomp.syscalls[0].names[1]: must not be empty", false },
    { SECCOMP("'syscalls': [{'action': 'SCMP_ACT_ALLOW'}]"),
      "config.json: linux.seccomp.syscalls[0].names: missing required field", false },
    { SECCOMP("'syscalls': [{'names': ['read']}]"),
      "config.json: linux.seccomp.syscalls[0].action: missing required field", false },
    { SECCOMP("'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_KILL', 'errnoRet': 1}]"),
      "config.json: linux.seccomp.syscalls[0].errnoRet: not supported with action \"SCMP_ACT_KILL\"", false },
    { SECCOMP("'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 6, 'value': 0, 'op': 'SCMP_CMP_EQ'}]}]"),
      "config.json: linux.seccomp.syscalls[0].args[0].index: 6 out of range [0, 5]", false },
    { SECCOMP("'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': 0, 'op': 'SCMP_CMP_FOO'}]}]"),
      "config.json: linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\"", false },
    { SECCOMP("'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'op': 'SCMP_CMP_EQ'}]}]"),
      "config.json: linux.seccomp.syscalls[0].args[0].value: missing required field", false },
    { LNX("'personality': {'domain': 'LINUX64'}"),
      "config.json: linux.personality.domain: unknown personality domain \"LINUX64\"", false },
    { LNX("'intelRdt': {'closID': 'x'}"),
      "config.json: linux.intelRdt: Intel RDT (resctrl) is not supported by husk", false },
    { LNX("'netDevices': {}"),
      "config.json: linux.netDevices: moving network devices into the container is not supported by husk", false },
    { LNX("'personality': {'flags': []}"), "config.json: linux.personality.domain: missing required field",
      false },
    { LNX("'mountLabel': 1"), "config.json: linux.mountLabel: expected a string", false },
    /* user text in messages is escaped */
    { LNX("'namespaces': [{'type': 'p\\u001b[2Jid'}]"),
      "config.json: linux.namespaces[0].type: unknown namespace \"p\\x1b[2Jid\"", false },
};

static void test_bad_configs(void **state)
{
    (void)state;
    size_t failures = 0;

    for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
        const struct bad_case *t = &bad_cases[i];
        _cleanup_free_ char *doc = t->raw ? xstrdup(t->json) : q(t->json);
        struct oci_config *cfg = (struct oci_config *)0x1;   /* must stay untouched */
        husk_err *err = NULL;
        int r = config_parse(doc, strlen(doc), "config.json", &cfg, &err);

        if (r != -1 || err == NULL || cfg != (struct oci_config *)0x1 ||
            strcmp(err->msg, t->error) != 0) {
            print_error("case %zu: %s\n  expected: %s\n  got:      %s (r=%d)\n", i, doc, t->error,
                        err ? err->msg : "(no error)", r);
            failures++;
            if (r == 0 && cfg != (struct oci_config *)0x1)
                config_free(cfg);
        }
        husk_err_free(&err);
    }
    assert_int_equal(failures, 0);
}

/* A document truncated at every byte must fail cleanly (and never crash or leak). */
static void test_truncations(void **state)
{
    (void)state;
    _cleanup_free_ char *doc = q(full_config);
    size_t len = strlen(doc);

    /* the trailing "}\n" makes every proper prefix invalid */
    for (size_t n = 0; n < len - 2; n++) {
        struct oci_config *cfg = NULL;
        husk_err *err = NULL;
        assert_int_equal(config_parse(doc, n, "config.json", &cfg, &err), -1);
        assert_null(cfg);
        assert_non_null(err);
        assert_true(strncmp(err->msg, "config.json: invalid JSON: ", 27) == 0);
        husk_err_free(&err);
    }
}

/* The text need not be NUL-terminated; an embedded NUL is trailing data. */
static void test_length_bounds(void **state)
{
    (void)state;
    static const char text[] = "{\"ociVersion\": \"1.0.0\"}XXXX";
    static const char nul[] = "{\"ociVersion\": \"1.0.0\"}\0{}";
    struct oci_config *cfg = NULL;
    husk_err *err = NULL;

    assert_int_equal(config_parse(text, 23, "config.json", &cfg, &err), 0);
    config_free(cfg);
    cfg = NULL;
    assert_int_equal(config_parse(nul, sizeof nul - 1, "config.json", &cfg, &err), -1);
    assert_string_equal(err->msg, "config.json: invalid JSON: unexpected data after the document at line 1");
    husk_err_free(&err);
    /* a different name prefixes the errors */
    assert_int_equal(config_parse("{}", 2, "/b/config.json", &cfg, &err), -1);
    assert_string_equal(err->msg, "/b/config.json: ociVersion: missing required field");
    husk_err_free(&err);
}

/* Unknown capability names (a config for a newer kernel, or a misspelling) are left
 * out of their set and recorded once each, for one warning; the known ones stay. */
static void test_unknown_capabilities(void **state)
{
    (void)state;
    struct oci_config *c = parse_ok(
        "{'ociVersion': '1.0.2', 'root': {'path': 'rootfs'}, 'process': {'cwd': '/', 'args': ['sh'],"
        " 'capabilities': {'bounding': ['CAP_CHOWN', 'CAP_FOO', 'CAP_KILL'], 'effective': ['cap_chown'],"
        " 'permitted': ['CAP_CHOWN,CAP_KILL', 'CAP_FOO'], 'inheritable': ['12'], 'ambient': ['CAP_FOO']}}}");
    struct oci_capabilities *k = &c->process.capabilities;
    assert_int_equal(k->bounding[0], CAP_CHOWN);
    assert_int_equal(k->bounding[1], CAP_KILL);
    assert_int_equal(k->bounding[2], -1);
    assert_true(k->has_effective);
    assert_int_equal(k->effective[0], -1);
    assert_int_equal(k->permitted[0], -1);
    assert_int_equal(k->inheritable[0], -1);
    assert_int_equal(k->ambient[0], -1);
    assert_non_null(k->unknown);
    assert_string_equal(k->unknown[0], "CAP_FOO");
    assert_string_equal(k->unknown[1], "cap_chown");
    assert_string_equal(k->unknown[2], "12");   /* the sets in the order husk reads them */
    assert_string_equal(k->unknown[3], "CAP_CHOWN,CAP_KILL");
    assert_null(k->unknown[4]);
    config_free(c);

    /* process.json (exec --process) the same way */
    _cleanup_free_ char *doc = q("{'args': ['sh'], 'cwd': '/', 'capabilities': {'bounding': ['CAP_NOPE', 'CAP_KILL']}}");
    struct oci_process *p = NULL;
    husk_err *err = NULL;
    assert_int_equal(config_parse_process(doc, strlen(doc), "process.json", &p, &err), 0);
    assert_int_equal(p->capabilities.bounding[0], CAP_KILL);
    assert_int_equal(p->capabilities.bounding[1], -1);
    assert_string_equal(p->capabilities.unknown[0], "CAP_NOPE");
    assert_null(p->capabilities.unknown[1]);
    process_free(p);
}

/* ---- process.json (exec --process) ----------------------------------------------- */

static void test_parse_process(void **state)
{
    (void)state;
    struct {
        const char *json, *error;
    } bad[] = {
        { "{}", "process.json: args: missing required field" },
        { "{'args': [1], 'cwd': '/'}", "process.json: args[0]: expected a string" },
        { "{'args': ['sh']}", "process.json: cwd: missing required field" },
        { "{'args': ['sh'], 'cwd': '/', 'env': ['X']}", "process.json: env[0]: expected KEY=VALUE (got \"X\")" },
        { "{'args': ['sh'], 'cwd': '/', 'user': {'uid': -5}}",
          "process.json: user.uid: expected a non-negative integer" },
        { "[]", "process.json: expected an object" },
        { "{'args': ['sh'],", "process.json: invalid JSON: unexpected end of data at line 1" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        _cleanup_free_ char *doc = q(bad[i].json);
        struct oci_process *p = NULL;
        husk_err *err = NULL;

        assert_int_equal(config_parse_process(doc, strlen(doc), "process.json", &p, &err), -1);
        assert_null(p);
        assert_non_null(err);
        assert_string_equal(err->msg, bad[i].error);
        husk_err_free(&err);
    }

    _cleanup_free_ char *doc =
        q("{'terminal': false, 'args': ['/bin/ls', '-l'], 'cwd': '/tmp', 'env': ['A=b'],"
          " 'user': {'uid': 7, 'gid': 8, 'additionalGids': [9]},"
          " 'capabilities': {'bounding': ['CAP_CHOWN'], 'ambient': ['CAP_KILL']},"
          " 'rlimits': [{'type': 'RLIMIT_NPROC', 'soft': 5, 'hard': 18446744073709551615}]}");
    struct oci_process *p = NULL;
    husk_err *err = NULL;

    assert_int_equal(config_parse_process(doc, strlen(doc), "process.json", &p, &err), 0);
    assert_null(err);
    assert_int_equal(p->n_args, 2);
    assert_string_equal(p->args[1], "-l");
    assert_string_equal(p->cwd, "/tmp");
    assert_int_equal(p->user.uid, 7);
    assert_int_equal(p->user.additional_gids[0], 9);
    assert_int_equal(p->capabilities.bounding[0], CAP_CHOWN);
    assert_int_equal(p->capabilities.bounding[1], -1);
    assert_int_equal(p->capabilities.ambient[0], CAP_KILL);
    assert_null(p->capabilities.unknown);
    assert_int_equal(p->rlimits[0].resource, RLIMIT_NPROC);
    assert_true(p->rlimits[0].hard == UINT64_MAX);
    process_free(p);
    process_free(NULL);
    config_free(NULL);
}

/* ---- name tables ---------------------------------------------------------------- */

static void test_ns_tables(void **state)
{
    (void)state;
    static const char *const names[] = { "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time" };
    static const char *const procs[] = { "pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time" };
    static const int flags[] = { CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWIPC,
                                 CLONE_NEWUTS, CLONE_NEWUSER, CLONE_NEWCGROUP, 0x00000080 };

    for (int t = 0; t < OCI_NS_COUNT; t++) {
        assert_string_equal(ns_type_name((enum oci_ns_type)t), names[t]);
        assert_string_equal(ns_proc_name((enum oci_ns_type)t), procs[t]);
        assert_int_equal(ns_clone_flag((enum oci_ns_type)t), flags[t]);
        assert_int_equal(ns_type_from_name(names[t]), t);
    }
    assert_int_equal(ns_type_from_name("net"), -1);
    assert_int_equal(ns_type_from_name("PID"), -1);
    assert_int_equal(ns_type_from_name(""), -1);
    assert_int_equal(ns_type_from_name(NULL), -1);
    assert_null(ns_type_name(OCI_NS_COUNT));
    assert_null(ns_proc_name(OCI_NS_COUNT));
    assert_int_equal(ns_clone_flag(OCI_NS_COUNT), 0);
}

/* ---- config_load --------------------------------------------------------------- */

static char *make_bundle(void)
{
    char tmpl[] = "/tmp/husk-test-config.XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    return xstrdup(dir);
}

static void write_config(const char *bundle, const char *text)
{
    _cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write_all(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static void test_config_load(void **state)
{
    (void)state;
    _cleanup_free_ char *bundle = make_bundle();
    _cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
    _cleanup_free_ char *doc = q(full_config);
    struct oci_config *cfg = NULL;
    husk_err *err = NULL;
    _cleanup_free_ char *want = NULL;

    /* missing */
    assert_int_equal(config_load(bundle, &cfg, &err), -1);
    want = xasprintf("open %s: No such file or directory", path);
    assert_string_equal(err->msg, want);
    assert_int_equal(err->errnum, ENOENT);
    husk_err_free(&err);

    /* valid */
    write_config(bundle, doc);
    assert_int_equal(config_load(bundle, &cfg, &err), 0);
    assert_non_null(cfg);
    assert_string_equal(cfg->process.args[2], "echo hi");
    config_free(cfg);
    cfg = NULL;

    /* invalid content is reported as config.json */
    write_config(bundle, "{\n\"ociVersion\": \"1.0.0\",\n\"process\": 3}");
    assert_int_equal(config_load(bundle, &cfg, &err), -1);
    assert_string_equal(err->msg, "config.json: process: expected an object");
    husk_err_free(&err);

    /* too large: refused before reading it all */
    {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 32 * 1024 * 1024 + 1), 0);
    }
    assert_int_equal(config_load(bundle, &cfg, &err), -1);
    free(want);
    want = xasprintf("read %s: File too large", path);
    assert_string_equal(err->msg, want);
    husk_err_free(&err);

    /* a FIFO must be refused without blocking */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(config_load(bundle, &cfg, &err), -1);
    free(want);
    want = xasprintf("%s: not a regular file", path);
    assert_string_equal(err->msg, want);
    husk_err_free(&err);

    /* a directory too */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(config_load(bundle, &cfg, &err), -1);
    assert_string_equal(err->msg, want);
    husk_err_free(&err);
    assert_int_equal(rmdir(path), 0);

    /* a symlink to a regular file is followed */
    _cleanup_free_ char *real = xasprintf("%s/real.json", bundle);
    {
        _cleanup_close_ int fd = open(real, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, "{\"ociVersion\":\"1.0.0\"}", 22), 22);
    }
    assert_int_equal(symlink("real.json", path), 0);
    assert_int_equal(config_load(bundle, &cfg, &err), 0);
    assert_string_equal(cfg->oci_version, "1.0.0");
    config_free(cfg);

    unlink(path);
    unlink(real);
    assert_int_equal(rmdir(bundle), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_config),   cmocka_unit_test(test_minimal_config),
        cmocka_unit_test(test_bad_configs),   cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_length_bounds), cmocka_unit_test(test_parse_process),
        cmocka_unit_test(test_unknown_capabilities),
        cmocka_unit_test(test_ns_tables),     cmocka_unit_test(test_config_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
