#!/usr/bin/env bats
# container-network.bats — `husk network` and `container run --network/-p/-P/--ip/
# --dns/--add-host` over netavark and aardvark-dns. All traffic stays on this
# machine: the tests' own networks (10.213.x.0/24) and 127.0.0.1; the only names
# looked up are containers' (aardvark-dns would forward any other name upstream).
# Each behaviour is observed from inside a container and from the host (ip link,
# iptables-save, the netns and lease files), before and after.
#
# A container without --network is on the default network "husk", the host's
# (bridge husk0, 10.89.0.0/24 unless engine.json says otherwise), the same from
# every store; its resolv.conf names engine.json's "dns", which helpers.bash makes
# 127.0.0.1 for every test (the container's own loopback: no lookup leaves it).

load container

NETAVARK=/usr/lib/podman/netavark

setup() {
    container_setup
    [ -x "$NETAVARK" ] && [ -x /usr/lib/podman/aardvark-dns ] || skip "netavark and aardvark-dns not installed"
    command -v iptables-save >/dev/null || skip "no iptables-save"
    # the default network's bridge stays up after its last container (docker0's
    # way): each test starts without it, as far as no container is on it
    hc network rm husk >/dev/null 2>&1 || true
    HOST_LINKS_BEFORE=$(host_links)
    HOST_RULES_BEFORE=$(host_rules)
    HOST_NETNS_BEFORE=$(host_netns)
}

teardown() {
    # a second store's (before anything under TEST_DIR is unmounted)
    local s2=${TEST_DIR:-/nonexistent}/store2
    if [ -d "$s2/containers" ]; then
        "$HUSK_BIN" --root "$TEST_DIR/root2" --storage-root "$s2" container rm -f \
            $("$HUSK_BIN" --root "$TEST_DIR/root2" --storage-root "$s2" container ls -aq) >/dev/null 2>&1 || true
        "$HUSK_BIN" --root "$TEST_DIR/root2" --storage-root "$s2" network prune -f >/dev/null 2>&1 || true
    fi
    container_teardown
    if [ -n "${STORE:-}" ] && [ -d "$STORE/networks" ]; then
        "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" network prune -f >/dev/null 2>&1 || true
    fi
}

# the host's interfaces (names) and the firewall rules of networks and containers
# (their subnets, bridges, per-network and per-container chains; netavark's own
# base chains, made once like podman's, stay)
host_links() {
    ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort
}
host_rules() {
    iptables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//' |
        grep -E '10\.213\.|10\.89\.|husk[0-9]|NETAVARK-[0-9A-F]{8,}|NETAVARK-DN-' | sort || true
}
# the containers' network namespaces (host-wide, as podman's /run/netns)
host_netns() {
    ls /run/husk/net/ns 2>/dev/null | sort
    grep -c ' /run/husk/net/ns/' /proc/self/mountinfo || true
}
# the default network's leases (host-wide) that name this test's store
store_leases() {
    grep -rlxF -- "$STORE" /run/husk/net/husk0 2>/dev/null || true
}

# the host-wide bridge claims (/run/husk/net/claims) that name a store of this test
store_claims() {
    local t
    t=$(realpath "$TEST_DIR")
    grep -l "^$t/" /run/husk/net/claims/bridge-* 2>/dev/null || true
}

# nothing of any network of the test left on the host, once the default network's
# bridge (up since the test's first container on it) is taken down: which it is
# only with no container's veth on it
assert_host_clean() {
    run hc network rm husk
    assert_success
    assert_equal "$(host_links)" "$HOST_LINKS_BEFORE"
    assert_equal "$(host_rules)" "$HOST_RULES_BEFORE"
    assert_equal "$(host_netns)" "$HOST_NETNS_BEFORE"
    [ -z "$(find "$STORE/networks/leases" -type f ! -name .lock 2>/dev/null)" ] ||
        fail "leases left: $(find "$STORE/networks/leases" -type f ! -name .lock)"
    [ -z "$(store_leases)" ] || fail "default network leases left: $(store_leases)"
    [ -z "$(store_claims)" ] || fail "bridge claims left: $(store_claims)"
    # the runtime's root holds no engine files (`husk list` would show them)
    [ -z "$(ls "$ROOT")" ] || fail "left in --root: $(ls "$ROOT")"
}

# tcp_get PORT: what a server on 127.0.0.1:PORT says (the containers' busybox nc)
tcp_get() {
    curl -s -m 3 --http0.9 "http://127.0.0.1:$1/" || true
}

@test "network create, ls, inspect, rm: podman's definition; rm refused while in use; prune" {
    require_husk
    run hc network create --subnet 10.213.40.0/24 --label a=b tn
    assert_success
    assert_equal "$output" "tn"
    run hc network inspect tn
    assert_success
    jq -e '.[0] | .name == "tn" and .driver == "bridge" and .subnets[0].subnet == "10.213.40.0/24"
        and .subnets[0].gateway == "10.213.40.1" and .dns_enabled == true and .internal == false
        and .labels.a == "b" and .options.isolate == "true" and (.id | length) == 64' <<<"$output" >/dev/null || fail "inspect: $output"
    # the default network is listed first, in every store
    run hc network ls -q
    assert_equal "$output" $'husk\ntn'
    run hc network create --subnet 10.213.40.128/25 tn2
    assert_status 125
    assert_contains "overlaps"
    run hc network create --subnet 10.213.41.0/24 tn
    assert_status 125
    assert_contains "exists"
    run hc network create --subnet 10.213.41.0/24 --gateway 10.213.42.1 tn3
    assert_status 125
    assert_contains "--gateway"
    run hc network create --subnet nonsense tn3
    assert_status 125
    hc container create --name u --network tn busybox:t true >/dev/null
    run hc network rm tn
    assert_status 125
    assert_contains 'in use by container "u"'
    run hc network prune -f
    assert_success
    assert_not_contains "tn"
    hc container rm u >/dev/null
    run hc network rm tn
    assert_success
    hc network create --subnet 10.213.43.0/24 unused >/dev/null
    run hc network prune -f
    assert_contains "unused"
    run hc network ls -q
    assert_equal "$output" "husk"
    # the default network: not made by a user; rm takes only its bridge down (none
    # is up here), the network stays
    run hc network rm husk
    assert_success
    assert_equal "$output" "husk"
    run hc network ls -q
    assert_equal "$output" "husk"
    run hc network create --subnet 10.213.43.0/24 husk
    assert_status 125
    assert_contains "reserved"
    run hc container run --rm --network nosuch busybox:t true
    assert_status 125
    assert_contains 'no such network: "nosuch"'
}

