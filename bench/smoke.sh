#!/bin/sh
# smoke.sh -- `make bench-smoke`, not part of `make check` (which tests
# the product): the benchmark harness does not rot: `bench/run.sh
# --smoke` (one warm-up and one timed round on small sizes; peers that
# are not installed or cannot start are skipped with the reason) must
# exit 0, print and save a table with a number in the dfs column of
# every dfs workload, evaluate the targets, and leave no server of its
# own running and no scratch directory behind.  Speed is not judged
# here: the numbers of a smoke run mean nothing.
# exit status as for tests/cli/t-*.sh (0 ok, 77 skip, 99 fail), whose
# lib.sh it uses
DFS_TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$DFS_TOP/tests/cli/lib.sh"

command -v bash >/dev/null || skip "bash not installed (bench/run.sh)"
BENCH_BIN=${DFS_BENCH_BIN:-$top/build/bench}

say "bench/run.sh --smoke"
# the scratch directory and the results go under $TMP; the harness runs
# in the background so that a test timeout (SIGTERM to this shell) stops
# it through teardown, which stops every PID in $PIDS
TMPDIR=$TMP DFS_BIN=$BIN DFS_BENCH_BIN=$BENCH_BIN \
    bash "$top/bench/run.sh" --smoke --out "$TMP/bench.md" \
    >"$TMP/bench.out" 2>"$TMP/bench.err" &
bench=$!
PIDS="$PIDS $bench"
wait $bench
rc=$?
PIDS=${PIDS% $bench}
sed 's/^/    /' "$TMP/bench.err" | grep -v '^    --- round '
[ $rc -eq 0 ] || fail "bench/run.sh --smoke exited $rc:" \
    "$(tail -20 "$TMP/bench.out")"
[ -s "$TMP/bench.md" ] || fail "no results file $TMP/bench.md"
grep -q "^results: $TMP/bench.md\$" "$TMP/bench.out" ||
    fail "the results file is not named at the end"

# bad MSG: shows the results (their target lines say PASS/FAIL, which
# is why they are not shown when all is well), then fails.
bad()
{
	cat "$TMP/bench.md"
	fail "$*"
}

# dfs_value WORKLOAD METRIC: the dfs column of the first row of WORKLOAD
# whose metric starts with METRIC.
dfs_value()
{
	awk -F' *[|] *' -v w="$1" -v m="$2" \
	    '$2 == w && index($3, m) == 1 { print $5; exit }' "$TMP/bench.md"
}

# has_number WORKLOAD METRIC: that row has a number for dfs.
has_number()
{
	v=$(dfs_value "$1" "$2")
	case $v in
	[0-9]*)	say "ok: $1 $2: $v" ;;
	*)	bad "no dfs number in the $1 row '$2' (got '$v')" ;;
	esac
}

say "the table has the dfs rows"
for w in up-big down-big up-mid down-mid; do
	has_number $w "MiB/s"
done
has_number up-big "client+server CPU s/GiB"
has_number down-big "client peak RSS MiB"
has_number tree-up "files/s"
has_number tree-down "files/s"
has_number small "4 KiB up + down, ms"
has_number cached "re-read"
has_number par4 "4 concurrent"
if [ -x "$BENCH_BIN/dfs-metaops" ]; then
	has_number meta "stat ops/s, 4"
	has_number meta "create ops/s, 1"
else
	grep -q "^- meta skipped: " "$TMP/bench.md" ||
	    bad "dfs-metaops is not built and the results do not say so"
fi
grep -q '^## Targets' "$TMP/bench.md" || bad "no targets section"
grep -q 'stat from 4 clients >= 20000 ops/s: ' "$TMP/bench.md" ||
    bad "the name server target is missing"
grep -q '^| dfs-filed |' "$TMP/bench.md" || bad "no peak RSS of dfs-filed"

# a kernel that pages out idle memory on its own (DAMON) is named with
# the machine, since it is why every source is read before its transfer
pageout=
for a in /sys/kernel/mm/damon/admin/kdamonds/*/contexts/*/schemes/*/action; do
	[ -r "$a" ] && [ "$(cat "$a")" = pageout ] &&
	    [ "$(cat "${a%/contexts/*}/state")" = on ] && pageout=yes
done
if [ -n "$pageout" ]; then
	grep -q '^- DAMON: pages idle for [0-9]* s or more are paged out' \
	    "$TMP/bench.md" || bad "DAMON pages out here, the results do not say"
	say "ok: the DAMON page-out scheme is named"
elif grep -q '^- DAMON:' "$TMP/bench.md"; then
	bad "the results name a DAMON scheme this machine does not run"
fi

say "nothing left behind"
scratch=$(sed -n 's/^--- scratch \([^;]*\);.*/\1/p' "$TMP/bench.err")
[ -n "$scratch" ] || fail "bench/run.sh did not name its scratch directory"
[ ! -e "$scratch" ] || fail "the scratch directory $scratch is still there"
if command -v pgrep >/dev/null && pgrep -f "$scratch" >"$TMP/left"; then
	fail "processes of the run still running: $(cat "$TMP/left")"
fi
exit 0
