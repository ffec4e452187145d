#!/bin/bash
# run.sh -- dfs measured side by side with the machine's limits and with
# the systems people would pick instead, in one run (`make bench`).
#
# usage: bench/run.sh [--runs N] [--big MiB] [--mid MiB] [--files N]
#                     [--seconds S] [--only LIST] [--smoke] [--out FILE]
#        (DFS_BIN: dfs daemons and tools, default build/bin;
#         DFS_BENCH_BIN: dfs-metaops, default build/bench)
#
# What it does, in order:
#  1. makes a scratch directory (mktemp -d under $TMPDIR, else /var/tmp;
#     on the real disk, since uploads are measured durable) and the
#     source files: a big and a mid file of random bytes, a tree of
#     N x 4 KiB files and one 4 KiB file;
#  2. starts, on 127.0.0.1 only, a private dfs cluster (dfs-named,
#     dfs-lockd, one dfs-filed, no rpcbind; by tools/dfs-cluster.sh,
#     the launcher make cluster-start and the tests use too),
#     NFS-Ganesha exporting scratch/export over NFSv3 and NFSv4 (and
#     rpcbind if none answers), and an rsync daemon; a peer that cannot
#     run here is skipped with the reason printed.  Every server's PID
#     is recorded and the server is stopped by that PID at exit, also
#     on failure or Ctrl-C;
#  3. runs round 0, an untimed warm-up of every measurement in which
#     every transfer's bytes are checked (cmp, diff -r) and the daemons'
#     memory is sampled, then rounds 1..N, each running every workload
#     for every system (interleaved, so drift on a shared machine hits
#     all systems alike; the order of the systems rotates each round).
#     Before each timed transfer its source is read once (so every
#     system starts from the page cache; see warm()), the disk is
#     synced and, for large transfers, the memory it will need is
#     touched once and freed just after the VM's free page reporter
#     ended a pass (this VM charges ~0.9 s/GiB for touching memory it
#     handed back to the host: that would measure the VM, not the
#     system; see prepare() and lull());
#  4. prints a Markdown table of medians and of ratios dfs/peer, then the
#     targets of issue 6 with PASS/FAIL, and writes the same to the
#     results file, whose path is printed at the end.
#
# Workloads (names for --only): limits up-big down-big up-mid down-mid
# tree-up tree-down small cached meta par4.  Client CPU and peak RSS
# come from /usr/bin/time, server CPU from utime+stime+cutime+cstime in
# /proc/PID/stat of the daemons and of their live children (dfs-filed's
# workers, rsync's connection processes; those that ended are in
# cutime once reaped, and the script waits for that).
#
# Exit status: 0 when every measurement ran and every check passed
# (targets may FAIL: they are results, not errors), 1 otherwise, 2 on a
# usage error.
#
# This file holds the options, the scratch directory, the set-up and the
# rounds; it sources the rest: bench/peers.sh (the servers), bench/vm.sh
# (what the VM does to a measurement, and its probes), bench/measure.sh
# (timing and the workloads) and bench/report.sh (the results).
# `make bench-smoke` runs it small (bench/smoke.sh).

set -u
export LC_ALL=C			# '.' in $EPOCHREALTIME and printf, sort -g

PROG=run.sh
top=$(cd "$(dirname "$0")/.." && pwd)
ALL_WORKLOADS="limits up-big down-big up-mid down-mid tree-up tree-down small cached meta par4"
SYSTEMS="dfs nfs3 nfs4 rsync rsync-fsync"

# --- options -----------------------------------------------------------

usage()
{
	cat <<EOT
usage: bench/run.sh [options]

Runs every workload for dfs and its peers (NFS-Ganesha via libnfs's
nfs-cp over NFSv3/NFSv4, an rsync daemon) and the machine's limits
(iperf3 loopback, local cat, local cp+sync), interleaved, one untimed
warm-up round then N timed rounds; prints a Markdown table of medians
and ratios dfs/peer, the targets of issue 6 and the timed runs during
which the VM handed memory back to its host, and saves it to a file.

options:
  --runs N       timed rounds (default 5)
  --big MiB      size of the big file (default 1024)
  --mid MiB      size of the mid file (default 100)
  --files N      files of 4 KiB in the tree (default 1000)
  --seconds S    length of iperf3 and of each metadata run (default 3)
  --only LIST    only these workloads (comma or space separated):
                 $ALL_WORKLOADS
  --smoke        quick check of the harness: runs 1, big 8, mid 4,
                 files 20, seconds 1 (explicit options still win)
  --out FILE     results file (default: beside the scratch directory,
                 \${TMPDIR:-/var/tmp}/dfs-bench-DATE.md)
  --help         this text

environment: DFS_BIN (dfs daemons and tools, default build/bin),
DFS_BENCH_BIN (dfs-metaops, default build/bench), TMPDIR (scratch).
Needs root for Ganesha (and rpcbind, started when none answers); peers
that are not installed or cannot start are skipped with the reason.
EOT
}