@test "two containers on one network reach each other by name; another network is isolated until connected" {
    require_husk
    hc network create --subnet 10.213.44.0/24 na >/dev/null
    hc network create --subnet 10.213.45.0/24 nb >/dev/null
    hc container run -d --name srv --network na busybox:t sleep 100 >/dev/null
    local ip
    ip=$(hc container inspect --format '{{.NetworkSettings.Networks.na.IPAddress}}' srv)
    [[ "$ip" == 10.213.44.* ]] || fail "srv's address: $ip"
    # resolv.conf names only aardvark-dns on the gateway
    run hc container run --rm --network na busybox:t sh -c 'grep ^nameserver /etc/resolv.conf; ping -c1 -W3 srv'
    assert_success
    assert_equal "${lines[0]}" "nameserver 10.213.44.1"
    assert_contains "64 bytes from $ip"
    # by its id's prefix too (podman's alias)
    local short
    short=$(cid srv | cut -c1-12)
    run hc container run --rm --network na busybox:t ping -c1 -W3 "$short"
    assert_success
    # from another network the address does not answer (no name is looked up there)
    hc container run -d --name other --network nb busybox:t sleep 100 >/dev/null
    run hc container exec other ping -c1 -W1 "$ip"
    assert_failure
    # connected to both, it reaches srv by name; disconnected, no more
    run hc network connect na other
    assert_success
    run hc container exec other sh -c "ip -o -4 addr show eth1; ping -c1 -W3 srv"
    assert_success
    assert_contains "10.213.44."
    run hc container inspect --format '{{json .NetworkSettings.Networks}}' other
    jq -e 'has("na") and has("nb")' <<<"$output" >/dev/null || fail "networks: $output"
    run hc network disconnect na other
    assert_success
    run hc container exec other sh -c "ip link show eth1"
    assert_failure
    run hc container exec other ping -c1 -W1 "$ip"
    assert_failure
    hc container rm -f srv other >/dev/null
    hc network rm na nb >/dev/null
    assert_host_clean
}

@test "a published port answers on 127.0.0.1, container port shows it, and it is gone after rm; nothing is left" {
    require_husk
    hc network create --subnet 10.213.46.0/24 np >/dev/null
    local port=$((20000 + RANDOM % 20000))
    hc container run -d --name web --network np -p "127.0.0.1:$port:80" -p 127.0.0.1::81/udp busybox:t \
        sh -c 'while :; do echo hello-from-web | nc -l -p 80; done' >/dev/null
    local i out=""
    for i in $(seq 1 50); do
        out=$(tcp_get "$port")
        [ -n "$out" ] && break
        sleep 0.1
    done
    assert_equal "$out" "hello-from-web"
    run hc container port web
    assert_success
    assert_contains "80/tcp -> 127.0.0.1:$port"
    assert_contains "81/udp -> 127.0.0.1:"
    run hc container port web 80
    assert_equal "$output" "127.0.0.1:$port"
    run hc container ls --format '{{.Ports}}'
    assert_contains "127.0.0.1:$port->80/tcp"
    # the host side while it runs: a veth, the bridge, its rules, its netns
    [ "$(host_rules)" != "$HOST_RULES_BEFORE" ] || fail "no firewall rule while it runs"
    [ -e "/run/husk/net/ns/$(cid web)" ] || fail "no netns while it runs"
    hc container rm -f web >/dev/null
    assert_equal "$(tcp_get "$port")" ""
    hc network rm np >/dev/null
    assert_host_clean
}

@test "-P publishes the image's exposed ports on free host ports" {
    require_husk
    hc image import -c 'EXPOSE 80' -c 'CMD ["sh"]' "$TEST_DIR/bb.tar" bbx:t >/dev/null
    hc network create --subnet 10.213.47.0/24 nq >/dev/null
    hc container run -d --name pa --network nq -P bbx:t sh -c 'while :; do echo exposed | nc -l -p 80; done' >/dev/null
    local hp out="" i
    hp=$(hc container port pa 80 | cut -d: -f2)
    [ -n "$hp" ] && [ "$hp" -gt 0 ] || fail "no host port: $(hc container port pa)"
    for i in $(seq 1 50); do
        out=$(tcp_get "$hp")
        [ -n "$out" ] && break
        sleep 0.1
    done
    assert_equal "$out" "exposed"
    hc container rm -f pa >/dev/null
    hc network rm nq >/dev/null
    assert_host_clean
}

