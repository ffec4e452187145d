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

# DFS_TOP: the source tree, for scripts elsewhere than tests/cli/
# (bench/cache.sh, bench/mem.sh)
top=${DFS_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
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
# the one launcher of daemons (tools/dfs-cluster.sh)
DC_BIN=$BIN DC_DIR=$TMP DC_RPCBIND=0
. "$top/tools/dfs-cluster.sh"

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
	if ! dc_stop $PIDS && [ $rc -eq 0 ]; then
		for st in $DC_STOPPED; do
			case ${st#*:} in
			0)	;;
			dead)	echo "FAIL: daemon ${st%:*} died during the test" ;;
			*)	echo "FAIL: daemon ${st%:*} exited ${st#*:}" \
				    "after SIGTERM" ;;
			esac
		done
		rc=99
	fi
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
	dc_dump_logs "$TMP"
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
	dc_random_port
}

# start_daemon NAME[.N] ARGS...: starts dfs-NAME on a random port
# (dc_start: retried on another when in use).  Its pid file, state
# directory and log are $TMP/NAME[.N].{pid,,log} (.N: a second
# instance).  Sets PORT.  Fails the test when it has not started after
# 30 s (a generous bound: other tests may load the machine).
start_daemon()
{
	dc_start "$@" || fail "$DC_ERR"
	PORT=$DC_PORT
	PIDS="$PIDS $DC_PID"
}

# restart_daemon NAME[.N] PORT ARGS...: starts dfs-NAME again on PORT,
# which the processes of its killed predecessor may still hold for a
# moment.  Sets PORT.
restart_daemon()
{
	rname=$1
	DC_PORT_FIXED=$2
	shift 2
	dc_start "$rname" "$@" || fail "$DC_ERR"
	DC_PORT_FIXED=
	PORT=$DC_PORT
	PIDS="$PIDS $DC_PID"
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
	deadline=$(( $(dc_now_ms) + 30000 ))
	while pgrep -f -- "-D $TMP/$1 -P " >/dev/null; do
		[ "$(dc_now_ms)" -lt "$deadline" ] ||
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
	dc_wait_storable .cli-ready || fail "$DC_ERR"
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
