#!/bin/sh
# t-privdrop.sh -- the daemons drop root for the user of -u: started as
# root with -u nobody, dfs-named, dfs-lockd and dfs-filed (its
# registrar and workers too) run with every uid and gid nobody's and no
# other group (/proc/PID/status), serve, and leave only files of
# nobody's in their state directories; an unknown user, a state
# directory of another user's and a pid file nobody may write are
# refused with a message saying so; without -u, a daemon started as
# root logs that it keeps root.  In network and mount namespaces of its
# own (unshare), the rpcbind entry is registered as the user and
# removed at exit.  Skipped without root.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "not root: only root can drop to another user"
USER_=nobody
uid=$(id -u $USER_ 2>/dev/null) || skip "no user '$USER_' here"
gid=$(id -g $USER_)

# the user must reach its directories under $TMP (mktemp -d: 0700)
chmod 755 "$TMP" || fail "cannot open $TMP"
mkdir -m 755 "$TMP/pid" && chown "$USER_" "$TMP/pid" ||
    fail "cannot make $TMP/pid"

# ids_of PID: the process runs as $USER_ alone: real, effective, saved
# and file system ids, and its groups.
ids_of()
{
	st=/proc/$1/status
	want_u="Uid:	$uid	$uid	$uid	$uid"
	want_g="Gid:	$gid	$gid	$gid	$gid"
	got_u=$(grep '^Uid:' "$st") && got_g=$(grep '^Gid:' "$st") &&
	    got_s=$(grep '^Groups:' "$st") || fail "no $st"
	who="pid $1 ($(cat "/proc/$1/comm"))"
	[ "$got_u" = "$want_u" ] || fail "$who: '$got_u'"
	[ "$got_g" = "$want_g" ] || fail "$who: '$got_g'"
	[ "$(echo $got_s)" = "Groups: $gid" ] || fail "$who: '$got_s'"
}

say "the three daemons with -u $USER_"
DC_USER=$USER_ DC_PIDDIR=$TMP/pid
cluster_start
for n in named lockd filed; do
	pid=$(cat "$TMP/pid/$n.pid") || fail "no pid file of $n"
	ids_of "$pid"
	grep -q "running as user '$USER_' (uid $uid, gid $gid)" \
	    "$TMP/$n.log" || fail "$n does not log its user"
	say "ok: dfs-$n (pid $pid) runs as $USER_"
done
kids=$(pgrep -P "$(cat "$TMP/pid/filed.pid")") ||
    fail "dfs-filed has no registrar or worker"
for k in $kids; do
	ids_of "$k"
	say "ok: $(cat /proc/$k/comm) (pid $k) runs as $USER_"
done

say "and serve"
mkfile "$TMP/f" 300000
ok dfs-cp "$TMP/f" dfs:/f
ok dfs-cp dfs:/f "$TMP/f.back"
same "$TMP/f" "$TMP/f.back"
left=$(find "$TMP/named" "$TMP/lockd" "$TMP/filed" ! -user "$USER_")
[ -z "$left" ] || fail "files of another user in the state: $left"
say "ok: every state file is $USER_'s"
DC_USER= DC_PIDDIR=

# refused MSG CMD...: CMD exits 1 and its first line on stderr is MSG
# (dfs-lockd prints its usage after it).
refused()
{
	want=$1
	shift
	run "$@"
	got=$(head -n 1 "$TMP/err")
	[ $RC -eq 1 ] || fail "'$*' exited $RC, want 1 (stderr: $got)"
	[ "$got" = "$want" ] || fail "'$*': stderr is '$got', want '$want'"
	say "ok: $want"
}

say "refusals"
for d in named lockd filed; do
	s=
	[ $d = named ] || s="-s 127.0.0.1:1"
	refused "dfs-$d: no such user 'dfs-no-such-user' (-u)" \
	    "$BIN/dfs-$d" -d -N -u dfs-no-such-user -D "$TMP/nouser" $s
done
[ ! -e "$TMP/nouser" ] || fail "an unknown user left a state directory"
mkdir "$TMP/rootdir"
msg="state directory '$TMP/rootdir' is owned by uid 0, not by user"
msg="$msg '$USER_' (uid $uid): chown -R it or give another -D"
refused "dfs-lockd: $msg" \
    "$BIN/dfs-lockd" -d -N -u "$USER_" -D "$TMP/rootdir"
msg="user '$USER_' cannot write in the directory of pid file"
refused "dfs-named: $msg '$TMP/named2.pid' (-P)" \
    "$BIN/dfs-named" -d -N -u "$USER_" -D "$TMP/nopid" -P "$TMP/named2.pid"

say "without -u, root is kept and said so"
keep="running as root, and keeping root (-u user drops it)"
grep -q "$keep" "$TMP/named.log" &&
    fail "dfs-named with -u says it keeps root"
start_daemon named.3
grep -q "^dfs-named: $keep\$" "$TMP/named.3.log" ||
    fail "dfs-named as root says: $(cat "$TMP/named.3.log")"
say "ok: $(head -n 1 "$TMP/named.3.log")"

say "the rpcbind entry is the user's, and goes at exit"
if ! command -v unshare >/dev/null || ! command -v rpcbind >/dev/null ||
    ! unshare -m -n true 2>/dev/null; then
	say "skipped: no unshare -m -n or no rpcbind here"
	exit 0
fi
mkdir -m 755 "$TMP/ns" && chown "$USER_" "$TMP/ns" || fail "cannot make $TMP/ns"
cat >"$TMP/ns.sh" <<EOF
# private /run (rpcbind's socket) and loopback: no other rpcbind seen
mount -t tmpfs tmpfs /run && ip link set lo up || exit 2
DC_BIN=$BIN DC_DIR=$TMP/ns DC_RPCBIND=1 DC_USER=$USER_ DC_WAIT_MS=30000
. "$top/tools/dfs-cluster.sh"
dc_rpcbind || exit 3
dc_start named || { echo "\$DC_ERR"; dc_stop \$DC_RPCBIND_PID; exit 4; }
rpcinfo 127.0.0.1 >"$TMP/ns/before"
dc_stop \$DC_PID; st=\$?
rpcinfo 127.0.0.1 >"$TMP/ns/after"
dc_stop \$DC_RPCBIND_PID
exit \$st
EOF
unshare -m -n sh "$TMP/ns.sh" >"$TMP/ns.out" 2>&1
rc=$?
[ $rc -ne 2 ] || { say "skipped: cannot set up the namespaces:" \
    "$(cat "$TMP/ns.out")"; exit 0; }
[ $rc -eq 0 ] || fail "dfs-named under rpcbind: $rc: $(cat "$TMP/ns.out")" \
    "$(cat "$TMP/ns/named.log")"
grep -q "^ *543450625 *1 *tcp .* $uid\$" "$TMP/ns/before" ||
    fail "not registered as uid $uid: $(cat "$TMP/ns/before")"
! grep -q 543450625 "$TMP/ns/after" ||
    fail "still registered after exit: $(cat "$TMP/ns/after")"
say "ok: registered as uid $uid, unregistered at exit"
exit 0
