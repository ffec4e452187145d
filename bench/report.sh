# report.sh -- the results of bench/run.sh: medians of the recorded
# values, the Markdown table with ratios dfs/peer, the peak RSS of the
# daemons, the targets of issue 6 with PASS/FAIL, what was measured
# (versions) and report(), the whole results file.
# Sourced by bench/run.sh (bash); uses its settings and helpers.

# --- the report --------------------------------------------------------

# med KEY: the median of the values recorded under KEY, or nothing.
med()
{
	awk -v k="$1" '$1 == k { print $2 }' "$DATA" | sort -g |
	    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
	    else if (NR) print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# calc A OP B: awk arithmetic on two medians; nothing when one is
# missing or a divisor is 0.
calc()
{
	awk -v a="${1:-}" -v op="$2" -v b="${3:-}" 'BEGIN {
	    if (a == "" || b == "") exit
	    if (op == "+") print a + b
	    else if (op == "-") print a - b
	    else if (op == "*") print a * b
	    else if (op == "/" && b != 0) print a / b }'
}

# rate BYTES KEY: MiB/s from the median wall time under KEY.
rate()
{
	local w
	w=$(med "$2")
	[ -n "$w" ] && awk -v b="$1" -v w="$w" -v m=$MIB \
	    'BEGIN { if (w > 0) print b / m / w }'
}

# per_gib BYTES KEY: the median under KEY (seconds) per GiB moved.
per_gib()
{
	local v
	v=$(med "$2")
	[ -n "$v" ] && awk -v b="$1" -v v="$v" \
	    'BEGIN { print v / (b / 1073741824) }'
}

# mib_of KEY: the median under KEY (kB) in MiB.
mib_of()
{
	local v
	v=$(med "$1")
	[ -n "$v" ] && awk -v v="$v" 'BEGIN { print v / 1024 }'
}

# fmt X: a number with sensible digits; "-" when there is none.
fmt()
{
	awk -v x="${1:-}" 'BEGIN {
	    if (x == "") { print "-"; exit }
	    a = x < 0 ? -x : x
	    if (a >= 100) printf "%.0f\n", x
	    else if (a >= 10) printf "%.1f\n", x
	    else if (a >= 1) printf "%.2f\n", x
	    else printf "%.3f\n", x }'
}

# ratio A B: A/B as "1.23x", or "-" when one is missing.
ratio()
{
	awk -v a="${1:-}" -v b="${2:-}" 'BEGIN {
	    if (a == "" || b == "" || b == 0) print "-"
	    else printf "%.2fx\n", a / b }'
}

# row WORKLOAD METRIC BEST DFS NFS3 NFS4 RSYNC RSYNCF LIMIT: one table
# row; the ratio columns are dfs/that column.
row()
{
	local w=$1 m=$2 b=$3 d=$4
	shift 4
	printf '| %s | %s | %s | %s' "$w" "$m" "$b" "$(fmt "$d")"
	for v in "$@"; do printf ' | %s' "$(fmt "$v")"; done
	for v in "$@"; do printf ' | %s' "$(ratio "$d" "$v")"; done
	printf ' |\n'
}

IPERF=$(med limits.iperf.bps)
IPERF_MIBS=$(calc "$IPERF" / $((8 * MIB)))
CPSYNC_BIG=$(rate "$BIG_B" limits.cpsync-big.wall)
CPSYNC_MID=$(rate "$MID_B" limits.cpsync-mid.wall)
FSYNC_W=$(med limits.fsync.wall)
FSYNC_N=$(med limits.fsync.n)
FSYNC_RATE=$(calc "$FSYNC_N" / "$FSYNC_W")

# transfer_rows WL BYTES LIMIT cpu|no: the throughput row of WL, and
# with "cpu" its rows of CPU per GiB (medians of client and of server
# CPU, and their sum) and of the client's peak RSS.
transfer_rows()
{
	local wl=$1 b=$2 lim=$3 cpu=$4 s
	local -a r c sc t m
	for s in $SYSTEMS; do
		r+=("$(rate "$b" "$wl.$s.wall")")
		c+=("$(per_gib "$b" "$wl.$s.ccpu")")
		sc+=("$(per_gib "$b" "$wl.$s.scpu")")
		t+=("$(calc "${c[-1]}" + "${sc[-1]}")")
		m+=("$(mib_of "$wl.$s.rss")")
	done
	row "$wl" "MiB/s" max "${r[@]}" "$lim"
	[ "$cpu" = cpu ] || return 0
	row "$wl" "client CPU s/GiB" min "${c[@]}" ""
	row "$wl" "server CPU s/GiB" min "${sc[@]}" ""
	row "$wl" "client+server CPU s/GiB" min "${t[@]}" ""
	row "$wl" "client peak RSS MiB" min "${m[@]}" ""
}

