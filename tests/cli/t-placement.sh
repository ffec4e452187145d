#!/bin/sh
# t-placement.sh -- new files while a file server is dead but the name
# server does not know it yet (heartbeats every 20 s here: a minute
# until it is marked down).  Uploads of new files succeed on the other
# server at once: the client reports the dead one (SUSPECT, after which
# placement avoids it) and moves the file.  With every file server dead,
# an upload of a new file fails within seconds and leaves no name
# behind (dfs-cp's "all or nothing"), and one over an existing file
# leaves it as it was.
. "$(dirname "$0")/lib.sh"
TMPDIR=$TMP
export TMPDIR

now_ms()
{
	date +%s%3N
}

start_daemon named -H 20000
DFS_SERVER=127.0.0.1:$PORT
export DFS_SERVER
start_daemon lockd -s "$DFS_SERVER"
start_daemon filed -s "$DFS_SERVER"
start_daemon filed.2 -s "$DFS_SERVER"
i=0
until [ "$(dfs-stat -S 2>/dev/null | grep -c '^file server')" -eq 2 ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "two file servers not registered after 10 s"
	sleep 0.05
done

mkfile "$TMP/small" 1000		# dfs_put()
mkfile "$TMP/big" $((3 * 1048576))	# dfs_open(), a chunk at a time
ok dfs-cp --no-cache "$TMP/small" dfs:/old

say "one file server killed: new files go to the other"
kill_daemon filed
t0=$(now_ms)
for i in 1 2 3 4; do
	ok dfs-cp --no-cache "$TMP/small" dfs:/s$i
	ok dfs-cp --no-cache "$TMP/big" dfs:/b$i
done
ms=$(( $(now_ms) - t0 ))
[ $ms -lt 30000 ] || fail "eight uploads took $ms ms"
grep -q "is suspect: a client could not reach it" "$TMP/named.log" ||
    fail "the name server was not told: $(cat "$TMP/named.log")"
grep -q "down: no heartbeat" "$TMP/named.log" &&
    fail "the name server noticed the dead server first (load?)"
for i in 1 2 3 4; do
	ok dfs-cp --no-cache dfs:/s$i "$TMP/s.back"
	same "$TMP/small" "$TMP/s.back"
	ok dfs-cp --no-cache dfs:/b$i "$TMP/b.back"
	same "$TMP/big" "$TMP/b.back"
done
say "ok: eight new files in $ms ms"

say "every file server killed: a failed new file leaves no name"
ok dfs-cp --no-cache "$TMP/small" dfs:/s.keep	# on filed.2
kill_daemon filed.2
for f in small big; do
	t0=$(now_ms)
	run dfs-cp --no-cache "$TMP/$f" dfs:/new.$f
	ms=$(( $(now_ms) - t0 ))
	[ $RC -eq 1 ] || fail "upload of a new file with every file server" \
	    "dead exited $RC: $(cat "$TMP/err")"
	[ $ms -lt 10000 ] || fail "the failed upload took $ms ms"
	say "ok ($ms ms): $(cat "$TMP/err")"
	run dfs-stat /new.$f
	[ $RC -eq 1 ] || fail "the failed upload left /new.$f:" \
	    "$(cat "$TMP/out")"
	run dfs-cp --no-cache "$TMP/$f" dfs:/s.keep
	[ $RC -eq 1 ] || fail "upload over /s.keep exited $RC"
	ok dfs-stat /s.keep
	grep -q '^Version: 1$' "$TMP/out" ||
	    fail "/s.keep changed: $(cat "$TMP/out")"
done
ok dfs-ls /
grep -q new "$TMP/out" && fail "names left: $(cat "$TMP/out")"
exit 0
