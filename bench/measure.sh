# measure.sh -- how bench/run.sh measures, and its workloads: timing,
# client CPU and RSS (/usr/bin/time), server CPU (/proc/PID/stat of the
# daemons and their children), the checks of every copy in the warm-up
# round, one function per workload (wl_*, up, down, tree_*, small,
# cached, meta, par_down), round() running them all once, and the
# daemons' peak memory (sample_hwm).
# Sourced by bench/run.sh (bash); uses its settings and helpers.

# --- measuring ---------------------------------------------------------

ROUND=0			# 0: the warm-up; 1..RUNS: timed
SEQ=0			# fresh remote names: nfs-cp cannot overwrite, and
			# Ganesha must never see a name come back

# fresh PREFIX: sets NAME to a name never used before in this run.
fresh()
{
	SEQ=$((SEQ + 1))
	NAME=$1$SEQ
}

# record KEY VALUE: keeps a timed value (not in the warm-up).
record()
{
	[ $ROUND -gt 0 ] && printf '%s %s\n' "$1" "$2" >>"$DATA"
	return 0
}

# ticks PID...: their CPU time so far, user+system, own and of reaped
# children, and that of their live children (dfs-filed's workers serve
# connection after connection and may never be reaped), in clock ticks.
ticks()
{
	local sum=0 line p f
	for p in "$@" $(for p in "$@"; do pgrep -P "$p"; done); do
		{ read -r line <"/proc/$p/stat"; } 2>/dev/null || continue
		read -r -a f <<<"${line##*) }"
		sum=$((sum + f[11] + f[12] + f[13] + f[14]))
	done
	echo $sum
}

# nchildren PID...: how many child processes they have.
nchildren()
{
	local p n=0
	for p in "$@"; do
		n=$((n + $(pgrep -c -P "$p")))
	done
	echo $n
}

# quiesce BASE PID...: waits (at most 3 s) until the daemons' children
# are done with the last client: back to BASE of them (a connection
# process of rsync ends after its client, and its CPU time shows once it
# is reaped), or, with more (dfs-filed's pool grew), none used CPU for
# 0.1 s.
quiesce()
{
	local base=$1 i=0 t=-1 now
	shift
	while [ "$(nchildren "$@")" -gt "$base" ] && [ $i -lt 30 ]; do
		now=$(ticks "$@")
		[ "$now" = "$t" ] && break
		t=$now
		sleep 0.1
		i=$((i + 1))
	done
}

# fail_cmd WHAT: a measured command failed: its output and exit.
fail_cmd()
{
	die "$1 failed (round $ROUND): $(tail -5 "$S/cmd.log")"
}

# timed WL SYS CMD...: runs CMD (a program or a function) with its
# output to /dev/null (cat and dfs-cat write there) and its errors to
# cmd.log; sets WALL (seconds).  Memory the VM handed back to its host
# meanwhile (see lull) is listed in the report, by round.
timed()
{
	local wl=$1 sys=$2 t0 t1 k0 k1
	shift 2
	k0=$(reported_kib)
	t0=${EPOCHREALTIME/./}
	"$@" >/dev/null 2>"$S/cmd.log" || fail_cmd "'$*'"
	t1=${EPOCHREALTIME/./}
	k1=$(reported_kib)
	WALL=$(awk -v us=$((t1 - t0)) 'BEGIN { printf "%.6f", us / 1e6 }')
	[ $ROUND -gt 0 ] && [ $((k1 - k0)) -ge 1024 ] &&
	    printf '%s %s %s %s %s\n' "$ROUND" "$wl" "$sys" \
	    $(((k1 - k0) / 1024)) "$WALL" >>"$S/reported"
	return 0
}

# xfer WL SYS BYTES CMD...: one measurement of a transfer by one client
# program: wall time, client CPU and peak RSS (/usr/bin/time), server
# CPU (the daemons' ticks across it).  Records WL.SYS.{wall,ccpu,scpu,
# rss}.
xfer()
{
	local wl=$1 sys=$2 bytes=$3 spids base t0 u s m
	shift 3
	spids=$(server_pids "$sys")
	prepare "$bytes"
	base=$(nchildren $spids)
	t0=$(ticks $spids)
	if [ -n "$TIME" ]; then
		timed "$wl" "$sys" $TIME -f '%U %S %M' -o "$S/time.out" "$@"
		read -r u s m < <(tail -1 "$S/time.out")
		record "$wl.$sys.ccpu" "$(awk "BEGIN { print $u + $s }")"
		record "$wl.$sys.rss" "$m"
	else
		timed "$wl" "$sys" "$@"
	fi
	quiesce "$base" $spids
	record "$wl.$sys.wall" "$WALL"
	record "$wl.$sys.scpu" \
	    "$(awk "BEGIN { print ($(ticks $spids) - $t0) / $CLK_TCK }")"
	say "round $ROUND: $wl $sys ${WALL}s"
}

