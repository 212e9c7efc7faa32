# shellcheck shell=bash disable=SC2154,SC2034  # sourced by run, which sets these
# tests/bench/replay.sh: the replay mode of tests/bench/run (--replay; issue
# 5). Sourced by run after its option parsing, clean-up trap and helpers
# (start_nginx, cpu_ticks, workers_of, run_wrk, median, forget_pid); not
# meant to be run on its own. See tests/bench/README.md, "Replay (--replay)".
#
# Two cassettes written by make_cassette.py: one entry (GET p1), and
# BENCH_REPLAY_ENTRIES (100,000) entries (GET p1 .. pN, ~325-byte JSON
# profiles). Targets, all in one run, wrk with keep-alive connections:
#   nginx        wrk -> nginx `return 200 '<entry 0's body>'`, GET p1
#   replay-1     wrk -> patchscope replay of the 1-entry cassette, GET p1
#                (origin-form requests, as a test's base URL sends them)
#   replay-big   the same against the N-entry cassette: the same entry again
#                and again
#   nginx-walk   wrk -> nginx, GET p1, p2, ... (replay_walk.lua)
#   replay-walk  wrk -> replay of the N-entry cassette, the same walk: every
#                request a different entry
# and the load of the N-entry cassette: the time from starting replay to its
# "listening on" line, VmRSS/VmHWM after it, beside python3's json.load of
# the same file (start to exit), each round.

# The same small helpers as at the end of run (defined there after the plain
# run, which --replay does not reach).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "null" }'; }
verdict() { if [ "$1" = 1 ]; then echo "met"; else echo "MISSED"; fi; }
json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}
json_bool() { case $1 in 1) echo true ;; 0) echo false ;; *) echo null ;; esac; }

python_bin=/usr/bin/python3
# --quick is a smoke test: a smaller big cassette, unless told otherwise.
if [ -n "${BENCH_REPLAY_ENTRIES:-}" ]; then
	replay_entries=$BENCH_REPLAY_ENTRIES
elif [ "$quick" = yes ]; then
	replay_entries=10000
else
	replay_entries=100000
fi
case $replay_entries in '' | *[!0-9]* | 0) die "BENCH_REPLAY_ENTRIES must be a positive whole number" ;; esac

# Microseconds since the epoch ($EPOCHREALTIME without its decimal point,
# which the locale may spell ',').
now_us() {
	local t=$EPOCHREALTIME
	t=${t/[.,]/}
	printf -v "$1" '%s' "$((10#$t))"
}
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e6 }'; }

# status_kb PID FIELD: FIELD (VmRSS, VmHWM) of /proc/PID/status, in kB.
status_kb() {
	awk -v f="$2:" '$1 == f { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# start_replay NAME CASSETTE [BINARY [LOG [HOME]]]: start `BINARY replay`
# (default $ps_bin) on a free port, with -q for LOG quiet (the default),
# without it for LOG default (one line per exchange: its stderr goes to
# $work/NAME/stderr.log either way, a file), with PATCHSCOPE_HOME HOME
# (default $work/patchscope-home); time from just before the fork to the
# moment its "listening on" line arrives (its stdout is a FIFO read here, so
# the line is seen as soon as it is written), then read its memory. Sets
# rp_pid, rp_port, rp_load_s, rp_rss_kb, rp_hwm_kb.
start_replay() {
	local name=$1 cassette=$2 bin=${3:-$ps_bin} logm=${4:-quiet} home=${5:-$work/patchscope-home}
	local dir=$work/$1 fifo line t0 t1 fd quiet=()
	[ "$logm" = quiet ] && quiet=(-q)
	mkdir -p "$dir"
	fifo=$dir/stdout.fifo
	rm -f "$fifo"
	mkfifo "$fifo" || die "cannot make a FIFO in $dir"
	now_us t0
	PATCHSCOPE_HOME=$home "$bin" replay -c "$cassette" --listen 127.0.0.1:0 "${quiet[@]}" \
		</dev/null >"$fifo" 2>"$dir/stderr.log" &
	rp_pid=$!
	pids+=("$rp_pid")
	exec {fd}<"$fifo"
	if ! IFS= read -r -t 900 -u "$fd" line; then
		line=""
	fi
	now_us t1
	printf '%s\n' "$line" >"$dir/stdout.log"
	# Keep reading its stdout until it exits, so it never blocks on a full pipe.
	cat <&"$fd" >>"$dir/stdout.log" &
	pids+=("$!")
	exec {fd}<&-
	case $line in
	"listening on 127.0.0.1:"[0-9]*) rp_port=${line##*:} ;;
	*)
		echo "$prog: $bin replay -c $cassette did not print 'listening on 127.0.0.1:PORT'; stdout and stderr:" >&2
		cat "$dir/stdout.log" "$dir/stderr.log" >&2
		exit 1
		;;
	esac
	rp_load_s=$(seconds_between "$t0" "$t1")
	rp_rss_kb=$(status_kb "$rp_pid" VmRSS)
	rp_hwm_kb=$(status_kb "$rp_pid" VmHWM)
}