# files_rate WL SYS: files/s of a tree workload.
files_rate()
{
	local w
	w=$(med "$1.$2.wall")
	[ -n "$w" ] && awk -v n="$FILES" -v w="$w" 'BEGIN { print n / w }'
}

# ms WL SYS: the median wall time in ms.
ms()
{
	local w
	w=$(med "$1.$2.wall")
	[ -n "$w" ] && awk -v w="$w" 'BEGIN { print w * 1000 }'
}

table()
{
	local s
	echo "| workload | metric | best | dfs | nfs v3 | nfs v4 | rsync |" \
	    "rsync --fsync | limit | dfs/nfs3 | dfs/nfs4 | dfs/rsync |" \
	    "dfs/rsync-fsync | dfs/limit |"
	echo "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
	if wants limits; then
		row limits "iperf3 loopback, 1 stream ($(tcp_cc)), MiB/s" max \
		    "" "" "" "" "" "$IPERF_MIBS"
		row limits "cat of the $BIG MiB file (page cache), MiB/s" \
		    max "" "" "" "" "" "$(rate "$BIG_B" limits.cat-big.wall)"
		row limits "cp + sync of the $BIG MiB file, MiB/s" max \
		    "" "" "" "" "" "$CPSYNC_BIG"
		row limits "cp + sync of the $MID MiB file, MiB/s" max \
		    "" "" "" "" "" "$CPSYNC_MID"
		row limits "cp (no sync) of the $BIG MiB file, MiB/s" max \
		    "" "" "" "" "" "$(rate "$BIG_B" limits.cp-big.wall)"
		row limits "4 KiB O_DSYNC appends/s (fsync bound)" max \
		    "" "" "" "" "" "$FSYNC_RATE"
	fi
	wants up-big && transfer_rows up-big "$BIG_B" "$CPSYNC_BIG" cpu
	wants down-big && transfer_rows down-big "$BIG_B" "$IPERF_MIBS" cpu
	wants up-mid && transfer_rows up-mid "$MID_B" "$CPSYNC_MID" no
	wants down-mid && transfer_rows down-mid "$MID_B" "$IPERF_MIBS" no
	if wants tree-up; then
		row tree-up "files/s ($FILES x 4 KiB)" max \
		    "$(files_rate tree-up dfs)" "$(files_rate tree-up nfs3)" \
		    "" "$(files_rate tree-up rsync)" \
		    "$(files_rate tree-up rsync-fsync)" ""
	fi
	if wants tree-down; then
		row tree-down "files/s ($FILES x 4 KiB)" max \
		    "$(files_rate tree-down dfs)" \
		    "$(files_rate tree-down nfs3)" "" \
		    "$(files_rate tree-down rsync)" "" ""
	fi
	if wants small; then
		row small "4 KiB up + down, ms" min "$(ms small dfs)" \
		    "$(ms small nfs3)" "" "$(ms small rsync)" \
		    "$(ms small rsync-fsync)" ""
	fi
	if wants cached; then
		row cached "re-read of $MID MiB, MiB/s (limit: cat)" max \
		    "$(rate "$MID_B" cached.dfs.wall)" "" "" "" "" \
		    "$(rate "$MID_B" cached.limit.wall)"
	fi
	if wants meta; then
		for s in stat1 stat4 create1 create4; do
			row meta "${s%[14]} ops/s, ${s#${s%[14]}} client(s)" \
			    max "$(med "meta.dfs.$s")" "" "" "" "" \
			    "$(case $s in create*) echo "$FSYNC_RATE" ;; esac)"
		done
	fi
	if wants par4; then
		row par4 "1 download of $MID MiB, MiB/s" max \
		    "$(rate "$MID_B" par4.dfs.x1)" \
		    "$(rate "$MID_B" par4.nfs3.x1)" "" "" "" ""
		row par4 "4 concurrent downloads of $MID MiB, aggregate MiB/s" \
		    max "$(rate $((4 * MID_B)) par4.dfs.x4)" \
		    "$(rate $((4 * MID_B)) par4.nfs3.x4)" "" "" "" ""
	fi
}

