#!/bin/sh
# t-deadserver.sh -- a dead server costs a tool seconds and is named with
# its cause: dfs-filed stopped (SIGSTOP: connections are accepted by the
# kernel, nothing answers), before a transfer and in the middle of a
# download or an upload,
# dfs-lockd and dfs-named stopped, dfs-filed killed (connections
# refused), and the name server killed.
# The name server hears heartbeats every 20 s here, so it believes the
# file server live throughout (a minute) and the client is what must
# notice.  The limits are generous (10 s; the client gives a new file
# server 3 s to answer) so that load cannot fail them; before, a stopped
# file server cost a download 45 s and an upload 60 s, a stopped name or
# lock server 15 s or more.
. "$(dirname "$0")/lib.sh"
TMPDIR=$TMP
export TMPDIR
STOPPED=
cleanup()
{
	for p in $STOPPED; do
		kill -CONT "$p" 2>/dev/null
	done
	STOPPED=
}
trap 'st=$?; cleanup; (exit $st); teardown' EXIT
cluster_start 20000

# await_stopped PID: waits (at most 5 s) until PID is stopped: kill
# -STOP only sends the signal, and a process not yet stopped may still
# fork a worker.
await_stopped()
{
	i=0
	until [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = T ]; do
		[ -e "/proc/$1" ] || return 0
		i=$((i + 1))
		[ $i -lt 500 ] || fail "process $1 did not stop in 5 s"
		sleep 0.01
	done
}

# stop_filed: SIGSTOP dfs-filed, the supervisor first (once stopped it
# forks no worker), then every worker.
stop_filed()
{
	kill -STOP "$filedpid" || fail "cannot stop dfs-filed $filedpid"
	STOPPED=$filedpid
	await_stopped "$filedpid"
	for w in $(pgrep -P "$filedpid"); do
		kill -STOP "$w" && STOPPED="$STOPPED $w"
		await_stopped "$w"
	done
}

now_ms()
{
	date +%s%3N
}

# timed_fail WHAT REGEX CMD...: CMD must exit 1 within 10 s with a
# message matching the extended REGEX.
timed_fail()
{
	what=$1 pat=$2
	shift 2
	t0=$(now_ms)
	run timeout 60 "$@"
	ms=$(( $(now_ms) - t0 ))
	err=$(cat "$TMP/err")
	[ $RC -eq 1 ] || fail "$what: '$*' exited $RC ($err)"
	echo "$err" | grep -Eq "$pat" || fail "$what: '$*' said '$err'"
	[ $ms -lt 10000 ] || fail "$what: '$*' took $ms ms ($err)"
	say "ok ($ms ms): $err"
}

mkfile "$TMP/f" 100000
mkfile "$TMP/big" $((3 * 1048576))
ok dfs-cp --no-cache "$TMP/f" dfs:/f
ok dfs-cp --no-cache "$TMP/big" dfs:/big

say "dfs-filed stopped"
filedpid=$(cat "$TMP/filed.pid")
stop_filed
cause="no answer within 3000 ms"
timed_fail "download, small" "^dfs-cat: /f: .*$cause" dfs-cat --no-cache /f
timed_fail "download, large" "^dfs-cp: dfs:/big: .*$cause" \
    dfs-cp --no-cache dfs:/big "$TMP/big.back"
[ ! -e "$TMP/big.back" ] || fail "a partial download was left"
timed_fail "upload" "^dfs-cp: dfs:/f: .*$cause" \
    dfs-cp --no-cache "$TMP/big" dfs:/f
cleanup
ok dfs-cat --no-cache /f
same "$TMP/f" "$TMP/out"

