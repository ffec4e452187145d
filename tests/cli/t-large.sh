#!/bin/sh
# t-large.sh -- large files round-trip byte-identically: a 100 MiB file
# local -> dfs -> local and dfs -> dfs, and a 2 GiB file local -> dfs ->
# local (skipped with a message when $TMP has less than 8 GiB free: the
# source, the upload spool, the file server's copy and the download).
# Each transfer's time is printed for information only.
. "$(dirname "$0")/lib.sh"
# the upload spool goes to $TMPDIR: keep it inside $TMP
TMPDIR=$TMP
export TMPDIR
cluster_start

MiB=1048576

now()
{
	date +%s.%N
}

# timed WHAT BYTES CMD...: runs CMD (which must succeed) and prints how
# long it took and the rate.
timed()
{
	what=$1
	bytes=$2
	shift 2
	t0=$(now)
	ok "$@"
	t1=$(now)
	awk -v a="$t0" -v b="$t1" -v n="$bytes" -v w="$what" 'BEGIN {
		s = b - a
		printf "--- time: %s: %.2f s", w, s
		if (s > 0)
			printf " (%.0f MiB/s)", n / 1048576 / s
		printf "\n"
	}'
}

say "100 MiB"
size=$((100 * MiB))
mkfile "$TMP/m100" $size
timed "100 MiB local -> dfs" $size dfs-cp "$TMP/m100" dfs:/m100
timed "100 MiB dfs -> local" $size dfs-cp dfs:/m100 "$TMP/m100.back"
same "$TMP/m100" "$TMP/m100.back"
rm -f "$TMP/m100.back"
timed "100 MiB dfs -> dfs" $size dfs-cp dfs:/m100 dfs:/m100.copy
timed "100 MiB dfs -> local (copy)" $size \
    dfs-cp dfs:/m100.copy "$TMP/m100.back2"
same "$TMP/m100" "$TMP/m100.back2"
ok dfs-stat /m100.copy
grep -q "Size: $size" "$TMP/out" || fail "dfs-stat /m100.copy: $(cat "$TMP/out")"
rm -f "$TMP/m100" "$TMP/m100.back2"
ok dfs-rm /m100 /m100.copy

say "2 GiB"
size=$((2048 * MiB))
need=$((8 * 1024 * 1024))	# KiB
free=$(df -Pk "$TMP" | awk 'NR == 2 { print $4 }')
case $free in
''|*[!0-9]*)
	fail "cannot read the free space of $TMP from df: '$free'" ;;
esac
if [ "$free" -lt "$need" ]; then
	echo "skip: 2 GiB round trip: only $((free / 1024)) MiB free in" \
	    "$TMP, need 8192 MiB"
else
	t0=$(now)
	mkfile "$TMP/g2" $size
	t1=$(now)
	awk -v a="$t0" -v b="$t1" \
	    'BEGIN { printf "--- time: making 2 GiB: %.2f s\n", b - a }'
	timed "2 GiB local -> dfs" $size dfs-cp "$TMP/g2" dfs:/g2
	ok dfs-stat /g2
	grep -q "Size: $size" "$TMP/out" || fail "dfs-stat /g2: $(cat "$TMP/out")"
	timed "2 GiB dfs -> local" $size dfs-cp dfs:/g2 "$TMP/g2.back"
	same "$TMP/g2" "$TMP/g2.back"
	rm -f "$TMP/g2" "$TMP/g2.back"
	ok dfs-rm /g2
fi

say "no temporary files left behind"
left=$(ls -A "$TMP" | grep '^\.' || true)
[ -z "$left" ] || fail "left in $TMP: $left"
exit 0