# need_num OPT VALUE: VALUE must be a positive integer.
need_num()
{
	case $2 in
	''|*[!0-9]*|0)	echo "$PROG: $1 needs a positive integer, not '$2'" >&2
			exit 2 ;;
	esac
}

RUNS= BIG= MID= FILES= SECS= ONLY= SMOKE=0 OUT=
while [ $# -gt 0 ]; do
	opt=$1
	case $opt in
	--*=*)	set -- "${opt%%=*}" "${opt#*=}" "${@:2}"; continue ;;
	esac
	case $opt in
	--help|-h)	usage; exit 0 ;;
	--smoke)	SMOKE=1; shift; continue ;;
	--runs|--big|--mid|--files|--seconds|--only|--out)
		[ $# -ge 2 ] || { echo "$PROG: $opt needs a value" >&2; exit 2; } ;;
	*)	echo "$PROG: unknown option '$opt' (see --help)" >&2; exit 2 ;;
	esac
	case $opt in
	--runs)		need_num "$opt" "$2"; RUNS=$2 ;;
	--big)		need_num "$opt" "$2"; BIG=$2 ;;
	--mid)		need_num "$opt" "$2"; MID=$2 ;;
	--files)	need_num "$opt" "$2"; FILES=$2 ;;
	--seconds)	need_num "$opt" "$2"; SECS=$2 ;;
	--only)		ONLY=$2 ;;
	--out)		OUT=$2 ;;
	esac
	shift 2
done
if [ $SMOKE = 1 ]; then
	: "${RUNS:=1}" "${BIG:=8}" "${MID:=4}" "${FILES:=20}" "${SECS:=1}"
else
	: "${RUNS:=5}" "${BIG:=1024}" "${MID:=100}" "${FILES:=1000}" "${SECS:=3}"
fi
WORKLOADS=
for w in ${ONLY//,/ }; do
	case " $ALL_WORKLOADS " in
	*" $w "*)	WORKLOADS="$WORKLOADS $w" ;;
	*)	echo "$PROG: unknown workload '$w'; known: $ALL_WORKLOADS" >&2
		exit 2 ;;
	esac
done
[ -n "$WORKLOADS" ] || WORKLOADS=$ALL_WORKLOADS
MIB=1048576
BIG_B=$((BIG * MIB)) MID_B=$((MID * MIB)) SMALL_B=4096

# --- messages ----------------------------------------------------------

# say MSG: progress, on stderr (stdout carries the table).
say()
{
	printf '%s\n' "--- $*" >&2
}

die()
{
	printf '%s\n' "$PROG: $*" >&2
	exit 1
}

# wants WORKLOAD: true when WORKLOAD is to run.
wants()
{
	case " $WORKLOADS " in *" $1 "*) return 0 ;; esac
	return 1
}

# --- binaries ----------------------------------------------------------

abs()
{
	case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac
}
DFS_BIN=$(abs "${DFS_BIN:-$top/build/bin}")
DFS_BENCH_BIN=$(abs "${DFS_BENCH_BIN:-$top/build/bench}")
for t in dfs-named dfs-lockd dfs-filed dfs-cp dfs-cat dfs-rm; do
	[ -x "$DFS_BIN/$t" ] || die "$DFS_BIN/$t not built (make all)"
done
DFS_CP=$DFS_BIN/dfs-cp
# the one launcher of dfs daemons (start, wait until ready, stop by PID)
DC_BIN=$DFS_BIN
. "$top/tools/dfs-cluster.sh" || die "cannot read tools/dfs-cluster.sh"
METAOPS=$DFS_BENCH_BIN/dfs-metaops
TIME=/usr/bin/time
[ -x $TIME ] || TIME=
[ -n "${EPOCHREALTIME:-}" ] || die "bash 5 needed (\$EPOCHREALTIME)"
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# --- scratch and clean-up ----------------------------------------------

base=${TMPDIR:-/var/tmp}
S=$(mktemp -d "$base/dfs-bench.XXXXXX") || die "cannot make a scratch dir"
STARTED=()		# "pid name" of every server started, in order
CLIENTS=()		# background clients of the par4 workload
SAMPLER=		# the memory sampler of the warm-up round

# stop_pid PID NAME: SIGTERM, up to 5 s, then SIGKILL; reaps it.
stop_pid()
{
	DC_WAIT_MS=5000
	dc_stop "$1"
	case $DC_STOPPED in
	*:killed)
		printf '%s\n' "$PROG: $2 (pid $1) ignored SIGTERM; SIGKILL" >&2
		;;
	esac
}

