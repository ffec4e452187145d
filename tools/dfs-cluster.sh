# dfs-cluster.sh -- the one launcher of dfs daemons, sourced by
# tools/cluster.sh (make cluster-start), tests/cli/lib.sh and bench/.
#
# POSIX sh (dash) and bash alike; every name it defines starts with dc_
# or DC_.  A daemon runs in the foreground (-d) as a background job of
# the calling shell, so its PID is $!, the one it writes to its pid
# file, and its messages go to DIR/NAME.log.  It is ready when its pid
# file holds that PID (a daemon writes it only once it answers RPCs) and
# a NULL call to the port its log names succeeds (rpcinfo -a, no
# rpcbind needed).  It is stopped by that PID: SIGTERM, then SIGKILL
# after a bound.  No wait here sleeps a fixed time: each polls a
# condition under a deadline.  The integration suites start their
# daemons the same way in C (tests/it/harness.c).
#
# Settings, read by the functions (defaults in brackets):
#   DC_BIN	the daemons and tools; required, set before sourcing
#   DC_DIR	holds NAME/ (state directory) and NAME.log; required
#   DC_PIDDIR	holds NAME.pid [DC_DIR]; with DC_USER, the user's
#   DC_RPCBIND	1: registered with rpcbind, any free port, 127.0.0.1;
#		0: -N on a random port of 20000-59999, retried when in
#		use [0]
#   DC_USER	run as this user (-u; see dfs-named(8)) [root stays root]
#   DC_WAIT_MS	bound of each wait, in ms [30000: other tests may load
#		the machine]
#   DC_DETACH	non-empty: in a session of its own (setsid), so that
#		it outlives the terminal [empty]

: "${DC_BIN:?set DC_BIN before sourcing dfs-cluster.sh}"
: "${DC_RPCBIND:=0}" "${DC_WAIT_MS:=30000}" "${DC_USER:=}"
DC_PID= DC_PORT= DC_RPCBIND_PID=

# dc_now_ms: milliseconds since the epoch.
dc_now_ms()
{
	date +%s%3N
}

# dc_random_port: a port in 20000-59999.
dc_random_port()
{
	echo $(( $(od -An -N2 -tu2 /dev/urandom) % 40000 + 20000 ))
}

# dc_prog NAME: the RPC program number of dfs-NAME.
dc_prog()
{
	case $1 in
	named)	echo 543450625 ;;
	lockd)	echo 543450626 ;;
	filed)	echo 543450627 ;;
	*)	return 1 ;;
	esac
}

# dc_null PROG PORT: a NULL call to PROG version 1 on 127.0.0.1:PORT
# answers (true without rpcinfo, from the rpcbind package: the pid
# file then says it alone).
dc_null()
{
	command -v rpcinfo >/dev/null 2>&1 || return 0
	rpcinfo -a "127.0.0.1.$(($2 / 256)).$(($2 % 256))" -T tcp "$1" 1 \
	    >/dev/null 2>&1
}

# dc_log_port LOG: the port the daemon that wrote LOG last said it
# listens on, or nothing.
dc_log_port()
{
	sed -n 's/.*: listening on .* port \([0-9][0-9]*\).*/\1/p' "$1" |
	    tail -n 1
}

# dc_wait_ready NAME PID PIDFILE LOG DEADLINE: waits until dfs-NAME
# (PID) is ready; sets DC_PORT.  Returns 0, 1 when it died, 2 at the
# deadline.
dc_wait_ready()
{
	while :; do
		kill -0 "$2" 2>/dev/null || return 1
		if [ "$(cat "$3" 2>/dev/null)" = "$2" ]; then
			DC_PORT=$(dc_log_port "$4")
			[ -n "$DC_PORT" ] &&
			    dc_null "$(dc_prog "$1")" "$DC_PORT" && return 0
		fi
		[ "$(dc_now_ms)" -lt "$5" ] || return 2
		sleep 0.02
	done
}

# dc_launch PORT ARGS...: runs dfs-$dc_prog in the background with the
# options dc_start gives every daemon (PORT empty: registered with
# rpcbind); sets DC_PID.  ORDER: "-D DIR -P" stay together, which
# tests/cli/lib.sh's kill_daemon looks for.
dc_launch()
{
	dc_p=$1
	shift
	[ -z "$dc_p" ] || set -- -N -b 127.0.0.1 -p "$dc_p" "$@"
	[ -z "$DC_USER" ] || set -- -u "$DC_USER" "$@"
	rm -f "$dc_pidfile"
	# setsid: a daemon of tools/cluster.sh outlives the terminal; it
	# does not fork here (a background job leads no process group)
	${DC_DETACH:+setsid} "$DC_BIN/dfs-$dc_prog" -d -D "$DC_DIR/$dc_name" \
	    -P "$dc_pidfile" "$@" </dev/null >>"$dc_log" 2>&1 &
	DC_PID=$!
}

