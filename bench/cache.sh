#!/bin/sh
# cache.sh -- a cached re-read against a plain cat of a local file.
#
# usage: bench/cache.sh [MiB] [RUNS]   (default 100 and 5; DFS_BIN as for
#                                       the tests)
#
# Starts a private cluster (tests/cli/lib.sh) with the client cache in
# $TMP/cache, stores a random file, and times three ways to read it to
# /dev/null: (a) cat(1) of a local copy, (b) dfs-cat --no-cache (every
# byte from the file server), (c) dfs-cat with the cache (a re-read: no
# file data moves).  Each gets one untimed warm-up first (page cache,
# and the fill of the cache for (c)); then RUNS rounds a b c a b c ...,
# so that drift on a shared machine hits all three alike.  Writing to
# /dev/null flatters a reader that can hand the kernel its bytes
# (dfs-cat uses sendfile(2) from a cache entry, and /dev/null takes them
# without touching them), so (a) and (c) are also timed into a pipe
# read by another cat(1), where every byte is delivered.  Prints a
# Markdown table of medians for docs/BENCHMARKS.md; the target is a
# cached re-read at 0.9x of local cat's throughput or better
# (ratio = cat time / cached time).  The file server's READ counter
# (dfs-stat -S) shows what the cached runs moved.
DFS_TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$DFS_TOP/tests/cli/lib.sh"

mib=${1:-100}
runs=${2:-5}
XDG_CACHE_HOME=$TMP/cache
export XDG_CACHE_HOME
date +%s%N | grep -q '^[0-9]*$' || skip "date(1) has no %N"

# now_us: microseconds since the epoch.
now_us()
{
	echo $(($(date +%s%N) / 1000))
}

# timed OUT CMD...: runs CMD with stdout to /dev/null, appends its wall
# time in microseconds to OUT.
timed()
{
	out=$1
	shift
	t0=$(now_us)
	"$@" >/dev/null || fail "'$*' failed"
	t1=$(now_us)
	echo $((t1 - t0)) >>"$out"
}

# median FILE: the median of the numbers in FILE (the lower middle one
# for an even count).
median()
{
	sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# read_bytes: the file server's READ byte counter, or "n/a".
read_bytes()
{
	dfs-stat -S 2>/dev/null | awk '/dfs-filed|file server/ { f = 1; next }
	    /dfs-named|dfs-lockd|name server|lock server/ { f = 0; next }
	    f && $1 == "READ" { print $NF; n = 1; exit }
	    END { if (!n) print "n/a" }'
}

cluster_start
say "making a $mib MiB file"
head -c "${mib}M" /dev/urandom >"$TMP/local" || fail "cannot make the file"
dfs-cp --no-cache "$TMP/local" dfs:/bench || fail "upload failed"

say "warm-up and check"
cat "$TMP/local" >/dev/null
dfs-cat --no-cache dfs:/bench | cmp -s - "$TMP/local" ||
    fail "dfs-cat --no-cache differs"
dfs-cat dfs:/bench | cmp -s - "$TMP/local" || fail "dfs-cat (fill) differs"
dfs-cat dfs:/bench | cmp -s - "$TMP/local" || fail "dfs-cat (cached) differs"

say "$runs rounds"
i=0
cached_moved=0
while [ $i -lt "$runs" ]; do
	i=$((i + 1))
	timed "$TMP/t.cat" cat "$TMP/local"
	timed "$TMP/t.nocache" dfs-cat --no-cache dfs:/bench
	r0=$(read_bytes)
	timed "$TMP/t.cached" dfs-cat dfs:/bench
	r1=$(read_bytes)
	timed "$TMP/t.catpipe" sh -c 'cat "$1" | cat' sh "$TMP/local"
	r2=$(read_bytes)
	timed "$TMP/t.cachedpipe" sh -c 'dfs-cat dfs:/bench | cat'
	r3=$(read_bytes)
	[ "$r0" = n/a ] ||
	    cached_moved=$((cached_moved + r1 - r0 + r3 - r2))
done
[ "$r0" = n/a ] && cached_moved=n/a

# row LABEL FILE [REF]: one table row from the median of FILE, compared
# with the median of REF (default: cat to /dev/null).
row()
{
	awk -v l="$1" -v us="$(median "$2")" \
	    -v ref="$(median "${3:-$TMP/t.cat}")" \
	    -v mib="$mib" 'BEGIN { printf "| %s | %.1f | %.0f | %.2fx |\n",
	    l, us / 1000, mib / (us / 1e6), ref / us }'
}

cat <<EOT

| $mib MiB file, median of $runs | time (ms) | MiB/s | vs local cat |
|---|---|---|---|
$(row "cat of a local copy (page cache)" "$TMP/t.cat")
$(row "dfs-cat --no-cache (from dfs-filed)" "$TMP/t.nocache")
$(row "dfs-cat, cached re-read" "$TMP/t.cached")
$(row "cat of a local copy, into a pipe" "$TMP/t.catpipe" "$TMP/t.catpipe")
$(row "dfs-cat, cached re-read, into a pipe" "$TMP/t.cachedpipe" \
    "$TMP/t.catpipe")

READ bytes sent by dfs-filed during the 2 x $runs cached runs: $cached_moved.
Target: cached re-read at 0.9x of local cat or better.
EOT
