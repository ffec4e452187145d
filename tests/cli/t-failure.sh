#!/bin/sh
# t-failure.sh -- failures a user can meet: a dfs-filed worker killed
# (and its pool under load), a file server killed in the middle of an
# upload (the upload fails, the old version stays and is served again
# after a restart), a server that is not a dfs name server,
# a full local disk on download (no partial or temporary file left), and
# the name server down.
. "$(dirname "$0")/lib.sh"
# the upload spool goes to $TMPDIR: keep it inside $TMP
TMPDIR=$TMP
export TMPDIR

# Background jobs of this test (not daemons) and the tmpfs mount: undone
# on any exit, before lib.sh's teardown, which keeps the exit status.
BG=
MNT=
cleanup()
{
	for p in $BG; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	BG=
	if [ -n "$MNT" ]; then
		umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
		MNT=
	fi
}
trap 'st=$?; cleanup; (exit $st); teardown' EXIT
cluster_start
FILEDPORT=$PORT		# cluster_start starts dfs-filed last

# drop_pid PID: teardown must no longer check PID.
drop_pid()
{
	PIDS=$(echo $PIDS | tr ' ' '\n' | grep -v "^$1\$" | tr '\n' ' ')
}

# now_ms: milliseconds, for the time limits.
now_ms()
{
	date +%s%3N
}

# wait_exit PID SECONDS: waits for a background job to end, at most
# SECONDS; sets WRC to its status, or fails after killing it.
wait_exit()
{
	deadline=$(( $(now_ms) + $2 * 1000 ))
	while kill -0 "$1" 2>/dev/null; do
		if [ "$(now_ms)" -ge "$deadline" ]; then
			kill "$1" 2>/dev/null
			wait "$1" 2>/dev/null
			return 1
		fi
		sleep 0.05
	done
	wait "$1"
	WRC=$?
	return 0
}

# alive PID: the process exists and is not a zombie.
alive()
{
	case $(ps -o stat= -p "$1" 2>/dev/null) in
	''|Z*)	return 1 ;;
	esac
	return 0
}

# children PID: prints the pids of PID's workers (its children but the
# registrar, dfs-filed-reg) that are not zombies (one look; the pool forks and ends workers on its own, so callers
# await a condition on it, never compare two looks).
children()
{
	for c in $(pgrep -x -P "$1" dfs-filed); do
		alive "$c" && echo "$c"
	done
}

# await_children PID WHAT TEST [ARGS]: waits until `TEST ARGS KIDS`
# holds for PID's children (KIDS, one argument), at most 10 s; sets KIDS
# or fails, saying WHAT was awaited.
await_children()
{
	pid=$1 what=$2
	shift 2
	deadline=$(( $(now_ms) + 10000 ))
	while KIDS=$(children "$pid"); ! "$@" "$KIDS"; do
		[ "$(now_ms)" -lt "$deadline" ] ||
		    fail "dfs-filed's workers: $what; after 10 s:" \
		    "'$(echo $KIDS)'"
		sleep 0.05
	done
}

# atleast N KIDS: N or more pids in KIDS.
atleast()
{
	[ "$(echo $2 | wc -w)" -ge "$1" ]
}

# replaced VICTIM KIDS: VICTIM gone, two or more others.
replaced()
{
	case " $(echo $2) " in
	*" $1 "*)	return 1 ;;
	esac
	atleast 2 "$2"
}

say "dfs-filed keeps two workers waiting, serves connection after" \
    "connection with them, replaces one killed and forks more under load"
filedpid=$(cat "$TMP/filed.pid")
# two or more: a connection of cluster_start's may have made a third
await_children "$filedpid" "two waiting" atleast 2
idle=$KIDS
echo spare >"$TMP/s1"
ok dfs-cp --no-cache "$TMP/s1" dfs:/spare
ok dfs-cp --no-cache dfs:/spare "$TMP/s2"
same "$TMP/s1" "$TMP/s2"
# The first connection went to one of them, which then waited for the
# next: a worker that exited after its connection (a process per
# connection) is what must not happen.  Spares the pool forked meanwhile
# are its business (an exact list raced them).
for w in $idle; do
	alive "$w" || fail "worker $w exited after two copies (workers" \
	    "before: '$(echo $idle)', now: '$(echo $(children "$filedpid"))');" \
	    "a process per connection?"
done
victim=$(echo "$idle" | head -n 1)
kill -9 "$victim"
await_children "$filedpid" "$victim killed, two or more others" \
    replaced "$victim"
ok dfs-cp --no-cache dfs:/spare "$TMP/s2"
same "$TMP/s1" "$TMP/s2"
# three idle connections held open (the supervisor holds them; none
# takes a worker): a client is still served at once.  What holds a
# worker is the pool's business, so the test awaits the connections, not
# a process count.
for i in 1 2 3; do
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$FILEDPORT && exec sleep 60" &
	BG="$BG $!"