# await_started WHAT: waits (at most 30 s) until the transfer of WHAT
# has "started".  idle_until_stopped: in its writer or reader, says
# "started", then idles (at most 60 s) until "stopped".
await_started()
{
	i=0
	while [ ! -e "$TMP/started" ]; do
		i=$((i + 1))
		[ $i -lt 600 ] || fail "$1 moved no data in 30 s"
		sleep 0.05
	done
}
idle_until_stopped()
{
	: >"$TMP/started"
	i=0
	while [ ! -e "$TMP/stopped" ] && [ $i -lt 1200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

# stopped_midway WHAT PID ERRFILE: once the transfer PID (which names
# WHAT in its errors) has moved data, stops dfs-filed and lets it go on;
# it must fail within 10 s, saying that the server did not answer.
stopped_midway()
{
	await_started "$1"
	stop_filed
	t0=$(now_ms)
	: >"$TMP/stopped"
	wait "$2"
	crc=$?
	ms=$(( $(now_ms) - t0 ))
	cleanup
	err=$(cat "$3")
	[ $crc -eq 1 ] || fail "$1 exited $crc ($err)"
	echo "$err" | grep -Eq ": $1: .*no answer within [0-9]+ ms" ||
	    fail "$1 said '$err'"
	[ $ms -lt 10000 ] || fail "$1 took $ms ms ($err)"
	say "ok ($ms ms): $err"
}

say "dfs-filed stopped in the middle of a download"
# The reader takes one byte, so dfs-cat has read ahead as far as the
# pipe lets it, then waits for the workers to be stopped, then drains:
# the next READ gets no answer.  The call timeout is the default 15 s,
# but a reply that has not begun after 3 s makes the client ask the
# server on a new connection whether it still answers; it does not, so
# the download fails well within 10 s (before: the whole call timeout).
mkfile "$TMP/huge" $((64 * 1048576))
ok dfs-cp --no-cache "$TMP/huge" dfs:/huge
mkfifo "$TMP/pipe" || fail "mkfifo"
rm -f "$TMP/started" "$TMP/stopped"
{
	dd bs=1 count=1 2>/dev/null
	idle_until_stopped
	cat
} <"$TMP/pipe" >/dev/null &
rpid=$!
dfs-cat --no-cache /huge >"$TMP/pipe" 2>"$TMP/huge.err" &
stopped_midway /huge $! "$TMP/huge.err"
wait "$rpid"

say "dfs-filed stopped in the middle of an upload"
# The writer sends 32 MiB, waits for the file server to be stopped, then
# sends 32 MiB more: dfs-cp's next WRITE is neither taken nor answered.
# The reply's 3 s of silence and a new connection's probe fail it within
# 10 s (before, the WRITE's send blocked once the socket buffers were
# full, and the tool's ABORT waited for the call timeout).
rm -f "$TMP/started" "$TMP/stopped"
{
	head -c $((32 * 1048576)) /dev/zero
	idle_until_stopped
	head -c $((32 * 1048576)) /dev/zero
} 2>/dev/null | dfs-cp --no-cache - dfs:/upload 2>"$TMP/up.err" &
stopped_midway dfs:/upload $! "$TMP/up.err"

say "dfs-lockd stopped"
# the lock server registers on its own schedule: wait, at most 30 s,
# until a lock can be taken
deadline=$(( $(now_ms) + 30000 ))
until dfs-lock /l -- true >"$TMP/ready.out" 2>&1; do
	[ "$(now_ms)" -lt "$deadline" ] ||
	    fail "no lock server after 30 s: $(cat "$TMP/ready.out")"
	sleep 0.05
done
lockdpid=$(cat "$TMP/lockd.pid")
kill -STOP "$lockdpid" || fail "cannot stop dfs-lockd $lockdpid"
STOPPED=$lockdpid
timed_fail "lock server" "^dfs-lock: /l: .*\(lock server 127\.0\.0\.1 \
port [0-9]+: connected, but no answer within 3000 ms\)\$" dfs-lock /l -- true
cleanup
ok dfs-lock /l -- true

say "dfs-named stopped"
namedpid=$(cat "$TMP/named.pid")
kill -STOP "$namedpid" || fail "cannot stop dfs-named $namedpid"
STOPPED=$namedpid
timed_fail "name server stopped" "^dfs-cat: cannot reach name server \
$DFS_SERVER: connected, but no answer within 3000 ms\$" dfs-cat --no-cache /f
cleanup
ok dfs-cat --no-cache /f
same "$TMP/f" "$TMP/out"

say "dfs-filed killed"
kill_daemon filed
cause="Connection refused"
timed_fail "download" "^dfs-cat: /f: .*$cause" dfs-cat --no-cache /f
timed_fail "upload" "^dfs-cp: dfs:/f: .*$cause" \
    dfs-cp --no-cache "$TMP/big" dfs:/f

say "the name server killed"
kill_daemon named
timed_fail "name server" \
    "^dfs-cat: cannot reach name server $DFS_SERVER: Connection refused\$" \
    dfs-cat /f
exit 0
