# lib.sh -- sourced by tests/cli/t-*.sh: a private dfs cluster per test.
#
# Each test gets its own temporary directory ($TMP) and a real cluster
# on random free ports: dfs-named, dfs-lockd and one dfs-filed, all with
# -N (no rpcbind).  A daemon is ready when its pid file exists (they
# write it only once they answer RPCs); the cluster is ready when a
# small file can be stored.  teardown (on EXIT) stops exactly the PIDs
# started here and removes $TMP.  Exit status: 0 ok, 77 skip, 99 fail.
#
# DFS_BIN names the directory holding the binaries (default build/bin).
# The tools run with DFS_SERVER pointing at the test's name server.

top=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${DFS_BIN:-$top/build/bin}
case $BIN in
/*)	;;
*)	BIN=$(pwd)/$BIN ;;
esac
PATH=$BIN:$PATH
export PATH

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dfs-cli.XXXXXX") || exit 99
# the tools cache what they read and write: in the test's directory,
# never in the user's ~/.cache; open to every user, as tests also run
# tools as another one (whose cache would otherwise be off, with a
# warning on stderr)
XDG_CACHE_HOME=$TMP/cache
export XDG_CACHE_HOME
mkdir -p "$XDG_CACHE_HOME" && mkdir -m 1777 "$XDG_CACHE_HOME/dfs" || exit 99
PIDS=
NAMEDPORT=

# Stops every daemon this test started (SIGTERM, then SIGKILL after 30 s,
# a bound for a loaded machine: a daemon killed so fails the test) and
# removes $TMP.  Keeps the exit status.
teardown()
{
	rc=$?
	trap - EXIT
	# ORDER: ignore signals first; an echo to a closed pipe must not
	# end the clean-up half-way
	trap '' HUP INT PIPE TERM
	for pid in $PIDS; do
		if ! kill "$pid" 2>/dev/null && [ $rc -eq 0 ]; then
			echo "FAIL: daemon $pid died during the test"
			rc=99
		fi
	done
	deadline=$(( $(date +%s%3N) + 30000 ))
	for pid in $PIDS; do
		while kill -0 "$pid" 2>/dev/null &&
		    [ "$(date +%s%3N)" -lt "$deadline" ]; do
			sleep 0.05
		done
		kill -9 "$pid" 2>/dev/null
		wait "$pid"
		st=$?
		if [ $st -ne 0 ] && [ $rc -eq 0 ]; then
			echo "FAIL: daemon $pid exited $st after SIGTERM"
			rc=99
		fi
	done
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		dump_logs
	fi
	rm -rf "$TMP"
	exit $rc
}
trap teardown EXIT
trap 'exit 99' HUP INT PIPE TERM

dump_logs()
{
	for log in "$TMP"/*.log; do
		[ -s "$log" ] || continue
		echo "--- $log (last 20 lines)"
		tail -n 20 "$log"
	done
}

fail()
{
	echo "FAIL: $*"
	exit 99
}

skip()
{
	echo "SKIP: $*"
	exit 77
}

say()
{
	echo "--- $*"
}

# A port in 20000-59999.
random_port()
{
	echo $(( $(od -An -N2 -tu2 /dev/urandom) % 40000 + 20000 ))
}

# start_daemon NAME[.N] ARGS...: starts dfs-NAME on a random port,
# retrying with another port when it dies before writing its pid file
# (port in use).  Its pid file, state directory and log are
# $TMP/NAME[.N].{pid,,log} (.N: a second instance).  Sets PORT.  Fails
# the test after 5 tries, or when one has not started after 30 s (a
# generous bound: other tests may load the machine).
start_daemon()
{
	name=$1
	prog=${name%%.*}
	shift
	[ -x "$BIN/dfs-$prog" ] || fail "$BIN/dfs-$prog not built"
	tries=0
	while [ $tries -lt 5 ]; do
		tries=$((tries + 1))
		PORT=$(random_port)
		pidfile=$TMP/$name.pid
		rm -f "$pidfile"
		mkdir -p "$TMP/$name"
		"$BIN/dfs-$prog" -d -N -b 127.0.0.1 -p "$PORT" \
		    -D "$TMP/$name" -P "$pidfile" "$@" \
		    >>"$TMP/$name.log" 2>&1 &
		pid=$!
		deadline=$(( $(date +%s%3N) + 30000 ))
		while [ ! -s "$pidfile" ] && kill -0 $pid 2>/dev/null; do
			[ "$(date +%s%3N)" -lt "$deadline" ] || break
			sleep 0.025
		done
		if [ -s "$pidfile" ] && kill -0 $pid 2>/dev/null; then
			PIDS="$PIDS $pid"
			return 0
		fi
		kill $pid 2>/dev/null
		wait $pid 2>/dev/null
		# alive but not ready: not a port in use, do not try again
		[ "$(date +%s%3N)" -lt "$deadline" ] || break
	done
	fail "dfs-$name did not start (see $TMP/$name.log)"
}

# kill_daemon NAME[.N]: kill -9 of a daemon start_daemon started, and
# waits (30 s at most) until no process of it is left: dfs-filed's
# workers, forked with its command line, die of their supervisor's
# death a moment later, and could still serve until then.
kill_daemon()
{
	kpid=$(cat "$TMP/$1.pid")
	kill -9 "$kpid" || fail "cannot kill $1 ($kpid)"
	wait "$kpid" 2>/dev/null
	PIDS=$(echo $PIDS | tr ' ' '\n' | grep -v "^$kpid\$" | tr '\n' ' ')
	deadline=$(( $(date +%s%3N) + 30000 ))
	while pgrep -f -- "-D $TMP/$1 -P " >/dev/null; do
		[ "$(date +%s%3N)" -lt "$deadline" ] ||
		    fail "processes of $1 left 30 s after kill -9"
		sleep 0.02
	done
}

# cluster_start [HEARTBEAT_MS]: starts the cluster and waits until a
# file can be stored (the file server has registered), at most 30 s.
# Heartbeats every second by default: a server missing three is marked
# down, which a loaded machine must not cause (200 ms did allow it).
cluster_start()
{
	start_daemon named -H "${1:-1000}"
	NAMEDPORT=$PORT
	DFS_SERVER=127.0.0.1:$NAMEDPORT
	export DFS_SERVER
	start_daemon lockd -s "$DFS_SERVER"
	start_daemon filed -s "$DFS_SERVER"
	deadline=$(( $(date +%s%3N) + 30000 ))
	until echo ready | dfs-cp --no-cache - dfs:/.cli-ready \
	    >"$TMP/ready.out" 2>&1
	do
		[ "$(date +%s%3N)" -lt "$deadline" ] ||
		    fail "cluster not ready after 30 s:" \
		    "$(cat "$TMP/ready.out")"
		sleep 0.05
	done
	dfs-rm /.cli-ready || fail "cannot remove /.cli-ready"
}

# run CMD...: runs a command, keeping its stdout in $TMP/out, its
# stderr in $TMP/err and its status in $RC.
run()
{
	"$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
}

# ok CMD...: the command must succeed.
ok()
{
	run "$@"
	[ $RC -eq 0 ] || fail "'$*' exited $RC: $(cat "$TMP/err")"
}

# expect_err LINE CMD...: the command must exit 1 with exactly LINE on
# stderr.
expect_err()
{
	want=$1
	shift
	run "$@"
	got=$(cat "$TMP/err")
	[ $RC -eq 1 ] || fail "'$*' exited $RC, want 1 (stderr: $got)"
	[ "$got" = "$want" ] ||
	    fail "'$*': stderr is '$got', want '$want'"
	say "ok: $want"
}

# same FILE1 FILE2: byte-identical.
same()
{
	cmp "$1" "$2" || fail "$1 and $2 differ"
}

# mkfile FILE BYTES: random contents.
mkfile()
{
	head -c "$2" /dev/urandom >"$1" || fail "cannot create $1"
}
