#!/bin/sh
# t-tree.sh -- dfs-cp -r copies a small tree both ways, dfs-ls lists it,
# -p keeps mode and modification time.
. "$(dirname "$0")/lib.sh"
cluster_start

src=$TMP/src
mkdir -p "$src/a/b" "$src/empty"
echo one >"$src/one"
echo two >"$src/a/two"
mkfile "$src/a/b/three" 3000
chmod 640 "$src/one"
chmod 750 "$src/a"
touch -d '2001-02-03 04:05:06' "$src/one" "$src/a/two"

say "cp -r local -> dfs into a new directory (mkdir -p)"
ok dfs-cp -r "$src" dfs:/x/tree
ok dfs-ls /x/tree
printf 'a\nempty\none\n' >"$TMP/want"
same "$TMP/want" "$TMP/out"
ok dfs-ls /x/tree/a
printf 'b\ntwo\n' >"$TMP/want"
same "$TMP/want" "$TMP/out"

say "cp -r into an existing directory goes under the source's name"
ok dfs-mkdir /y
ok dfs-cp -r "$src" dfs:/y
ok dfs-ls /y
echo src >"$TMP/want"
same "$TMP/want" "$TMP/out"

say "ls -a shows . and .."
ok dfs-ls -a /y/src/a
printf '.\n..\nb\ntwo\n' >"$TMP/want"
same "$TMP/want" "$TMP/out"

say "ls of a file lists just that file"
ok dfs-ls /y/src/one
echo /y/src/one >"$TMP/want"
same "$TMP/want" "$TMP/out"

say "cp -r dfs -> local, byte-identical"
ok dfs-cp -r dfs:/x/tree "$TMP/back"
diff -r "$src" "$TMP/back" || fail "trees differ"

say "cp -r dfs -> dfs"
ok dfs-cp -r dfs:/x/tree dfs:/z
ok dfs-cp -r dfs:/z "$TMP/back2"
diff -r "$src" "$TMP/back2" || fail "trees differ after dfs -> dfs"

say "-p keeps mode and mtime on dfs"
ok dfs-cp -rp "$src" dfs:/p
ok dfs-ls -l /p
grep -q '^-rw-r-----  *1 .* 2001-02-03 04:05 one$' "$TMP/out" ||
    fail "ls -l /p: $(cat "$TMP/out")"
grep -q '^drwxr-x--- .* a$' "$TMP/out" || fail "ls -l /p: $(cat "$TMP/out")"
ok dfs-stat /p/one
grep -q '^   Mode: 0640 (-rw-r-----)$' "$TMP/out" ||
    fail "stat: $(cat "$TMP/out")"
grep -q '^ Modify: 2001-02-03 04:05:06.000000000 ' "$TMP/out" ||
    fail "stat: $(cat "$TMP/out")"

say "-p keeps mode and mtime on the way back"
ok dfs-cp -rp dfs:/p "$TMP/p"
[ "$(stat -c %a "$TMP/p/one")" = 640 ] || fail "mode $(stat -c %a "$TMP/p/one")"
[ "$(stat -c %a "$TMP/p/a")" = 750 ] || fail "mode $(stat -c %a "$TMP/p/a")"
[ "$(stat -c %Y "$TMP/p/a/two")" = "$(stat -c %Y "$src/a/two")" ] ||
    fail "mtime of a/two not kept"

say "without -p a new local file gets the default mode"
umask 022
ok dfs-cp dfs:/p/one "$TMP/np"
[ "$(stat -c %a "$TMP/np")" = 644 ] || fail "mode $(stat -c %a "$TMP/np")"

say "rm -r removes the tree"
ok dfs-rm -r /x /y /z /p
ok dfs-ls /
[ ! -s "$TMP/out" ] || fail "left: $(cat "$TMP/out")"
exit 0
