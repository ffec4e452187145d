#!/bin/sh
# t-errors.sh -- every error path prints exactly "tool: path: message"
# on stderr and exits 1, and a failed copy leaves no partial file.
. "$(dirname "$0")/lib.sh"
cluster_start

echo data >"$TMP/f"
ok dfs-cp "$TMP/f" dfs:/f
ok dfs-mkdir /d
mkdir "$TMP/dl"

say "missing files"
expect_err "dfs-cat: /nope: No such file or directory" dfs-cat /nope
expect_err "dfs-cp: dfs:/nope: No such file or directory" \
    dfs-cp dfs:/nope "$TMP/dl/x"
[ ! -e "$TMP/dl/x" ] || fail "dfs-cp left $TMP/dl/x"
[ -z "$(ls -A "$TMP/dl")" ] || fail "dfs-cp left $(ls -A "$TMP/dl")"
expect_err "dfs-cp: $TMP/nope: No such file or directory" \
    dfs-cp "$TMP/nope" dfs:/x
expect_err "dfs-ls: /nope: No such file or directory" dfs-ls /nope
expect_err "dfs-stat: /nope: No such file or directory" dfs-stat /nope
expect_err "dfs-rm: /nope: No such file or directory" dfs-rm /nope
ok dfs-rm -f /nope
[ ! -s "$TMP/err" ] || fail "dfs-rm -f printed: $(cat "$TMP/err")"
expect_err "dfs-mv: /nope: No such file or directory" dfs-mv /nope /x

say "dfs-cat goes on after an error"
run dfs-cat /nope /f
[ $RC -eq 1 ] || fail "dfs-cat /nope /f exited $RC"
[ "$(cat "$TMP/out")" = data ] || fail "dfs-cat /nope /f: $(cat "$TMP/out")"

say "relative dfs paths"
expect_err "dfs-cp: dfs:rel: dfs paths must be absolute" \
    dfs-cp "$TMP/f" dfs:rel
expect_err "dfs-cp: dfs:rel: dfs paths must be absolute" \
    dfs-cp dfs:rel "$TMP/dl/x"
expect_err "dfs-cat: rel: dfs paths must be absolute" dfs-cat rel
expect_err "dfs-ls: dfs:rel: dfs paths must be absolute" dfs-ls dfs:rel
expect_err "dfs-mkdir: rel: dfs paths must be absolute" dfs-mkdir rel
expect_err "dfs-rm: rel: dfs paths must be absolute" dfs-rm rel

say ".. and . components"
expect_err "dfs-cp: dfs:/d/../f: Invalid argument" \
    dfs-cp "$TMP/f" dfs:/d/../f
expect_err "dfs-cat: /d/./f: Invalid argument" dfs-cat /d/./f
expect_err "dfs-stat: /..: Invalid argument" dfs-stat /..

say "targets in a missing directory"
expect_err "dfs-cp: dfs:/nodir/f: No such file or directory" \
    dfs-cp "$TMP/f" dfs:/nodir/f
expect_err "dfs-cp: $TMP/nodir/f: No such file or directory" \
    dfs-cp dfs:/f "$TMP/nodir/f"
expect_err "dfs-mkdir: /nodir/sub: No such file or directory" \
    dfs-mkdir /nodir/sub

say "a directory where a file is expected"
ok dfs-mkdir /d/f
expect_err "dfs-cp: dfs:/d/f: Is a directory" dfs-cp "$TMP/f" dfs:/d
mkdir -p "$TMP/dl/f"
expect_err "dfs-cp: $TMP/dl/f: Is a directory" dfs-cp dfs:/f "$TMP/dl"
expect_err "dfs-cp: dfs:/d: Is a directory (use -r)" \
    dfs-cp dfs:/d "$TMP/dl/d"
expect_err "dfs-cp: $TMP/f: Not a directory" \
    dfs-cp dfs:/f dfs:/f "$TMP/f"
expect_err "dfs-cat: /d: Is a directory" dfs-cat /d
expect_err "dfs-rm: /d: Is a directory" dfs-rm /d
expect_err "dfs-mkdir: /d: File exists" dfs-mkdir /d
expect_err "dfs-mkdir: /f: File exists" dfs-mkdir -p /f

say "no dfs operand"
expect_err "dfs-cp: no dfs operand (write dfs paths as dfs:/path)" \
    dfs-cp "$TMP/f" "$TMP/g"

say "a full disk"
if [ -w /dev/full ]; then
	expect_err "dfs-cp: -: No space left on device" \
	    sh -c 'dfs-cp dfs:/f - >/dev/full'
	expect_err "dfs-cat: write error: No space left on device" \
	    sh -c 'dfs-cat /f >/dev/full'
else
	say "skipped: no /dev/full"
fi

say "a device or FIFO as the target is written to, not replaced"
# a node of our own like /dev/full: were it replaced, only ours is
if mknod "$TMP/full" c 1 7 2>/dev/null; then
	expect_err "dfs-cp: $TMP/full: No space left on device" \
	    dfs-cp dfs:/f "$TMP/full"
	[ -c "$TMP/full" ] || fail "dfs-cp replaced the device $TMP/full"
else
	say "skipped the device: mknod(1) needs root"
fi
mkfifo "$TMP/fifo"
cat "$TMP/fifo" >"$TMP/from-fifo" &
reader=$!
ok dfs-cp dfs:/f "$TMP/fifo"
wait $reader
[ -p "$TMP/fifo" ] || fail "dfs-cp replaced the FIFO $TMP/fifo"
[ "$(cat "$TMP/from-fifo")" = data ] ||
    fail "through the FIFO: $(cat "$TMP/from-fifo")"

say "an unreadable local file"
echo secret >"$TMP/secret"
chmod 000 "$TMP/secret"
as_user=
if [ "$(id -u)" = 0 ]; then
	# root reads mode 000 files: run the tool as nobody instead
	command -v setpriv >/dev/null || skip "root without setpriv(1)"
	chmod 711 "$TMP"
	as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi
# shellcheck disable=SC2086 # $as_user is a command prefix
expect_err "dfs-cp: $TMP/secret: Permission denied" \
    $as_user dfs-cp "$TMP/secret" dfs:/secret
run dfs-stat /secret
[ $RC -eq 1 ] || fail "a failed upload created /secret"

say "the name server is down"
expect_err "dfs-ls: cannot reach name server 127.0.0.1:1: Connection refused" \
    env DFS_SERVER=127.0.0.1:1 dfs-ls /
expect_err "dfs-cat: cannot reach name server 127.0.0.1:1: Connection refused" \
    dfs-cat -s 127.0.0.1:1 /f
expect_err "dfs-cp: cannot reach name server 127.0.0.1:1: Connection refused" \
    env DFS_SERVER=127.0.0.1:1 dfs-cp "$TMP/f" dfs:/f
expect_err "dfs-ls: no name server: use -s HOST[:PORT] or set DFS_SERVER" \
    env -u DFS_SERVER dfs-ls /
expect_err "dfs-ls: host:notaport: bad name server address (expected HOST[:PORT])" \
    dfs-ls -s host:notaport /

say "the directory and files are unchanged"
ok dfs-cat /f
[ "$(cat "$TMP/out")" = data ] || fail "/f changed: $(cat "$TMP/out")"
ok dfs-ls /
printf 'd\nf\n' >"$TMP/want"
same "$TMP/want" "$TMP/out"
exit 0
