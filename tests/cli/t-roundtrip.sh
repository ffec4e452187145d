#!/bin/sh
# t-roundtrip.sh -- dfs-cp round trips are byte-identical: local -> dfs ->
# local, dfs -> dfs, and through stdin and stdout, for sizes around the
# 1 MiB chunk and spool boundaries.
. "$(dirname "$0")/lib.sh"
cluster_start

MiB=1048576
for size in 0 1 $((MiB - 1)) $((MiB + 1)) $((5 * MiB)); do
	say "size $size"
	f=$TMP/in.$size
	mkfile "$f" $size
	ok dfs-cp "$f" dfs:/f.$size
	ok dfs-cp dfs:/f.$size "$TMP/back.$size"
	same "$f" "$TMP/back.$size"

	ok dfs-cp dfs:/f.$size dfs:/g.$size
	ok dfs-cp dfs:/g.$size "$TMP/back2.$size"
	same "$f" "$TMP/back2.$size"

	dfs-cp - dfs:/s.$size <"$f" || fail "stdin upload of $size bytes"
	dfs-cp dfs:/s.$size - >"$TMP/out.$size" ||
	    fail "stdout download of $size bytes"
	same "$f" "$TMP/out.$size"
	dfs-cat /s.$size >"$TMP/cat.$size" || fail "dfs-cat of $size bytes"
	same "$f" "$TMP/cat.$size"
done

say "overwrite keeps the new contents only"
mkfile "$TMP/small" 10
ok dfs-cp "$TMP/small" dfs:/f.$((5 * MiB))
ok dfs-cp dfs:/f.$((5 * MiB)) "$TMP/back.$((5 * MiB))"
same "$TMP/small" "$TMP/back.$((5 * MiB))"

say "no temporary files left behind"
left=$(ls -A "$TMP" | grep '^\.' || true)
[ -z "$left" ] || fail "left in $TMP: $left"

say "into an existing directory, several sources"
mkdir "$TMP/dir"
ok dfs-cp dfs:/f.1 dfs:/g.1 "$TMP/dir"
same "$TMP/in.1" "$TMP/dir/f.1"
same "$TMP/in.1" "$TMP/dir/g.1"
ok dfs-mkdir /d
ok dfs-cp "$TMP/in.1" "$TMP/in.0" dfs:/d
ok dfs-cp dfs:/d/in.1 "$TMP/in1.back"
same "$TMP/in.1" "$TMP/in1.back"

say "dfs-cat concatenates"
cat "$TMP/in.1" "$TMP/in.$((MiB + 1))" >"$TMP/cat.want"
dfs-cat /f.1 dfs:/f.$((MiB + 1)) >"$TMP/cat.got" || fail "dfs-cat of two"
same "$TMP/cat.want" "$TMP/cat.got"

say "a reader going away is not an error message"
{ dfs-cat /g.$((5 * MiB)) 2>"$TMP/err1"; } | head -c 10 >/dev/null
{ dfs-cp dfs:/g.$((5 * MiB)) - 2>"$TMP/err2"; } | head -c 10 >/dev/null
[ ! -s "$TMP/err1" ] || fail "dfs-cat: $(cat "$TMP/err1")"
[ ! -s "$TMP/err2" ] || fail "dfs-cp: $(cat "$TMP/err2")"
exit 0
