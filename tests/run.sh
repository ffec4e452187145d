#!/bin/sh
# run.sh -- runs test programs and scripts; prints one summary line.
#
# usage: run.sh LABEL TEST...
# A test passes by exiting 0, is skipped by exiting 77 (and says why on
# its output), and fails otherwise.  Each test's output is shown as it
# runs.  With DFS_VALGRIND=1, C test programs run under memcheck.
label=$1
shift
pass=0 fail=0 skip=0 failed=
for t in "$@"; do
	echo "=== $t"
	case $t in
	*.sh)	sh "$t" ;;
	*)	if [ -n "$DFS_VALGRIND" ]; then
			valgrind -q --error-exitcode=99 --leak-check=full \
			    --errors-for-leak-kinds=definite \
			    --trace-children=no "$t"
		else
			"$t"
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
