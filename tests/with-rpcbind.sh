#!/bin/sh
# with-rpcbind.sh -- runs a command with an rpcbind on this host.
#
# When no rpcbind answers, starts "rpcbind -w -f" (foreground, so we know
# its PID) through the one launcher (tools/dfs-cluster.sh, dc_rpcbind),
# runs the command, and stops that rpcbind by PID afterwards.  An
# rpcbind that was already running is used and left alone.  Without
# root, or without rpcbind installed, the command runs anyway and the
# tests that need rpcbind skip themselves.
top=$(cd "$(dirname "$0")/.." && pwd)
DC_BIN=${DFS_BIN:-$top/build/bin} DC_WAIT_MS=5000
. "$top/tools/dfs-cluster.sh"
if dc_rpcbind && [ -n "$DC_RPCBIND_PID" ]; then
	echo "with-rpcbind: started rpcbind (pid $DC_RPCBIND_PID)"
fi
"$@"
rc=$?
[ -z "$DC_RPCBIND_PID" ] || dc_stop "$DC_RPCBIND_PID"
exit $rc
