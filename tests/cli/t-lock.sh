#!/bin/sh
# t-lock.sh -- dfs-lock: 4 concurrent processes x 100 locked increments
# of one counter end at exactly 400 (the lock server queues the waiters,
# -w); dfs-lock exits with its command's status; a path held elsewhere is
# refused at once; shared locks coexist; the command's changes carry the
# lock and other clients' changes are refused.
. "$(dirname "$0")/lib.sh"
cluster_start

# The lock server registers on its own schedule (the file server's
# registration is what cluster_start waits for): wait, at most 5 s,
# until a lock can be taken.
i=0
until dfs-lock /.lock-ready -- true >"$TMP/ready.out" 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "no lock server after 5 s:" \
	    "$(cat "$TMP/ready.out")"
	sleep 0.05
done

say "usage"
ok dfs-lock --help
grep -q "^usage: dfs-lock " "$TMP/out" || fail "--help: $(cat "$TMP/out")"
man=$top/man/dfs-lock.1
syn=$(groff -mandoc -Tascii -rLL=200n -P-c -P-b -P-u "$man" 2>/dev/null |
    sed -n '/^SYNOPSIS/{n;p;}' | sed 's/^ *//; s/  */ /g')
use=$(sed 's/^usage: //' "$TMP/out" | tr -s ' \n' '  ' | sed 's/ $//')
[ "$syn" = "$use" ] || fail "SYNOPSIS '$syn' != usage '$use'"
ok dfs-lock --version
grep -q "^dfs-lock (dfs) [0-9]" "$TMP/out" || fail "--version"
for args in "/x" "/x --" "-- true" "-w 301 /x -- true" "-w x /x -- true" \
    "-Z /x -- true" "-w"; do
	# shellcheck disable=SC2086
	run dfs-lock $args
	[ $RC -eq 1 ] || fail "dfs-lock $args exited $RC"
	grep -q "^usage: dfs-lock " "$TMP/err" ||
	    fail "dfs-lock $args: no usage: $(cat "$TMP/err")"
done
expect_err "dfs-lock: rel: dfs paths must be absolute" dfs-lock rel -- true
msg="dfs-lock: no name server: use --server HOST[:PORT] or set DFS_SERVER"
expect_err "$msg" env -u DFS_SERVER dfs-lock /x -- true
ok env -u DFS_SERVER dfs-lock --server "$DFS_SERVER" /x -- true

say "the command's exit status"
run dfs-lock /x -- sh -c 'exit 7'
[ $RC -eq 7 ] || fail "exit 7 gave $RC"
run dfs-lock /x -- true
[ $RC -eq 0 ] || fail "true gave $RC"
run dfs-lock /x -- sh -c 'kill -TERM $$'
[ $RC -eq 143 ] || fail "a command killed by SIGTERM gave $RC"
run dfs-lock /x -- "$TMP/no-such-command"
[ $RC -eq 127 ] || fail "a missing command gave $RC"
# the locks were released each time
ok dfs-lock /x -- true

say "a path held elsewhere is refused at once, with who and how long"
# the inner dfs-lock runs under the outer's lock; without -w it must
# not wait (timeout 10 would turn a wait into status 124)
ok dfs-lock /held -- sh -c 'timeout 10 dfs-lock /held -- true \
    2>"$1"; echo $? >"$2"' sh "$TMP/inner.err" "$TMP/inner.rc"
[ "$(cat "$TMP/inner.rc")" = 1 ] ||
    fail "second dfs-lock exited $(cat "$TMP/inner.rc")"
grep -qx 'dfs-lock: /held: Locked by another client (lease ends in [0-9]* s)' \
    "$TMP/inner.err" || fail "second dfs-lock said: $(cat "$TMP/inner.err")"
say "ok: $(cat "$TMP/inner.err")"
# several paths: all or nothing, and the message names the one held
ok dfs-lock /held -- sh -c 'dfs-lock /a /held /b -- true 2>"$1"; \
    echo $? >"$2"; dfs-lock /a /b -- true' sh "$TMP/inner.err" \
    "$TMP/inner.rc"
[ "$(cat "$TMP/inner.rc")" = 1 ] || fail "multi-path lock not refused"
grep -qx 'dfs-lock: /held: Locked by another client (lease ends in [0-9]* s)' \
    "$TMP/inner.err" || fail "multi-path said: $(cat "$TMP/inner.err")"

say "shared locks coexist, and exclude an exclusive one"
ok dfs-lock -s /r -- dfs-lock -s /r -- true
run dfs-lock -s /r -- dfs-lock /r -- true
[ $RC -eq 1 ] || fail "exclusive under shared exited $RC"

say "the command's changes carry the lock; others' are refused"
echo old | dfs-cp - dfs:/v || fail "cannot write /v"
ok dfs-lock /v -- sh -c 'env -u DFS_LOCKS dfs-rm /v 2>"$1"; echo $? >"$2"
    echo new | dfs-cp - dfs:/v' sh \
    "$TMP/inner.err" "$TMP/inner.rc"
[ "$(cat "$TMP/inner.rc")" = 1 ] ||
    fail "dfs-rm without the lock: $(cat "$TMP/inner.err")"
grep -q "^dfs-rm: /v: Locked by another client" "$TMP/inner.err" ||
    fail "dfs-rm without the lock said: $(cat "$TMP/inner.err")"
ok dfs-cat /v
[ "$(cat "$TMP/out")" = new ] || fail "/v is '$(cat "$TMP/out")'"
ok dfs-lock /v -- dfs-mv /v /v2
ok dfs-lock /v2 -- dfs-rm /v2

say "read-modify-write: 4 processes x 100 locked increments"
echo 0 | dfs-cp - dfs:/n || fail "cannot write /n"
pids=
for p in 1 2 3 4; do
	(
		i=0
		while [ $i -lt 100 ]; do
			dfs-lock -w 60 /n -- sh -c \
			'v=$(dfs-cat /n); echo $((v+1)) | dfs-cp - dfs:/n' ||
			    exit 1
			i=$((i + 1))
		done
	) >"$TMP/inc$p.log" 2>&1 &
	pids="$pids $!"
done
for pid in $pids; do
	wait "$pid" || fail "an incrementer failed: $(cat "$TMP"/inc*.log)"
done
ok dfs-cat /n
[ "$(cat "$TMP/out")" = 400 ] || fail "/n is $(cat "$TMP/out"), want 400"
say "ok: 400"
exit 0