@test "--ip, --hostname, --add-host, --dns; --network none, host, container:ID" {
    require_husk
    hc network create --subnet 10.213.48.0/24 ni >/dev/null
    run hc container run --rm --network ni --ip 10.213.48.77 --hostname hx --add-host db.example:10.213.48.99 \
        --dns 127.0.0.1 busybox:t sh -c 'ip -o -4 addr show eth0; hostname; grep -c "^10.213.48.77.*hx" /etc/hosts;
            grep db.example /etc/hosts; grep -c nameserver /etc/resolv.conf; grep nameserver /etc/resolv.conf'
    assert_success
    assert_contains "inet 10.213.48.77/24"
    assert_equal "${lines[1]}" "hx"
    assert_equal "${lines[2]}" "1"
    assert_contains $'10.213.48.99\tdb.example'
    # --dns goes to aardvark-dns (which forwards there); the container asks only it
    assert_equal "${lines[4]}" "1"
    assert_equal "${lines[5]}" "nameserver 10.213.48.1"
    # an address outside the network, or one in use, is refused
    run hc container run --rm --network ni --ip 10.213.49.5 busybox:t true
    assert_status 125
    assert_contains "--ip"
    hc container run -d --name fixed --network ni --ip 10.213.48.80 busybox:t sleep 100 >/dev/null
    run hc container run --rm --network ni --ip 10.213.48.80 busybox:t true
    assert_status 125
    assert_contains "in use"
    # container:ID shares fixed's interface
    run hc container run --rm --network container:fixed busybox:t ip -o -4 addr show eth0
    assert_success
    assert_contains "10.213.48.80"
    # none: only lo; removed, it leaves nothing
    run hc container run --rm --network none busybox:t sh -c 'ls /sys/class/net'
    assert_success
    assert_equal "$output" "lo"
    hc container run -d --name nonet --network none busybox:t sleep 100 >/dev/null
    run hc container rm -f nonet
    assert_success
    run hc container ls -a --format '{{.Names}}'
    assert_success
    assert_equal "$output" "fixed"
    # host: the host's interfaces
    run hc container run --rm --network host busybox:t sh -c 'ls /sys/class/net | sort'
    assert_equal "$output" "$(ls /sys/class/net | sort)"
    run hc container run --rm --network host -p 80:80 busybox:t true
    assert_status 125
    hc container rm -f fixed >/dev/null
    hc network rm ni >/dev/null
    assert_host_clean
}

@test "a killed monitor: ls shows the container exited and its network is torn down; rm leaves nothing" {
    require_husk
    hc network create --subnet 10.213.51.0/24 nk >/dev/null
    hc container run -d --name km --network nk -p 127.0.0.1::80 busybox:t sleep 100 >/dev/null
    local mon
    mon=$(jq -r .monitorPid "$STORE/containers/$(cid km)/state.json")
    kill -9 "$mon"
    run hc container ls -a --format '{{.Names}} {{.State}}'
    assert_contains "km exited"
    [ ! -e "/run/husk/net/ns/$(cid km)" ] || fail "netns left after the monitor died"
    # started again, it gets its network again
    run hc container start km
    assert_success
    run hc container exec km ip -o -4 addr show eth0
    assert_contains "10.213.51."
    hc container rm -f km >/dev/null
    hc network rm nk >/dev/null
    assert_host_clean
}

@test "a network's port-forward chain goes with its last container, also when that one publishes no port" {
    require_husk
    hc network create --subnet 10.213.58.0/24 nq >/dev/null
    hc container run -d --name q1 --network nq -p 127.0.0.1::80 busybox:t sleep 100 >/dev/null
    hc container run -d --name q2 --network nq busybox:t sleep 100 >/dev/null
    iptables-save -t nat | grep -q '^:NETAVARK-DN-' || fail "no port-forward chain while q1 publishes"
    hc container rm -f q1 >/dev/null
    hc container rm -f q2 >/dev/null
    hc network rm nq >/dev/null
    assert_host_clean
}

@test "a teardown netavark cannot finish (the container's veth gone by hand): rm -f still removes everything" {
    require_husk
    hc network create --subnet 10.213.57.0/24 nr >/dev/null
    hc container run -d --name v1 --network nr -p 127.0.0.1::80 busybox:t sleep 100 >/dev/null
    hc container run -d --name v2 --network nr busybox:t sleep 100 >/dev/null
    local br veth
    br=$(hc network inspect nr | jq -r '.[0].network_interface')
    # v1's end on the host: the bridge's port whose peer is v1's eth0
    veth=$(ip -o link show master "$br" | awk -F': ' -v i="$(hc container exec v1 cat /sys/class/net/eth0/iflink)" \
        '$1 == i { sub(/@.*/, "", $2); print $2 }')
    [ -n "$veth" ] || fail "no veth of v1 on $br"
    ip link del "$veth"
    # netavark's teardown fails at the veth every time; husk sets it up again to undo it
    run hc container rm -f v1
    assert_success
    # v2, on the same network, is untouched: it still reaches its gateway
    run hc container exec v2 ping -c1 -W3 10.213.57.1
    assert_success
    hc container rm -f v2 >/dev/null
    hc network rm nr >/dev/null
    assert_host_clean
}

@test "run killed at each network step: rm -f leaves no veth, rule, netns or lease" {
    require_husk
    local points p n=0 id
    points=$(HUSK_TEST_KILL_AT=list "$HUSK_BIN" --version 2>/dev/null | awk -F'\t' 'NF == 3 && /^network-/ { print $1 }')
    [ -n "$points" ] || skip "no kill points in $HUSK (configure with -Dtest_hooks=true)"
    hc network create --subnet 10.213.52.0/24 nc1 >/dev/null
    for p in $points; do
        n=$((n + 1))
        run env HUSK_TEST_KILL_AT="$p" "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" \
            container run -d --name "k$n" --network nc1 -p 127.0.0.1::80 busybox:t sleep 100
        assert_status 137
        id=$(cid "k$n")
        run hc container rm -f "k$n"
        assert_success
        [ ! -e "/run/husk/net/ns/$id" ] || fail "$p: netns left"
    done
    hc network rm nc1 >/dev/null
    assert_host_clean
}

# ---------------------------------------------------------------- the default network

