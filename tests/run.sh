#!/usr/bin/env bash
# Runs test binaries tier by tier: unit [-- datapath [-- end-to-end]]. Datapath and end-to-end
# tests need root; they are never skipped under CI (CI=1 or root), only refused with a reason.
set -u
tier=unit
failed=0
ran=0
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
	if ! "$arg" --jobs 1; then
		failed=1
		echo "FAIL $arg"
	fi
	ran=$((ran + 1))
done
echo "== $ran test binaries run, $([ $failed = 0 ] && echo all passed || echo SOME FAILED)"
exit $failed
