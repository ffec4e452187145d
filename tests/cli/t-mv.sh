#!/bin/sh
# t-mv.sh -- dfs-mv renames keeping the contents, moves into an existing
# directory, and replaces an existing file.
. "$(dirname "$0")/lib.sh"
cluster_start

mkfile "$TMP/a" 200000
mkfile "$TMP/b" 1000
ok dfs-cp "$TMP/a" dfs:/a
ok dfs-cp "$TMP/b" dfs:/b

say "rename keeps the contents"
ok dfs-mv /a /a2
ok dfs-cp dfs:/a2 "$TMP/a2"
same "$TMP/a" "$TMP/a2"
expect_err "dfs-stat: /a: No such file or directory" dfs-stat /a

say "mv into a directory keeps the name"
ok dfs-mkdir /d
ok dfs-mv /a2 /d
ok dfs-ls /d
echo a2 >"$TMP/want"
same "$TMP/want" "$TMP/out"
ok dfs-cp dfs:/d/a2 "$TMP/a3"
same "$TMP/a" "$TMP/a3"

say "dfs: operands are accepted"
ok dfs-mv dfs:/d/a2 dfs:/d/a4
ok dfs-cat /d/a4
same "$TMP/a" "$TMP/out"

say "mv over an existing file replaces it"
ok dfs-mv /b /d/a4
ok dfs-cat /d/a4
same "$TMP/b" "$TMP/out"
ok dfs-ls /
echo d >"$TMP/want"
same "$TMP/want" "$TMP/out"

say "a directory moves with its contents"
ok dfs-mkdir /e
ok dfs-mv /d /e
ok dfs-cat /e/d/a4
same "$TMP/b" "$TMP/out"

say "errors"
expect_err "dfs-mv: /nope: No such file or directory" dfs-mv /nope /x
expect_err "dfs-mv: /nodir/x: No such file or directory" \
    dfs-mv /e/d/a4 /nodir/x
expect_err "dfs-mv: rel: dfs paths must be absolute" dfs-mv rel /x
exit 0