@test "without --network a container is on the default network: husk0, an address, engine.json's dns or the host's without loopback ones" {
    require_husk
    hc container run -d --name d1 busybox:t sleep 100 >/dev/null
    run hc container exec d1 sh -c 'ip -o -4 addr show eth0; ip route; cat /etc/resolv.conf'
    assert_success
    assert_contains "inet 10.89.0."
    assert_contains "default via 10.89.0.1"
    # the tests' engine.json: the container's own loopback, nothing else
    assert_equal "$(grep nameserver <<<"$output")" "nameserver 127.0.0.1"
    [ -e /sys/class/net/husk0 ] || fail "no bridge husk0 while d1 runs"
    run hc container inspect --format '{{.HostConfig.NetworkMode}} {{.NetworkSettings.Networks.husk.IPAddress}} {{.NetworkSettings.Networks.husk.NetworkID}}' d1
    assert_success
    [[ "$output" =~ ^bridge\ 10\.89\.0\.[0-9]+\ c8b1f4b76229cb72d6bc950f3d2e2b5891e14a35743e3b6f21bf0cd87511a1ba$ ]] || fail "inspect: $output"
    # its address is leased host-wide, naming its store and id
    local ip lease
    ip=$(hc container inspect --format '{{.NetworkSettings.IPAddress}}' d1)
    lease=/run/husk/net/husk0/$ip
    assert_equal "$(cat "$lease")" "$(cid d1)"$'\n'"$STORE"
    # the host reaches it on the bridge; it reaches the host's side
    run "$(husk_rootfs)/bin/busybox" ping -c1 -W3 "$ip"
    assert_success
    run hc container exec d1 ping -c1 -W3 10.89.0.1
    assert_success
    # --network bridge is the same network; --dns wins over engine.json's
    run hc container run --rm --network bridge --dns 10.213.99.9 busybox:t sh -c 'ip -o -4 addr show eth0; cat /etc/resolv.conf'
    assert_success
    assert_contains "inet 10.89.0."
    assert_equal "$(grep nameserver <<<"$output")" "nameserver 10.213.99.9"
    # with no "dns" in engine.json: the host's nameservers but loopback ones (docker's);
    # looked at on a created container, which never runs, so nothing is looked up
    printf '{}\n' >"$TEST_DIR/engine-nodns.json"
    HUSK_ENGINE_CONFIG=$TEST_DIR/engine-nodns.json hc container create --name d2 busybox:t true >/dev/null
    assert_equal "$(grep nameserver "$STORE/containers/$(cid d2)/userdata/resolv.conf" || true)" \
        "$(grep -E '^[[:space:]]*nameserver' /etc/resolv.conf | awk '$2 !~ /^127\./ && $2 != "::1" { print "nameserver " $2 }')"
    # --network none: only lo, no nameserver
    run hc container run --rm --network none busybox:t sh -c 'ls /sys/class/net; grep -c nameserver /etc/resolv.conf'
    assert_equal "$output" $'lo\n0'
    hc container rm -f d1 d2 >/dev/null
    # its last container gone, the bridge stays up, as docker0 does (net_bridge_keep.c)
    [ -e /sys/class/net/husk0 ] || fail "husk0 removed with its last container"
    assert_host_clean
}

@test "the default network is the host's: two stores at once share husk0 with their own addresses; a lease of a gone store is taken back" {
    require_husk
    local s2=$TEST_DIR/store2 r2=$TEST_DIR/root2
    hc2() { "$HUSK_BIN" --root "$r2" --storage-root "$s2" "$@"; }
    hc2 image import "$TEST_DIR/bb.tar" busybox:t >/dev/null
    # three at once from two stores (one at the same time as the other store's two)
    hc container run -d --name a busybox:t sleep 100 >/dev/null &
    hc2 container run -d --name b busybox:t sleep 100 >/dev/null &
    hc2 container run -d --name c busybox:t sleep 100 >/dev/null &
    wait
    local ipa ipb ipc
    ipa=$(hc container inspect --format '{{.NetworkSettings.IPAddress}}' a)
    ipb=$(hc2 container inspect --format '{{.NetworkSettings.IPAddress}}' b)
    ipc=$(hc2 container inspect --format '{{.NetworkSettings.IPAddress}}' c)
    [[ $ipa == 10.89.0.* && $ipb == 10.89.0.* && $ipc == 10.89.0.* ]] || fail "addresses: $ipa $ipb $ipc"
    [ "$ipa" != "$ipb" ] && [ "$ipa" != "$ipc" ] && [ "$ipb" != "$ipc" ] || fail "an address twice: $ipa $ipb $ipc"
    assert_equal "$(sed -n 2p "/run/husk/net/husk0/$ipb")" "$s2"
    # one network: b reaches a across the stores
    run hc2 container exec b ping -c1 -W3 "$ipa"
    assert_success
    assert_contains "64 bytes from $ipa"
    # a store's first container gone, the bridge stays for the others
    hc container rm -f a >/dev/null
    [ -e /sys/class/net/husk0 ] || fail "husk0 removed while b and c use it"
    run hc2 container exec b ping -c1 -W3 10.89.0.1
    assert_success
    # a lease whose store is gone is free: every free address leased to such a store,
    # a new container still gets one
    local a f made=()
    for a in $(seq 2 254); do
        f=/run/husk/net/husk0/10.89.0.$a
        [ -e "$f" ] && continue
        printf 'deadbeef\n%s' "$TEST_DIR/gone" >"$f" && made+=("$f")
    done
    run hc container run --rm busybox:t ip -o -4 addr show eth0
    for f in "${made[@]}"; do
        grep -qxF "$TEST_DIR/gone" "$f" 2>/dev/null && rm -f "$f"
    done
    assert_success
    assert_contains "inet 10.89.0."
    hc2 container rm -f b c >/dev/null
    [ -e /sys/class/net/husk0 ] || fail "husk0 removed with its last container"
    [ -z "$(grep -rlxF -- "$s2" /run/husk/net/husk0 2>/dev/null)" ] || fail "store2's leases left"
    assert_host_clean
}