# plain WL SYS KEY BYTES CMD...: a timed measurement without the CPU
# bookkeeping (trees, small files, several processes); records
# WL.SYS.KEY.
plain()
{
	local wl=$1 sys=$2 key=$3 bytes=$4
	shift 4
	prepare "$bytes"
	timed "$wl" "$sys.$key" "$@"
	record "$wl.$sys.$key" "$WALL"
	say "round $ROUND: $wl $sys $key ${WALL}s"
}

# check_same A B WHAT: byte-identical, else the run fails (a fast but
# wrong system must not win).
check_same()
{
	cmp -s "$1" "$2" || die "$3: the copy differs from the source"
}

# check_size FILE BYTES WHAT: FILE has BYTES bytes (the cheap check of
# the timed rounds).
check_size()
{
	[ "$(stat -c %s "$1" 2>/dev/null)" = "$2" ] ||
	    die "$3: $1 has not $2 bytes"
}

# check_dfs DFSPATH LOCAL WHAT: the dfs file has LOCAL's bytes.
check_dfs()
{
	"$DFS_BIN/dfs-cat" --no-cache "$1" >"$S/verify/f" ||
	    die "$3: dfs-cat $1 failed"
	check_same "$S/verify/f" "$2" "$3"
	rm -f "$S/verify/f"
}

# order LIST...: the systems of a workload, rotated by the round number
# so that no system always runs first (after the previous workload's
# clean-up) or last.
order()
{
	local a=("$@") n=$# i
	for ((i = 0; i < n; i++)); do
		echo "${a[(i + ROUND) % n]}"
	done
}

# --- the workloads -----------------------------------------------------

# limits: what the machine can do at all.
wl_limits()
{
	local r
	# one TCP stream over loopback (a fresh one-off server per run)
	if command -v iperf3 >/dev/null; then
		iperf_run
	fi
	# local cat of a page-cached file (the warm-up caches it)
	plain limits cat-big wall 0 cat "$S/src/big"
	# local cp followed by sync of the copy: durable
	plain limits cpsync-big wall "$BIG_B" cp_sync "$S/src/big"
	plain limits cpsync-mid wall "$MID_B" cp_sync "$S/src/mid"
	# local cp without sync (where a download lands)
	plain limits cp-big wall "$BIG_B" cp "$S/src/big" "$S/cp/big"
	[ $ROUND -gt 0 ] || check_same "$S/src/big" "$S/cp/big" "cp"
	rm -f "$S/cp/big"
	# 4 KiB appends with O_DSYNC: what bounds a durable metadata op
	r=$((SMOKE ? 50 : 300))
	plain limits fsync wall 0 dd if=/dev/zero of="$S/cp/fsync" bs=4k \
	    count=$r oflag=dsync status=none
	record limits.fsync.n $r
	rm -f "$S/cp/fsync"
}

# cp_sync FILE: copies FILE into $S/cp and fsyncs the copy.
cp_sync()
{
	cp "$1" "$S/cp/copy" && sync "$S/cp/copy" &&
	    { [ $ROUND -gt 0 ] || cmp -s "$1" "$S/cp/copy"; } &&
	    rm -f "$S/cp/copy"
}

