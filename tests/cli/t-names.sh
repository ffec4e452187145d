#!/bin/sh
# t-names.sh -- names as long as a component may be (255 bytes) copy
# both ways: dfs-cp's temporary file next to a local target must not
# make such a name too long (ENAMETOOLONG for 248-255 bytes before).
. "$(dirname "$0")/lib.sh"
cluster_start


mkdir "$TMP/in" "$TMP/down" "$TMP/tree" || fail "mkdir"
for len in 247 248 254 255; do
	n=$(printf "%${len}s" "" | tr ' ' a)
	[ ${#n} -eq $len ] || fail "name of $len bytes is ${#n}"
	say "a name of $len bytes"
	mkfile "$TMP/in/$n" 1000
	ok dfs-cp "$TMP/in/$n" "dfs:/$n"
	ok dfs-cp "dfs:/$n" "$TMP/down/"
	same "$TMP/in/$n" "$TMP/down/$n"
	ok dfs-cp "dfs:/$n" "$TMP/down/$n"	# replaces it
	same "$TMP/in/$n" "$TMP/down/$n"
done

say "a name of 255 bytes of 2-byte UTF-8 characters and one more byte"
# "é" is 2 bytes: 127 of them and an "a"; a cut at 247 bytes must not
# fall inside a character
n=$(printf "%127s" "" | sed 's/ /é/g')a
[ "$(printf %s "$n" | wc -c)" -eq 255 ] || fail "bad test name"
mkfile "$TMP/in/$n" 1000
ok dfs-cp "$TMP/in/$n" "dfs:/$n"
ok dfs-cp "dfs:/$n" "$TMP/down/"
same "$TMP/in/$n" "$TMP/down/$n"

say "a tree of such names, copied down"
ok dfs-mkdir /t
ok dfs-cp "$TMP/in/$n" "dfs:/t/$n"
long=$(printf "%255s" "" | tr ' ' b)
ok dfs-cp "$TMP/in/$n" "dfs:/t/$long"
ok dfs-cp -r dfs:/t "$TMP/tree"
same "$TMP/in/$n" "$TMP/tree/t/$n"
same "$TMP/in/$n" "$TMP/tree/t/$long"

left=$(ls -A "$TMP/down" "$TMP/tree/t" | grep '^\.' || true)
[ -z "$left" ] || fail "temporary files left: $left"
exit 0
