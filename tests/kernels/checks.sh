#!/usr/bin/env bash
# checks.sh RESULTS_DIR [CHECK...]: the kernel tier's checks, run as root from the top directory
# inside a VM of the kernel under test (vm.sh), on what `make` built on the host. Checks:
#   btf        the kernel has BTF, which nsflow needs for CO-RE
#   verifier   the datapath loads; verifier instructions per program (fails above 80%)
#   parse vxlan malformed epoch pcaps   the datapath tests (BPF_PROG_TEST_RUN); pcaps on the
#              captures in KERNEL_PCAPS only ("all": every capture)
#   agent      `nsflow run` on a veth pair in namespaces: live frames (their count divided by
#              KERNEL_LIVE_FRAMES_DIV), exact totals per flow, across kill -9 and restarts;
#              bad settings and a kernel without BTF refused before anything is attached;
#              show and reset over the control socket
#   vrf        a veth enslaved to a VRF device, and moved to another while the agent runs: its
#              records carry the VRF id (table), name and RD (tests/kernels/test_vrf.c; the
#              host has no CONFIG_NET_VRF, so this runs only here)
#   coexist    an XDP program loaded first with xdp-loader keeps running beside nsflow and
#              stays when nsflow detaches; foreign tc filters too
# Each check writes RESULTS_DIR/<check>.log and a line to RESULTS_DIR/results.txt:
#   check NAME PASS|FAIL TESTS_PASSED TESTS_FAILED SECONDS NOTE
# and the verifier's counts as "insns PROGRAM N LIMIT". Exit status 1 when a check failed.
set -u
results=$1
shift
checks=${*:-btf verifier parse vxlan malformed epoch pcaps agent vrf coexist}
pcap_src=${NSFLOW_PCAPS:-../shared/pcaps}
# captures that give the datapath TCP, UDP/ESP, ICMPv6, an SRH, MPLS stacks, fragments and a
# packet to refuse: tshark and a load of the object per capture cost ~15 s each under emulation
KERNEL_PCAPS=${KERNEL_PCAPS:-dns_tcp.pcap espudp1.pcap icmpv6.pcap ipv6-srh-ext-header.pcap
	mpls-traceroute.pcap ipv6_frag6_negative_len.pcap ipv6-bad-version.pcap}
# the agent tests send a tenth of their live frames: at full count they outlast their timeouts
# under emulation
KERNEL_LIVE_FRAMES_DIV=${KERNEL_LIVE_FRAMES_DIV:-10}
jobs=$(nproc)
failed=0
: >"$results/results.txt"

# record NAME PASS|FAIL PASSED FAILED T0 NOTE
record() {
	local secs=$(($(date +%s) - $5))
	echo "check $1 $2 $3 $4 $secs ${6:-}" >>"$results/results.txt"
	printf 'check: %-10s %s  %3s passed %3s failed %5s s  %s\n' "$1" "$2" "$3" "$4" "$secs" \
		"${6:-}"
	[ "$2" = PASS ] || failed=$((failed + 1))
}

# criterion NAME BINARY [ARG...]: runs one criterion binary into NAME.log and sets c_t0, c_rc,
# c_pass and c_fail from its synthesis line; criterion_record then records it with a note
criterion() {
	local name=$1 bin=$2 synth tested crash
	shift 2
	c_t0=$(date +%s)
	"$bin" --verbose "$@" >"$results/$name.log" 2>&1
	c_rc=$?
	synth=$(grep -a 'Synthesis:' "$results/$name.log" | tail -1)
	tested=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$synth")
	c_pass=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$synth")
	c_fail=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$synth")
	crash=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$synth")
	c_pass=${c_pass:-0} c_fail=$((${c_fail:-0} + ${crash:-0}))
	# a binary that died before its synthesis, or ran nothing, failed whatever it counted
	if [ $c_rc != 0 ] || [ "${tested:-0}" = 0 ]; then
		[ $c_fail -gt 0 ] || c_fail=1
	fi
}

