#!/bin/sh
# /init of the initramfs (busybox). This machine's root filesystem comes over 9p (tag "root",
# read-only) under a tmpfs overlay: the guest runs the host's binaries and build/ as they are
# and may write anywhere, and all it writes is gone at power-off. The results share (tag
# "results") is mounted at its host path, which its vm.env names, and guest.sh takes over.
PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
halt() {
	echo "init: $*"
	poweroff -f
}
while read -r m; do
	insmod "/modules/$m" || echo "init: insmod $m failed"
done </modules.list
opts=trans=virtio,version=9p2000.L,msize=524288
# virtio devices show up asynchronously after their module loads
tries=0
until mount -t 9p -o "$opts,ro,cache=loose" root /lower 2>/dev/null; do
	tries=$((tries + 1))
	[ $tries -lt 100 ] || halt "no 9p share \"root\""
	sleep 0.1
done
mount -t 9p -o "$opts" results /results || halt "no 9p share \"results\""
. /results/vm.env
mount -t tmpfs -o mode=755 tmpfs /upper
mkdir -p /upper/data /upper/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work /newroot ||
	halt "cannot put an overlay on the 9p root"
mkdir -p "/newroot$VM_RESULTS"
mount --move /results "/newroot$VM_RESULTS"
for fs in proc sys dev; do mount --move "/$fs" "/newroot/$fs"; done
exec switch_root /newroot /bin/bash "$VM_GUEST"
