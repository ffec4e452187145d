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
#     dfs-lockd, one dfs-filed, no rpcbind), NFS-Ganesha exporting
#     scratch/export over NFSv3 and NFSv4 (and rpcbind if none answers),
#     and an rsync daemon; a peer that cannot run here is skipped with
#     the reason printed.  Every server's PID is recorded and the server
#     is stopped by that PID at exit, also on failure or Ctrl-C;
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
	local pid=$1 i=0
	kill "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		printf '%s\n' "$PROG: $2 (pid $pid) ignored SIGTERM; SIGKILL" >&2
		kill -9 "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
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

# --- ports and servers -------------------------------------------------

# port_busy PORT: something accepts connections on 127.0.0.1:PORT.
port_busy()
{
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port: a port in 20000-59999 nobody listens on.
free_port()
{
	local p
	while :; do
		p=$((RANDOM % 40000 + 20000))
		port_busy $p || break
	done
	echo $p
}

# started PID NAME: remember a server to stop at exit.
started()
{
	STARTED+=("$1 $2")
}

# wait_for SECONDS CMD...: retries CMD every 0.1 s until it succeeds.
wait_for()
{
	local n=$(($1 * 10))
	shift
	until "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}

# start_dfs NAME ARGS...: starts dfs-NAME in the foreground (-d) on a
# free port without rpcbind (-N), like tests/cli/lib.sh; ready when its
# pid file exists.  Sets PORT and PID_<NAME>.
start_dfs()
{
	local name=$1 tries=0 pid i
	shift
	mkdir -p "$S/dfs/$name"
	while [ $tries -lt 5 ]; do
		tries=$((tries + 1))
		PORT=$(free_port)
		rm -f "$S/dfs/$name.pid"
		"$DFS_BIN/dfs-$name" -d -N -b 127.0.0.1 -p "$PORT" \
		    -D "$S/dfs/$name" -P "$S/dfs/$name.pid" "$@" \
		    >>"$S/dfs/$name.log" 2>&1 &
		pid=$!
		i=0
		while [ ! -s "$S/dfs/$name.pid" ] && kill -0 $pid 2>/dev/null &&
		    [ $i -lt 200 ]; do
			sleep 0.025
			i=$((i + 1))
		done
		if [ -s "$S/dfs/$name.pid" ] && kill -0 $pid 2>/dev/null; then
			started $pid "dfs-$name"
			printf -v "PID_$name" %s $pid
			return 0
		fi
		stop_pid $pid "dfs-$name"
	done
	die "dfs-$name did not start: $(tail -5 "$S/dfs/$name.log")"
}

# start_cluster: dfs-named, dfs-lockd and one dfs-filed; ready when a
# file can be stored.  Exports DFS_SERVER for the tools.
start_cluster()
{
	start_dfs named
	export DFS_SERVER=127.0.0.1:$PORT
	start_dfs lockd -s "$DFS_SERVER"
	start_dfs filed -s "$DFS_SERVER"
	wait_for 10 sh -c 'echo ready | "$1" --no-cache - dfs:/.bench-ready' \
	    sh "$DFS_CP" || die "dfs cluster not ready after 10 s"
	"$DFS_BIN/dfs-rm" /.bench-ready || die "dfs-rm /.bench-ready failed"
	DFS_PIDS="$PID_named $PID_lockd $PID_filed"
	say "dfs: named $PID_named, lockd $PID_lockd, filed $PID_filed" \
	    "at $DFS_SERVER"
}

# peer_conf NAME: prints ../shared/peers/NAME.example (the project's
# tested config) with $SCRATCH replaced; fails when it is not there.
peer_conf()
{
	local f=$top/../shared/peers/$1.example
	[ -r "$f" ] || return 1
	sed "s|\\\$SCRATCH|$S|g" "$f"
}

# ganesha_conf: the Ganesha config, from ../shared/peers/ when present,
# else an equivalent one generated here: NFSv3+v4 over TCP on 127.0.0.1
# only, no NLM/RQUOTA/UDP, no grace period, $S/export as /export.  The
# plugin directory is the one holding libfsalvfs.so on this machine; the
# NFS port is $NPORT, the MOUNT port $MPORT.
ganesha_conf()
{
	local plugins d
	for d in /usr/lib/*/ganesha /usr/lib/ganesha /usr/lib64/ganesha; do
		[ -e "$d/libfsalvfs.so" ] && { plugins=$d; break; }
	done
	[ -n "${plugins:-}" ] || return 1
	{ peer_conf ganesha.conf || cat <<EOT
NFS_CORE_PARAM {
    Bind_addr = 127.0.0.1;
    NFS_Port = $NPORT;
    Protocols = 3, 4;
    Enable_UDP = false;
    Enable_NLM = false;
    Enable_RQUOTA = false;
    mount_path_pseudo = true;
    Plugins_Dir = "$plugins";
}
NFSv4 {
    Graceless = true;
    RecoveryBackend = fs;
    RecoveryRoot = "$S/ganesha/recov";
    Minor_Versions = 0, 1, 2;
}
EXPORT {
    Export_Id = 1;
    Path = "$S/export";
    Pseudo = "/export";
    Protocols = 3, 4;
    Transports = TCP;
    Access_Type = RW;
    Squash = No_Root_Squash;
    SecType = none, sys;
    CLIENT { Clients = 127.0.0.1; Access_Type = RW; }
    FSAL { Name = VFS; }
}
LOG { Default_Log_Level = EVENT; }
EOT
	} | sed -e "s|^\\( *Plugins_Dir *=\\).*|\\1 \"$plugins\";|" \
	    -e "s|^ *NFS_Port *=.*\$|    NFS_Port = $NPORT;\\n    MNT_Port = $MPORT;|"
}

# v3 PATH, v4 PATH: the libnfs URL of PATH in the export, over NFSv3
# and NFSv4, with the ports given (no portmapper query).
v3()
{
	echo "$NFS/$1?nfsport=$NPORT&mountport=$MPORT"
}
v4()
{
	echo "$NFS/$1?version=4&nfsport=$NPORT"
}

# ours CMD...: CMD prints this run's scratch path (a token we put in
# a peer's export).
ours()
{
	[ "$("$@" 2>/dev/null)" = "$S" ]
}

# ours_rsync: the rsync daemon on $RPORT serves this run's module.
ours_rsync()
{
	rsync "rsync://127.0.0.1:$RPORT/peers/" 2>/dev/null |
	    grep -q "[.]ready-${S##*/}\$"
}

# start_rpcbind: Ganesha registers with rpcbind; start one
# (foreground, so its PID is known) when none answers.
start_rpcbind()
{
	rpcinfo -p 127.0.0.1 >/dev/null 2>&1 && return 0
	command -v rpcbind >/dev/null || return 1
	rpcbind -w -f >"$S/rpcbind.log" 2>&1 &
	started $! rpcbind
	wait_for 5 rpcinfo -p 127.0.0.1 || return 1
	say "started rpcbind (pid $!)"
}

# start_ganesha: NFS-Ganesha, or a note saying why nfs3/nfs4 are skipped.
# Ganesha needs rpcbind to start; its NFS port (2049, else a free one
# when another NFS server has it: a concurrent run, say) and MOUNT port
# are pinned (NPORT, MPORT) and the clients are given them in the URL,
# so that they do not depend on an rpcbind that someone else may stop
# during the run, nor on which Ganesha registered last.
NFS=nfs://127.0.0.1/export
NPORT= MPORT=
start_ganesha()
{
	local why= pid i
	if ! command -v ganesha.nfsd >/dev/null; then
		why="ganesha.nfsd not installed (make bench-deps)"
	elif ! command -v nfs-cp >/dev/null; then
		why="nfs-cp not installed (libnfs-utils; make bench-deps)"
	elif [ "$(id -u)" != 0 ]; then
		why="NFS-Ganesha needs root"
	elif ! start_rpcbind; then
		why="no rpcbind answers and none could be started"
	fi
	if [ -z "$why" ]; then
		mkdir -p "$S/ganesha/recov"
		NPORT=2049
		port_busy $NPORT && NPORT=$(free_port)
		MPORT=$(free_port)
		ganesha_conf >"$S/ganesha/ganesha.conf" ||
		    why="no Ganesha VFS plugin (nfs-ganesha-vfs) found"
	fi
	if [ -z "$why" ]; then
		ganesha.nfsd -F -f "$S/ganesha/ganesha.conf" \
		    -L "$S/ganesha/ganesha.log" -p "$S/ganesha/ganesha.pid" \
		    >"$S/ganesha/stdout.log" 2>&1 &
		pid=$!
		started $pid ganesha.nfsd
		# ready when it serves our export (the token is our scratch
		# path: not another Ganesha that won a race for the port)
		echo "$S" >"$S/export/.ready"
		i=0
		while kill -0 $pid 2>/dev/null && [ $i -lt 150 ] &&
		    ! ours nfs-cat "$(v3 .ready)"; do
			sleep 0.1
			i=$((i + 1))
		done
		if kill -0 $pid 2>/dev/null && ours nfs-cat "$(v3 .ready)"; then
			GANESHA_PID=$pid
			say "ganesha.nfsd: pid $pid, $NFS (NFS port $NPORT, MOUNT" \
			    "port $MPORT)"
			ours nfs-cat "$(v4 .ready)" ||
			    skip_sys nfs4 "NFSv4 to Ganesha does not answer"
			return 0
		fi
		why="Ganesha did not serve within 15 s:"
		why="$why $(tail -3 "$S/ganesha/ganesha.log" | tr '\n' ' ')"
	fi
	skip_sys nfs3 "$why"
	skip_sys nfs4 "$why"
}

# start_rsyncd: an rsync daemon with module "peers" ($S/rsync) on
# 18730, or another free port when that one is busy; its lock file in
# the scratch dir (the default, /var/run/rsyncd.lock, needs root), and
# without root no uid/gid change.
start_rsyncd()
{
	local pid
	if ! command -v rsync >/dev/null; then
		skip_sys rsync "rsync not installed (make bench-deps)"
		skip_sys rsync-fsync "rsync not installed (make bench-deps)"
		return
	fi
	rsync --help | grep -q -- --fsync ||
	    skip_sys rsync-fsync "this rsync has no --fsync"
	RPORT=18730
	port_busy $RPORT && RPORT=$(free_port)
	mkdir -p "$S/rsyncd"
	{ peer_conf rsyncd.conf || cat <<EOT
address = 127.0.0.1
pid file = $S/rsyncd/rsyncd.pid
log file = $S/rsyncd/rsyncd.log
use chroot = no
max connections = 16
refuse options = compress
[peers]
    path = $S/rsync
    read only = no
    list = yes
    uid = root
    gid = root
    hosts allow = 127.0.0.1
    hosts deny = *
EOT
	} | sed -e '/^ *port *=/d' -e "1i lock file = $S/rsyncd/rsyncd.lock" \
	    -e "$([ "$(id -u)" = 0 ] || echo '/^ *[ug]id *=/d')" \
	    >"$S/rsyncd/rsyncd.conf"
	rsync --daemon --no-detach --config="$S/rsyncd/rsyncd.conf" \
	    --address=127.0.0.1 --port=$RPORT >"$S/rsyncd/stdout.log" 2>&1 &
	pid=$!
	started $pid "rsync --daemon"
	RURL=rsync://127.0.0.1:$RPORT/peers
	# ready when it lists our module's marker file
	: >"$S/rsync/.ready-${S##*/}"
	if wait_for 10 ours_rsync && kill -0 $pid 2>/dev/null; then
		RSYNCD_PID=$pid
		say "rsync daemon: pid $pid, $RURL"
	else
		skip_sys rsync "rsync daemon did not start"
		skip_sys rsync-fsync "rsync daemon did not start"
	fi
}

SKIPPED=" "
# skip_sys SYSTEM WHY: SYSTEM is not measured in this run.
skip_sys()
{
	case $SKIPPED in *" $1 "*) return ;; esac
	SKIPPED="$SKIPPED$1 "
	note "$1 skipped: $2"
}

# has SYSTEM: SYSTEM is measured in this run.
has()
{
	case $SKIPPED in *" $1 "*) return 1 ;; esac
	return 0
}

# server_pids SYSTEM: the PIDs whose CPU time is that system's server's.
server_pids()
{
	case $1 in
	dfs)		echo "$DFS_PIDS" ;;
	nfs3|nfs4)	echo "${GANESHA_PID:-}" ;;
	rsync*)		echo "${RSYNCD_PID:-}" ;;
	esac
}

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