# iperf_run: iperf3 -c against a one-off iperf3 -s of ours; records
# limits.iperf.bps (received bits per second).
iperf_run()
{
	local port pid t bps try
	# a free port may be taken before iperf3 binds it (another run on
	# the machine): try a few
	for try in 1 2 3 4 5; do
		port=$(free_port)
		iperf3 -s -1 -B 127.0.0.1 -p "$port" --forceflush \
		    >"$S/iperf-s.log" 2>&1 &
		pid=$!
		started $pid iperf3
		wait_for 5 grep -q -e listening -e error "$S/iperf-s.log"
		grep -q listening "$S/iperf-s.log" && break
		stop_pid $pid iperf3
		unset 'STARTED[${#STARTED[@]}-1]'
		[ $try -lt 5 ] ||
		    die "iperf3 -s did not start: $(cat "$S/iperf-s.log")"
	done
	t=$SECS
	[ $ROUND -gt 0 ] || t=1
	iperf3 -c 127.0.0.1 -p "$port" -t "$t" -J >"$S/iperf.json" 2>&1 ||
	    die "iperf3 -c failed: $(tail -5 "$S/iperf.json")"
	bps=$(awk '/"sum_received"/ { f = 1 }
	    f && /"bits_per_second"/ { gsub(/[^0-9.e+]/, "", $2); print $2;
	    exit }' "$S/iperf.json")
	[ -n "$bps" ] || die "no sum_received in iperf3's output"
	record limits.iperf.bps "$bps"
	say "round $ROUND: limits iperf3 $(awk "BEGIN { printf \"%.0f\", \
	    $bps / 8 / $MIB }") MiB/s"
	stop_pid $pid iperf3
	unset 'STARTED[${#STARTED[@]}-1]'
}

# up WL FILE BYTES: FILE to each system under a fresh name.
up()
{
	local wl=$1 src=$2 bytes=$3 sys
	for sys in $(order dfs nfs3 rsync rsync-fsync); do
		has "$sys" || continue
		fresh up
		warm local "$src"
		case $sys in
		dfs)	xfer "$wl" dfs "$bytes" \
			    "$DFS_CP" --no-cache "$src" "dfs:/$NAME"
			[ $ROUND -gt 0 ] || check_dfs "/$NAME" "$src" "$wl dfs"
			"$DFS_BIN/dfs-rm" "/$NAME" ;;
		nfs3)	xfer "$wl" nfs3 "$bytes" nfs-cp "$src" "$(v3 "$NAME")"
			[ $ROUND -gt 0 ] ||
			    check_same "$S/export/$NAME" "$src" "$wl nfs3"
			rm -f "$S/export/$NAME" ;;
		rsync*)	xfer "$wl" "$sys" "$bytes" rsync --whole-file \
			    $([ $sys = rsync ] || echo --fsync) \
			    "$src" "$RURL/$NAME"
			[ $ROUND -gt 0 ] ||
			    check_same "$S/rsync/$NAME" "$src" "$wl $sys"
			rm -f "$S/rsync/$NAME" ;;
		esac
	done
}

# down WL NAME BYTES: NAME (stored on every system at setup) from each
# system into a local file, deleted after each run, not synced.
down()
{
	local wl=$1 f=$2 bytes=$3 sys dl=$S/dl/$2
	for sys in $(order dfs nfs3 nfs4 rsync); do
		has "$sys" || continue
		warm "$sys" "$f"
		case $sys in
		dfs)	xfer "$wl" dfs "$bytes" \
			    "$DFS_CP" --no-cache "dfs:/$f" "$dl" ;;
		nfs3)	xfer "$wl" nfs3 "$bytes" nfs-cp "$(v3 "$f")" "$dl" ;;
		nfs4)	xfer "$wl" nfs4 "$bytes" \
			    nfs-cp "$(v4 "$f")" "$dl" ;;
		rsync)	xfer "$wl" rsync "$bytes" \
			    rsync --whole-file "$RURL/$f" "$dl" ;;
		esac
		if [ $ROUND -gt 0 ]; then
			check_size "$dl" "$bytes" "$wl $sys"
		else
			check_same "$dl" "$S/src/$f" "$wl $sys"
		fi
		rm -f "$dl"
	done
}

# nfs_tree_up DIR: one nfs-cp process per file of the tree into DIR.
nfs_tree_up()
{
	local f
	for f in "${TREE[@]}"; do
		nfs-cp "$S/src/tree/$f" "$(v3 "$1/$f")" || return 1
	done
}

# nfs_tree_down DIR: one nfs-cp process per file into local DIR.
nfs_tree_down()
{
	local f
	mkdir "$2" || return 1
	for f in "${TREE[@]}"; do
		nfs-cp "$(v3 "$1/$f")" "$2/$f" || return 1
	done
}