@test "the default network's subnet is engine.json's default-network-subnet; a change takes the bridge down first, refused while a container is on it" {
    require_husk
    # one subnet per bridge: not while another store's containers use husk0
    [ -z "$(ls /sys/class/net/husk0/brif 2>/dev/null | grep -v '^husk0-keep$')" ] || skip "husk0 is in use (by another store's containers)"
    printf '{"default-network-subnet": "10.213.50.0/24", "dns": ["127.0.0.1"]}\n' >"$TEST_DIR/engine-50.json"
    # the bridge up on the tests' (10.89.0.0/24) with a container on it: a change is refused
    hc container run -d --name on89 busybox:t sleep 100 >/dev/null
    local ns_before leases_before
    ns_before=$(ls /run/husk/net/ns)
    leases_before=$(store_leases)
    HUSK_ENGINE_CONFIG=$TEST_DIR/engine-50.json run hc container run --rm --name r50 busybox:t true
    assert_status 125
    assert_contains "default-network-subnet is 10.213.50.0/24"
    assert_contains "husk0 (10.89.0.1/24) still has containers"
    # and loses nothing: no container, lease or namespace of the refused one
    run hc container ls -a --format '{{.Names}}'
    assert_equal "$output" "on89"
    assert_equal "$(store_leases)" "$leases_before"
    assert_equal "$(ls /run/husk/net/ns)" "$ns_before"
    run hc container exec on89 ping -c1 -W3 10.89.0.1
    assert_success
    hc container rm -f on89 >/dev/null
    # nothing on it (but its keeper): the bridge of the old subnet goes, with its rules
    HUSK_ENGINE_CONFIG=$TEST_DIR/engine-50.json run hc container run --rm busybox:t ip -o -4 addr show eth0
    assert_success
    assert_contains "inet 10.213.50."
    assert_equal "$(ip -o -4 addr show husk0 | awk '{ print $4 }')" "10.213.50.1/24"
    ! iptables-save | grep -q '10\.89\.0\.0/24' || fail "rules of the old subnet left: $(iptables-save | grep '10\.89\.0\.0/24')"
    iptables-save | grep -q -- '-s 10.213.50.0/24' || fail "no rules of the new subnet"
    HUSK_ENGINE_CONFIG=$TEST_DIR/engine-50.json run hc network ls
    assert_contains "10.213.50.0/24"
    printf '{"default-network-subnet": "10.213.50.7/24"}\n' >"$TEST_DIR/engine-bad.json"
    HUSK_ENGINE_CONFIG=$TEST_DIR/engine-bad.json run hc container run --rm busybox:t true
    assert_status 125
    assert_contains "default-network-subnet"
    # back to the tests' subnet: taken down and up again
    run hc container run --rm busybox:t ip -o -4 addr show eth0
    assert_success
    assert_contains "inet 10.89.0."
    assert_host_clean
}

@test "the default network's bridge outlives its last container (docker0's way); network rm husk takes it and its rules down, refused while a container is on it" {
    require_husk
    [ ! -e /sys/class/net/husk0 ] || skip "husk0 is in use (by another store's containers)"
    hc container run --rm busybox:t true
    # the bridge, its keeper port, the network's rules: up with no container
    [ -e /sys/class/net/husk0 ] || fail "husk0 removed with its last container"
    assert_equal "$(ls /sys/class/net/husk0/brif)" "husk0-keep"
    assert_equal "$(cat /sys/class/net/husk0-keep-p/operstate)" "down"
    iptables-save | grep -q -- '-s 10.89.0.0/24' || fail "the network's NAT rule is gone"
    iptables-save | grep -q -- '-o husk0 -j DROP' || fail "the network's isolation rule is gone"
    local rules_idle
    rules_idle=$(host_rules)
    # a container with a published port: its own rules come and go with it
    hc container run -d --name p1 -p 127.0.0.1::80 busybox:t sleep 100 >/dev/null
    [ "$(host_rules)" != "$rules_idle" ] || fail "no rule of p1's port"
    run hc network rm husk
    assert_status 125
    assert_contains "network \"husk\" is in use by container $(cid p1 | cut -c1-12) of the store $STORE"
    [ -e /sys/class/net/husk0 ] || fail "husk0 removed while p1 is on it"
    run hc container exec p1 ping -c1 -W3 10.89.0.1
    assert_success
    hc container rm -f p1 >/dev/null
    # (but the network's port-forward chain, empty: netavark removes it with the network)
    assert_equal "$(host_rules | grep -v '^:NETAVARK-DN-F829821133139 ')" "$rules_idle"
    # taken down: the bridge, its keeper, every rule of the network (its
    # port-forward chain too); killed halfway first, then again
    run env HUSK_TEST_KILL_AT=bridge-down.after-setup "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" network rm husk
    if HUSK_TEST_KILL_AT=list "$HUSK_BIN" --version 2>/dev/null | grep -q '^bridge-down.after-setup'; then
        assert_status 137
        [ -e /run/husk/net/husk0.down ] || fail "the killed takedown left no namespace"
        run hc network rm husk
    fi
    assert_success
    assert_equal "$output" "husk"
    [ ! -e /run/husk/net/husk0.down ] || fail "the takedown's namespace is left"
    [ ! -e /sys/class/net/husk0-keep ] || fail "the keeper is left"
    ! iptables-save | grep -q 'NETAVARK-DN-F829821133139' || fail "the network's port-forward chain is left"
    # the next container brings it all back
    run hc container run --rm busybox:t ip -o -4 addr show eth0
    assert_success
    assert_contains "inet 10.89.0."
    [ -e /sys/class/net/husk0-keep ] || fail "no keeper after the next container"
    assert_host_clean
}

