#!/usr/bin/env bash
# make demo: nsflow on one end of a veth pair it makes, traffic from the other end, each end
# in a namespace of its own, flows printed on the terminal. Touches no existing interface, and
# has a pin dir and control socket of its own, so a running agent is left alone.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "make demo needs root (BPF, namespaces)"; exit 1; }
bin=${NSFLOW_BIN:-build/nsflow}
ns=nsdemo$$
probe=nsprobe$$
pins=/sys/fs/bpf/nsflow-demo$$
sock=/run/nsflow/demo$$.sock
agent=
cleanup() {
	if [ -n "$agent" ] && kill "$agent" 2>/dev/null; then
		wait "$agent" 2>/dev/null || true
	fi
	ip netns del "$ns" 2>/dev/null || true
	ip netns del "$probe" 2>/dev/null || true
	rm -rf "$pins"
}
trap cleanup EXIT
# nsenter --net, not `ip netns exec`: that one gives the agent a mount namespace of its own,
# where its pins would die with it
in_ns() {
	local n=$1
	shift
	nsenter --net="/run/netns/$n" "$@"
}
ctl() { "$bin" "$@" --control-socket "$sock"; }

ip netns add "$ns"
ip netns add "$probe"
ip -n "$probe" link add nsdemo0 type veth peer name nsdemo1 netns "$ns"
ip -n "$probe" addr add 192.0.2.1/24 dev nsdemo0
ip -n "$probe" link set nsdemo0 up
ip -n "$ns" addr add 192.0.2.2/24 dev nsdemo1
ip -n "$ns" link set nsdemo1 up
# nsenter execs the agent: $! is its pid
nsenter --net="/run/netns/$probe" "$bin" run -i nsdemo0 --poll-interval 500 \
	--inactive-timeout 5 --pin-dir "$pins" --control-socket "$sock" &
agent=$!
# ready once it answers on its control socket (attached, maps bound)
for _ in $(seq 150); do
	ctl show interfaces >/dev/null 2>&1 && break
	kill -0 "$agent" 2>/dev/null || { echo "make demo: nsflow did not start"; exit 1; }
	sleep 0.1
done
ctl show interfaces >/dev/null || { echo "make demo: nsflow does not answer"; exit 1; }
echo "== sending 60 UDP datagrams (20 to each of 3 ports) from $ns"
for port in 5001 5002 5003; do
	in_ns "$ns" bash -c "for i in \$(seq 20); do echo nsflow-demo > /dev/udp/192.0.2.1/$port; done"
done
# the next poll (500 ms) brings them into the cache
for _ in $(seq 40); do
	ctl show cache --proto udp 2>/dev/null | grep -q '^[1-9][0-9]* flows* in the cache' && break
	sleep 0.1
done
echo "== nsflow show cache"
ctl show cache
echo "== stopping: every flow is exported as forced end"
kill -TERM "$agent"
wait "$agent" || true
agent=