criterion_record() { # NAME NOTE
	if [ $c_rc = 0 ] && [ $c_fail = 0 ]; then
		record "$1" PASS "$c_pass" 0 "$c_t0" "$2"
	else
		record "$1" FAIL "$c_pass" "$c_fail" "$c_t0" "exit $c_rc; $(grep -a -m1 -E \
			'Assertion|FAIL|rror' "$results/$1.log" | cut -c1-120)"
	fi
}

btf() {
	local t0=$(date +%s)
	if [ -r /sys/kernel/btf/vmlinux ]; then
		record btf PASS 1 0 "$t0" "$(($(stat -c %s /sys/kernel/btf/vmlinux) / 1024)) KiB"
	else
		record btf FAIL 0 1 "$t0" \
			"no /sys/kernel/btf/vmlinux: nsflow needs CONFIG_DEBUG_INFO_BTF=y"
	fi
}

verifier() {
	local t0=$(date +%s) rc why
	build/tests/kernels/verifier_insns >"$results/verifier.log" 2>&1
	rc=$?
	sed -n 's/^verifier: \([a-z_]*\) \([0-9]*\) of \([0-9]*\) .*/insns \1 \2 \3/p' \
		"$results/verifier.log" >>"$results/results.txt"
	if [ $rc = 0 ]; then
		record verifier PASS 1 0 "$t0" "loaded"
	else
		why=$(grep -v '^verifier: nsflow_.* of ' "$results/verifier.log" | head -1)
		record verifier FAIL 0 1 "$t0" "${why:0:100}"
	fi
}

parse() {
	criterion parse build/tests/datapath/test_parse --jobs "$jobs"
	criterion_record parse ""
}

vxlan() {
	criterion vxlan build/tests/datapath/test_vxlan --jobs "$jobs"
	criterion_record vxlan ""
}

malformed() {
	criterion malformed build/tests/datapath/test_malformed --jobs "$jobs"
	criterion_record malformed ""
}

epoch() {
	criterion epoch build/tests/datapath/test_epoch --jobs 1
	criterion_record epoch ""
}

pcaps() {
	local all=0 n f
	for f in "$pcap_src"/*.pcap; do [ ! -e "$f" ] || all=$((all + 1)); done
	n=$all
	[ "$KERNEL_PCAPS" = all ] || n=$(wc -w <<<"$KERNEL_PCAPS")
	NSFLOW_PCAPS=$pcap_src NSFLOW_PCAPS_ONLY=$(echo ${KERNEL_PCAPS/#all/}) \
		criterion pcaps build/tests/datapath/test_pcaps --jobs 1
	criterion_record pcaps "$n of $all captures"
}

# end to end: the tests make their own namespaces and veth pairs, all of them inside the VM
agent() {
	local tests=live_frames_exact_totals
	tests+="|kill9_and_restart_lose_nothing_count_nothing_twice"
	tests+="|bad_configuration_is_refused_before_attaching"
	tests+="|show_and_reset_over_the_control_socket"
	NSFLOW_LIVE_FRAMES_DIV=$KERNEL_LIVE_FRAMES_DIV criterion agent build/tests/e2e/test_run \
		--jobs 1 --filter "run/@($tests)"
	criterion_record agent \
		"live frames/$KERNEL_LIVE_FRAMES_DIV exact per flow, across kill -9; show/reset"
}

vrf() {
	criterion vrf build/tests/kernels/test_vrf --jobs 1
	criterion_record vrf "enslaved veth, moved while running: VRF id, name, RD"
}

coexist() {
	local note="beside an xdp-loader program"
	criterion coexist build/tests/e2e/test_run --jobs 1 \
		--filter 'run/other_xdp_programs_and_tc_filters_are_left_alone'
	if grep -q 'runs in the libxdp dispatcher' "$results/coexist.log"; then
		note="$note, in its libxdp dispatcher"
	elif grep -q 'meters ingress at TC' "$results/coexist.log"; then
		note="$note; no dispatcher here: ingress at TC"
	fi
	criterion_record coexist "$note"
}

for c in $checks; do
	case $c in
	btf | verifier | parse | vxlan | malformed | pcaps | epoch | agent | vrf | coexist) $c ;;
	*) record "$c" FAIL 0 1 "$(date +%s)" "no such check" ;;
	esac
done
exit $((failed > 0))
