#!/bin/sh
# cluster.sh -- start or stop a local dfs cluster under ./run.
#
# usage: tools/cluster.sh start|stop|status
#
# start: rpcbind (only if none answers; then we started it and stop it
# again), dfs-named, dfs-lockd and two dfs-filed, all on 127.0.0.1,
# registered with rpcbind, state under ./run, through the one launcher
# (tools/dfs-cluster.sh).  Run as root, the daemons run as the user
# $DFS_USER (default dfs; a system user made with useradd when missing):
# they bind as root, then drop to it for good (-u, dfs-named(8)).  They
# are in sessions of their own and outlive this script; their pid files
# (run/pid/, the user's) say what stop stops, their messages go to
# run/NAME.log.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
run=${DFS_RUN:-$top/run}
DFS_USER=${DFS_USER:-dfs}
names="named lockd filed filed.2"	# dfs-cluster.sh: NAME[.N]
DC_BIN=${DFS_BIN:-$top/build/bin}
DC_DIR=$run DC_PIDDIR=$run/pid DC_RPCBIND=1 DC_DETACH=1
. "$top/tools/dfs-cluster.sh"

die() { echo "cluster: $*" >&2; exit 1; }

# is_root: this script runs as root.
is_root()
{
	[ "$(id -u)" = 0 ]
}

# setup_user: as root, makes $DFS_USER (a system user without a home or
# a shell) when missing, and the pid directory and any state directory
# left by an earlier run as root the user's; sets DC_USER.  Without
# root, the daemons run as whoever runs this.
setup_user()
{
	mkdir -p "$run/pid" || die "cannot make $run/pid"
	is_root || return 0
	if ! id -u "$DFS_USER" >/dev/null 2>&1; then
		useradd --system --user-group --no-create-home \
		    --home-dir /nonexistent --shell /usr/sbin/nologin \
		    "$DFS_USER" || die "cannot create user '$DFS_USER'"
		echo "cluster: created system user '$DFS_USER'"
	fi
	chown "$DFS_USER:" "$run/pid" || die "cannot chown $run/pid"
	for n in $names; do
		[ -d "$run/$n" ] || continue
		[ "$(stat -c %U "$run/$n")" = "$DFS_USER" ] && continue
		echo "cluster: giving $run/$n to user '$DFS_USER'"
		chown -R "$DFS_USER:" "$run/$n" || die "cannot chown $run/$n"
	done
	DC_USER=$DFS_USER
}

# running NAME: prints the PID of cluster daemon NAME when it runs.
# The pid file is the daemon user's to write, so its PID must be a dfs
# daemon's before root signals it.
running()
{
	pid=$(cat "$run/pid/$1.pid" 2>/dev/null) || return 1
	case $pid in ''|*[!0-9]*) return 1 ;; esac
	case $(cat "/proc/$pid/comm" 2>/dev/null) in
	dfs-*)	echo "$pid" ;;
	*)	return 1 ;;
	esac
}

# start_one NAME[.N] ARGS...: starts dfs-NAME unless it runs.
start_one()
{
	n=$1
	shift
	if pid=$(running "$n"); then
		echo "cluster: $n already running (pid $pid)"
		return 0
	fi
	dc_start "$n" "$@" || { dc_dump_logs "$run"; die "$DC_ERR"; }
	echo "cluster: started $n (pid $DC_PID, port $DC_PORT)"
}

start()
{
	mkdir -p "$run" || die "cannot make $run"
	if ! rpcinfo -p 127.0.0.1 >/dev/null 2>&1; then
		dc_rpcbind || die "no rpcbind is running and only root can" \
		    "start one"
		echo "$DC_RPCBIND_PID" >"$run/rpcbind.pid"
		echo "cluster: started rpcbind (pid $DC_RPCBIND_PID)"
	fi
	setup_user
	start_one named
	start_one lockd -s 127.0.0.1
	start_one filed -s 127.0.0.1
	start_one filed.2 -s 127.0.0.1
	DFS_SERVER=127.0.0.1
	export DFS_SERVER
	dc_wait_storable .cluster-ready || { dc_dump_logs "$run"
		die "$DC_ERR"; }
	echo "cluster: serving${DC_USER:+ as user '$DC_USER'};" \
	    "use DFS_SERVER=127.0.0.1" \
	    "(rpcinfo -p 127.0.0.1 lists programs 543450625-543450627)"
}

stop()
{
	for n in filed.2 filed lockd named; do
		if pid=$(running "$n"); then
			dc_stop "$pid"
			echo "cluster: stopped $n (pid $pid)"
		fi
		rm -f "$run/pid/$n.pid"
	done
	if [ -f "$run/rpcbind.pid" ]; then
		dc_stop "$(cat "$run/rpcbind.pid")" &&
		    echo "cluster: stopped rpcbind (we had started it)"
		rm -f "$run/rpcbind.pid"
	fi
}

status()
{
	for n in $names; do
		if pid=$(running "$n"); then
			echo "$n: running (pid $pid)"
		else
			echo "$n: stopped"
		fi
	done
}

case ${1:-} in
start)	start ;;
stop)	stop ;;
status)	status ;;
*)	echo "usage: tools/cluster.sh start|stop|status" >&2; exit 2 ;;
esac
