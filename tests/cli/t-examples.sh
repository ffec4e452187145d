#!/bin/sh
# t-examples.sh -- the README's two example programs work against a
# cluster: stubs-getattr (rpcgen stubs, one COMPOUND) reports a file's
# type, size and version and names the failing op for a missing path;
# libdfs-hello writes and reads back a greeting that dfs-cat then sees.
. "$(dirname "$0")/lib.sh"
for ex in stubs-getattr libdfs-hello; do
	[ -x "$BIN/$ex" ] || fail "$BIN/$ex not built"
done
cluster_start

say "stubs-getattr of a file"
mkfile "$TMP/p" 12345
ok dfs-mkdir -p /some
ok dfs-cp "$TMP/p" dfs:/some/path
ok stubs-getattr "127.0.0.1:$NAMEDPORT" /some/path
out=$(cat "$TMP/out")
[ ! -s "$TMP/err" ] || fail "stubs-getattr wrote to stderr: $(cat "$TMP/err")"
case $out in
"/some/path: file, 12345 bytes, mode "[0-7]*", version 1") ;;
*)	fail "stubs-getattr /some/path: '$out'" ;;
esac
for word in "file" "12345 bytes" "version 1"; do
	case $out in
	*"$word"*) ;;
	*)	fail "stubs-getattr /some/path does not say '$word': $out" ;;
	esac
done
say "ok: $out"

say "a new version and a directory"
ok dfs-cp "$TMP/p" dfs:/some/path
ok stubs-getattr "127.0.0.1:$NAMEDPORT" /some/path
grep -q ', 12345 bytes, .*version 2$' "$TMP/out" ||
    fail "after a rewrite: $(cat "$TMP/out")"
ok stubs-getattr "127.0.0.1:$NAMEDPORT" /some
grep -q '^/some: directory, ' "$TMP/out" || fail "/some: $(cat "$TMP/out")"

say "stubs-getattr of a missing path names the failing op"
run stubs-getattr "127.0.0.1:$NAMEDPORT" /some/missing
err=$(cat "$TMP/err")
[ $RC -eq 1 ] || fail "stubs-getattr /some/missing exited $RC ($err)"
[ ! -s "$TMP/out" ] || fail "stubs-getattr /some/missing: $(cat "$TMP/out")"
# op 0 is PUTROOTFH, op 1 the LOOKUP that fails; one line, nothing else
# (under ASan a leak report would follow it)
case $err in
"stubs-getattr: /some/missing: op 1 failed with status "[0-9]*) ;;
*)	fail "stubs-getattr /some/missing said '$err'" ;;
esac
[ "$(wc -l <"$TMP/err")" -eq 1 ] ||
    fail "stubs-getattr /some/missing: more than one line on stderr: $err"
say "ok: $err"
run stubs-getattr "127.0.0.1:$NAMEDPORT" /nodir/x
[ $RC -eq 1 ] || fail "stubs-getattr /nodir/x exited $RC"
grep -q '^stubs-getattr: /nodir/x: op 1 failed with status [0-9]*$' \
    "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ] ||
    fail "stubs-getattr /nodir/x said '$(cat "$TMP/err")'"

say "libdfs-hello"
ok libdfs-hello /greeting
[ "$(cat "$TMP/out")" = "hello from libdfs" ] ||
    fail "libdfs-hello printed '$(cat "$TMP/out")'"
[ ! -s "$TMP/err" ] || fail "libdfs-hello wrote to stderr: $(cat "$TMP/err")"
ok dfs-cat /greeting
[ "$(cat "$TMP/out")" = "hello from libdfs" ] ||
    fail "dfs-cat /greeting printed '$(cat "$TMP/out")'"
printf 'hello from libdfs\n' >"$TMP/want"
same "$TMP/want" "$TMP/out"
say "and again over the existing file"
ok libdfs-hello /greeting
same "$TMP/want" "$TMP/out"
ok dfs-stat /greeting
grep -q '^Version: 2$' "$TMP/out" || fail "/greeting: $(cat "$TMP/out")"
exit 0