@test "the default network: a killed monitor, and run killed at each network step, leave no veth, rule, netns or lease" {
    require_husk
    hc container run -d --name km -p 127.0.0.1::80 busybox:t sleep 100 >/dev/null
    local mon id
    id=$(cid km)
    mon=$(jq -r .monitorPid "$STORE/containers/$id/state.json")
    kill -9 "$mon"
    run hc container ls -a --format '{{.Names}} {{.State}}'
    assert_contains "km exited"
    [ ! -e "/run/husk/net/ns/$id" ] || fail "netns left after the monitor died"
    [ -z "$(store_leases)" ] || fail "lease left after the monitor died"
    hc container rm -f km >/dev/null
    local points p n=0
    points=$(HUSK_TEST_KILL_AT=list "$HUSK_BIN" --version 2>/dev/null | awk -F'\t' 'NF == 3 && /^network-/ { print $1 }')
    for p in $points; do
        n=$((n + 1))
        run env HUSK_TEST_KILL_AT="$p" "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" \
            container run -d --name "k$n" -p 127.0.0.1::80 busybox:t sleep 100
        assert_status 137
        id=$(cid "k$n")
        run hc container rm -f "k$n"
        assert_success
        [ ! -e "/run/husk/net/ns/$id" ] || fail "$p: netns left"
    done
    assert_host_clean
}

@test "container inspect: HostConfig.PortBindings as given at create, NetworkSettings.Ports as docker shows them" {
    require_husk
    hc image import -c 'EXPOSE 443' -c 'CMD ["sh"]' "$TEST_DIR/bb.tar" bbp:t >/dev/null
    hc container create --name pb -p 127.0.0.1:18080:80 -p 81/udp -p 8082:82 bbp:t sleep 100 >/dev/null
    run hc container inspect --format '{{json .HostConfig.PortBindings}}' pb
    assert_success
    jq -e '. == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"}],
                 "81/udp": [{"HostIp": "", "HostPort": ""}],
                 "82/tcp": [{"HostIp": "", "HostPort": "8082"}]}' <<<"$output" >/dev/null || fail "PortBindings: $output"
    assert_contains '"80/tcp"'
    # not running: no ports
    run hc container inspect --format '{{json .NetworkSettings.Ports}}' pb
    assert_equal "$output" "{}"
    hc container start pb >/dev/null
    run hc container inspect --format '{{json .NetworkSettings.Ports}}' pb
    jq -e '."80/tcp" == [{"HostIp": "127.0.0.1", "HostPort": "18080"}] and ."82/tcp" == [{"HostIp": "0.0.0.0", "HostPort": "8082"}]
        and (."81/udp"[0].HostPort | tonumber) > 0 and ."443/tcp" == null and has("443/tcp")' <<<"$output" >/dev/null ||
        fail "Ports: $output"
    # -P: PublishAllPorts, no bindings of its own
    run hc container create --name pa -P bbp:t true
    run hc container inspect --format '{{.HostConfig.PublishAllPorts}} {{json .HostConfig.PortBindings}}' pa
    assert_equal "$output" "true {}"
    hc container rm -f pb pa >/dev/null
    assert_host_clean
}

@test "network create without --subnet skips a subnet and a bridge another store's network has up on the host" {
    require_husk
    local s2=$TEST_DIR/store2 r2=$TEST_DIR/root2
    hc2() { "$HUSK_BIN" --root "$r2" --storage-root "$s2" "$@"; }
    hc2 image import "$TEST_DIR/bb.tar" busybox:t >/dev/null
    hc2 network create other >/dev/null
    local sub2 br2
    sub2=$(hc2 network inspect other | jq -r '.[0].subnets[0].subnet')
    br2=$(hc2 network inspect other | jq -r '.[0].network_interface')
    hc2 container run -d --name up --network other busybox:t sleep 100 >/dev/null
    ip -o -4 addr show "$br2" | grep -q "${sub2%.0/24}.1/24" || fail "$br2 has no ${sub2%.0/24}.1"
    # this store knows nothing of it, but the host has it up
    hc network create mine >/dev/null
    run hc network inspect mine
    jq -e --arg s "$sub2" --arg b "$br2" '.[0] | .subnets[0].subnet != $s and .network_interface != $b and .network_interface != "husk0"' \
        <<<"$output" >/dev/null || fail "mine: $output (other: $sub2 on $br2)"
    hc2 container rm -f up >/dev/null
    hc2 network rm other >/dev/null
    hc network rm mine >/dev/null
    assert_host_clean
}

# ---------------------------------------------------------------- networks of two stores

# nat_chain SUBNET: the chain POSTROUTING sends the subnet's traffic to (netavark's
# per-network chain)
nat_chain() {
    iptables-save -t nat | awk -v s="$1" '$1 == "-A" && $2 == "POSTROUTING" && $3 == "-s" && $4 == s { print $6 }'
}

