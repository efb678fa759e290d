# shellcheck shell=bash
# lib.sh — what the training scenarios beside it share. Each NAME.sh sources
# it (it is not run on its own); sourcing it only sets the variables below
# and defines functions.
#
# What every scenario promises (README.md): it runs for -d SECONDS (default
# 60, at most 600) and then stops by itself; Ctrl-C or SIGTERM stop it at
# once, kill everything it started and remove its temp directory
# (vitals-demo-*); its load processes bound themselves too and are named
# demo-…. The functions here keep the parts of that which are the same in
# every script.

readonly DEFAULT_SECONDS=60 MAX_SECONDS=600
duration=$DEFAULT_SECONDS
# The directory of the scenarios, and of cswitch/ and memhog/.
demo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The name a scenario gives itself in its messages ("mem-leak: done.").
scenario=$(basename "$0" .sh)
# The temp directory (demo_setup makes it) and the children to stop.
workdir=
pids=()

# die MESSAGE: prints MESSAGE after the script's name on stderr and exits 2.
die() {
	echo "$(basename "$0"): $*" >&2
	exit 2
}

# is_whole VALUE MIN MAX: VALUE is a whole number (decimal digits, leading
# zeros allowed) from MIN to MAX.
is_whole() {
	[[ $1 =~ ^[0-9]+$ ]] && ((10#$1 >= $2 && 10#$1 <= $3))
}

# demo_parse_args 'LETTER:VARIABLE ...' ARGS...: parses the command line.
# Every scenario takes -d SECONDS (into $duration) and -h (prints the
# script's usage and exits 0); the first argument lists its other options,
# each of which takes a value, and the variable the value goes to. Unknown
# options, missing values, arguments left over and a -d that is not whole
# seconds from 1 to MAX_SECONDS end the script (die); $duration is left a
# plain number.
demo_parse_args() {
	local spec="d:duration $1" optstring=: item opt OPTARG OPTIND=1
	shift
	for item in $spec; do optstring+=${item%%:*}:; done
	while getopts "${optstring}h" opt; do
		case $opt in
		h)
			usage
			exit 0
			;;
		:) die "option -$OPTARG needs a value (see -h)" ;;
		\?) die "unknown option -$OPTARG (see -h)" ;;
		esac
		for item in $spec; do
			[[ $opt != "${item%%:*}" ]] || printf -v "${item#*:}" %s "$OPTARG"
		done
	done
	shift $((OPTIND - 1))
	(($# == 0)) || die "unexpected argument: $1 (see -h)"
	is_whole "$duration" 1 "$MAX_SECONDS" || die "-d $duration: want whole seconds from 1 to $MAX_SECONDS"
	duration=$((10#$duration))
}

# meminfo_kib FIELD: a field of /proc/meminfo (MemTotal, Cached, …) in KiB.
meminfo_kib() {
	awk -v field="$1:" '$1 == field { print $2 }' /proc/meminfo
}

# demo_disk_dir DIR WHY: DIR (the -p option) must be a writable directory on
# a disk, not in memory (WHY says what is wrong with that); sets $fstype.
demo_disk_dir() {
	[[ -d $1 && -w $1 ]] || die "-p $1: not a writable directory"
	fstype=$(df --output=fstype "$1" | tail -n 1)
	case $fstype in
	tmpfs | ramfs) die "-p $1 is on $fstype (memory): $2; pick a directory on a disk" ;;
	esac
}

# free_mib DIR: the free space of DIR's filesystem in MiB.
free_mib() {
	df --output=avail -B 1M "$1" | tail -n 1 | tr -d ' '
}

# demo_remove_leftovers DIR NAME PROCESS: a SIGKILLed earlier run cannot
# remove its temp directory: if no PROCESS is running, remove every
# DIR/vitals-demo-NAME.* and say so.
demo_remove_leftovers() {
	local old
	! pgrep -x "$3" >/dev/null || return 0
	for old in "$1/vitals-demo-$2".*; do
		[[ -d $old ]] || continue
		if rm -rf "$old"; then echo "$scenario: removed $old, left by an earlier run"; fi
	done
}

# demo_need_go PROGRAM: finds Go ($gobin) for building PROGRAM/main.go, or
# dies.
demo_need_go() {
	gobin=$(command -v go || true)
	[[ -n $gobin ]] || gobin=/usr/local/go/bin/go
	[[ -x $gobin ]] || die "Go is needed to build $1/main.go (no go in PATH or /usr/local/go/bin)"
}

# demo_go_build PROGRAM NAME: builds PROGRAM/main.go into $workdir/NAME.
demo_go_build() {
	echo "$scenario: building $1/main.go ..."
	(cd "$demo_dir/$1" && "$gobin" build -o "$workdir/$2" .)
}

# demo_setup DIR NAME [CLEANUP]: makes the temp directory
# DIR/vitals-demo-NAME.XXXXXX ($workdir) and makes any exit run CLEANUP
# (default demo_cleanup); Ctrl-C exits 130 and SIGTERM 143, through it too.
demo_setup() {
	workdir=$(mktemp -d "$1/vitals-demo-$2.XXXXXX")
	# shellcheck disable=SC2064 # the function's name, expanded now
	trap "${3:-demo_cleanup}" EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# stop_children sends TERM to every child in $pids, gives them 2 s, then
# KILLs the child and its process group if it leads one (timeout(1) puts
# itself in a group of its own, with the load and the load's children).
stop_children() {
	local pid alive _
	((${#pids[@]})) || return 0
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for _ in {1..20}; do
		alive=0
		for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.1
	done
	for pid in "${pids[@]}"; do kill -KILL -- "-$pid" "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	pids=()
}

# demo_cleanup stops the children and removes the temp directory.
demo_cleanup() {
	stop_children
	rm -rf "$workdir"
}

# demo_script NAME <BODY: writes BODY to $workdir/NAME as an executable bash
# script. The kernel names a process (comm) after the file it executed, so
# it shows up as NAME in every tool (the interpreter path must be absolute:
# through env, comm would be "bash").
demo_script() {
	{
		echo "#!$(command -v bash)"
		cat
	} >"$workdir/$1"
	chmod +x "$workdir/$1"
}

# demo_finish PID: waits for the load PID to stop by itself, then says so.
demo_finish() {
	wait "$1" || true
	pids=()
	echo "$scenario: done."
}

# demo_cap_size PERCENT DIR: lowers $size (MiB) to fit in PERCENT % of
# MemTotal (the lesson is the cache, not memory pressure) and in the free
# space of DIR minus 1 GiB; dies if what is left is under 16 MiB.
demo_cap_size() {
	local percent=$1 dir=$2 total_mib disk_mib limit
	total_mib=$(($(meminfo_kib MemTotal) / 1024))
	disk_mib=$(free_mib "$dir")
	limit=$((total_mib * percent / 100))
	((disk_mib - 1024 >= limit)) || limit=$((disk_mib - 1024))
	if ((size > limit)); then
		echo "$scenario: lowering the file size from $size to $limit MiB ($percent % of MemTotal $total_mib MiB, at most free space $disk_mib MiB minus 1 GiB)"
		size=$limit
	fi
	((size >= 16)) || die "too little free space in $dir ($disk_mib MiB) for a useful file"
}

# demo_write_direct FILE DD END: writes $size MiB to FILE with DD (a dd)
# using O_DIRECT, so none of it is in the page cache, bounded by the
# duration; sets $left to the seconds that remain until END ($SECONDS).
demo_write_direct() {
	local file=$1 dd=$2 end=$3
	echo "$scenario: writing $file ($size MiB, O_DIRECT) ..."
	timeout "$duration" "$dd" if=/dev/zero of="$file" bs=1M count="$size" oflag=direct status=none &
	pids=($!)
	wait "${pids[0]}" || die "could not write $size MiB to $file in $duration s"
	pids=()
	left=$((end - SECONDS))
	((left > 0)) || die "writing the file took all of the $duration s; nothing left to show (try a larger -d)"
}

# The Net scenarios' network: two network namespaces of their own,
# $ns_a and $ns_b (vdemo<PID>a, vdemo<PID>b), joined by a veth pair with
# $addr_a and $addr_b. Nothing outside them is touched: the addresses exist
# only inside the two namespaces, so they cannot clash with the host's.
addr_a=10.254.254.1
addr_b=10.254.254.2
ns_a=
ns_b=

# demo_need_root_net: the Net scenarios that make namespaces need root and
# ip(8).
demo_need_root_net() {
	((EUID == 0)) || die "needs root: it creates two network namespaces and a veth pair"
	command -v ip >/dev/null || die "needs ip (iproute2)"
}

# demo_netns_remove_leftovers: a SIGKILLed earlier run cannot delete its
# namespaces: delete every vdemo<PID>a/b whose script (PID) is gone.
demo_netns_remove_leftovers() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns =~ ^vdemo([0-9]+)[ab]$ ]] || continue
		pid=${BASH_REMATCH[1]}
		! kill -0 "$pid" 2>/dev/null || continue
		if ip netns del "$ns" 2>/dev/null; then echo "$scenario: removed namespace $ns, left by an earlier run"; fi
	done
}

# demo_netns_setup: makes $ns_a and $ns_b and the veth pair between them.
# Call after demo_setup with demo_net_cleanup as its cleanup, so any exit
# removes them.
demo_netns_setup() {
	demo_netns_remove_leftovers
	ns_a=vdemo$$a ns_b=vdemo$$b
	ip netns add "$ns_a"
	ip netns add "$ns_b"
	# Interface names: at most 15 bytes.
	ip link add "vd$$a" netns "$ns_a" type veth peer name "vd$$b" netns "$ns_b"
	ip -n "$ns_a" addr add "$addr_a/30" dev "vd$$a"
	ip -n "$ns_b" addr add "$addr_b/30" dev "vd$$b"
	local ns
	for ns in "$ns_a" "$ns_b"; do
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	done
	ip -n "$ns_a" link set "vd$$a" up
	ip -n "$ns_b" link set "vd$$b" up
}

# demo_net_cleanup stops the children, deletes the namespaces (which
# deletes the veth pair and any nftables rules inside) and the temp
# directory.
demo_net_cleanup() {
	stop_children
	local ns
	for ns in $ns_a $ns_b; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$workdir"
}

# demo_netload_build: builds netload/main.go once, and links it under the
# names the scenario's processes take (demo-flood, demo-sink, …: the kernel
# names a process after the file it ran).
demo_netload_build() {
	demo_need_go netload
	demo_go_build netload netload
	local name
	for name in "$@"; do ln -s netload "$workdir/$name"; done
}

# demo_in NS NAME ARGS...: runs $workdir/NAME in namespace NS (or here when
# NS is empty) in the background, bounded by timeout(1) besides its own
# deadline; appends its pid to $pids.
demo_in() {
	local ns=$1 name=$2
	shift 2
	if [[ -n $ns ]]; then
		timeout "$((duration + 2))" ip netns exec "$ns" "$workdir/$name" "$@" &
	else
		timeout "$((duration + 2))" "$workdir/$name" "$@" &
	fi
	pids+=($!)
}

# demo_pid_of NAME: the pid of our process named NAME (its comm), waiting
# up to 5 s for it to start.
demo_pid_of() {
	local _ pid
	for _ in {1..50}; do
		pid=$(pgrep -x -n "$1" || true)
		[[ -z $pid ]] || { echo "$pid"; return 0; }
		sleep 0.1
	done
	die "$1 did not start"
}