# peak_rss: the daemons' peak RSS table.
peak_rss()
{
	echo "| daemon | peak RSS (MiB) |"
	echo "|---|--:|"
	awk -F'\t' '$2 > m[$1] { m[$1] = $2 } !($1 in o) { o[$1] = n++ }
	    END { for (l in o) printf "| %s | %.1f |\n", l, m[l] / 1024 }' \
	    "$S/hwm" | sort -t'|' -k2,2
}

# target TEXT VALUE OP LIMIT UNIT [DETAIL]: one line of the targets
# section: PASS when VALUE OP LIMIT holds (OP is >= or <=).
target()
{
	local v
	if [ -z "${2:-}" ]; then
		v="n/a (not measured in this run)"
		set -- "$1" "" "" "" "" ""
	else
		# ratios with 3 decimals: 1.004x must not read as 1.00x
		v=$(fmt "$2")
		[ "$5" != x ] || v=$(awk -v v="$2" 'BEGIN { printf "%.3f", v }')
		v="$v$5 $(awk -v v="$2" -v op="$3" -v l="$4" 'BEGIN {
		    ok = op == ">=" ? v >= l : v <= l
		    print ok ? "PASS" : "FAIL" }')"
	fi
	printf -- '- %s: %s%s\n' "$1" "$v" "${6:+ ($6)}"
}

# cpu_gib WL SYS: client+server CPU seconds per GiB of the big file.
cpu_gib()
{
	calc "$(per_gib "$BIG_B" "$1.$2.ccpu")" + \
	    "$(per_gib "$BIG_B" "$1.$2.scpu")"
}

# targets: issue 6's targets, evaluated on this run's medians.
targets()
{
	local d n3 n4 best c1 c4 r1 r4 dc gc w
	d=$(rate "$BIG_B" up-big.dfs.wall)
	target "$BIG MiB upload, durable, >= 0.9x local cp + sync" \
	    "$(calc "$d" / "$CPSYNC_BIG")" ">=" 0.9 x
	target "$BIG MiB upload >= 1.5x nfs-cp NFSv3 to Ganesha" \
	    "$(calc "$d" / "$(rate "$BIG_B" up-big.nfs3.wall)")" ">=" 1.5 x
	d=$(rate "$BIG_B" down-big.dfs.wall)
	n3=$(rate "$BIG_B" down-big.nfs3.wall)
	n4=$(rate "$BIG_B" down-big.nfs4.wall)
	best=$(awk -v a="$n3" -v b="$n4" 'BEGIN { if (a == "") a = b
	    if (b == "") b = a; if (a != "") print (a > b ? a : b) }')
	target "$BIG MiB download >= 2x the faster of nfs-cp NFSv3 and NFSv4" \
	    "$(calc "$d" / "$best")" ">=" 2 x
	d=$(files_rate tree-up dfs)
	target "$FILES x 4 KiB tree upload, durable, >= 2x rsync -r --fsync" \
	    "$(calc "$d" / "$(files_rate tree-up rsync-fsync)")" ">=" 2 x
	target "$FILES x 4 KiB tree upload >= 10x one nfs-cp per file" \
	    "$(calc "$d" / "$(files_rate tree-up nfs3)")" ">=" 10 x
	target "4 KiB round trip no slower than nfs-cp (dfs time / nfs-cp time)" \
	    "$(calc "$(ms small dfs)" / "$(ms small nfs3)")" "<=" 1 x \
	    "dfs $(fmt "$(ms small dfs)") ms, nfs-cp $(fmt "$(ms small nfs3)") ms"
	target "cached $MID MiB re-read >= 0.9x local cat" \
	    "$(calc "$(rate "$MID_B" cached.dfs.wall)" / \
	    "$(rate "$MID_B" cached.limit.wall)")" ">=" 0.9 x
	target "name server: stat from 4 clients >= 20000 ops/s" \
	    "$(med meta.dfs.stat4)" ">=" 20000 " ops/s"
	c1=$(med meta.dfs.create1)
	c4=$(med meta.dfs.create4)
	target "name server: create+remove from 4 clients >= 1.5x from 1 (group commit shares fsyncs; a proxy, the issue gives no number)" \
	    "$(calc "$c4" / "$c1")" ">=" 1.5 x \
	    "1 client $(fmt "$c1") ops/s, 4 clients $(fmt "$c4") ops/s, disk $(fmt "$FSYNC_RATE") O_DSYNC writes/s"
	r1=$(rate "$MID_B" par4.dfs.x1)
	r4=$(rate $((4 * MID_B)) par4.dfs.x4)
	target "4 concurrent downloads >= 1.5x one (aggregate MiB/s)" \
	    "$(calc "$r4" / "$r1")" ">=" 1.5 x
	for w in up-big down-big; do
		dc=$(cpu_gib $w dfs)
		gc=$(cpu_gib $w nfs3)
		if [ $w = down-big ]; then
			n4=$(cpu_gib $w nfs4)
			gc=$(awk -v a="$gc" -v b="$n4" 'BEGIN { if (a == "") a = b
			    if (b == "") b = a; if (a != "") print (a < b ? a : b) }')
		fi
		target "$w: CPU s/GiB (client+server) no higher than Ganesha's (dfs / Ganesha)" \
		    "$(calc "$dc" / "$gc")" "<=" 1 x \
		    "dfs $(fmt "$dc") s/GiB, Ganesha $(fmt "$gc") s/GiB"
	done
}