# tree_up: the tree of FILES x 4 KiB to each system, durable where the
# system can be (dfs always, nfs-cp per the server's COMMIT, rsync only
# with --fsync).
tree_up()
{
	local sys
	for sys in $(order dfs nfs3 rsync rsync-fsync); do
		has "$sys" || continue
		fresh tu
		case $sys in
		dfs)	plain tree-up dfs wall 0 \
			    "$DFS_CP" --no-cache -r "$S/src/tree" "dfs:/$NAME"
			if [ $ROUND = 0 ]; then
				"$DFS_CP" --no-cache -r "dfs:/$NAME" \
				    "$S/verify/tree" >"$S/cmd.log" 2>&1 ||
				    fail_cmd "tree-up dfs: reading back"
				diff -r "$S/src/tree" "$S/verify/tree" ||
				    die "tree-up dfs: the trees differ"
				rm -rf "$S/verify/tree"
			fi
			"$DFS_BIN/dfs-rm" -r "/$NAME" ;;
		nfs3)	mkdir "$S/export/$NAME"
			plain tree-up nfs3 wall 0 nfs_tree_up "$NAME"
			[ $ROUND -gt 0 ] || diff -r "$S/src/tree" \
			    "$S/export/$NAME" || die "tree-up nfs3: differ"
			rm -rf "${S:?}/export/$NAME" ;;
		rsync*)	plain tree-up "$sys" wall 0 rsync -r --whole-file \
			    $([ $sys = rsync ] || echo --fsync) \
			    "$S/src/tree/" "$RURL/$NAME/"
			[ $ROUND -gt 0 ] || diff -r "$S/src/tree" \
			    "$S/rsync/$NAME" || die "tree-up $sys: differ"
			rm -rf "${S:?}/rsync/$NAME" ;;
		esac
	done
}

# tree_down: the tree (stored on every system at setup) into a new
# local directory, removed after each run.
tree_down()
{
	local sys dl=$S/dl/tree
	for sys in $(order dfs nfs3 rsync); do
		has "$sys" || continue
		case $sys in
		dfs)	plain tree-down dfs wall 0 \
			    "$DFS_CP" --no-cache -r dfs:/tree "$dl" ;;
		nfs3)	plain tree-down nfs3 wall 0 nfs_tree_down tree "$dl" ;;
		rsync)	plain tree-down rsync wall 0 \
			    rsync -r --whole-file "$RURL/tree/" "$dl/" ;;
		esac
		if [ $ROUND = 0 ]; then
			diff -r "$S/src/tree" "$dl" ||
			    die "tree-down $sys: the trees differ"
		else
			[ "$(ls "$dl" | wc -l)" = "$FILES" ] ||
			    die "tree-down $sys: not $FILES files"
		fi
		rm -rf "$dl"
	done
}

# small_rt SYS NAME: one 4 KiB file up and back down, two processes of
# the system's client tool, as a user would type them.
small_rt()
{
	local src=$S/src/small dl=$S/dl/small
	case $1 in
	dfs)	"$DFS_CP" --no-cache "$src" "dfs:/$2" &&
		    "$DFS_CP" --no-cache "dfs:/$2" "$dl" ;;
	nfs3)	nfs-cp "$src" "$(v3 "$2")" && nfs-cp "$(v3 "$2")" "$dl" ;;
	rsync)	rsync --whole-file "$src" "$RURL/$2" &&
		    rsync --whole-file "$RURL/$2" "$dl" ;;
	rsync-fsync)
		rsync --whole-file --fsync "$src" "$RURL/$2" &&
		    rsync --whole-file "$RURL/$2" "$dl" ;;
	esac
}

# small: the 4 KiB round trip on each system; every copy is checked.
small()
{
	local sys
	for sys in $(order dfs nfs3 rsync rsync-fsync); do
		has "$sys" || continue
		fresh s
		plain small "$sys" wall 0 small_rt "$sys" "$NAME"
		check_same "$S/dl/small" "$S/src/small" "small $sys"
		rm -f "$S/dl/small"
		case $sys in
		dfs)	"$DFS_BIN/dfs-rm" "/$NAME" ;;
		nfs3)	rm -f "$S/export/$NAME" ;;
		rsync*)	rm -f "$S/rsync/$NAME" ;;
		esac
	done
}

# cached: a re-read of the mid file through the dfs cache (filled by
# the warm-up) against cat of the local file, both to /dev/null, each
# read once untimed just before.
cached()
{
	if [ $ROUND = 0 ]; then
		"$DFS_BIN/dfs-cat" dfs:/mid >"$S/verify/f" ||
		    die "cached: dfs-cat (fill) failed"
		check_same "$S/verify/f" "$S/src/mid" "cached dfs (fill)"
		"$DFS_BIN/dfs-cat" dfs:/mid >"$S/verify/f" ||
		    die "cached: dfs-cat (cached) failed"
		check_same "$S/verify/f" "$S/src/mid" "cached dfs"
		rm -f "$S/verify/f"
	fi
	# both read once untimed: the round's large transfers may have
	# pushed either file's pages out, and a re-read means cached pages
	"$DFS_BIN/dfs-cat" dfs:/mid >/dev/null ||
	    die "cached: dfs-cat (warm-up) failed"
	cat "$S/src/mid" >/dev/null
	if [ $((ROUND % 2)) = 0 ]; then
		plain cached dfs wall 0 "$DFS_BIN/dfs-cat" dfs:/mid
		plain cached limit wall 0 cat "$S/src/mid"
	else
		plain cached limit wall 0 cat "$S/src/mid"
		plain cached dfs wall 0 "$DFS_BIN/dfs-cat" dfs:/mid
	fi
}