# stop_replay PID: SIGTERM, wait for it (it writes its end-of-run report
# first), forget it.
stop_replay() {
	local pid=$1 deadline=$((SECONDS + 30))
	kill -TERM "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
	forget_pid "$pid"
}

# python_load FILE: time python3 parsing FILE with json.load, from start to
# exit like the replay figure; sets py_load_s and py_maxrss_kb (its peak RSS).
python_load() {
	local file=$1 t0 t1 pid rc
	now_us t0
	"$python_bin" -c 'import json, resource, sys
json.load(open(sys.argv[1]))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)' "$file" </dev/null >"$work/python-load.txt" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait "$pid"
	rc=$?
	now_us t1
	forget_pid "$pid"
	[ "$rc" = 0 ] || {
		cat "$work/python-load.txt" >&2
		die "python3 could not load $file"
	}
	py_load_s=$(seconds_between "$t0" "$t1")
	py_maxrss_kb=$(tail -n1 "$work/python-load.txt")
}

# measure_replay LABEL ROUND URL SERVER_PID [WALK]: one warm-up, one measured
# wrk run, as measure in run does; with WALK, replay_walk.lua walks
# p1..p$replay_entries, else bench.lua sends GET URL each time.
measure_replay() {
	local label=$1 round=$2 url=$3 server_pid=$4 walk=${5:-} key="$1.$2"
	local file=$work/wrk-$label-$round.txt srv_pids s0 s1 kv
	local args=(-t "$threads" -c "$connections" --latency "${wrk_headers[@]}")
	if [ -n "$walk" ]; then
		args+=(-s "$here/replay_walk.lua" "$url" -- "$replay_entries" "$threads")
	else
		args+=(-s "$here/bench.lua" "$url")
	fi
	if [ "$warmup" -gt 0 ]; then
		run_wrk "$work/wrk-$label-$round-warmup.txt" -d "${warmup}s" "${args[@]}"
	fi
	srv_pids=$(workers_of "$server_pid")
	s0=$(cpu_ticks $srv_pids)
	printf '  %-*s round %d/%d: %d s ... ' "$label_w" "$label" "$round" "$rounds" "$duration"
	if ! run_wrk "$file" -d "${duration}s" "${args[@]}"; then
		echo "wrk failed:"
		cat "$file" >&2
		exit 1
	fi
	s1=$(cpu_ticks $srv_pids)
	kv=$(grep -m1 '^BENCHKV ' "$file") || {
		echo "no result line in wrk output:"
		cat "$file" >&2
		exit 1
	}
	local rps p50_us p99_us requests errors status_errors
	eval "${kv#BENCHKV }"
	r_rps[$key]=$rps
	r_p50[$key]=$p50_us
	r_p99[$key]=$p99_us
	r_err[$key]=$errors
	r_status[$key]=$status_errors
	r_json[$key]=$(grep -m1 '^BENCH ' "$file" | cut -c7-)
	r_bpr[$key]=$(printf '%s\n' "${r_json[$key]}" | awk -v n="$requests" '{
		if (match($0, /"bytes": [0-9]+/)) { b = substr($0, RSTART + 9, RLENGTH - 9); printf "%.1f", (n > 0) ? b / n : 0 } else print 0 }')
	r_cpu[$key]=$(awk -v t=$((s1 - s0)) -v hz="$clk_tck" 'BEGIN { printf "%.2f", t / hz }')
	printf '%s req/s, p99 %s ms' "$rps" "$(awk -v u="$p99_us" 'BEGIN { printf "%.2f", u / 1000 }')"
	if [ "$errors" != 0 ] || [ "$status_errors" != 0 ]; then
		printf ' (%s socket errors, %s error statuses: see %s)' "$errors" "$status_errors" "$file"
		bad_runs+=("$key")
	fi
	if ! kill -0 "$server_pid" 2>/dev/null; then
		printf ' -- the server process %s has exited!' "$server_pid"
		bad_runs+=("$key:died")
	fi
	echo
}

# check_get LABEL URL EXPECTED_FILE: one curl; 200 and exactly those bytes.
check_get() {
	local label=$1 url=$2 expected=$3 got=$work/check-$1.json code
	code=$(curl -sS -o "$got" -w '%{http_code}' "${wrk_headers[@]}" "$url") || {
		echo "$prog: curl to $label ($url) failed" >&2
		exit 1
	}
	if [ "$code" != 200 ] || ! cmp -s "$expected" "$got"; then
		echo "$prog: $label answered $code to $url with a different body than expected ($expected):" >&2
		head -c 600 "$got" >&2
		echo >&2
		exit 1
	fi
}