# versions: what was measured.
versions()
{
	local c
	c=$(git -C "$top" rev-parse --short HEAD 2>/dev/null)
	[ -z "$c" ] || git -C "$top" diff --quiet HEAD 2>/dev/null ||
	    c="$c (with uncommitted changes)"
	echo "- dfs: ${c:-unknown commit}, $DFS_BIN"
	command -v ganesha.nfsd >/dev/null &&
	    echo "- $(ganesha.nfsd -v 2>&1 | head -1)"
	command -v dpkg-query >/dev/null &&
	    dpkg-query -W -f '- ${Package} ${Version}\n' libnfs-utils \
	    2>/dev/null
	command -v rsync >/dev/null && echo "- $(rsync --version | head -1)"
	command -v iperf3 >/dev/null && echo "- $(iperf3 --version | head -1)"
	echo "- machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB",
	    $2 / 1048576 }' /proc/meminfo), $(uname -sr)," \
	    "scratch on $(df -T "$S" | awk 'NR == 2 { print $2 }')"
	damon
}

report()
{
	cat <<EOT
# dfs benchmark, $(date '+%Y-%m-%d %H:%M:%S %z')

Command: \`bench/run.sh$ARGS\` -- medians of $RUNS timed run(s) after
one untimed warm-up (round 0, in which every transfer's bytes were
checked), all systems interleaved round by round, on 127.0.0.1.
Big file $BIG MiB, mid file $MID MiB, tree $FILES x 4 KiB; took
${ELAPSED} s.

$(versions)

"best" says which way is better; the ratio columns are the dfs value
divided by that column's (so > 1 is good for max rows, < 1 for min
rows).  dfs uploads and downloads use \`dfs-cp --no-cache\` (every
byte on the wire); downloads go to a local file, not synced.  nfs v3
and v4 are libnfs's nfs-cp against NFS-Ganesha (uploads over NFSv3
only: libnfs 4.0 cannot upload over NFSv4).  rsync is an rsync daemon
with --whole-file (rsync --fsync: uploads fsync'd).  Limits: up rows
against local cp + sync of the same file, down rows against iperf3,
cached against cat, create against 4 KiB O_DSYNC writes.  CPU is user +
system seconds per GiB moved: client from /usr/bin/time, server from
the daemons' /proc/PID/stat (dfs: named + lockd + filed and its
workers; Ganesha; the rsync daemon and its children).

$(table)

Peak RSS of the daemons (VmHWM; connection processes sampled every
0.1 s during the warm-up round, listeners at the end of the run):

$(peak_rss)

## Targets (issue 6)

$(targets)

## Memory the VM handed back to its host during a timed run

A run listed here also faulted that memory in again (~0.9 s/GiB on
this VM), a cost of the VM, not of the system measured.

$(host_memory)
EOT
	if [ -s "$NOTES" ]; then
		echo
		echo "## Skipped"
		echo
		cat "$NOTES"
	fi
}