@test "two stores' networks of one name are two networks: own firewall chains, own names; one's teardown leaves the other's NAT" {
    require_husk
    local s2=$TEST_DIR/store2 r2=$TEST_DIR/root2
    hc2() { "$HUSK_BIN" --root "$r2" --storage-root "$s2" "$@"; }
    hc2 image import "$TEST_DIR/bb.tar" busybox:t >/dev/null
    hc network create --subnet 10.213.56.0/24 same >/dev/null
    hc container run -d --name c --network same busybox:t sleep 100 >/dev/null
    # made while the first one's bridge is up: another bridge
    hc2 network create --subnet 10.213.57.0/24 same >/dev/null
    hc2 container run -d --name c --network same busybox:t sleep 100 >/dev/null
    local ch1 ch2 ip2
    ch1=$(nat_chain 10.213.56.0/24)
    ch2=$(nat_chain 10.213.57.0/24)
    [ -n "$ch1" ] && [ -n "$ch2" ] || fail "no NAT chain: '$ch1' '$ch2'"
    [ "$ch1" != "$ch2" ] || fail "both networks \"same\" share the chain $ch1"
    # inspect shows the network's own name; the name "c" is each store's own container
    ip2=$(hc2 container inspect --format '{{.NetworkSettings.Networks.same.IPAddress}}' c)
    [[ "$ip2" == 10.213.57.* ]] || fail "store2's c: $ip2"
    run hc2 container run --rm --network same busybox:t ping -c1 -W3 c
    assert_success
    assert_contains "64 bytes from $ip2"
    run hc container run --rm --network same busybox:t ping -c1 -W3 c
    assert_success
    assert_contains "64 bytes from 10.213.56."
    # the first store's network goes: the second's rules stay whole
    hc container rm -f c >/dev/null
    hc network rm same >/dev/null
    assert_equal "$(nat_chain 10.213.56.0/24)" ""
    assert_equal "$(nat_chain 10.213.57.0/24)" "$ch2"
    iptables-save -t nat | grep -qxF -- "-A $ch2 ! -d 224.0.0.0/4 -j MASQUERADE" ||
        fail "store2's NAT rule is gone: $(iptables-save -t nat | grep -F -- "$ch2")"
    iptables-save -t filter | grep -qF -- "-A NETAVARK_FORWARD -s 10.213.57.0/24 -j ACCEPT" ||
        fail "store2's forward rule is gone"
    run hc2 container exec c ping -c1 -W3 10.213.57.1
    assert_success
    # connect and disconnect on the renamed network, from the other store's container
    hc2 network create --subnet 10.213.58.0/24 more >/dev/null
    hc2 container run -d --name d --network more busybox:t sleep 100 >/dev/null
    run hc2 network connect same d
    assert_success
    run hc2 container inspect --format '{{json .NetworkSettings.Networks}}' d
    jq -e 'has("same") and has("more") and (.same.IPAddress | startswith("10.213.57."))' <<<"$output" >/dev/null ||
        fail "networks: $output"
    run hc2 container exec d ping -c1 -W3 c
    assert_success
    assert_contains "64 bytes from $ip2"
    run hc2 network disconnect same d
    assert_success
    run hc2 container exec d ip link show eth1
    assert_failure
    run hc2 container inspect --format '{{json .NetworkSettings.Networks}}' d
    jq -e 'has("same") | not' <<<"$output" >/dev/null || fail "networks: $output"
    hc2 container rm -f c d >/dev/null
    hc2 network rm same more >/dev/null
    assert_host_clean
}

@test "a network with names leaves nothing in the runtime's root: husk list shows no entry; aardvark-dns's files are the host's" {
    require_husk
    hc network create --subnet 10.213.59.0/24 nl >/dev/null
    hc container run -d --name l1 --network nl busybox:t sleep 100 >/dev/null
    run hc container run --rm --network nl busybox:t ping -c1 -W3 l1
    assert_success
    run "$HUSK_BIN" --root "$ROOT" list -q
    assert_success
    assert_equal "$output" "$(hc container inspect --format '{{.Id}}' l1)"
    # its name entries are in the host's directory, under the network's own name and id
    local id
    id=$(hc network inspect nl | jq -r '.[0].id')
    [ -f "/run/husk/net/config/aardvark-dns/nl-${id:0:12}" ] ||
        fail "no aardvark-dns entry: $(ls /run/husk/net/config/aardvark-dns 2>&1)"
    pgrep -f -- "aardvark-dns --config /run/husk/net/config/aardvark-dns" >/dev/null || fail "no aardvark-dns runs"
    hc container rm -f l1 >/dev/null
    run "$HUSK_BIN" --root "$ROOT" list
    assert_success
    assert_equal "${#lines[@]}" 1   # the header only
    [ ! -e "/run/husk/net/config/aardvark-dns/nl-${id:0:12}" ] || fail "aardvark-dns entry left"
    # the last network with names gone (unless another's containers run now), so is aardvark-dns
    # (told so by netavark, it exits on its own: a moment later)
    local i
    if [ -z "$(ls /run/husk/net/config/aardvark-dns 2>/dev/null | grep -v '^aardvark.pid$')" ]; then
        for i in $(seq 1 50); do
            pgrep -f -- "aardvark-dns --config /run/husk/net/config/aardvark-dns" >/dev/null || break
            sleep 0.1
        done
        ! pgrep -f -- "aardvark-dns --config /run/husk/net/config/aardvark-dns" >/dev/null || fail "aardvark-dns left running"
    fi
    hc network rm nl >/dev/null
    assert_host_clean
}

# ---------------------------------------------------------------- bridges claimed host-wide