# meta: dfs-metaops stat and create+remove, 1 and 4 clients, each in a
# fresh directory (the tool makes it); records meta.dfs.<op><clients>
# in ops/s.
meta()
{
	local op c t x
	if [ ! -x "$METAOPS" ]; then
		[ $ROUND -gt 0 ] ||
		    note "meta skipped: $METAOPS not built (make bench)"
		return
	fi
	t=$SECS
	[ $ROUND -gt 0 ] || t=1
	for op in stat create; do
		for c in 1 4; do
			fresh meta
			sync
			"$METAOPS" -s "$DFS_SERVER" -c $c -t "$t" "$op" \
			    "/$NAME" >"$S/cmd.log" 2>&1 ||
			    fail_cmd "dfs-metaops -c $c $op"
			x=$(sed -n 's/.* ops_per_s=\([0-9.]*\).*/\1/p' \
			    "$S/cmd.log")
			[ -n "$x" ] || die "dfs-metaops printed no ops_per_s:" \
			    "$(cat "$S/cmd.log")"
			record "meta.dfs.$op$c" "$x"
			say "round $ROUND: meta $op, $c clients: $x ops/s"
			"$DFS_BIN/dfs-rm" -r "/$NAME" >/dev/null 2>&1
		done
	done
}

# par_down N SYS: N downloads of the mid file by N client processes at
# once; returns when all ended, failing if one failed.
par_down()
{
	local n=$1 sys=$2 i rc=0
	CLIENTS=()
	for ((i = 0; i < n; i++)); do
		case $sys in
		dfs)	"$DFS_CP" --no-cache dfs:/mid "$S/dl/p$i" & ;;
		nfs3)	nfs-cp "$(v3 mid)" "$S/dl/p$i" & ;;
		esac
		CLIENTS+=($!)
	done
	for i in "${CLIENTS[@]}"; do
		wait "$i" || rc=1
	done
	CLIENTS=()
	return $rc
}

# par4: aggregate download throughput of 1 and of 4 concurrent clients.
par4()
{
	local sys n i
	for sys in $(order dfs nfs3); do
		has "$sys" || continue
		for n in 1 4; do
			warm "$sys" mid
			plain par4 "$sys" "x$n" $((n * MID_B)) \
			    par_down $n "$sys"
			for ((i = 0; i < n; i++)); do
				if [ $ROUND = 0 ]; then
					check_same "$S/dl/p$i" "$S/src/mid" \
					    "par4 $sys"
				fi
				check_size "$S/dl/p$i" "$MID_B" "par4 $sys"
				rm -f "$S/dl/p$i"
			done
		done
	done
}

# round: every chosen workload once, for every system.
round()
{
	local w
	for w in $WORKLOADS; do
		case $w in
		limits)		wl_limits ;;
		up-big)		up up-big "$S/src/big" "$BIG_B" ;;
		down-big)	down down-big big "$BIG_B" ;;
		up-mid)		up up-mid "$S/src/mid" "$MID_B" ;;
		down-mid)	down down-mid mid "$MID_B" ;;
		tree-up)	tree_up ;;
		tree-down)	tree_down ;;
		small)		small ;;
		cached)		cached ;;
		meta)		meta ;;
		par4)		par4 ;;
		esac
	done
}

# --- memory of the daemons ---------------------------------------------

# sample_hwm: appends "label kB" for every daemon and every child of one
# (dfs-filed and rsync fork one per connection) every 0.1 s, until
# killed; runs in the background during the warm-up round.
sample_hwm()
{
	local d p label line
	while :; do
		for d in "${DAEMONS[@]}"; do
			label=${d#* } p=${d%% *}
			hwm "$p" "$label"
			for p in $(pgrep -P "$p"); do
				hwm "$p" "$label (connection processes)"
			done
		done >>"$S/hwm"
		sleep 0.1
	done
}

# hwm PID LABEL: prints "LABEL<TAB>VmHWM kB" of PID.
hwm()
{
	local k v rest
	while read -r k v rest; do
		[ "$k" = VmHWM: ] && printf '%s\t%s\n' "$2" "$v"
	done 2>/dev/null <"/proc/$1/status"
}
