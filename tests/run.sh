#!/usr/bin/env bash
# Runs test binaries tier by tier: unit [-- datapath [-- end-to-end]]. Datapath and end-to-end
# tests need root; they are never skipped under CI (CI=1 or root), only refused with a reason.
set -u
tier=unit
failed=0
ran=0
# a failed binary's assertion lines are printed again at the end, where a CI log's tail shows
# them even when the binary's own output (agent logs, kept files) pushed them far up
summary=$(mktemp /tmp/nsflow-run-XXXXXX)
out=$(mktemp /tmp/nsflow-run-out-XXXXXX)
trap 'rm -f "$summary" "$out"' EXIT
for arg in "$@"; do
	case "$arg" in
	--)
		[ "$tier" = unit ] && tier=datapath || tier=e2e
		continue
		;;
	esac
	if [ "$tier" != unit ] && [ "$(id -u)" != 0 ]; then
		echo "SKIP $arg: the $tier tier needs root (BPF, namespaces)"
		[ -n "${CI:-}" ] && failed=1
		continue
	fi
	echo "== $tier: $arg"
	"$arg" --jobs 1 2>&1 | tee "$out"
	if [ "${PIPESTATUS[0]}" != 0 ]; then
		failed=1
		echo "FAIL $arg"
		{
			echo "-- $arg"
			grep -E '\[(----|FAIL)\]|Assertion|Crash|Timeout|signal' "$out" | head -40
		} >>"$summary"
	fi
	ran=$((ran + 1))
done
if [ -s "$summary" ]; then
	echo "== what failed:"
	cat "$summary"
fi
echo "== $ran test binaries run, $([ $failed = 0 ] && echo all passed || echo SOME FAILED)"
exit $failed
