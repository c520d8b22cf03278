#!/usr/bin/env bats
# `husk features`: the OCI Features structure (features.md, features-linux.md). What it
# lists must be what `husk create` accepts — every mount option, capability, namespace
# and seccomp name is put in a real config here — and nothing husk refuses may be listed.

load helpers

# The runtime's features JSON, in $FEATURES.
features() {
    run --separate-stderr husk features
    assert_success
    FEATURES=$output
}

# feature JQ_EXPR: one value of $FEATURES (raw strings, one a line for arrays: use .[]).
feature() {
    jq -r "$1" <<<"$FEATURES"
}

@test "features: valid JSON with the spec versions, hooks and platform sections" {
    require_husk
    features
    jq -e . <<<"$FEATURES" >/dev/null || fail "not JSON: $FEATURES"
    assert_equal "$(feature .ociVersionMin)" "1.0.0"
    # ociVersionMax is the spec version husk implements, as --version reports it.
    local spec
    spec=$(husk --version | sed -n 's/^spec: *//p')
    [ -n "$spec" ] || fail "no spec: line in husk --version"
    assert_equal "$(feature .ociVersionMax)" "$spec"
    assert_equal "$(feature '.hooks | sort | join(",")')" \
        "createContainer,createRuntime,poststart,poststop,prestart,startContainer"
    for key in namespaces capabilities cgroup seccomp apparmor selinux intelRdt mountExtensions; do
        feature ".linux | has(\"$key\")" | grep -qx true || fail "linux.$key missing"
    done
    # Only keys the spec defines (features.md: no properties beyond its version).
    assert_equal "$(feature 'keys | join(",")')" "annotations,hooks,linux,mountOptions,ociVersionMax,ociVersionMin"
    # No duplicates in any list.
    feature '[.mountOptions, .linux.namespaces, .linux.capabilities, .linux.seccomp.actions,
              .linux.seccomp.operators, .linux.seccomp.archs, .linux.seccomp.knownFlags]
             | map(length == (unique | length)) | all' | grep -qx true || fail "duplicate names"
}

@test "features: every hook name runs as a hook of that name" {
    features
    valgrind_startcontainer_hooks
    local hooks="{}" h
    # Hooks run on the host or in the container (startContainer after pivot_root): each
    # appends its name to the log directory it can see, bound into the container too.
    mkdir -p "$TEST_DIR/hooklog"
    for h in $(feature '.hooks[]'); do
        hooks=$(jq -c --arg h "$h" --arg log "$TEST_DIR/hooklog" \
            '.[$h] = [{path: "/bin/sh", args: ["sh", "-c",
                ("for d in /hooklog " + $log + "; do [ -d $d ] && { echo " + $h + " >> $d/log; break; }; done")]}]' \
            <<<"$hooks")
    done
    update_config '.hooks = $h
                 | .mounts += [{destination: "/hooklog", type: "bind", source: $log, options: ["rbind"]}]' \
        --argjson h "$hooks" --arg log "$TEST_DIR/hooklog"
    ctr_run true
    assert_success
    for h in $(feature '.hooks[]'); do
        grep -qx "$h" "$TEST_DIR/hooklog/log" || fail "hook $h did not run" "$(cat "$TEST_DIR/hooklog/log")"
    done
}

@test "features: every mount option is accepted on a real mount" {
    require_husk   # runc 1.1 lists options it refuses (tmpfs: "defaults")
    features
    local n opts
    opts=$(feature '.mountOptions[]')
    n=$(wc -l <<<"$opts")
    [ "$n" -gt 40 ] || fail "only $n mount options"
    mkdir -p "$TEST_DIR/src"
    require_idmapped_mounts "$TEST_DIR/src"
    # One mount per option, under /feat/<option>: bind options bind a host directory
    # (idmap and ridmap with mappings of their own), remount remounts a tmpfs that the
    # mount before it made, the rest go on a tmpfs.
    update_config '.mounts += ($opts | map(
            if . == "bind" or . == "rbind" then
                {destination: ("/feat/" + .), type: "bind", source: $src, options: [.]}
            elif . == "idmap" or . == "ridmap" then
                {destination: ("/feat/" + .), type: "bind", source: $src, options: ["rbind", .],
                 uidMappings: [{containerID: 0, hostID: 100000, size: 1}],
                 gidMappings: [{containerID: 0, hostID: 100000, size: 1}]}
            elif . == "remount" then
                {destination: "/feat/remount", type: "tmpfs", source: "tmpfs", options: []},
                {destination: "/feat/remount", type: "tmpfs", source: "tmpfs", options: ["remount", "ro"]}
            else
                {destination: ("/feat/" + .), type: "tmpfs", source: "tmpfs", options: [.]}
            end))' --argjson opts "$(feature '.mountOptions')" --arg src "$TEST_DIR/src"
    ctr_run sh -c 'awk '\''$5 ~ "^/feat/" { print $5 }'\'' /proc/self/mountinfo | sort -u | wc -l
                   touch /feat/ro/x 2>/dev/null && echo ro-writable
                   touch /feat/remount/x 2>/dev/null && echo remount-writable
                   touch /feat/rw/x && echo rw-ok'
    assert_success
    # Every destination is a mount point (remount adds none of its own).
    assert_equal "${lines[0]}" "$n"
    assert_equal "${lines[1]}" "rw-ok"
}

