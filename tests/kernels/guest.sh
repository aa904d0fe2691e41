#!/usr/bin/env bash
# PID 1 of the guest, on this machine's userland: mounts what BPF and network namespaces need,
# loads the modules tc and veth pairs need, runs VM_RESULTS/cmd.sh as root, leaves its exit
# status in VM_RESULTS/rc and its output in VM_RESULTS/output.log, and powers off.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
export TERM=dumb
power_off() {
	sync
	umount "$VM_RESULTS" 2>/dev/null
	busybox poweroff -f
	echo o >/proc/sysrq-trigger
}
trap power_off EXIT

mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /dev/pts /dev/shm /run/lock /run/netns
mount -t devpts -o ptmxmode=666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t bpf -o mode=700 bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
kver=$(uname -r)
# the kernel's modules, where modprobe looks for them (the host has none of this kernel)
mkdir -p "/lib/modules/$kver"
mount --bind "$VM_KDIR/root/lib/modules/$kver" "/lib/modules/$kver"
# the kernel asks for qdisc and filter modules by itself (request_module): busybox modprobe
# reads the modules.dep prepare.sh made
ln -sf /bin/busybox /run/modprobe
echo /run/modprobe >/proc/sys/kernel/modprobe
for m in $VM_MODULES; do /run/modprobe "$m" || echo "guest: modprobe $m failed"; done
ip link set lo up
hostname nsflow-vm
ulimit -l unlimited
echo "guest: $kver up after $(cut -d' ' -f1 /proc/uptime) s"
bash "$VM_RESULTS/cmd.sh" </dev/null 2>&1 | tee "$VM_RESULTS/output.log"
echo "${PIPESTATUS[0]}" >"$VM_RESULTS/rc"
echo "guest: done after $(cut -d' ' -f1 /proc/uptime) s, exit $(cat "$VM_RESULTS/rc")"
