# shellcheck shell=bash disable=SC2034,SC2154 # variables shared with the sourcing script
# tests/bench/common.sh: helpers shared by tests/bench/record and
# tests/bench/stream (sourced; not meant to be run on its own). The same
# process bookkeeping, clean-up, port picking and server start-up as
# tests/bench/run, which keeps its own copy (run has a main body, so it is
# not sourced here).
#
# The sourcing script sets, before calling anything here:
#   prog  its name, for messages        here  tests/bench (the templates)
#   work  its temp directory            keep  yes | no (keep $work on exit)
# and calls install_traps once $work exists.

# Everything the scripts start on loopback goes straight there.
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

die() {
	echo "$prog: $*" >&2
	exit 2
}

# need_tools CMD=PACKAGE...: exit with the apt-get line that installs the
# packages of the commands that are missing.
need_tools() {
	local spec missing=() sudo=""
	for spec in "$@"; do
		if ! command -v "${spec%%=*}" >/dev/null 2>&1; then
			# Debian's nginx lives in /usr/sbin, not always in a user's PATH.
			[ "${spec%%=*}" = nginx ] && [ -x /usr/sbin/nginx ] && continue
			missing+=("${spec#*=}")
		fi
	done
	if [ ${#missing[@]} -gt 0 ]; then
		[ "$(id -u)" = 0 ] || sudo="sudo "
		echo "$prog: missing ${missing[*]}; install with:" >&2
		echo "  ${sudo}apt-get install ${missing[*]}" >&2
		exit 2
	fi
	nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
	wrk_bin=$(command -v wrk || true)
}

# find_patchscope VAR BIN WHAT: check that BIN is an executable file and set
# VAR to its absolute path; WHAT says where the name came from.
find_patchscope() {
	local bin=$2
	{ [ -f "$bin" ] && [ -x "$bin" ]; } || die "no patchscope binary at $bin ($3); build it first (./bootstrap build, or make -C build) or give the right path"
	printf -v "$1" '%s' "$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
}

bin_id() { sha256sum "$1" 2>/dev/null | cut -c1-12; }

# disk_free_mib DIR: MiB available on the file system of DIR.
disk_free_mib() {
	df -Pk "$1" 2>/dev/null | awk 'NR == 2 { printf "%d", $4 / 1024 }'
}

# need_disk DIR MIB WHAT: exit, saying so, when DIR has less than MIB MiB free.
need_disk() {
	local free
	free=$(disk_free_mib "$1")
	[ -n "$free" ] || return 0
	if [ "$free" -lt "$2" ]; then
		die "$1 has $free MiB free; this run needs about $2 MiB there ($3). Free some space, or point TMPDIR at a larger file system"
	fi
}

# check_tmpdir: ${TMPDIR:-/tmp} must be a writable directory (temp files
# and the default results file go there).
check_tmpdir() {
	local t=${TMPDIR:-/tmp}
	{ [ -d "$t" ] && [ -w "$t" ]; } || die "TMPDIR ($t) is not a writable directory; set TMPDIR to one"
}

# --- process bookkeeping and clean-up ----------------------------------------

pids=()       # every process started here (nginx masters, patchscope, wrk)
temp_files=() # large files to remove on exit even with --keep

forget_pid() {
	local p keep_pids=()
	for p in "${pids[@]}"; do
		[ "$p" = "$1" ] || keep_pids+=("$p")
	done
	pids=("${keep_pids[@]}")
}

children_of() {
	pgrep -P "$1" 2>/dev/null || true
}

# stop_pid PID [SECS]: SIGTERM, wait up to SECS (default 10) for it to exit,
# else SIGKILL; reap it and forget it.
stop_pid() {
	local pid=$1 deadline=$((SECONDS + ${2:-10}))
	kill -TERM "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "$prog: process $pid did not stop on SIGTERM; killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null
	stopped_status=$?
	forget_pid "$pid"
}

stop_all() {
	local pid kids=() more deadline
	for pid in "${pids[@]}"; do
		read -r -a more <<<"$(children_of "$pid" | tr '\n' ' ')"
		kids+=("${more[@]}")
		kill -TERM "$pid" 2>/dev/null || true
	done
	# patchscope finishes in-flight exchanges for at most 5 s; nginx is quick.
	deadline=$((SECONDS + 7))
	for pid in "${pids[@]}" "${kids[@]}"; do
		while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "$prog: process $pid did not stop on SIGTERM; killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	pids=()
}

cleanup() {
	local status=$?
	trap - EXIT INT TERM HUP
	stop_all
	if [ ${#temp_files[@]} -gt 0 ]; then
		rm -f "${temp_files[@]}"
	fi
	if [ "$keep" = no ] && { [ "$status" = 0 ] || [ "$status" = 130 ] || [ "$status" = 143 ]; }; then
		rm -rf "$work"
	else
		echo "$prog: configs and logs kept in $work" >&2
	fi
	exit "$status"
}

install_traps() {
	trap cleanup EXIT
	trap 'echo; echo "$prog: interrupted" >&2; exit 130' INT
	trap 'exit 143' TERM HUP
}

# --- ports and servers -----------------------------------------------------------

port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Print a free loopback port below the ephemeral range (20000-31999).
pick_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 12000))
		if port_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

user_directive=""
if [ "$(id -u)" = 0 ]; then
	# As root, nginx would switch its worker to "nobody"; keep it ours.
	user_directive="user $(id -un) $(id -gn);"
fi

# start_nginx NAME TEMPLATE [DOCROOT]: start nginx from the config template
# $here/TEMPLATE in $work/NAME, on a free port (@PREFIX@, @PORT@, @USER@,
# @ROOT@ filled in); sets nginx_port and nginx_pid.
start_nginx() {
	local name=$1 template=$2 root=${3:-} dir=$work/$1 pid port
	mkdir -p "$dir/logs" "$dir/tmp"
	for _ in 1 2 3 4 5; do
		port=$(pick_port) || die "no free loopback port found"
		sed -e "s|@PREFIX@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@USER@|$user_directive|g" \
			-e "s|@ROOT@|$root|g" -e "s|@ORIGIN_PORT@||g" -e "s|@TLS_DIR@||g" \
			"$here/$template" >"$dir/nginx.conf"
		"$nginx_bin" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/logs/error.log" \
			</dev/null >>"$dir/logs/stdout.log" 2>&1 &
		pid=$!
		pids+=("$pid")
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			if port_open "$port"; then
				nginx_port=$port
				nginx_pid=$pid
				return 0
			fi
			sleep 0.05
		done
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		forget_pid "$pid"
	done
	echo "$prog: nginx ($name) did not start; its error log:" >&2
	tail -n 20 "$dir/logs/error.log" >&2 2>/dev/null
	exit 1
}

# start_ps NAME BINARY COMMAND LOG [OPTIONS...]: `BINARY COMMAND` (proxy or
# record) in $work/NAME on a free port, with -q for LOG quiet, without it
# (the default log, one line per exchange) for LOG default; stderr goes to
# $work/NAME/stderr.log, a file, as a user's `2>log` sends it. Its
# PATCHSCOPE_HOME is $work/home (see make_ca). Sets ps_pid and ps_port.
start_ps() {
	local name=$1 bin=$2 cmd=$3 logm=$4 dir=$work/$1 line quiet=()
	shift 4
	[ "$logm" = quiet ] && quiet=(-q)
	mkdir -p "$dir"
	PATCHSCOPE_HOME=$work/home "$bin" "$cmd" --listen 127.0.0.1:0 "${quiet[@]}" "$@" \
		</dev/null >"$dir/stdout.log" 2>"$dir/stderr.log" &
	ps_pid=$!
	pids+=("$ps_pid")
	for _ in $(seq 200); do
		line=$(grep -m1 -E '^listening on 127\.0\.0\.1:[0-9]+$' "$dir/stdout.log" 2>/dev/null || true)
		if [ -n "$line" ]; then
			ps_port=${line##*:}
			return 0
		fi
		kill -0 "$ps_pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "$prog: $bin $cmd did not print 'listening on 127.0.0.1:PORT'; stdout and stderr:" >&2
	cat "$dir/stdout.log" "$dir/stderr.log" >&2
	exit 1
}

# make_ca BINARY: make patchscope's CA in $work/home before any start, so no
# start-up (and no baseline RSS) includes making a key. Never ~/.patchscope.
make_ca() {
	PATCHSCOPE_HOME=$work/home "$1" ca >"$work/ca.log" 2>&1 || {
		cat "$work/ca.log" >&2
		die "$1 ca failed"
	}
}

# --- measuring ----------------------------------------------------------------

clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)

# cpu_ticks PID...: CPU time (user + system, clock ticks) used so far by the
# processes (fields 14 and 15 of /proc/PID/stat, after the command name).
cpu_ticks() {
	local pid total=0 rest
	for pid in "$@"; do
		rest=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		rest=${rest##*) }
		# shellcheck disable=SC2086 # split into fields on purpose
		set -- $rest
		total=$((total + ${12} + ${13}))
	done
	echo "$total"
}

# ticks_s TICKS: clock ticks as seconds.
ticks_s() { awk -v t="$1" -v hz="$clk_tck" 'BEGIN { printf "%.2f", t / hz }'; }

# status_kb PID FIELD: FIELD (VmRSS, VmHWM) of /proc/PID/status, in kB.
status_kb() {
	awk -v f="$2:" '$1 == f { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# now_us VAR: microseconds since the epoch into VAR ($EPOCHREALTIME without
# its decimal point, which the locale may spell ',').
now_us() {
	local t=$EPOCHREALTIME
	t=${t/[.,]/}
	printf -v "$1" '%s' "$((10#$t))"
}

# run_bg OUTFILE CMD...: run CMD in the background, its output to OUTFILE, and
# wait for it; a Ctrl-C interrupts the wait and the trap stops CMD (wrk
# catches SIGINT and exits 0, which would hide it from a foreground wait).
run_bg() {
	local file=$1 pid rc
	shift
	"$@" </dev/null >"$file" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait "$pid"
	rc=$?
	forget_pid "$pid"
	return $rc
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "null" }'; }
verdict() { if [ "$1" = 1 ]; then echo "met"; else echo "MISSED"; fi; }
json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}
json_bool() { case $1 in 1) echo true ;; 0) echo false ;; *) echo null ;; esac; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