# dc_start NAME[.N] ARGS...: starts dfs-NAME with ARGS, its state in
# DC_DIR/NAME[.N] (.N: another instance), and waits until it is ready
# (DC_WAIT_MS).  Sets DC_PID and DC_PORT.  A daemon that dies before it
# is ready on a random port is tried again on another (the port was in
# use), five times at most; with DC_PORT_FIXED set, on that port, until
# the deadline (a port a killed daemon's processes still hold).
# Returns 0, or 1 with the reason in DC_ERR.
dc_start()
{
	dc_name=$1
	dc_prog=${dc_name%%.*}
	shift
	DC_ERR= DC_PID=
	if [ ! -x "$DC_BIN/dfs-$dc_prog" ]; then
		DC_ERR="$DC_BIN/dfs-$dc_prog not built"
		return 1
	fi
	dc_pidfile=${DC_PIDDIR:-$DC_DIR}/$dc_name.pid
	dc_log=$DC_DIR/$dc_name.log
	dc_deadline=$(( $(dc_now_ms) + DC_WAIT_MS ))
	dc_tries=0
	while :; do
		dc_tries=$((dc_tries + 1))
		dc_port=
		[ "$DC_RPCBIND" = 1 ] ||
		    dc_port=${DC_PORT_FIXED:-$(dc_random_port)}
		dc_launch "$dc_port" "$@"
		dc_wait_ready "$dc_prog" "$DC_PID" "$dc_pidfile" "$dc_log" \
		    "$dc_deadline"
		case $? in
		0)	return 0 ;;
		2)	DC_ERR="dfs-$dc_name not ready after $DC_WAIT_MS ms" \
			    "(see $dc_log)"
			dc_stop "$DC_PID"
			return 1 ;;
		esac
		wait "$DC_PID" 2>/dev/null
		DC_ERR="dfs-$dc_name exited before it was ready (see $dc_log)"
		[ -n "$dc_port" ] && [ "$(dc_now_ms)" -lt "$dc_deadline" ] ||
		    return 1
		if [ -n "${DC_PORT_FIXED:-}" ]; then
			sleep 0.1	# the port is still held
		else
			[ $dc_tries -lt 5 ] || return 1
		fi
	done
}

# dc_stop PID...: stops these processes: SIGTERM to all, then waits
# (DC_WAIT_MS in all) until each is gone, SIGKILL to any left.  Sets
# DC_STOPPED to "PID:STATUS" for each, STATUS being its exit status
# when it is a child of this shell (else 0), "dead" when it was gone
# before, "killed" when it took SIGKILL.  Returns 0 when every one
# exited 0 after SIGTERM, else 1.
dc_stop()
{
	DC_STOPPED=
	dc_alive=
	for dc_p in "$@"; do
		if kill "$dc_p" 2>/dev/null; then
			dc_alive="$dc_alive $dc_p"
		else
			wait "$dc_p" 2>/dev/null
			DC_STOPPED="$DC_STOPPED $dc_p:dead"
		fi
	done
	dc_deadline=$(( $(dc_now_ms) + DC_WAIT_MS ))
	dc_rc=0
	for dc_p in $dc_alive; do
		while kill -0 "$dc_p" 2>/dev/null &&
		    [ "$(dc_now_ms)" -lt "$dc_deadline" ]; do
			sleep 0.02
		done
		if kill -9 "$dc_p" 2>/dev/null; then
			wait "$dc_p" 2>/dev/null
			DC_STOPPED="$DC_STOPPED $dc_p:killed"
			dc_rc=1
			continue
		fi
		wait "$dc_p" 2>/dev/null
		dc_st=$?
		[ $dc_st -ne 127 ] || dc_st=0	# not our child
		DC_STOPPED="$DC_STOPPED $dc_p:$dc_st"
		[ $dc_st -eq 0 ] || dc_rc=1
	done
	case $DC_STOPPED in *:dead*) dc_rc=1 ;; esac
	return $dc_rc
}

# dc_rpcbind: makes sure an rpcbind answers on 127.0.0.1: when none
# does, starts one in the foreground (-f, so its PID is known: sets
# DC_RPCBIND_PID, for dc_stop) and waits for it.  Returns 0, or 1 when
# none answers and none could be started (not root, not installed).
dc_rpcbind()
{
	DC_RPCBIND_PID=
	rpcinfo -p 127.0.0.1 >/dev/null 2>&1 && return 0
	command -v rpcbind >/dev/null 2>&1 && [ "$(id -u)" = 0 ] || return 1
	${DC_DETACH:+setsid} rpcbind -w -f </dev/null >/dev/null 2>&1 &
	DC_RPCBIND_PID=$!
	dc_deadline=$(( $(dc_now_ms) + DC_WAIT_MS ))
	until rpcinfo -p 127.0.0.1 >/dev/null 2>&1; do
		kill -0 "$DC_RPCBIND_PID" 2>/dev/null &&
		    [ "$(dc_now_ms)" -lt "$dc_deadline" ] || return 1
		sleep 0.02
	done
}

# dc_wait_storable NAME: waits (DC_WAIT_MS) until the cluster that
# DFS_SERVER names stores a small file (a file server has registered
# with the name server), then removes it again.  Returns 0, or 1 with
# the tool's last error in DC_ERR.
dc_wait_storable()
{
	dc_deadline=$(( $(dc_now_ms) + DC_WAIT_MS ))
	until DC_ERR=$(echo ready |
	    "$DC_BIN/dfs-cp" --no-cache - "dfs:/$1" 2>&1); do
		[ "$(dc_now_ms)" -lt "$dc_deadline" ] || {
			DC_ERR="cluster not ready after $DC_WAIT_MS ms: $DC_ERR"
			return 1; }
		sleep 0.05
	done
	DC_ERR=$("$DC_BIN/dfs-rm" "/$1" 2>&1)
}

# dc_dump_logs DIR: the last 20 lines of every non-empty log in DIR.
dc_dump_logs()
{
	for dc_l in "$1"/*.log; do
		[ -s "$dc_l" ] || continue
		echo "--- $dc_l (last 20 lines)"
		tail -n 20 "$dc_l"
	done
}