# cleanup: on any exit, stops what this script started, newest first
# (so Ganesha unregisters before an rpcbind of ours stops), and removes
# the scratch directory.  Keeps the exit status.
cleanup()
{
	local rc=$? i
	trap - EXIT
	trap '' HUP INT PIPE TERM
	[ -z "$SAMPLER" ] || stop_pid "$SAMPLER" sampler
	for i in "${CLIENTS[@]}"; do kill "$i" 2>/dev/null; done
	for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
		stop_pid ${STARTED[i]}
	done
	rm -rf "$S"
	exit $rc
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

case $(stat -f -c %T "$S") in
tmpfs|ramfs)
	if [ $SMOKE = 1 ]; then
		say "warning: $S is on tmpfs: durable writes cost nothing here"
	else
		die "$S is on tmpfs; durability would not be measured" \
		    "(set TMPDIR to a directory on disk)"
	fi ;;
esac
mkdir -p "$S/src" "$S/dl" "$S/tmp" "$S/cache" "$S/export" "$S/rsync" \
    "$S/cp" "$S/verify" || die "cannot fill $S"
# the dfs tools spool and cache in the scratch dir, never in ~/.cache
export TMPDIR=$S/tmp XDG_CACHE_HOME=$S/cache
DATA=$S/data		# "key value" of every timed measurement
NOTES=$S/notes		# skipped peers and workloads, with the reason
: >"$DATA"
: >"$NOTES"

# note MSG: printed now and listed in the results.
note()
{
	say "$*"
	printf '%s\n' "- $*" >>"$NOTES"
}

# --- the parts --------------------------------------------------------

# the servers (peers.sh), the VM's probes (vm.sh), the measurements and
# workloads (measure.sh), the results (report.sh)
for part in peers vm measure report; do
	. "$top/bench/$part.sh" || die "cannot read bench/$part.sh"
done

# --- setup -------------------------------------------------------------

T_START=$SECONDS
say "scratch $S; runs $RUNS, big $BIG MiB, mid $MID MiB, files $FILES"
say "workloads: ${WORKLOADS# }"

start_cluster
start_ganesha
start_rsyncd
command -v iperf3 >/dev/null ||
    note "iperf3 loopback skipped: iperf3 not installed (make bench-deps)"
[ -n "$TIME" ] ||
    note "client CPU and RSS not measured: /usr/bin/time not installed"

say "making the source files"
head -c "$BIG_B" /dev/urandom >"$S/src/big" &&
    head -c "$MID_B" /dev/urandom >"$S/src/mid" &&
    head -c "$SMALL_B" /dev/urandom >"$S/src/small" &&
    mkdir "$S/src/tree" &&
    head -c $((FILES * 4096)) /dev/urandom |
    split -b 4096 -a 6 -d - "$S/src/tree/f" ||
    die "cannot make the source files"
TREE=()
for f in "$S/src/tree"/*; do TREE+=("${f##*/}"); done
[ ${#TREE[@]} = "$FILES" ] || die "the tree has ${#TREE[@]} files"

# the files that are downloaded: in dfs (uploaded once) and, as hard
# links to the sources, in Ganesha's export and rsync's module
say "storing the download sources"
for f in big mid; do
	"$DFS_CP" --no-cache "$S/src/$f" "dfs:/$f" || die "cannot store /$f"
	ln "$S/src/$f" "$S/export/$f" && ln "$S/src/$f" "$S/rsync/$f" ||
	    die "cannot link $f"
done
"$DFS_CP" --no-cache -r "$S/src/tree" dfs:/tree || die "cannot store /tree"
cp -al "$S/src/tree" "$S/export/tree" && cp -al "$S/src/tree" "$S/rsync/tree" ||
    die "cannot link the tree"

DAEMONS=("$PID_named dfs-named" "$PID_lockd dfs-lockd" "$PID_filed dfs-filed")
[ -z "${GANESHA_PID:-}" ] || DAEMONS+=("$GANESHA_PID ganesha.nfsd")
[ -z "${RSYNCD_PID:-}" ] || DAEMONS+=("$RSYNCD_PID rsync daemon")

# --- the rounds --------------------------------------------------------

say "round 0: warm-up, every transfer checked, daemons' memory sampled"
sample_hwm &
SAMPLER=$!
round
stop_pid "$SAMPLER" sampler
SAMPLER=
for ((ROUND = 1; ROUND <= RUNS; ROUND++)); do
	say "round $ROUND of $RUNS"
	round
done
# the daemons' own peaks over the whole run
for d in "${DAEMONS[@]}"; do
	hwm "${d%% *}" "${d#* }" >>"$S/hwm"
done
ELAPSED=$((SECONDS - T_START))

ARGS=
[ $SMOKE = 0 ] || ARGS=" --smoke"
ARGS="$ARGS --runs $RUNS --big $BIG --mid $MID --files $FILES --seconds $SECS"
[ -z "$ONLY" ] || ARGS="$ARGS --only '$ONLY'"
report >"$S/report.md" || die "cannot write the report"
if [ -z "$OUT" ]; then
	OUT=$base/dfs-bench-$(date +%Y%m%d-%H%M%S).md
fi
cp "$S/report.md" "$OUT" || die "cannot write $OUT"
cat "$S/report.md"
echo
echo "results: $OUT"
