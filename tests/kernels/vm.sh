#!/usr/bin/env bash
# vm.sh KERNEL_DIR RESULTS_DIR CMD [ARG...]: boots the kernel prepare.sh made in qemu, on this
# machine's root filesystem (read-only 9p, tmpfs overlay), and runs CMD as root there in the
# current directory. RESULTS_DIR is shared read-write at the same path; CMD's output ends up
# in RESULTS_DIR/output.log, the serial console in RESULTS_DIR/console.log. The VM has no
# network device: whatever CMD does to interfaces stays inside it.
# Exit status: CMD's, or 125 when the guest left none (boot failure, panic, VM_TIMEOUT).
# Environment: VM_TIMEOUT (seconds, 1200), VM_MEM (2G), VM_SMP (nproc, at most 4),
# VM_ACCEL (auto: KVM only when the CPU has vmx or svm, else TCG; kvm; tcg),
# VM_MODULES (modules loaded before CMD), VM_ENV (variables handed to CMD).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 3 ] || { sed -n '2,/^set/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 2; }
kdir=$(realpath "$1") results=$(realpath -m "$2")
shift 2
mkdir -p "$results"
rm -f "$results"/{rc,output.log,console.log,cmd.sh,vm.env}

{
	for v in ${VM_ENV-CI NSFLOW_PCAPS}; do
		[ -z "${!v+set}" ] || printf 'export %s=%q\n' "$v" "${!v}"
	done
	printf 'cd %q || exit 126\n' "$PWD"
	printf '%q ' "$@"
	echo
} >"$results/cmd.sh"
{
	printf 'VM_RESULTS=%q\nVM_GUEST=%q\nVM_KDIR=%q\n' "$results" "$here/guest.sh" "$kdir"
	printf 'VM_MODULES=%q\n' "${VM_MODULES-veth sch_ingress cls_bpf act_bpf}"
	echo 'export VM_RESULTS VM_GUEST VM_KDIR VM_MODULES'
} >"$results/vm.env"

accel=${VM_ACCEL:-auto}
if [ "$accel" = auto ]; then
	# a /dev/kvm without vmx/svm (a paravirtual one in a nested sandbox) cannot run a stock
	# kernel at a usable speed; emulation can
	if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then accel=kvm; else accel=tcg; fi
fi
case $accel in
kvm) accel_args=(-accel kvm -cpu host) ;;
tcg) accel_args=(-accel tcg,thread=multi,tb-size=512 -cpu max) ;;
*) echo "vm.sh: VM_ACCEL is kvm, tcg or auto, not $accel" >&2; exit 2 ;;
esac
smp=${VM_SMP:-$(nproc)}
[ "$smp" -le 4 ] || smp=4
echo "vm: booting $(cat "$kdir/kver") ($accel, $smp CPUs)" >&2

# the serial console goes to a file; lines of the guest's own ("guest:", "check:") are shown
: >"$results/console.log"
timeout -k 10 "${VM_TIMEOUT:-1200}" qemu-system-x86_64 \
	"${accel_args[@]}" -m "${VM_MEM:-2G}" -smp "$smp" \
	-kernel "$kdir/root/boot/vmlinuz-$(cat "$kdir/kver")" -initrd "$kdir/initrd.gz" \
	-append "console=ttyS0 panic=-1 loglevel=4 rdinit=/init" \
	-nodefaults -display none -no-reboot -nic none \
	-chardev "file,id=console,path=$results/console.log" -serial chardev:console \
	-virtfs local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$results,mount_tag=results,security_model=none,multidevs=remap" \
	-device virtio-rng-pci </dev/null &
vm_pid=$!
# no VM outlives this script, however it ends
trap 'kill -TERM $vm_pid 2>/dev/null; wait $vm_pid 2>/dev/null' EXIT
trap 'exit 130' INT TERM
tail -n +1 -F --pid=$vm_pid "$results/console.log" 2>/dev/null |
	sed -un 's/\r$//; /^\(guest\|check\|init\):/p' >&2 &
set +e
wait $vm_pid
qemu_rc=$?
set -e
trap - EXIT
wait
if [ ! -s "$results/rc" ]; then
	why="qemu exited $qemu_rc"
	[ $qemu_rc != 124 ] || why="no result within ${VM_TIMEOUT:-1200} s"
	echo "vm: the guest left no exit status ($why); the console:" >&2
	tail -20 "$results/console.log" >&2
	exit 125
fi
exit "$(cat "$results/rc")"
