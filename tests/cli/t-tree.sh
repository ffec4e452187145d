#!/bin/sh
# t-tree.sh -- dfs-cp -r copies a small tree both ways, dfs-ls lists it,
# -p keeps mode and modification time; -j copies many files at once and
# one bad file fails the copy without stopping the others.
. "$(dirname "$0")/lib.sh"
cluster_start

src=$TMP/src
mkdir -p "$src/a/b" "$src/empty"
echo one >"$src/one"
echo two >"$src/a/two"
mkfile "$src/a/b/three" 3000
chmod 640 "$src/one"
chmod 750 "$src/a"
touch -d '2001-02-03 04:05:06' "$src/one" "$src/a/two"

say "cp -r local -> dfs into a new directory (mkdir -p)"
ok dfs-cp -r "$src" dfs:/x/tree
ok dfs-ls /x/tree
printf 'a\nempty\none\n' >"$TMP/want"
same "$TMP/want" "$TMP/out"
ok dfs-ls /x/tree/a
printf 'b\ntwo\n' >"$TMP/want"
same "$TMP/want" "$TMP/out"

say "cp -r into an existing directory goes under the source's name"
ok dfs-mkdir /y
ok dfs-cp -r "$src" dfs:/y
ok dfs-ls /y
echo src >"$TMP/want"
same "$TMP/want" "$TMP/out"

say "ls -a shows . and .."
ok dfs-ls -a /y/src/a
printf '.\n..\nb\ntwo\n' >"$TMP/want"
same "$TMP/want" "$TMP/out"

say "ls of a file lists just that file"
ok dfs-ls /y/src/one
echo /y/src/one >"$TMP/want"
same "$TMP/want" "$TMP/out"

say "cp -r dfs -> local, byte-identical"
ok dfs-cp -r dfs:/x/tree "$TMP/back"
diff -r "$src" "$TMP/back" || fail "trees differ"

say "cp -r dfs -> dfs"
ok dfs-cp -r dfs:/x/tree dfs:/z
ok dfs-cp -r dfs:/z "$TMP/back2"
diff -r "$src" "$TMP/back2" || fail "trees differ after dfs -> dfs"

say "-p keeps mode and mtime on dfs"
ok dfs-cp -rp "$src" dfs:/p
ok dfs-ls -l /p
grep -q '^-rw-r-----  *1 .* 2001-02-03 04:05 one$' "$TMP/out" ||
    fail "ls -l /p: $(cat "$TMP/out")"
grep -q '^drwxr-x--- .* a$' "$TMP/out" || fail "ls -l /p: $(cat "$TMP/out")"
ok dfs-stat /p/one
grep -q '^   Mode: 0640 (-rw-r-----)$' "$TMP/out" ||
    fail "stat: $(cat "$TMP/out")"
grep -q '^ Modify: 2001-02-03 04:05:06.000000000 ' "$TMP/out" ||
    fail "stat: $(cat "$TMP/out")"

say "-p keeps mode and mtime on the way back"
ok dfs-cp -rp dfs:/p "$TMP/p"
[ "$(stat -c %a "$TMP/p/one")" = 640 ] || fail "mode $(stat -c %a "$TMP/p/one")"
[ "$(stat -c %a "$TMP/p/a")" = 750 ] || fail "mode $(stat -c %a "$TMP/p/a")"
[ "$(stat -c %Y "$TMP/p/a/two")" = "$(stat -c %Y "$src/a/two")" ] ||
    fail "mtime of a/two not kept"

say "without -p a new local file gets the default mode"
umask 022
ok dfs-cp dfs:/p/one "$TMP/np"
[ "$(stat -c %a "$TMP/np")" = 644 ] || fail "mode $(stat -c %a "$TMP/np")"

say "-j: 200 files by 1 and by 16 jobs, byte-identical both ways"
mkdir -p "$TMP/many/d"
i=0
while [ $i -lt 200 ]; do
	echo "file $i" >"$TMP/many/d/f$i"
	i=$((i + 1))
done
ok dfs-cp -j 1 -r "$TMP/many" dfs:/m1
ok dfs-cp -j 16 -r "$TMP/many" dfs:/m16
ok dfs-cp -j 16 -r dfs:/m1 "$TMP/m1"
ok dfs-cp -j 1 -r dfs:/m16 "$TMP/m16"
diff -r "$TMP/many" "$TMP/m1" || fail "-j 1 up, -j 16 down differ"
diff -r "$TMP/many" "$TMP/m16" || fail "-j 16 up, -j 1 down differ"

say "-j: an unreadable file fails the copy, the others arrive"
if [ "$(id -u)" -ne 0 ]; then
	chmod 000 "$TMP/many/d/f7"
	run dfs-cp -j 8 -r "$TMP/many" dfs:/mbad
	[ $RC -eq 1 ] || fail "exit $RC with an unreadable file"
	grep -q "f7: Permission denied" "$TMP/err" ||
	    fail "no message for f7: $(cat "$TMP/err")"
	ok dfs-ls /mbad/d
	[ "$(wc -l <"$TMP/out")" -eq 199 ] || fail "$(wc -l <"$TMP/out") copied"
	chmod 644 "$TMP/many/d/f7"
