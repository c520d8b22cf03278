#!/usr/bin/env bats
# container-network.bats — `husk network` and `container run --network/-p/-P/--ip/
# --dns/--add-host` over netavark and aardvark-dns. All traffic stays on this
# machine: the tests' own networks (10.213.x.0/24) and 127.0.0.1; the only names
# looked up are containers' (aardvark-dns would forward any other name upstream).
# Each behaviour is observed from inside a container and from the host (ip link,
# iptables-save, the netns and lease files), before and after.

load container

NETAVARK=/usr/lib/podman/netavark

setup() {
    container_setup
    [ -x "$NETAVARK" ] && [ -x /usr/lib/podman/aardvark-dns ] || skip "netavark and aardvark-dns not installed"
    command -v iptables-save >/dev/null || skip "no iptables-save"
    HOST_LINKS_BEFORE=$(host_links)
    HOST_RULES_BEFORE=$(host_rules)
}

teardown() {
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
        grep -E '10\.213\.|husk[0-9]|NETAVARK-[0-9A-F]{8,}|NETAVARK-DN-' | sort || true
}

# nothing of any network of the test left on the host
assert_host_clean() {
    assert_equal "$(host_links)" "$HOST_LINKS_BEFORE"
    assert_equal "$(host_rules)" "$HOST_RULES_BEFORE"
    [ -z "$(ls "$ROOT/netns" 2>/dev/null)" ] || fail "netns left: $(ls "$ROOT/netns")"
    ! grep -q "$ROOT/netns" /proc/self/mountinfo || fail "netns mount left"
    [ -z "$(find "$STORE/networks/leases" -type f 2>/dev/null)" ] || fail "leases left: $(find "$STORE/networks/leases" -type f)"
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
    run hc network ls -q
    assert_equal "$output" "tn"
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
    assert_equal "$output" ""
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
    [ -n "$(ls "$ROOT/netns")" ] || fail "no netns while it runs"
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

@test "--ip, --hostname, --add-host, --dns; --network none, host, container:ID; the default network from engine.json" {
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
    # none: only lo
    run hc container run --rm --network none busybox:t sh -c 'ls /sys/class/net'
    assert_equal "$output" "lo"
    # host: the host's interfaces
    run hc container run --rm --network host busybox:t sh -c 'ls /sys/class/net | sort'
    assert_equal "$output" "$(ls /sys/class/net | sort)"
    run hc container run --rm --network host -p 80:80 busybox:t true
    assert_status 125
    # the default network ("bridge"), its subnet from engine.json
    printf '{"default-network-subnet": "10.213.50.0/24"}\n' >"$TEST_DIR/engine.json"
    HUSK_ENGINE_CONFIG=$TEST_DIR/engine.json run hc container run --rm --network bridge busybox:t ip -o -4 addr show eth0
    assert_success
    assert_contains "inet 10.213.50."
    run hc network ls
    assert_contains "10.213.50.0/24"
    hc container rm -f fixed >/dev/null
    hc network rm ni husk >/dev/null
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
    [ -z "$(ls "$ROOT/netns" 2>/dev/null)" ] || fail "netns left after the monitor died"
    # started again, it gets its network again
    run hc container start km
    assert_success
    run hc container exec km ip -o -4 addr show eth0
    assert_contains "10.213.51."
    hc container rm -f km >/dev/null
    hc network rm nk >/dev/null
    assert_host_clean
}

@test "run killed at each network step: rm -f leaves no veth, rule, netns or lease" {
    require_husk
    local points p n=0
    points=$(HUSK_TEST_KILL_AT=list "$HUSK_BIN" --version 2>/dev/null | awk -F'\t' 'NF == 3 && /^network-/ { print $1 }')
    [ -n "$points" ] || skip "no kill points in $HUSK (configure with -Dtest_hooks=true)"
    hc network create --subnet 10.213.52.0/24 nc1 >/dev/null
    for p in $points; do
        n=$((n + 1))
        run env HUSK_TEST_KILL_AT="$p" "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" \
            container run -d --name "k$n" --network nc1 -p 127.0.0.1::80 busybox:t sleep 100
        assert_status 137
        run hc container rm -f "k$n"
        assert_success
        [ -z "$(ls "$ROOT/netns" 2>/dev/null)" ] || fail "$p: netns left"
    done
    hc network rm nc1 >/dev/null
    assert_host_clean
}
