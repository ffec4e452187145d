#!/bin/sh
# run.sh -- runs test programs and scripts; prints one summary line.
#
# usage: run.sh LABEL TEST...
# A test passes by exiting 0, is skipped by exiting 77 (and says why on
# its output), and fails otherwise.  Each test's output is shown as it
# runs.  With DFS_VALGRIND=1, C test programs run under memcheck.  A test
# that runs longer than DFS_TEST_TIMEOUT seconds (default 900) is killed
# and fails.
label=$1
shift
limit=${DFS_TEST_TIMEOUT:-900}
pass=0 fail=0 skip=0 failed=
for t in "$@"; do
	echo "=== $t"
	case $t in
	*.sh)	timeout -k 10 "$limit" sh "$t" ;;
	*)	if [ -n "$DFS_VALGRIND" ]; then
			timeout -k 10 "$limit" \
			valgrind -q --error-exitcode=99 --leak-check=full \
			    --errors-for-leak-kinds=definite \
			    --suppressions="$(dirname "$0")/valgrind.supp" \
			    --trace-children=no "$t"
		else
			timeout -k 10 "$limit" "$t"
		fi ;;
	esac
	rc=$?
	case $rc in
	0)	pass=$((pass + 1)) ;;
	77)	skip=$((skip + 1)); echo "--- skipped: $t" ;;
	*)	fail=$((fail + 1)); failed="$failed $t"
		echo "--- FAILED ($rc): $t" ;;
	esac
done
[ -n "$failed" ] && echo "$label: failed:$failed"
echo "$label: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