@test "features: a made-up option is not listed; idmap and ridmap are, for bind mounts only" {
    require_husk
    features
    local o
    feature '.mountOptions[]' | grep -qx frobnicate && fail "frobnicate is listed"
    for o in idmap ridmap; do
        feature '.mountOptions[]' | grep -qx "$o" || fail "$o is not listed"
    done
    feature '.mountOptions[]' | grep -qx ro || fail "ro is not listed"
    feature '.mountOptions[]' | grep -qx tmpcopyup || fail "tmpcopyup is not listed"
    # ... and create indeed refuses them: the made-up one reaches tmpfs as data.
    update_config '.mounts += [{destination: "/feat", type: "tmpfs", source: "tmpfs", options: ["frobnicate"]}]'
    ctr_run true
    assert_failure
    assert_contains "/feat"
    for o in idmap ridmap; do
        update_config '.mounts |= map(select(.destination != "/feat"))
                     | .mounts += [{destination: "/feat", type: "tmpfs", source: "tmpfs", options: [$o]}]' --arg o "$o"
        ctr_run true
        assert_failure
        assert_contains "options: $o: idmapped mounts are only supported for bind mounts"
    done
    assert_root_empty
}

@test "features: every capability is accepted, and the container gets those the host has" {
    features
    local caps n
    caps=$(feature '.linux.capabilities')
    n=$(jq length <<<"$caps")
    [ "$n" -ge 38 ] || fail "only $n capabilities"
    # All of them in the bounding set (the parser must know each name); effective and
    # permitted get those the host can grant (not CAP_SYS_RESOURCE here: nobody has it).
    local host held="[]" c
    host=$((16#$(grep CapBnd /proc/self/status | cut -f2)))
    for c in $(jq -r '.[]' <<<"$caps"); do
        if (((host >> $(cap_number "$c")) & 1)); then
            held=$(jq -c --arg c "$c" '. + [$c]' <<<"$held")
        fi
    done
    update_config '.process.capabilities = {bounding: $c, effective: $h, permitted: $h}' \
        --argjson c "$caps" --argjson h "$held"
    ctr_run sh -c 'grep -E "^Cap(Bnd|Eff)" /proc/self/status | cut -f2'
    assert_success
    # Every listed capability the host has was kept, in both sets.
    local want
    want=$(grep CapBnd /proc/self/status | cut -f2)
    assert_equal "${lines[0]}" "$want"
    assert_equal "${lines[1]}" "$want"
}

@test "features: a made-up capability is not listed, and is skipped with a warning naming it" {
    features
    feature '.linux.capabilities[]' | grep -qx CAP_FROBNICATE && fail "CAP_FROBNICATE listed"
    feature '.linux.capabilities[]' | grep -qx CAP_CHOWN || fail "CAP_CHOWN not listed"
    update_config '.process.capabilities.bounding += ["CAP_FROBNICATE"]'
    ctr_run true
    assert_success
    assert_contains "CAP_FROBNICATE"
}

@test "features: every namespace is accepted, each one new in the container" {
    features
    local ns script="" n i=0
    ns=$(feature '.linux.namespaces')
    [ "$(jq length <<<"$ns")" -ge 7 ] || fail "namespaces: $ns"
    update_config '.linux.namespaces = ($ns | map({type: .}))
                 | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
                 | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]' --argjson ns "$ns"
    chmod 755 "$TEST_DIR" "$BUNDLE"
    chown -R 100000:100000 "$BUNDLE/rootfs"
    for n in $(jq -r '.[]' <<<"$ns"); do
        case $n in network) n=net ;; mount) n=mnt ;; esac
        script+="readlink /proc/self/ns/$n; "
    done
    ctr_run sh -c "$script"
    assert_success
    local -a got=("${lines[@]}")
    for n in $(jq -r '.[]' <<<"$ns"); do
        case $n in network) n=net ;; mount) n=mnt ;; esac
        [[ ${got[$i]} == "$n:["* ]] || fail "unexpected line ${got[$i]} for $n"
        [ "${got[$i]}" != "$(host_ns "$n")" ] || fail "$n namespace is the host's"
        i=$((i + 1))
    done
}

