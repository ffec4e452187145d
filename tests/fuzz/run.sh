#!/bin/sh
# run.sh -- runs the libFuzzer targets: DIR SECONDS TARGET...
#
# For each TARGET (named, lockd, filed), whose binary is DIR/fuzz_TARGET:
# writes the seed corpus into DIR/seeds/TARGET (the target's
# DFS_FUZZ_SEEDS mode), replays every input under
# tests/fuzz/regress/TARGET/ (each must run clean), then fuzzes SECONDS
# with the corpus kept in DIR/corpus/TARGET, so runs build on each
# other.  Prints a line per target: executions, exec/s, coverage (cov:
# edges, ft: features), corpus size.  Exits non-zero at the first
# finding: the crash, leak or UBSan report is in DIR/log/TARGET.log and
# the input in DIR/artifacts/.
#
# FUZZ_JOBS=N runs N targets at once (default 1); FUZZ_ARGS adds
# libFuzzer options.

set -u
top=$1
secs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$top/log" "$top/artifacts"
export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# replay TARGET: runs each regression input once.  Returns non-zero if
# one fails.
replay() {
	dir=$here/regress/$1
	[ -d "$dir" ] || return 0
	files=$(find "$dir" -type f ! -name '*.md' | sort)
	[ -n "$files" ] || return 0
	# shellcheck disable=SC2086
	"$top/fuzz_$1" $files >"$top/log/$1.replay.log" 2>&1 || {
		echo "fuzz $1: a regression input fails:" >&2
		tail -40 "$top/log/$1.replay.log" >&2
		return 1
	}
	echo "fuzz $1: $(echo "$files" | wc -l) regression inputs clean"
}

# run TARGET: seeds, replays, fuzzes.  Returns non-zero on a finding.
run() {
	t=$1
	bin="$top/fuzz_$t"
	log=$top/log/$t.log
	rm -rf "$top/seeds/$t"
	mkdir -p "$top/seeds/$t" "$top/corpus/$t"
	DFS_FUZZ_SEEDS="$top/seeds/$t" "$bin" -runs=0 \
	    >"$top/log/$t.seeds.log" 2>&1 || {
		echo "fuzz $t: cannot write seeds" >&2
		return 1
	}
	replay "$t" || return 1
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -print_final_stats=1 \
	    -close_fd_mask=3 -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
	    -artifact_prefix="$top/artifacts/$t-" ${FUZZ_ARGS:-} \
	    "$top/corpus/$t" "$top/seeds/$t" >"$log" 2>&1
	rc=$?
	summary "$t" "$log"
	if [ "$rc" -ne 0 ]; then
		echo "fuzz $t: FINDING (exit $rc); see $log" >&2
		grep -E '^(==|SUMMARY|.*runtime error)' "$log" | head -20 >&2
		return 1
	fi
}

# summary TARGET LOG: one line from libFuzzer's final stats and its last
# status line.
summary() {
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$2")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$2")
	last=$(grep -E '^#[0-9]+' "$2" | tail -1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([^ ]*\).*/\1/p')
	echo "fuzz $1: ${execs:-?} execs (${rate:-?}/s) in ${secs}s," \
	    "cov ${cov:-?} ft ${ft:-?} corpus ${corp:-?}"
}

jobs=${FUZZ_JOBS:-1}
fail=0
if [ "$jobs" -le 1 ]; then
	for t in "$@"; do
		run "$t" || { fail=1; break; }
	done
else
	pids=
	for t in "$@"; do
		run "$t" & pids="$pids $!"
	done
	for p in $pids; do
		wait "$p" || fail=1
	done
fi
exit $fail
