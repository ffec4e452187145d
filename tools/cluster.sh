#!/bin/sh
# cluster.sh -- start or stop a local dfs cluster under ./run.
#
# usage: tools/cluster.sh start|stop|status
#
# start: rpcbind (only if none answers; then we started it and stop it
# again), dfs-named, dfs-lockd and two dfs-filed, all on 127.0.0.1,
# registered with rpcbind, state under ./run.  The daemons detach; their
# pid files in ./run say what to stop.  Logs go to syslog (run with
# DFS_FOREGROUND=1 to keep them in run/*.log instead).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${DFS_BIN:-$top/build/bin}
run=${DFS_RUN:-$top/run}
names="named lockd filed1 filed2"

die() { echo "cluster: $*" >&2; exit 1; }

wait_file() {
	i=0
	while [ ! -f "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	[ -f "$1" ]
}

start_daemon() {	# name program args...
	n=$1; shift
	if [ -f "$run/$n.pid" ] && kill -0 "$(cat "$run/$n.pid")" 2>/dev/null
	then
		echo "cluster: $n already running (pid $(cat "$run/$n.pid"))"
		return 0
	fi
	"$@" -D "$run/$n" -P "$run/$n.pid" || die "cannot start $n"
	wait_file "$run/$n.pid" || die "$n did not become ready"
	echo "cluster: started $n (pid $(cat "$run/$n.pid"))"
}

start() {
	mkdir -p "$run"
	if ! rpcinfo -p 127.0.0.1 >/dev/null 2>&1; then
		[ "$(id -u)" = 0 ] || die "no rpcbind is running and only root can start one"
		# -f keeps it in the foreground so that we know its pid
		setsid rpcbind -w -f </dev/null >/dev/null 2>&1 &
		echo $! >"$run/rpcbind.pid"
		i=0
		while ! rpcinfo -p 127.0.0.1 >/dev/null 2>&1 && [ $i -lt 100 ]
		do sleep 0.05; i=$((i + 1)); done
		echo "cluster: started rpcbind"
	fi
	start_daemon named "$bin/dfs-named"
	start_daemon lockd "$bin/dfs-lockd" -s 127.0.0.1
	start_daemon filed1 "$bin/dfs-filed" -s 127.0.0.1
	start_daemon filed2 "$bin/dfs-filed" -s 127.0.0.1
	echo "cluster: serving; use DFS_SERVER=127.0.0.1" \
	    "(rpcinfo -p 127.0.0.1 lists programs 543450625-543450627)"
}

stop() {
	for n in filed2 filed1 lockd named; do
		f=$run/$n.pid
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		if kill "$pid" 2>/dev/null; then
			i=0
			while kill -0 "$pid" 2>/dev/null && [ $i -lt 200 ]; do
				sleep 0.05; i=$((i + 1))
			done
			echo "cluster: stopped $n (pid $pid)"
		fi
		rm -f "$f"
	done
	if [ -f "$run/rpcbind.pid" ]; then
		kill "$(cat "$run/rpcbind.pid")" 2>/dev/null &&
		    echo "cluster: stopped rpcbind (we had started it)"
		rm -f "$run/rpcbind.pid"
	fi
}

status() {
	for n in $names; do
		f=$run/$n.pid
		if [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then
			echo "$n: running (pid $(cat "$f"))"
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