@test "features: seccomp lists NOTIFY; every action, operator, arch and supported flag is accepted" {
    features
    feature '.linux.seccomp.enabled' | grep -qx true || fail "seccomp not enabled"
    feature '.linux.seccomp.actions[]' | grep -qx SCMP_ACT_NOTIFY || fail "SCMP_ACT_NOTIFY not listed"
    feature '.linux.seccomp.actions[]' | grep -qx SCMP_ACT_FROB && fail "made-up action listed"
    # Every action but NOTIFY (it needs a listener: seccomp.bats) on a syscall the
    # container never makes; every operator as an argument filter on another one.
    local syscalls='["acct","swapon","swapoff","kexec_load","init_module","delete_module","reboot","quotactl"]'
    update_config '.linux.seccomp = {
        defaultAction: "SCMP_ACT_ALLOW",
        architectures: ($archs | map(select(. as $a | $native | index($a)))),
        flags: $flags,
        syscalls: (
            [$actions | map(select(. != "SCMP_ACT_NOTIFY")) | to_entries[]
             | {names: [$sys[.key]], action: .value}]
          + [$ops | to_entries[]
             | {names: ["settimeofday"], action: "SCMP_ACT_ERRNO",
                args: [{index: (.key % 6), value: 1, valueTwo: 1, op: .value}]}])
    }' --argjson actions "$(feature '.linux.seccomp.actions')" --argjson ops "$(feature '.linux.seccomp.operators')" \
        --argjson archs "$(feature '.linux.seccomp.archs')" --argjson flags "$(feature '.linux.seccomp.supportedFlags')" \
        --argjson native '["SCMP_ARCH_X86","SCMP_ARCH_X86_64","SCMP_ARCH_X32"]' --argjson sys "$syscalls"
    [ "$(jq '.linux.seccomp.syscalls | length' "$BUNDLE/config.json")" -ge 14 ] || fail "rules missing"
    ctr_run echo hello
    assert_success
    assert_equal "$output" "hello"
}

@test "features: every seccomp architecture is recognised by create" {
    features
    local a ok=0
    # Each one alone beside the native one. libseccomp holds one byte order per filter,
    # so on this little-endian host a big-endian one (s390x, ppc64, mips...) is known
    # but refused (libseccomp's EDOM) with an error saying why; anything else must run.
    for a in $(feature '.linux.seccomp.archs[]'); do
        update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: [$a]}' --arg a "$a"
        ctr_run true
        if [ "$status" -eq 0 ]; then
            ok=$((ok + 1))
        elif is_husk; then
            assert_contains "architecture \"$a\" has another byte order than this host's"
        fi
    done
    [ "$ok" -ge 8 ] || fail "only $ok architectures ran"
    assert_root_empty
}

@test "features: seccomp flags: the supported ones are known; a known unsupported one is refused" {
    features
    local f
    for f in $(feature '.linux.seccomp.supportedFlags[]'); do
        feature '.linux.seccomp.knownFlags[]' | grep -qx "$f" || fail "$f supported but not known"
    done
    for f in $(feature '.linux.seccomp.knownFlags - .linux.seccomp.supportedFlags | .[]'); do
        update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", flags: [$f]}' --arg f "$f"
        ctr_run true
        assert_failure
        assert_contains "$f"
    done
    assert_root_empty
}

@test "features: cgroup v1 and v2 yes, systemd no (and --systemd-cgroup is refused)" {
    require_husk
    features
    assert_equal "$(feature '.linux.cgroup | [.v1, .v2, .systemd, .systemdUser] | map(tostring) | join(",")')" \
        "true,true,false,false"
    run husk --systemd-cgroup run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_root_empty
}

@test "features: idmapped mounts; no apparmor, selinux or intelRdt" {
    require_husk
    features
    assert_equal "$(feature '.linux | [.mountExtensions.idmap.enabled, .apparmor.enabled, .selinux.enabled,
                                      .intelRdt.enabled] | map(tostring) | join(",")')" "true,false,false,false"
}

@test "features: the libseccomp annotation is the version husk --version reports" {
    require_husk
    features
    local v
    v=$(husk --version | sed -n 's/^libseccomp: *//p')
    [ -n "$v" ] || fail "no libseccomp line in husk --version"
    assert_equal "$(feature '.annotations["io.github.seccomp.libseccomp.version"]')" "$v"
}

@test "features: --help, and arguments are refused" {
    require_husk
    run husk features --help
    assert_success
    assert_contains "usage: husk features"
    run husk features extra
    assert_failure
    assert_contains "takes no arguments"
    run husk features --bogus
    assert_failure
    assert_contains "unknown flag"
}
