# peers.sh -- the servers bench/run.sh measures: a private dfs cluster
# (tools/dfs-cluster.sh), NFS-Ganesha and an rsync daemon, each on
# 127.0.0.1 only, each recorded (started) to be stopped by PID at exit,
# and a peer that cannot run here skipped with the reason (skip_sys).
# Sourced by bench/run.sh (bash); uses its settings and helpers.

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

# start_dfs NAME ARGS...: starts dfs-NAME through the one launcher
# (tools/dfs-cluster.sh: foreground, -N, a free port, ready on its pid
# file and a NULL call), state and log under $S/dfs.  Sets PORT and
# PID_<NAME>.
start_dfs()
{
	local name=$1
	shift
	mkdir -p "$S/dfs"
	DC_DIR=$S/dfs DC_WAIT_MS=10000
	dc_start "$name" "$@" || die "$DC_ERR: $(tail -5 "$S/dfs/$name.log")"
	started "$DC_PID" "dfs-$name"
	printf -v "PID_$name" %s "$DC_PID"
	PORT=$DC_PORT
}

# start_cluster: dfs-named, dfs-lockd and one dfs-filed; ready when a
# file can be stored.  Exports DFS_SERVER for the tools.
start_cluster()
{
	start_dfs named
	export DFS_SERVER=127.0.0.1:$PORT
	start_dfs lockd -s "$DFS_SERVER"
	start_dfs filed -s "$DFS_SERVER"
	dc_wait_storable .bench-ready || die "$DC_ERR"
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
	DC_WAIT_MS=5000
	dc_rpcbind || return 1
	[ -n "$DC_RPCBIND_PID" ] || return 0
	started "$DC_RPCBIND_PID" rpcbind
	say "started rpcbind (pid $DC_RPCBIND_PID)"
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
