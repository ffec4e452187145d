#!/bin/sh
# with-rpcbind.sh -- runs a command with an rpcbind on this host.
#
# When no rpcbind answers, starts "rpcbind -w -f" (foreground, so we know
# its PID), runs the command, and stops that rpcbind by PID afterwards.
# An rpcbind that was already running is used and left alone.  Without
# root, or without rpcbind installed, the command runs anyway and the
# tests that need rpcbind skip themselves.
started=
if ! rpcinfo -p 127.0.0.1 >/dev/null 2>&1; then
	if command -v rpcbind >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
		rpcbind -w -f &
		started=$!
		i=0
		while [ $i -lt 100 ] && ! rpcinfo -p 127.0.0.1 >/dev/null 2>&1
		do
			sleep 0.05
			i=$((i + 1))
		done
		echo "with-rpcbind: started rpcbind (pid $started)"
	fi
fi
"$@"
rc=$?
if [ -n "$started" ]; then
	kill "$started" 2>/dev/null
	wait "$started" 2>/dev/null
fi
exit $rc
