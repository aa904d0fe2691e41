#!/usr/bin/env bash
# make demo: nsflow on one end of a veth pair it makes, traffic from the other end, each end
# in a namespace of its own, flows printed on the terminal. Touches no existing interface.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "make demo needs root (BPF, namespaces)"; exit 1; }
ns=nsdemo$$
probe=nsprobe$$
agent=
cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	ip netns del "$probe" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns"
ip netns add "$probe"
ip -n "$probe" link add nsdemo0 type veth peer name nsdemo1 netns "$ns"
ip -n "$probe" addr add 192.0.2.1/24 dev nsdemo0
ip -n "$probe" link set nsdemo0 up
ip -n "$ns" addr add 192.0.2.2/24 dev nsdemo1
ip -n "$ns" link set nsdemo1 up
ip netns exec "$probe" build/nsflow run -i nsdemo0 --poll-interval 500 --inactive-timeout 5 &
agent=$!
sleep 1
echo "== sending 60 UDP datagrams (each from a new source port: 60 flows) from $ns"
for port in 5001 5002 5003; do
	ip netns exec "$ns" bash -c "for i in \$(seq 20); do echo nsflow-demo > /dev/udp/192.0.2.1/$port; done" || true
done
sleep 1
echo "== nsflow show cache"
build/nsflow show cache
echo "== stopping: every flow is exported as forced end"
kill -TERM "$agent"
wait "$agent" || true