@test "two stores' networks made while no bridge is up: own bridges and subnets (claimed host-wide), one subnet per bridge" {
    require_husk
    local s2=$TEST_DIR/store2 r2=$TEST_DIR/root2
    hc2() { "$HUSK_BIN" --root "$r2" --storage-root "$s2" "$@"; }
    hc2 image import "$TEST_DIR/bb.tar" busybox:t >/dev/null
    # neither store's bridge is up when the other's network is made
    hc network create one >/dev/null
    hc2 network create two >/dev/null
    local br1 br2 sub1 sub2
    br1=$(hc network inspect one | jq -r '.[0].network_interface')
    br2=$(hc2 network inspect two | jq -r '.[0].network_interface')
    sub1=$(hc network inspect one | jq -r '.[0].subnets[0].subnet')
    sub2=$(hc2 network inspect two | jq -r '.[0].subnets[0].subnet')
    [ "$br1" != "$br2" ] || fail "both networks on bridge $br1"
    [ "$sub1" != "$sub2" ] || fail "both networks on subnet $sub1"
    # the claims name each network's store and name
    assert_equal "$(sed -n 1,2p "/run/husk/net/claims/bridge-$br1")" "$(realpath "$STORE")"$'\n'one
    assert_equal "$(sed -n 1,2p "/run/husk/net/claims/bridge-$br2")" "$(realpath "$s2")"$'\n'two
    # containers on both at once: each on its own bridge, with one subnet
    hc container run -d --name c1 --network one busybox:t sleep 100 >/dev/null &
    hc2 container run -d --name c2 --network two busybox:t sleep 100 >/dev/null &
    wait
    run ip -o -4 addr show dev "$br1"
    assert_equal "${#lines[@]}" 1
    assert_contains "${sub1%.0/24}.1/24"
    run ip -o -4 addr show dev "$br2"
    assert_equal "${#lines[@]}" 1
    assert_contains "${sub2%.0/24}.1/24"
    run hc container exec c1 ping -c1 -W3 "${sub1%.0/24}.1"
    assert_success
    run hc2 container exec c2 ping -c1 -W3 "${sub2%.0/24}.1"
    assert_success
    hc container rm -f c1 >/dev/null
    hc2 container rm -f c2 >/dev/null
    hc network rm one >/dev/null
    hc2 network rm two >/dev/null
    [ ! -e "/run/husk/net/claims/bridge-$br1" ] && [ ! -e "/run/husk/net/claims/bridge-$br2" ] ||
        fail "claims left: $(ls /run/husk/net/claims)"
    # the two starts at once started one aardvark-dns, which exits with the last
    # name (unless another's containers have names now)
    local i
    if [ -z "$(ls /run/husk/net/config/aardvark-dns 2>/dev/null | grep -v '^aardvark.pid$')" ]; then
        for i in $(seq 1 50); do
            pgrep -f -- "aardvark-dns --config /run/husk/net/config/aardvark-dns" >/dev/null || break
            sleep 0.1
        done
        ! pgrep -f -- "aardvark-dns --config /run/husk/net/config/aardvark-dns" >/dev/null || fail "aardvark-dns left running"
    fi
    assert_host_clean
}

@test "a bridge claim of a deleted store is stale: its bridge and subnet are taken over" {
    require_husk
    local s2=$TEST_DIR/store2 r2=$TEST_DIR/root2
    hc2() { "$HUSK_BIN" --root "$r2" --storage-root "$s2" "$@"; }
    hc2 network create --subnet 10.213.64.0/24 gone >/dev/null
    local br
    br=$(hc2 network inspect gone | jq -r '.[0].network_interface')
    [ -e "/run/husk/net/claims/bridge-$br" ] || fail "no claim of $br"
    # the whole store deleted, its network never removed
    rm -rf "$s2" "$r2"
    run hc network create --subnet 10.213.64.0/24 taker
    assert_success
    assert_equal "$(hc network inspect taker | jq -r '.[0].network_interface')" "$br"
    assert_equal "$(sed -n 1,2p "/run/husk/net/claims/bridge-$br")" "$(realpath "$STORE")"$'\n'taker
    run hc container run --rm --network taker busybox:t ping -c1 -W3 10.213.64.1
    assert_success
    hc network rm taker >/dev/null
    [ ! -e "/run/husk/net/claims/bridge-$br" ] || fail "claim left: $(cat "/run/husk/net/claims/bridge-$br")"
    assert_host_clean
}

@test "a start on a bridge another store's network holds is refused with one line; after a reboot's loss of claims the first start claims again" {
    require_husk
    local s2=$TEST_DIR/store2 r2=$TEST_DIR/root2
    hc2() { "$HUSK_BIN" --root "$r2" --storage-root "$s2" "$@"; }
    hc2 image import "$TEST_DIR/bb.tar" busybox:t >/dev/null
    hc network create --subnet 10.213.65.0/24 a >/dev/null
    hc2 network create --subnet 10.213.66.0/24 b >/dev/null
    local br
    br=$(hc network inspect a | jq -r '.[0].network_interface')
    # /run is a tmpfs: after a reboot no claim is left, the definitions are
    rm -f /run/husk/net/claims/bridge-*"$br"
    hc container run -d --name ca --network a busybox:t sleep 100 >/dev/null
    assert_equal "$(sed -n 1,2p "/run/husk/net/claims/bridge-$br")" "$(realpath "$STORE")"$'\n'a
    # store2's network edited onto a's bridge: its start is refused, nothing made
    jq --arg b "$br" '.network_interface = $b' "$s2/networks/b.json" >"$TEST_DIR/b.json"
    cp "$TEST_DIR/b.json" "$s2/networks/b.json"
    local links_before
    links_before=$(host_links)
    run hc2 container run -d --name cb --network b busybox:t sleep 100
    assert_status 125
    assert_equal "${#lines[@]}" 1
    assert_contains "network \"b\": bridge $br is network \"a\"'s of the store $(realpath "$STORE")"
    assert_equal "$(host_links)" "$links_before"
    run ip -o -4 addr show dev "$br"
    assert_equal "${#lines[@]}" 1
    assert_contains "10.213.65.1/24"
    [ -z "$(find "$s2/networks/leases" -type f ! -name .lock 2>/dev/null)" ] || fail "store2's lease left"
    assert_equal "$(sed -n 1,2p "/run/husk/net/claims/bridge-$br")" "$(realpath "$STORE")"$'\n'a
    hc2 container rm -f cb >/dev/null 2>&1 || true
    hc container rm -f ca >/dev/null
    hc network rm a >/dev/null
    hc2 network rm b >/dev/null
    assert_host_clean
}
