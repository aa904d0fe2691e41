#!/usr/bin/env bash
# initramfs.sh MODDIR INIT OUT: a gzip'd cpio with busybox-static, INIT as /init, and the
# modules (with what they depend on, from MODDIR/modules.dep) a Debian kernel needs to mount
# a virtio 9p share and an overlay on it, listed in load order in /modules.list.
set -euo pipefail
moddir=$1 init=$2 out=$3
wanted="virtio_pci 9pnet_virtio 9p overlay"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp"/{bin,dev,proc,sys,lower,upper,newroot,results} "$tmp/modules"
cp "$(command -v busybox)" "$tmp/bin/busybox"
"$tmp/bin/busybox" --list | grep -vx busybox | while read -r applet; do
	ln -s busybox "$tmp/bin/$applet"
done
cp "$init" "$tmp/init"
chmod 755 "$tmp/init"

declare -A listed
order=()
# depth first, so that a module comes after everything it needs
add_module() {
	local name=$1 line dep
	[ -z "${listed[$name]:-}" ] || return 0
	listed[$name]=1
	line=$(grep -E "(^|/)${name//_/[_-]}\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | head -1) || {
		echo "initramfs: $name is not a module of this kernel (built in?)" >&2
		return 0
	}
	for dep in ${line#*:}; do
		dep=${dep##*/}
		add_module "${dep%%.ko*}"
	done
	order+=("${line%%:*}")
}
for m in $wanted; do add_module "$m"; done
for path in "${order[@]}"; do
	cp "$moddir/$path" "$tmp/modules/"
	echo "${path##*/}" >>"$tmp/modules.list"
done
(cd "$tmp" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$out"
echo "initramfs: $(basename "$out"), $(($(wc -c <"$out") / 1024)) KiB, modules:" \
	"$(tr '\n' ' ' <"$tmp/modules.list")"
