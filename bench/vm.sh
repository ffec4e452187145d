# vm.sh -- what this virtual machine does to a measurement, and the probes
# that keep it out of the numbers or name it in the report.
#
# The VM hands freed memory back to its host (the free page reporter),
# pages out file pages idle for a minute (a DAMON scheme of the host),
# and paces TCP when its congestion control is bbr.  prepare(), lull()
# and warm() run before each timed transfer; reported_kib() counts what
# the reporter took meanwhile; tcp_cc(), damon() and host_memory() say
# so in the results.  Where a kernel lacks these knobs, nothing is
# waited for and nothing is counted.
# Sourced by bench/run.sh (bash); uses its settings and helpers.

# prepare BYTES: before a timed transfer, flush dirty pages (so the
# previous measurement's writeback does not land in this one) and, for
# large transfers, touch BYTES + 64 MiB of memory once (see the head).
# The memory is touched as page cache, a scratch file written and
# removed, not as a process's buffer: this VM's kernel reports freed
# blocks of 2 MiB to the host at once (page_reporting, min_free_ms=0),
# and the blocks a large buffer's munmap frees are gone before the
# transfer runs (a 1 GiB cp then takes 1.1 s instead of 0.2), while the
# page cache an unlink frees is taken again first.  The file is removed
# right after a pass of the reporter (lull), so that the next pass
# comes after the transfer, not in the middle of it.
prepare()
{
	sync
	[ "$1" -ge $((32 * MIB)) ] || return 0
	dd if=/dev/zero of="$S/touch" bs=1M count=$(($1 / MIB + 64)) \
	    status=none 2>/dev/null
	lull
	rm -f "$S/touch"
}

# warm SYS NAME: reads the stored copy of NAME once, untimed, so that a
# download starts from the page cache on every system (SYS "local": NAME
# is a local file, an upload's source).  This VM runs a DAMON scheme
# that pages out file pages nobody touched for a minute (see damon()),
# and a round takes longer than that: a download that finds pages of
# its source gone reads them back from the disk (dfs's took 0.54 and
# 0.69 s instead of 0.23-0.28 s with 47 and 17 MiB of its file server's
# copy missing).  dfs's copy is read through dfs-filed (dfs-cat),
# Ganesha's and rsync's are the local files they serve.
warm()
{
	case $1 in
	dfs)		"$DFS_BIN/dfs-cat" --no-cache "dfs:/$2" ;;
	nfs3|nfs4)	cat "$S/export/$2" ;;
	rsync*)		cat "$S/rsync/$2" ;;
	local)		cat "$2" ;;
	esac >/dev/null 2>&1
}

# This VM's kernel hands free memory back to the host in passes of its
# free page reporter: 2 s after memory is freed, then every 2 s while a
# pass found some.  A pass takes the memory prepare() just freed, and a
# transfer it lands in faults that memory in again: one that took 1.87 s
# instead of 0.23 s had 896 MiB reported in its window.  The reporter's
# counters are parameters of this kernel's page_reporting module, not
# of every Linux kernel: where they are missing, nothing is waited for
# and nothing is counted.
PR_PASSES=/sys/module/page_reporting/parameters/passes
PR_KIB=/sys/module/page_reporting/parameters/reported_kib

# lull: waits for the reporter to end a pass, at most 2.2 s (when none
# comes it is idle, and the next free starts its 2 s).  A transfer
# started right after has 2 s before the next one.
lull()
{
	local p0 end
	[ -r $PR_PASSES ] || return 0
	p0=$(<$PR_PASSES)
	end=$((${EPOCHREALTIME/./} + 2200000))
	while [ "$(<$PR_PASSES)" = "$p0" ] &&
	    [ "${EPOCHREALTIME/./}" -lt $end ]; do
		sleep 0.02
	done
}

# reported_kib: memory reported to the host so far, in KiB (0 where the
# kernel does not count it).
reported_kib()
{
	if [ -r $PR_KIB ]; then
		echo "$(<$PR_KIB)"
	else
		echo 0
	fi
}

# tcp_cc: the TCP congestion control new connections get (every
# system's, dfs's and iperf3's alike).  With bbr a stream is paced: on
# this VM iperf3 moved 19-20 Gbit/s on loopback with bbr and 47-50 with
# cubic, where dfs's downloads, one reply at a time, did not differ.
tcp_cc()
{
	cat /proc/sys/net/ipv4/tcp_congestion_control 2>/dev/null ||
	    echo "congestion control unknown"
}

# damon: the kernel's DAMON schemes that page out memory on their own
# (sysfs admin interface), one line each, or nothing.  Their reclaim is
# not kswapd's: /proc/vmstat's pgsteal counters do not show it.  Read
# only; the schemes are the host's, as the page reporter's knobs are.
damon()
{
	local k c s f age aggr which
	for k in /sys/kernel/mm/damon/admin/kdamonds/[0-9]*; do
		[ "$(cat "$k/state" 2>/dev/null)" = on ] || continue
		for c in "$k"/contexts/[0-9]*; do
			aggr=$(cat "$c/monitoring_attrs/intervals/aggr_us")
			for s in "$c"/schemes/[0-9]*; do
				[ "$(cat "$s/action")" = pageout ] || continue
				age=$(cat "$s/access_pattern/age/min")
				which=
				for f in "$s"/ops_filters/[0-9]* \
				    "$s"/filters/[0-9]*; do
					[ -r "$f/type" ] || continue
					which="$which, $(cat "$f/type")"
					if [ "$(cat "$f/allow")" = Y ]; then
						which="$which yes"
					else
						which="$which no"
					fi
				done
				echo "- DAMON: pages idle for" \
				    "$((age * aggr / 1000000)) s or more are" \
				    "paged out${which:+ (filters:${which#,})}," \
				    "up to $(($(cat "$s/quotas/bytes") / MIB))" \
				    "MiB per $(cat "$s/quotas/reset_interval_ms")" \
				    "ms; each transfer's source is read just" \
				    "before it (warm())"
			done
		done
	done 2>/dev/null
}

# host_memory: the timed runs in which the VM handed memory back to its
# host (see lull), which then had to be faulted in again.
host_memory()
{
	if [ ! -r $PR_KIB ]; then
		echo "This kernel does not count the memory it reports."
	elif [ ! -s "$S/reported" ]; then
		echo "None: no timed run had memory reported in its window."
	else
		echo "| round | workload | system | MiB reported | wall, s |"
		echo "|--:|---|---|--:|--:|"
		awk '{ printf "| %s | %s | %s | %s | %.3f |\n", $1, $2, $3, $4,
		    $5 }' "$S/reported"
	fi
}
