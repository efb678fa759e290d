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