else
	# root reads any file: a dangling link fails to open instead
	ln -s "$TMP/nowhere" "$TMP/many/d/dangling"
	run dfs-cp -j 8 -r "$TMP/many" dfs:/mbad
	[ $RC -eq 1 ] || fail "exit $RC with a dangling link"
	grep -q "dangling: No such file or directory" "$TMP/err" ||
	    fail "no message for the dangling link: $(cat "$TMP/err")"
	ok dfs-ls /mbad/d
	[ "$(wc -l <"$TMP/out")" -eq 200 ] || fail "$(wc -l <"$TMP/out") copied"
	rm "$TMP/many/d/dangling"
fi

# lock_calls OP: prints the lock server's count of OP (dfs-stat -S).
lock_calls()
{
	ok dfs-stat -S
	awk -v op="$1" '/^lock server/ { f = 1; next }
	    /server/ { f = 0 } f && $1 == op { print $2 }' "$TMP/out"
}

say "-j: small files go by dfs_put() and take no lock"
l0=$(lock_calls LOCK)
ok dfs-cp -j 4 -r "$TMP/many" dfs:/mlk
l1=$(lock_calls LOCK)
[ -n "$l0" ] && [ -n "$l1" ] || fail "no LOCK count in dfs-stat -S"
[ "$l1" -eq "$l0" ] || fail "$((l1 - l0)) LOCKs for 200 small files"
ok dfs-cp -r dfs:/mlk "$TMP/mlk"
diff -r "$TMP/many" "$TMP/mlk" || fail "-j 4 by dfs_put: differ"

say "one small file goes by dfs_put() too: no lock, and a path held" \
    "elsewhere is refused"
l0=$(lock_calls LOCK)
ok dfs-cp "$TMP/many/d/f1" dfs:/one
l1=$(lock_calls LOCK)
[ "$l1" -eq "$l0" ] || fail "$((l1 - l0)) LOCKs for one small file"
ok dfs-cat /one
cmp -s "$TMP/out" "$TMP/many/d/f1" || fail "/one is not f1"
run dfs-lock /one -- env -u DFS_LOCKS dfs-cp "$TMP/many/d/f2" dfs:/one
[ $RC -eq 1 ] || fail "exit $RC writing /one locked elsewhere"
grep -q "^dfs-cp: dfs:/one: Locked by another client" "$TMP/err" ||
    fail "no message for /one: $(cat "$TMP/err")"
ok dfs-cat /one
cmp -s "$TMP/out" "$TMP/many/d/f1" || fail "/one changed under a lock"
ok dfs-lock /one -- dfs-cp "$TMP/many/d/f2" dfs:/one
ok dfs-cat /one
cmp -s "$TMP/out" "$TMP/many/d/f2" || fail "/one not written under" \
    "the writer's own lock"

say "-j: a worker locks the larger files it takes with one LOCK"
mkdir -p "$TMP/larger"
for i in 1 2 3 4 5 6 7 8; do
	mkfile "$TMP/larger/g$i" $((70 * 1024 + i))
done
l0=$(lock_calls LOCK)
u0=$(lock_calls UNLOCK)
ok dfs-cp -j 2 -r "$TMP/larger" dfs:/mlg
l1=$(lock_calls LOCK)
u1=$(lock_calls UNLOCK)
[ $((l1 - l0)) -ge 1 ] && [ $((l1 - l0)) -le 4 ] ||
    fail "$((l1 - l0)) LOCKs for 8 files on 2 workers"
[ $((u1 - u0)) -eq $((l1 - l0)) ] ||
    fail "$((l1 - l0)) LOCKs but $((u1 - u0)) UNLOCKs"
ok dfs-cp -r dfs:/mlg "$TMP/mlg"
diff -r "$TMP/larger" "$TMP/mlg" || fail "-j 2 with batch locks: differ"

say "-j: a file locked by another client fails, the others arrive"
run dfs-lock /mlk2/d/f5 -- env -u DFS_LOCKS \
    dfs-cp -j 4 -r "$TMP/many" dfs:/mlk2
[ $RC -eq 1 ] || fail "exit $RC with /mlk2/d/f5 locked elsewhere"
grep -q "^dfs-cp: dfs:/mlk2/d/f5: Locked by another client" "$TMP/err" ||
    fail "no message for f5: $(cat "$TMP/err")"
[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "more failed: $(cat "$TMP/err")"
ok dfs-ls /mlk2/d
[ "$(wc -l <"$TMP/out")" -eq 199 ] || fail "$(wc -l <"$TMP/out") copied"

say "-j takes 1 to 64"
expect_err "dfs-cp: -j 0: expected a number of jobs from 1 to 64" \
    dfs-cp -j 0 -r "$TMP/many" dfs:/mx
expect_err "dfs-cp: -j x: expected a number of jobs from 1 to 64" \
    dfs-cp -j x -r "$TMP/many" dfs:/mx

say "rm -r removes the tree"
ok dfs-rm -r /x /y /z /p /m1 /m16 /mbad /mlk /mlg /mlk2 /one
ok dfs-ls /
[ ! -s "$TMP/out" ] || fail "left: $(cat "$TMP/out")"
exit 0
