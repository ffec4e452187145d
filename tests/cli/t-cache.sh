#!/bin/sh
# t-cache.sh -- the tools' cache, seen from the command line: a second
# dfs-cat of a file moves no data (the file server's READ counter from
# dfs-stat -S says so, not a timing); --no-cache never puts a file in the
# cache; a cache directory that cannot be one costs one warning line and
# nothing else.  The cache lives in $XDG_CACHE_HOME/dfs, here under $TMP.
. "$(dirname "$0")/lib.sh"
XDG_CACHE_HOME=$TMP/cache
export XDG_CACHE_HOME
cluster_start
rm -rf "$XDG_CACHE_HOME"	# what cluster_start's test file left

# read_bytes: sets RB to the file server's READ byte counter, from the
# dfs-filed section of dfs-stat -S (the last number on its READ line).
read_bytes()
{
	ok dfs-stat -S
	RB=$(awk '/dfs-filed|file server/ { f = 1; next }
	    /dfs-named|dfs-lockd|name server|lock server/ { f = 0; next }
	    f && $1 == "READ" { print $NF; exit }' "$TMP/out")
	case $RB in
	''|*[!0-9]*)	fail "no READ counter of the file server in" \
			    "dfs-stat -S: $(cat "$TMP/out")" ;;
	esac
}

# cached_files: the regular files under the cache directory.
cached_files()
{
	find "$XDG_CACHE_HOME" -type f 2>/dev/null
}

say "a second dfs-cat moves no data"
mkfile "$TMP/f" 3000000
ok dfs-cp --no-cache "$TMP/f" dfs:/f
[ -z "$(cached_files)" ] || fail "dfs-cp --no-cache filled the cache"
read_bytes
r0=$RB
ok dfs-cat dfs:/f
same "$TMP/out" "$TMP/f"
read_bytes
r1=$RB
[ $((r1 - r0)) -ge 3000000 ] ||
    fail "the first dfs-cat read $((r1 - r0)) bytes, want >= 3000000"
[ -n "$(cached_files)" ] || fail "the first dfs-cat cached nothing"
ok dfs-cat dfs:/f
same "$TMP/out" "$TMP/f"
read_bytes
r2=$RB
[ "$r2" -eq "$r1" ] || fail "the second dfs-cat read $((r2 - r1)) bytes"
say "ok: READ bytes $r0 -> $r1 -> $r2"

say "another client's overwrite is seen by the next dfs-cat"
mkfile "$TMP/f2" 3000000
ok dfs-cp --no-cache "$TMP/f2" dfs:/f
ok dfs-cat dfs:/f
same "$TMP/out" "$TMP/f2"

say "--no-cache never fills the cache"
rm -rf "$XDG_CACHE_HOME"
mkfile "$TMP/g" 200000
ok dfs-cp --no-cache "$TMP/g" dfs:/g
ok dfs-cat --no-cache dfs:/g
same "$TMP/out" "$TMP/g"
ok dfs-cat --no-cache dfs:/g
same "$TMP/out" "$TMP/g"
ok dfs-cp --no-cache dfs:/g "$TMP/g.back"
same "$TMP/g.back" "$TMP/g"
[ -z "$(cached_files)" ] ||
    fail "--no-cache left files in the cache: $(cached_files)"

say "a cache directory that is a regular file: one warning"
rm -rf "$XDG_CACHE_HOME"
echo junk >"$XDG_CACHE_HOME"
cat "$TMP/f2" "$TMP/g" >"$TMP/fg"
run dfs-cat dfs:/f dfs:/g
[ $RC -eq 0 ] || fail "dfs-cat exited $RC: $(cat "$TMP/err")"
same "$TMP/out" "$TMP/fg"
n=$(grep -c '^dfs-cat: warning: cache disabled' "$TMP/err")
[ "$n" -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] ||
    fail "want one 'dfs-cat: warning: cache disabled' line, got:" \
    "$(cat "$TMP/err")"
say "ok: $(cat "$TMP/err")"
[ "$(cat "$XDG_CACHE_HOME")" = junk ] || fail "the junk file was changed"
exit 0
