#!/bin/sh
# mem.sh -- peak memory of dfs-cp and of every daemon while a large file
# goes up to dfs and comes back down.
#
# usage: bench/mem.sh [MiB]     (default 2048; DFS_BIN as for the tests)
#
# Starts a private cluster (tests/cli/lib.sh), makes a random file, times
# "dfs-cp FILE dfs:/big" and "dfs-cp dfs:/big COPY" under /usr/bin/time -v
# (the client's peak RSS), and samples VmHWM of the daemons and of
# dfs-filed's connection processes every 50 ms while they run (those
# processes end with their connection, so they are sampled, not asked at
# the end).  Prints a Markdown table for docs/BENCHMARKS.md.
DFS_TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$DFS_TOP/tests/cli/lib.sh"

mib=${1:-2048}
command -v /usr/bin/time >/dev/null || skip "/usr/bin/time not installed"

# sample_hwm OUT: appends "pid comm kB" of every dfs daemon process until
# $TMP/stop exists.
sample_hwm()
{
	while [ ! -e "$TMP/stop" ]; do
		for pid in $PIDS $(for p in $PIDS; do pgrep -P "$p"; done); do
			awk -v pid="$pid" '/^Name:/ { n = $2 }
			    /^VmHWM:/ { print pid, n, $2 }' \
			    "/proc/$pid/status" 2>/dev/null
		done >>"$1"
		sleep 0.05
	done
}

# peak OUT NAME: the largest sample of processes called NAME, in MiB.
peak()
{
	awk -v n="$2" '$2 == n && $3 > m { m = $3 }
	    END { printf "%.1f", m / 1024 }' "$1"
}

client_peak()
{
	awk '/Maximum resident set size/ { printf "%.1f", $6 / 1024 }' "$1"
}

elapsed()
{
	awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$1"
}

cluster_start
say "making a $mib MiB file"
head -c "${mib}M" /dev/urandom >"$TMP/big" || fail "cannot make the file"

sample_hwm "$TMP/hwm" &
sampler=$!
/usr/bin/time -v dfs-cp "$TMP/big" dfs:/big 2>"$TMP/up.time" ||
    fail "upload failed: $(tail -3 "$TMP/up.time")"
/usr/bin/time -v dfs-cp dfs:/big "$TMP/back" 2>"$TMP/down.time" ||
    fail "download failed: $(tail -3 "$TMP/down.time")"
touch "$TMP/stop"
wait $sampler
cmp -s "$TMP/big" "$TMP/back" || fail "the copy differs"

cat <<EOT

| $mib MiB file | wall time | peak RSS (MiB) |
|---|---|---|
| dfs-cp upload | $(elapsed "$TMP/up.time") | $(client_peak "$TMP/up.time") |
| dfs-cp download | $(elapsed "$TMP/down.time") | $(client_peak "$TMP/down.time") |
| dfs-named | | $(peak "$TMP/hwm" dfs-named) |
| dfs-lockd | | $(peak "$TMP/hwm" dfs-lockd) |
| dfs-filed (every process) | | $(peak "$TMP/hwm" dfs-filed) |
EOT