done
i=0
command -v ss >/dev/null || say "note: no ss(8), not awaiting them"
until ! command -v ss >/dev/null ||
    [ "$(ss -Htn state established "( dport = :$FILEDPORT )" |
    wc -l)" -ge 3 ]; do
	i=$((i + 1))
	[ $i -lt 600 ] || fail "three connections to dfs-filed not made in 30 s"
	sleep 0.05
done
ok dfs-cp --no-cache dfs:/spare "$TMP/s2"
busy=$(children "$filedpid")
[ "$(echo "$busy" | wc -w)" -eq 2 ] ||
    fail "workers with three idle connections held: '$(echo $busy)'," \
    "want the two spares"
same "$TMP/s1" "$TMP/s2"
cleanup
ok dfs-rm /spare

say "a file server killed in the middle of an upload"
MiB=1048576
mkfile "$TMP/v1" $((200 * MiB))
mkfile "$TMP/v2" $((200 * MiB))
sum1=$(md5sum <"$TMP/v1")
ok dfs-cp "$TMP/v1" dfs:/v
ok dfs-stat /v
grep -q '^Version: 1$' "$TMP/out" || fail "/v is not version 1: $(cat "$TMP/out")"
filedpid=$(cat "$TMP/filed.pid")
case " $PIDS " in
*" $filedpid "*) ;;
*)	fail "dfs-filed pid $filedpid (from $TMP/filed.pid) not in '$PIDS'" ;;
esac
rm -f "$TMP/filed"/stage/*/* 2>/dev/null
dfs-cp "$TMP/v2" dfs:/v >"$TMP/cp.out" 2>"$TMP/cp.err" &
cppid=$!
BG="$BG $cppid"
# The upload has reached the file server once a stage has data (the
# spool is filled first, ~0.3 s).  Poll for that and kill the supervisor
# right after measuring the stage, so that we know how far the upload
# had got.
i=0
staged=
while [ -z "$staged" ]; do
	kill -0 "$cppid" 2>/dev/null ||
	    fail "dfs-cp ended before reaching the file server:" \
	    "$(cat "$TMP/cp.err")"
	staged=$(find "$TMP/filed/stage" -type f -size +0 2>/dev/null |
	    head -n 1)
	i=$((i + 1))
	[ $i -lt 500 ] || fail "no stage on the file server after 10 s"
	[ -n "$staged" ] || sleep 0.02
done
staged_bytes=$(stat -c %s "$staged" 2>/dev/null || echo gone)
kill -9 "$filedpid" || fail "cannot kill dfs-filed $filedpid"
wait "$filedpid" 2>/dev/null
drop_pid "$filedpid"
say "killed dfs-filed $filedpid with $staged_bytes bytes staged"
wait_exit "$cppid" 30 || fail "dfs-cp still running 30 s after the kill"
BG=
err=$(cat "$TMP/cp.err")
want=$sum1 wantvers=1
if [ "$WRC" -eq 0 ] && { [ "$staged_bytes" = $((200 * MiB)) ] ||
    [ "$staged_bytes" = gone ]; }; then
	# every byte had arrived: the kill landed in COMMIT, which the
	# connection process finishes before it obeys SIGTERM
	say "note: the kill came after the whole upload; dfs-cp committed"
	want=$(md5sum <"$TMP/v2") wantvers=2
elif [ "$WRC" -ne 1 ]; then
	ok dfs-stat /v
	fail "dfs-cp exited $WRC after its file server was killed with" \
	    "$staged_bytes of $((200 * MiB)) bytes staged (stderr: '$err');" \
	    "now /v is $(grep -E '^(Version|   Size):' "$TMP/out" | tr -s ' \n' ' ')"
else
	case $err in
	"dfs-cp: dfs:/v: "?*|"dfs-cp: $TMP/v2: "?*) ;;
	*)	fail "dfs-cp after the kill said '$err'" ;;
	esac
	say "ok: $err"
fi
# no connection process may outlive its supervisor (PR_SET_PDEATHSIG):
# they are forked, not executed, so they carry its command line (a list
# taken before the kill would miss one forked after it)
i=0
while left=$(pgrep -f -- "-D $TMP/filed -P "); do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "connection processes of dfs-filed" \
	    "$filedpid still run 5 s after the supervisor died:" $left
	sleep 0.05
done

say "restart dfs-filed on port $FILEDPORT"
restart_daemon filed "$FILEDPORT" -s "$DFS_SERVER"
i=0
until dfs-cat /v >"$TMP/v.back" 2>"$TMP/v.err"; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "/v unreadable 5 s after the restart:" \
	    "$(cat "$TMP/v.err")"
	sleep 0.05
done
[ "$(md5sum <"$TMP/v.back")" = "$want" ] ||
    fail "/v is not version $wantvers after the killed upload"
ok dfs-stat /v
grep -q "^Version: $wantvers\$" "$TMP/out" ||
    fail "/v is not version $wantvers: $(cat "$TMP/out")"
grep -q "^   Size: $((200 * MiB))\$" "$TMP/out" ||
    fail "/v changed: $(cat "$TMP/out")"
say "and the restarted server takes a new version"
ok dfs-cp "$TMP/v2" dfs:/v
ok dfs-cp dfs:/v "$TMP/v2.back"
same "$TMP/v2" "$TMP/v2.back"
rm -f "$TMP/v1" "$TMP/v2" "$TMP/v.back" "$TMP/v2.back"

say "a second dfs-filed on the same port tries again, then says why"
mkdir -p "$TMP/filed2"
t0=$(now_ms)
"$BIN/dfs-filed" -d -N -b 127.0.0.1 -p "$FILEDPORT" -D "$TMP/filed2" \
    -s "$DFS_SERVER" >"$TMP/filed2.log" 2>&1 &
pid=$!
BG="$BG $pid"
wait_exit $pid 10 || fail "a second dfs-filed on port $FILEDPORT still" \
    "runs after 10 s: $(cat "$TMP/filed2.log")"
BG=
t1=$(now_ms)
[ "$WRC" -ne 0 ] || fail "a second dfs-filed on a port in use exited 0"
grep -q "port $FILEDPORT in use, trying again" "$TMP/filed2.log" &&
    grep -q "cannot bind '127.0.0.1' port $FILEDPORT: Address already in use" \
    "$TMP/filed2.log" || fail "dfs-filed said: $(cat "$TMP/filed2.log")"
[ $((t1 - t0)) -ge 2500 ] || fail "gave up after $((t1 - t0)) ms"
ok dfs-cat /v

say "a server that is not a dfs name server"
lockport=$(sed -n 's/^dfs-lockd: serving on .* port \([0-9][0-9]*\)$/\1/p' \
    "$TMP/lockd.log" | tail -n 1)
[ -n "$lockport" ] || fail "no port in $TMP/lockd.log"
run env DFS_SERVER="127.0.0.1:$lockport" timeout 20 dfs-ls /
err=$(cat "$TMP/err")
[ $RC -eq 1 ] || fail "dfs-ls against dfs-lockd exited $RC ($err)"
case $err in
"dfs-ls: "*"Not a dfs server"*) say "ok: $err" ;;
*)	fail "dfs-ls against dfs-lockd said '$err'" ;;
esac

say "a full local disk on download"
mkfile "$TMP/big" $((5 * MiB))
ok dfs-cp "$TMP/big" dfs:/big
if [ "$(id -u)" != 0 ]; then
	say "skipped: not root, cannot mount a small tmpfs"
else
	mkdir "$TMP/small" || fail "mkdir $TMP/small"
	if mount -t tmpfs -o size=2m tmpfs "$TMP/small" 2>"$TMP/mount.err"
	then
		MNT=$TMP/small
		run timeout 30 dfs-cp dfs:/big "$TMP/small/big"
		err=$(cat "$TMP/err")
		[ $RC -eq 1 ] || fail "dfs-cp to a full disk exited $RC ($err)"
		case $err in
		"dfs-cp: $TMP/small/big: No space left on device") ;;
		*"No space left on device"*)
			say "note: message is '$err'" ;;
		*)	fail "dfs-cp to a full disk said '$err'" ;;
		esac
		left=$(ls -A "$TMP/small")
		[ -z "$left" ] || fail "dfs-cp left in $TMP/small: $left"
		say "ok: $err"
		umount "$MNT" || fail "cannot umount $MNT"
		MNT=
	else
		say "skipped: cannot mount a tmpfs: $(cat "$TMP/mount.err")"
	fi
fi

say "the name server is down"
namedpid=$(cat "$TMP/named.pid")
kill "$namedpid" || fail "cannot stop dfs-named $namedpid"
wait "$namedpid"
st=$?
drop_pid "$namedpid"
[ $st -eq 0 ] || fail "dfs-named exited $st after SIGTERM"
t0=$(now_ms)
run timeout 20 dfs-cat /x
t1=$(now_ms)
err=$(cat "$TMP/err")
[ $RC -ne 124 ] || fail "dfs-cat /x still running after 20 s"
[ $RC -eq 1 ] || fail "dfs-cat /x exited $RC ($err)"
case $err in
"dfs-cat: cannot reach name server $DFS_SERVER: "?*) ;;
*)	fail "dfs-cat /x said '$err'" ;;
esac
say "ok: $err ($((t1 - t0)) ms)"
exit 0
