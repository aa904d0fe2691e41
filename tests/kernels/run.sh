#!/usr/bin/env bash
# run.sh [KERNEL...]: the kernel tier (`make test-kernels`). Boots each kernel (a .deb, a
# Debian package name, or a pattern of names of which the apt archive's newest is taken;
# default: $KERNELS, else the newest Debian 6.1) in qemu on what `make` built here, runs
# checks.sh there, and prints one row per kernel: whether the datapath loaded, verifier
# instructions per program against the kernel's limit, tests passed and failed, seconds.
# Run from the top directory, as root. Kernels are kept in build/kernels/, each run's logs
# in build/kernels/results/<kernel>/. CHECKS picks checks.sh's checks (default: all of them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=$PWD/build/kernels
set -f # patterns are for the apt archive, not for file names here
# shellcheck disable=SC2206 # a list, split on blanks
kernels=(${*:-${KERNELS:-linux-image-6.1.0-*-amd64}})
set +f
t_start=$(date +%s)
# what checks.sh reads, handed into the guest
export VM_ENV=${VM_ENV:-CI NSFLOW_PCAPS KERNEL_PCAPS KERNEL_LIVE_FRAMES_DIV}

for k in "${kernels[@]}"; do
	if [[ $k != *.deb ]]; then
		# "newest" is the archive's: ask it once before choosing
		echo "kernels: apt-get update" >&2
		mkdir -p "$cache"
		apt-get -q -o DPkg::Lock::Timeout=300 update >"$cache/apt-update.log" 2>&1 ||
			echo "kernels: apt-get update failed (see $cache/apt-update.log);" \
				"choosing from the package lists there are" >&2
		break
	fi
done

rows=()
fails=()
status=0
for k in "${kernels[@]}"; do
	t0=$(date +%s)
	if ! kdir=$("$here/prepare.sh" "$k" "$cache"); then
		rows+=("$k|no|-|0|1|$(($(date +%s) - t0))")
		fails+=("$k: could not prepare the kernel")
		status=1
		continue
	fi
	kver=$(cat "$kdir/kver")
	out=$cache/results/$kver
	rm -rf "$out"
	mkdir -p "$out"
	rc=0
	# shellcheck disable=SC2086 # CHECKS is a list
	"$here/vm.sh" "$kdir" "$out" "$here/checks.sh" "$out" ${CHECKS:-} || rc=$?
	secs=$(($(date +%s) - t0))
	[ $rc = 0 ] || status=1
	res=$out/results.txt
	if [ ! -s "$res" ]; then
		rows+=("$kver|?|-|0|1|$secs")
		fails+=("$kver: the VM gave no results (exit $rc; console: $out/console.log)")
		continue
	fi
	loaded=$(awk '$2 == "verifier" { print $3 == "PASS" ? "yes" : "NO" }' "$res")
	insns=$(awk '$1 == "insns" { printf "%s%s=%d/%d", n++ ? " " : "", $2, $3, $4 }' "$res")
	passed=$(awk '$1 == "check" { s += $4 } END { print s + 0 }' "$res")
	failed=$(awk '$1 == "check" { s += $5 } END { print s + 0 }' "$res")
	# a check the guest never got to counts as failed
	[ $rc = 0 ] || [ "$failed" != 0 ] || failed=1
	rows+=("$kver|${loaded:--}|$insns|$passed|$failed|$secs")
	while read -r _ name _ _ _ _ note; do
		fails+=("$kver $name: $note (log: $out/$name.log)")
	done < <(grep '^check [a-z]* FAIL ' "$res")
done

# the table: the programs' columns in the order the first kernel listed them
progs=$(for r in "${rows[@]}"; do
	IFS='|' read -r _ _ insns _ <<<"$r"
	[ "$insns" != - ] || continue
	for i in $insns; do echo "${i%%=*}"; done
done | awk '!seen[$0]++')
echo
printf '%-18s %-7s' kernel loaded
for p in $progs; do printf ' %-20s' "${p#nsflow_}"; done
printf ' %-9s %6s %6s %7s\n' limit passed failed seconds
for r in "${rows[@]}"; do
	IFS='|' read -r kver loaded insns passed failed secs <<<"$r"
	printf '%-18s %-7s' "$kver" "$loaded"
	limit=-
	for p in $progs; do
		cell=-
		for i in $insns; do
			[ "${i%%=*}" = "$p" ] || continue
			n=${i#*=} limit=${n#*/} n=${n%/*}
			cell="$n ($((n * 100 / limit))%)"
		done
		printf ' %-20s' "$cell"
	done
	printf ' %-9s %6s %6s %7s\n' "$limit" "$passed" "$failed" "$secs"
done
echo "verifier instructions per program, of the kernel's limit; a program above 80% fails"
for f in "${fails[@]}"; do echo "failed: $f"; done
echo "kernel tier: ${#rows[@]} kernel(s) in $(($(date +%s) - t_start)) s," \
	"$([ $status = 0 ] && echo all passed || echo SOME FAILED) (logs in $cache/results/)"
exit $status
