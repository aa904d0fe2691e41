#!/usr/bin/env bash
# prepare.sh KERNEL CACHE_DIR: makes a Debian kernel bootable by vm.sh and prints its directory.
# KERNEL is a .deb, a package name (linux-image-6.1.0-57-amd64) or a pattern of names, of which
# the newest in the apt archive is taken (linux-image-6.1.0-*-amd64; `*` stands for one
# dash-free part of the name, so -cloud- and -rt- flavours do not match). The package comes from
# `apt-get download` like any other dependency; it is unpacked once per version into
# CACHE_DIR/<package>_<version>/ with a busybox initramfs that mounts this machine's root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
spec=$1 cache=$2
mkdir -p "$cache/debs"
cache=$(cd "$cache" && pwd)

apt_quiet() { apt-get -q -o DPkg::Lock::Timeout=300 "$@" >"$cache/apt.log" 2>&1; }

if [[ $spec == *.deb ]]; then
	deb=$(realpath "$spec")
else
	# the archive's idea of "newest" moves on: ask it, once per make, before choosing
	if [ -z "${NSFLOW_APT_UPDATED:-}" ]; then
		apt_quiet update || echo "prepare: apt-get update failed (see $cache/apt.log);" \
			"using the package lists there are" >&2
	fi
	re=^$(sed 's/[.+]/\\&/g; s/\*/[^-]*/g' <<<"$spec")\$
	pkg=$(apt-cache search --names-only "$re" | awk '{ print $1 }' | grep -E "$re" |
		sort -V | tail -1 || true)
	if [ -z "$pkg" ]; then
		echo "prepare: no package in the apt archive matches $spec" >&2
		exit 1
	fi
	ver=$(apt-cache show --no-all-versions "$pkg" | sed -n 's/^Version: //p' | head -1)
	deb=$(ls "$cache/debs/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -1 || true)
	if [ -z "$deb" ]; then
		echo "prepare: apt-get download $pkg ($ver)" >&2
		if ! (cd "$cache/debs" && apt_quiet download "$pkg=$ver"); then
			echo "prepare: apt-get download $pkg failed:" >&2
			cat "$cache/apt.log" >&2
			exit 1
		fi
		deb=$(ls "$cache/debs/${pkg}_${ver//:/%3a}_"*.deb | head -1)
	fi
fi

kdir=$cache/$(basename "$deb" .deb)
if [ ! -e "$kdir/.ready" ]; then
	echo "prepare: unpacking $(basename "$deb")" >&2
	rm -rf "$kdir"
	mkdir -p "$kdir"
	dpkg-deb -x "$deb" "$kdir/root"
	kver=$(ls "$kdir/root/lib/modules")
	# a linux-image package leaves modules.dep to its postinst: make it here, for busybox
	# modprobe in the initramfs and in the guest
	busybox depmod -b "$kdir/root" "$kver"
	echo "$kver" >"$kdir/kver"
	"$here/initramfs.sh" "$kdir/root/lib/modules/$kver" "$here/init.sh" "$kdir/initrd.gz" >&2
	touch "$kdir/.ready"
fi
echo "$kdir"