# replay_variant_set V: rv_kind, rv_log, rv_sfx, rv_bin of variant V
# ("KIND:LOG", from ps_variants).
replay_variant_set() {
	rv_kind=${1%%:*}
	rv_log=${1#*:}
	rv_sfx=$(variant_suffix "$rv_kind" "$rv_log")
	rv_bin=$(variant_bin "$rv_kind")
}

run_replay() {
	declare -gA r_rps r_p50 r_p99 r_err r_status r_json r_cpu r_bpr
	bad_runs=()
	[ -x "$python_bin" ] || die "$python_bin is missing (apt-get install python3)"
	local cdir=$work/cassettes small big t0 t1 gen_s big_bytes big_mb v
	local rv_kind rv_log rv_sfx rv_bin
	mkdir -p "$cdir"
	small=$cdir/one.har
	big=$cdir/entries-$replay_entries.har
	"$python_bin" "$here/make_cassette.py" 1 "$small" || die "make_cassette.py failed"
	printf 'writing a %d-entry cassette with make_cassette.py ... ' "$replay_entries"
	now_us t0
	"$python_bin" "$here/make_cassette.py" "$replay_entries" "$big" || die "make_cassette.py failed"
	now_us t1
	gen_s=$(seconds_between "$t0" "$t1")
	big_bytes=$(stat -c %s "$big")
	big_mb=$(awk -v b="$big_bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
	echo "$big_mb MiB in $gen_s s"

	start_nginx replay-nginx replay-origin.conf.in
	local ng_port=$nginx_port ng_pid=$nginx_pid

	# The replay variants: binary (new, base) x log (quiet, default), keyed
	# by "KIND:LOG"; each its own PATCHSCOPE_HOME, its CA made beforehand.
	# The first one is the target of issue 5's lines (the new binary, -q if
	# measured).
	local main_v="" main_sfx="" t
	declare -A one_pid one_port one_load one_rss
	if [ "$with_patchscope" = yes ]; then
		main_v=${ps_variants[0]}
		replay_variant_set "$main_v"
		main_sfx=$rv_sfx
		for v in "${ps_variants[@]}"; do
			replay_variant_set "$v"
			mkdir -p "$work/patchscope-home$rv_sfx"
			# Its CA made now, so that no timed start includes making it.
			PATCHSCOPE_HOME=$work/patchscope-home$rv_sfx "$rv_bin" ca --dir "$work/patchscope-home$rv_sfx" \
				</dev/null >/dev/null 2>"$work/ca$rv_sfx.log" || {
				cat "$work/ca$rv_sfx.log" >&2
				die "$rv_bin ca --dir $work/patchscope-home$rv_sfx failed"
			}
			for t in replay-1 replay-big replay-walk; do
				v_kind[$t$rv_sfx]=$rv_kind
				v_log[$t$rv_sfx]=$rv_log
			done
			start_replay "replay-1$rv_sfx" "$small" "$rv_bin" "$rv_log" "$work/patchscope-home$rv_sfx"
			one_pid[$v]=$rp_pid
			one_port[$v]=$rp_port
			one_load[$v]=$rp_load_s
			one_rss[$v]=$rp_rss_kb
		done
	fi

	# The same bytes from nginx and from both cassettes, before any load.
	local expected=$work/expected.json expected_last=$work/expected-last.json code
	code=$(curl -sS -o "$expected" -w '%{http_code}' "http://127.0.0.1:$ng_port$origin_path") ||
		die "curl to nginx failed"
	[ "$code" = 200 ] || die "nginx answered $code, not 200"
	body_bytes=$(wc -c <"$expected")
	sed "s/\"id\":\"p1\"/\"id\":\"p$replay_entries\"/" "$expected" >"$expected_last"
	if [ "$with_patchscope" = yes ]; then
		for v in "${ps_variants[@]}"; do
			replay_variant_set "$v"
			check_get "replay-1$rv_sfx" "http://127.0.0.1:${one_port[$v]}$origin_path" "$expected"
		done
	fi

	nginx_version=$("$nginx_bin" -v 2>&1 | sed 's|^nginx version: ||')
	wrk_version=$("$wrk_bin" -v 2>&1 | head -n1 | awk '{ print $2 }')
	ps_version=""
	[ "$with_patchscope" = yes ] && ps_version=$("$ps_bin" --version 2>/dev/null | head -n1)
	ncpu=$(nproc)
	local py_version
	py_version=$("$python_bin" -c 'import platform; print(platform.python_version())')

	local labels=(nginx nginx-walk) round t
	if [ "$with_patchscope" = yes ]; then
		labels=(nginx)
		for t in replay-1 replay-big; do
			for v in "${ps_variants[@]}"; do
				replay_variant_set "$v"
				labels+=("$t$rv_sfx")
			done
		done
		labels+=(nginx-walk)
		for v in "${ps_variants[@]}"; do
			replay_variant_set "$v"
			labels+=("replay-walk$rv_sfx")
		done
	fi
	set_label_w "${labels[@]}"

	echo "patchscope replay benchmark: GET $origin_path (${body_bytes}-byte JSON), HTTP/1.1 keep-alive,"
	echo "$connections connections, $threads wrk threads, ${duration} s per measurement after a ${warmup} s warm-up, $rounds round(s)."
	printf '  %-*s wrk -> nginx 127.0.0.1:%s, location / { return 200 '"'"'<the same bytes>'"'"'; }\n' "$label_w" nginx "$ng_port"
	local q
	if [ "$with_patchscope" = yes ]; then
		for v in "${ps_variants[@]}"; do
			replay_variant_set "$v"
			q=""
			[ "$rv_log" = quiet ] && q=" -q"
			printf '  %-*s wrk -> patchscope replay%s 127.0.0.1:%s, 1-entry cassette (origin-form requests)\n' \
				"$label_w" "replay-1$rv_sfx" "$q" "${one_port[$v]}"
		done
		for v in "${ps_variants[@]}"; do
			replay_variant_set "$v"
			q=""
			[ "$rv_log" = quiet ] && q=" -q"
			printf '  %-*s wrk -> patchscope replay%s, the %d-entry cassette (%s MiB), GET p1 every time\n' \
				"$label_w" "replay-big$rv_sfx" "$q" "$replay_entries" "$big_mb"
		done
	fi
	printf '  %-*s wrk (replay_walk.lua) -> nginx, GET p1, p2, ... p%d, round and round\n' "$label_w" nginx-walk "$replay_entries"
	if [ "$with_patchscope" = yes ]; then
		for v in "${ps_variants[@]}"; do
			replay_variant_set "$v"
			printf '  %-*s wrk (replay_walk.lua) -> the %d-entry replay: a different entry each request\n' \
				"$label_w" "replay-walk$rv_sfx" "$replay_entries"
		done
		if [ ${#ps_variants[@]} -gt 1 ] || [ "$log_mode" != quiet ]; then
			echo "patchscope binaries and logs:"
			for v in "${ps_variants[@]}"; do
				replay_variant_set "$v"
				printf '  %-*s %s (sha256 %s), %s\n' "$label_w" "*$rv_sfx" "$rv_bin" "$(bin_id "$rv_bin")" "$(log_desc "$rv_log")"
			done
			echo "  (in each group the variants run in this order in odd rounds, in the reverse order in even rounds)"
		fi
	fi
	cat <<EOF
Each round also starts a fresh replay of the big cassette (timed to its "listening on"
line, then its VmRSS/VmHWM read) beside $python_bin json.load of the same file.
nginx runs worker_processes 1, patchscope one thread; nothing is pinned, and wrk and
the server share the $ncpu CPU(s) of this machine.

EOF

	declare -A l_py l_pyrss l_load l_rss l_hwm l_rss_end l_hwm_end big_pid big_port
	for round in $(seq "$rounds"); do
		printf '  %-*s round %d/%d: ' "$label_w" load "$round" "$rounds"
		python_load "$big"
		l_py[$round]=$py_load_s
		l_pyrss[$round]=$py_maxrss_kb
		printf 'python3 json.load %s s' "$py_load_s"
		variants_for_round "$round"
		if [ "$with_patchscope" = yes ]; then
			for v in "${round_variants[@]}"; do
				replay_variant_set "$v"
				start_replay "replay-big$rv_sfx-$round" "$big" "$rv_bin" "$rv_log" "$work/patchscope-home$rv_sfx"
				big_pid[$v]=$rp_pid
				big_port[$v]=$rp_port
				l_load[$v.$round]=$rp_load_s
				l_rss[$v.$round]=$rp_rss_kb
				l_hwm[$v.$round]=$rp_hwm_kb
				if [ ${#ps_variants[@]} -gt 1 ]; then
					printf '\n  %-*s              replay%s %s s, VmRSS %d MiB, VmHWM %d MiB' "$label_w" "" \
						"$rv_sfx" "$rp_load_s" $((rp_rss_kb / 1024)) $((rp_hwm_kb / 1024))
				else
					printf ', replay %s s, VmRSS %d MiB, VmHWM %d MiB' "$rp_load_s" $((rp_rss_kb / 1024)) $((rp_hwm_kb / 1024))
				fi
			done
		fi
		echo
		if [ "$with_patchscope" = yes ] && [ "$round" = 1 ]; then
			for v in "${ps_variants[@]}"; do
				replay_variant_set "$v"
				check_get "replay-big$rv_sfx" "http://127.0.0.1:${big_port[$v]}$origin_path" "$expected"
				check_get "replay-big$rv_sfx-last" "http://127.0.0.1:${big_port[$v]}/v1/acc1/profiles/p$replay_entries" "$expected_last"
			done
		fi

		measure_replay nginx "$round" "http://127.0.0.1:$ng_port$origin_path" "$ng_pid"
		if [ "$with_patchscope" = yes ]; then
			for v in "${round_variants[@]}"; do
				replay_variant_set "$v"
				measure_replay "replay-1$rv_sfx" "$round" "http://127.0.0.1:${one_port[$v]}$origin_path" "${one_pid[$v]}"
			done
			for v in "${round_variants[@]}"; do
				replay_variant_set "$v"
				measure_replay "replay-big$rv_sfx" "$round" "http://127.0.0.1:${big_port[$v]}$origin_path" "${big_pid[$v]}"
			done
		fi
		measure_replay nginx-walk "$round" "http://127.0.0.1:$ng_port/" "$ng_pid" walk
		if [ "$with_patchscope" = yes ]; then
			for v in "${round_variants[@]}"; do
				replay_variant_set "$v"
				measure_replay "replay-walk$rv_sfx" "$round" "http://127.0.0.1:${big_port[$v]}/" "${big_pid[$v]}" walk
			done
			for v in "${round_variants[@]}"; do
				l_rss_end[$v.$round]=$(status_kb "${big_pid[$v]}" VmRSS)
				l_hwm_end[$v.$round]=$(status_kb "${big_pid[$v]}" VmHWM)
				stop_replay "${big_pid[$v]}"
			done
		fi
	done

	# Medians over rounds, per target.
	declare -A m_rps m_p50 m_p99 m_cpu m_bpr m_err m_status
	local label vals_rps vals_p50 vals_p99 vals_cpu vals_bpr err st k
	for label in "${labels[@]}"; do
		vals_rps=() vals_p50=() vals_p99=() vals_cpu=() vals_bpr=()
		err=0 st=0
		for round in $(seq "$rounds"); do
			k=$label.$round
			vals_rps+=("${r_rps[$k]}")
			vals_p50+=("${r_p50[$k]}")
			vals_p99+=("${r_p99[$k]}")
			vals_cpu+=("${r_cpu[$k]}")
			vals_bpr+=("${r_bpr[$k]}")
			err=$((err + r_err[$k]))
			st=$((st + r_status[$k]))
		done
		m_rps[$label]=$(median "${vals_rps[@]}")
		m_p50[$label]=$(median "${vals_p50[@]}")
		m_p99[$label]=$(median "${vals_p99[@]}")
		m_cpu[$label]=$(median "${vals_cpu[@]}")
		m_bpr[$label]=$(median "${vals_bpr[@]}")
		m_err[$label]=$err
		m_status[$label]=$st
	done
	# Medians of the loads, per variant (ml_*[KIND:LOG]).
	local med_py med_pyrss med_load=null med_rss=null med_hwm=null med_rss_end=null med_hwm_end=null
	local one_load_s=null one_rss_kb=null
	declare -A ml_load ml_rss ml_hwm ml_rss_end ml_hwm_end
	local a_load a_rss a_hwm a_rss_end a_hwm_end
	med_py=$(median "${l_py[@]}")
	med_pyrss=$(median "${l_pyrss[@]}")
	if [ "$with_patchscope" = yes ]; then
		for v in "${ps_variants[@]}"; do
			a_load=() a_rss=() a_hwm=() a_rss_end=() a_hwm_end=()
			for round in $(seq "$rounds"); do
				a_load+=("${l_load[$v.$round]}")
				a_rss+=("${l_rss[$v.$round]}")
				a_hwm+=("${l_hwm[$v.$round]}")
				a_rss_end+=("${l_rss_end[$v.$round]}")
				a_hwm_end+=("${l_hwm_end[$v.$round]}")
			done
			ml_load[$v]=$(median "${a_load[@]}")
			ml_rss[$v]=$(median "${a_rss[@]}")
			ml_hwm[$v]=$(median "${a_hwm[@]}")
			ml_rss_end[$v]=$(median "${a_rss_end[@]}")
			ml_hwm_end[$v]=$(median "${a_hwm_end[@]}")
		done
		med_load=${ml_load[$main_v]}
		med_rss=${ml_rss[$main_v]}
		med_hwm=${ml_hwm[$main_v]}
		med_rss_end=${ml_rss_end[$main_v]}
		med_hwm_end=${ml_hwm_end[$main_v]}
		one_load_s=${one_load[$main_v]}
		one_rss_kb=${one_rss[$main_v]}
	fi

	echo
	[ "$rounds" -gt 1 ] && echo "(medians of $rounds rounds)"
	printf '%-*s %11s %9s %9s %11s %11s %10s %8s %8s\n' "$label_w" target requests/s "p50 ms" "p99 ms" "server CPU" "CPU us/req" "bytes/resp" "sock err" "non-2xx"
	for label in "${labels[@]}"; do
		awk -v l="$label" -v rps="${m_rps[$label]}" -v p50="${m_p50[$label]}" -v p99="${m_p99[$label]}" \
			-v cpu="${m_cpu[$label]}" -v d="$duration" -v bpr="${m_bpr[$label]}" -v err="${m_err[$label]}" -v st="${m_status[$label]}" -v w="$label_w" \
			'BEGIN { us = (rps > 0) ? cpu * 1e6 / (rps * d) : 0;
			         printf "%-" w "s %11.0f %9.2f %9.2f %10.0f%% %11.1f %10.0f %8d %8d\n",
			                l, rps, p50 / 1000, p99 / 1000, 100 * cpu / d, us, bpr, err, st }'
	done
	echo "(server CPU: of nginx (master + worker) or of patchscope replay; 100% = one core."
	echo " CPU us/req: that CPU time per request. bytes/resp: response bytes per request as wrk read them.)"
	echo

	local r_one=null r_big=null r_walk=null ok_one="" ok_big="" ok_walk="" load_ratio=null
	local walk_vs_static
	walk_vs_static=$(ratio "${m_rps[nginx-walk]}" "${m_rps[nginx]}")
	if [ "$with_patchscope" = yes ]; then
		r_one=$(ratio "${m_rps[replay-1$main_sfx]}" "${m_rps[nginx]}")
		r_big=$(ratio "${m_rps[replay-big$main_sfx]}" "${m_rps[nginx]}")
		r_walk=$(ratio "${m_rps[replay-walk$main_sfx]}" "${m_rps[nginx-walk]}")
		ok_one=$(awk -v r="$r_one" 'BEGIN { print (r >= 0.8) ? 1 : 0 }')
		ok_big=$(awk -v r="$r_big" 'BEGIN { print (r >= 0.8) ? 1 : 0 }')
		ok_walk=$(awk -v r="$r_walk" 'BEGIN { print (r >= 0.8) ? 1 : 0 }')
		load_ratio=$(ratio "$med_load" "$med_py")
		printf '%-40s %6.3f   target >= 0.8   %s\n' "replay-1$main_sfx / nginx (1 entry)" "$r_one" "$(verdict "$ok_one")"
		printf '%-40s %6.3f   target >= 0.8   %s\n' "replay-big$main_sfx / nginx ($replay_entries entries, p1)" "$r_big" "$(verdict "$ok_big")"
		printf '%-40s %6.3f   target >= 0.8   %s\n' "replay-walk$main_sfx / nginx-walk (all entries)" "$r_walk" "$(verdict "$ok_walk")"
		echo
		printf 'cassette of %d entries: %s MiB (%d bytes), %d bytes per entry\n' \
			"$replay_entries" "$big_mb" "$big_bytes" $((big_bytes / replay_entries))
		[ -n "$main_sfx" ] && echo "(the next lines: replay$main_sfx)"
		printf 'load to "listening on"   %8.3f s   python3 json.load: %.3f s   replay / python3  %s\n' \
			"$med_load" "$med_py" "$load_ratio"
		awk -v rss="$med_rss" -v hwm="$med_hwm" -v rss2="$med_rss_end" -v hwm2="$med_hwm_end" -v py="$med_pyrss" -v fb="$big_bytes" \
			'BEGIN { printf "memory after load        VmRSS %.0f MiB (%.2f x the file), VmHWM %.0f MiB; after the round VmRSS %.0f MiB, VmHWM %.0f MiB\n",
			                rss / 1024, rss * 1024 / fb, hwm / 1024, rss2 / 1024, hwm2 / 1024;
			         printf "                         (python3 json.load peak RSS: %.0f MiB)\n", py / 1024 }'
		printf '1-entry cassette: listening after %s s, VmRSS %d MiB\n' "$one_load_s" $((one_rss_kb / 1024))
	else
		printf 'python3 json.load of the %d-entry cassette (%s MiB): %.3f s\n' "$replay_entries" "$big_mb" "$med_py"
	fi
	printf '(nginx-walk / nginx: %s, what the per-request Lua of the walk costs the client)\n' "$walk_vs_static"

	# --compare, --log both: every variant's load, then the ratios.
	local cmp_load_json="" lw=$((label_w > 16 ? label_w : 16)) vb lr rr list med
	if [ "$with_patchscope" = yes ] && [ ${#ps_variants[@]} -gt 1 ]; then
		echo
		echo "load of the $replay_entries-entry cassette per variant (medians), and of the 1-entry one:"
		printf '  %-*s %10s %9s %9s %9s %9s   %10s %9s\n' "$lw" "" listening "VmRSS" "VmHWM" "RSS end" "HWM end" "1-entry" "VmRSS"
		for v in "${ps_variants[@]}"; do
			replay_variant_set "$v"
			awk -v l="replay$rv_sfx" -v w="$lw" -v ld="${ml_load[$v]}" -v rss="${ml_rss[$v]}" -v hwm="${ml_hwm[$v]}" \
				-v rss2="${ml_rss_end[$v]}" -v hwm2="${ml_hwm_end[$v]}" -v o="${one_load[$v]}" -v orss="${one_rss[$v]}" \
				'BEGIN { printf "  %-" w "s %8.3f s %5.0f MiB %5.0f MiB %5.0f MiB %5.0f MiB   %8.3f s %5.0f MiB\n",
				         l, ld, rss / 1024, hwm / 1024, rss2 / 1024, hwm2 / 1024, o, orss / 1024 }'
		done
		echo
		compare_section replay-1 replay-big replay-walk
		if [ -n "$base_bin" ]; then
			echo "load, new / base (below 1: new loads sooner, holds less)"
			printf '  %-*s %10s %9s %9s %9s   %s\n' $((2 * lw + 3)) "" listening "VmRSS" "VmHWM" "1-entry" "listening new/base in each round"
			for lg in "${ps_logs[@]}"; do
				v=new:$lg vb=base:$lg
				rr=()
				for round in $(seq "$rounds"); do
					rr+=("$(ratio_of "${l_load[$v.$round]}" "${l_load[$vb.$round]}")")
				done
				med=$(awk -v m="$(median "${rr[@]}")" 'BEGIN { printf "%.3f", m }')
				lr=("$(ratio_of "${ml_load[$v]}" "${ml_load[$vb]}")" "$(ratio_of "${ml_rss[$v]}" "${ml_rss[$vb]}")"
					"$(ratio_of "${ml_hwm[$v]}" "${ml_hwm[$vb]}")" "$(ratio_of "${one_load[$v]}" "${one_load[$vb]}")")
				printf '  %-*s %10s %9s %9s %9s   %s (median %s)\n' $((2 * lw + 3)) \
					"replay$(variant_suffix new "$lg") / replay$(variant_suffix base "$lg")" "${lr[@]}" "${rr[*]}" "$med"
				list=$(printf '%s, ' "${rr[@]}")
				cmp_load_json+="${cmp_load_json:+,$nl}      {\"new\": \"replay$(variant_suffix new "$lg")\", \"base\": \"replay$(variant_suffix base "$lg")\", \"log\": \"$lg\", \"load_s\": ${lr[0]}, \"vmrss\": ${lr[1]}, \"vmhwm\": ${lr[2]}, \"one_entry_load_s\": ${lr[3]}, \"load_s_by_round\": [${list%, }], \"load_s_by_round_median\": $med}"
			done
			echo "(the 1-entry load is one start per variant, not a median)"
			echo
		fi
	fi
	if [ "$with_patchscope" = yes ] && [ "$log_mode" != quiet ]; then
		echo "the default log, as written (stderr to a file; replay-big: all rounds):"
		for v in "${ps_variants[@]}"; do
			replay_variant_set "$v"
			[ "$rv_log" = default ] || continue
			log_written "replay-1$rv_sfx" "$work/replay-1$rv_sfx/stderr.log" "$work/replay-1$rv_sfx/stderr.log"
			log_written "replay-big$rv_sfx" "$work/replay-big$rv_sfx-N/stderr.log" "$work"/replay-big"$rv_sfx"-[0-9]*/stderr.log
		done
	fi

	{
		printf '{\n  "benchmark": "patchscope tests/bench/run --replay",\n'
		printf '  "date": %s,\n' "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
		printf '  "host": {"cpus": %d, "kernel": %s, "nginx": %s, "wrk": %s, "python3": %s, "patchscope": %s},\n' \
			"$ncpu" "$(json_str "$(uname -sr)")" "$(json_str "$nginx_version")" \
			"$(json_str "$wrk_version")" "$(json_str "$py_version")" "$(json_str "$ps_version")"
		printf '  "config": {"path": %s, "body_bytes": %d, "entries": %d, "cassette_bytes": %d, "cassette_generate_s": %s, "connections": %d, "threads": %d, "duration_s": %d, "warmup_s": %d, "rounds": %d, "nginx_worker_processes": 1},\n' \
			"$(json_str "$origin_path")" "$body_bytes" "$replay_entries" "$big_bytes" "$gen_s" "$connections" "$threads" "$duration" "$warmup" "$rounds"
		printf '  "runs": [\n'
		local sep=""
		for round in $(seq "$rounds"); do
			for label in "${labels[@]}"; do
				k=$label.$round
				printf '%s    {"target": "%s"%s, "round": %d, "server_cpu_s": %s, "bytes_per_response": %s, "wrk": %s}' \
					"$sep" "$label" "$(variant_json "$label")" "$round" "${r_cpu[$k]}" "${r_bpr[$k]}" "${r_json[$k]}"
				sep=$',\n'
			done
		done
		printf '\n  ],\n  "loads": [\n'
		sep=""
		for round in $(seq "$rounds"); do
			if [ "$with_patchscope" = yes ]; then
				for v in "${ps_variants[@]}"; do
					replay_variant_set "$v"
					printf '%s    {"round": %d, "variant": "replay%s", "binary": "%s", "log": "%s", "python_json_load_s": %s, "python_maxrss_kb": %s, "replay_load_s": %s, "vmrss_kb": %s, "vmhwm_kb": %s, "vmrss_after_round_kb": %s, "vmhwm_after_round_kb": %s}' \
						"$sep" "$round" "$rv_sfx" "$rv_kind" "$rv_log" "${l_py[$round]}" "${l_pyrss[$round]}" "${l_load[$v.$round]}" "${l_rss[$v.$round]}" "${l_hwm[$v.$round]}" "${l_rss_end[$v.$round]}" "${l_hwm_end[$v.$round]}"
					sep=$',\n'
				done
			else
				printf '%s    {"round": %d, "python_json_load_s": %s, "python_maxrss_kb": %s}' \
					"$sep" "$round" "${l_py[$round]}" "${l_pyrss[$round]}"
			fi
			sep=$',\n'
		done
		printf '\n  ],\n  "summary": {\n'
		for label in "${labels[@]}"; do
			awk -v l="$label" -v rps="${m_rps[$label]}" -v p50="${m_p50[$label]}" -v p99="${m_p99[$label]}" \
				-v cpu="${m_cpu[$label]}" -v d="$duration" -v bpr="${m_bpr[$label]}" -v err="${m_err[$label]}" -v st="${m_status[$label]}" \
				'BEGIN { printf "    \"%s\": {\"rps\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"server_cpu_percent\": %.1f, \"cpu_us_per_request\": %.2f, \"bytes_per_response\": %.1f, \"socket_errors\": %d, \"status_errors\": %d},\n",
				         l, rps, p50 / 1000, p99 / 1000, 100 * cpu / d, (rps > 0) ? cpu * 1e6 / (rps * d) : 0, bpr, err, st }'
		done
		printf '    "replay_1_vs_nginx": %s,\n    "replay_big_vs_nginx": %s,\n    "replay_walk_vs_nginx_walk": %s,\n    "nginx_walk_vs_nginx": %s,\n' \
			"$r_one" "$r_big" "$r_walk" "$walk_vs_static"
		printf '    "load": {"entries": %d, "cassette_bytes": %d, "replay_load_s": %s, "python_json_load_s": %s, "replay_vs_python": %s, "vmrss_kb": %s, "vmhwm_kb": %s, "vmrss_after_round_kb": %s, "vmhwm_after_round_kb": %s, "python_maxrss_kb": %s, "one_entry_load_s": %s, "one_entry_vmrss_kb": %s},\n' \
			"$replay_entries" "$big_bytes" "$med_load" "$med_py" "$load_ratio" "$med_rss" "$med_hwm" "$med_rss_end" "$med_hwm_end" "$med_pyrss" "$one_load_s" "$one_rss_kb"
		if [ "$with_patchscope" = yes ]; then
			printf '    "load_by_variant": {'
			sep=""
			for v in "${ps_variants[@]}"; do
				replay_variant_set "$v"
				printf '%s\n      "replay%s": {"binary": "%s", "log": "%s", "replay_load_s": %s, "vmrss_kb": %s, "vmhwm_kb": %s, "vmrss_after_round_kb": %s, "vmhwm_after_round_kb": %s, "one_entry_load_s": %s, "one_entry_vmrss_kb": %s}' \
					"$sep" "$rv_sfx" "$rv_kind" "$rv_log" "${ml_load[$v]}" "${ml_rss[$v]}" "${ml_hwm[$v]}" "${ml_rss_end[$v]}" "${ml_hwm_end[$v]}" "${one_load[$v]}" "${one_rss[$v]}"
				sep=,
			done
			printf '\n    },\n'
		fi
		printf '    "targets_of": %s,\n' "$(json_str "${main_v:+replay$main_sfx}")"
		printf '    "compare": %s,\n' "$(compare_json)"
		printf '    "load_new_vs_base": [%s%s],\n' "${cmp_load_json:+$nl}$cmp_load_json" "${cmp_load_json:+$nl    }"
		printf '    "targets": {"replay_vs_nginx_min": 0.8, "replay_1_met": %s, "replay_big_met": %s, "replay_walk_met": %s},\n' \
			"$(json_bool "$ok_one")" "$(json_bool "$ok_big")" "$(json_bool "$ok_walk")"
		printf '    "valid": %s\n  }\n}\n' "$([ ${#bad_runs[@]} = 0 ] && echo true || echo false)"
	} >"$out"
	echo "results: $out"

	if [ ${#bad_runs[@]} -gt 0 ]; then
		echo "$prog: some measurements saw errors or a dead server (${bad_runs[*]}); figures are not valid" >&2
		keep=yes
		return 1
	fi
	return 0
}
