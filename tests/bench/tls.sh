# shellcheck shell=bash disable=SC2154,SC2034  # sourced by run, which sets these
# tests/bench/tls.sh: the HTTPS mode of tests/bench/run (--tls). Sourced by
# run after its option parsing, clean-up trap and helpers (start_nginx,
# start_patchscope, cpu_ticks, workers_of, median, forget_pid); not meant to
# be run on its own. See tests/bench/README.md, "HTTPS (--tls)".
# tests/bench/soak sources it too, for make_tls_files and build_tlsload
# only (they need die, work, here and tls_dir): keep the top level of this
# file to definitions.
#
# Targets, all in one run, the same small JSON GET as the plain benchmark:
#   ka-wrk         wrk -> nginx TLS origin, kept-alive (reference: what wrk
#                  gets; wrk cannot go through an HTTPS proxy)
#   ka-direct      tlsload keepalive -> TLS origin
#   ka-nginx       tlsload keepalive -> nginx terminating TLS, reverse proxy
#                  over kept-alive verified TLS -> TLS origin: the peer doing
#                  the same work as patchscope's interception
#   ka-patchscope  tlsload keepalive -> patchscope (CONNECT, TLS intercepted)
#                  -> TLS origin (upstream kept alive and pooled)
#   conn-direct    tlsload connect -> TLS origin: TCP + full TLS handshake +
#                  one GET + close, BENCH_TLS_PARALLEL clients in a loop
#   conn-patchscope  the same through patchscope (the leaf is cached after the
#                  first connection; the upstream connections are pooled)

# The same small helpers as at the end of run (defined there after the plain
# run, which --tls does not reach).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "null" }'; }
verdict() { if [ "$1" = 1 ]; then echo "met"; else echo "MISSED"; fi; }
json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}
json_bool() { case $1 in 1) echo true ;; 0) echo false ;; *) echo null ;; esac; }

tls_parallel=${BENCH_TLS_PARALLEL:-8}
case $tls_parallel in '' | *[!0-9]* | 0) die "BENCH_TLS_PARALLEL must be a positive whole number" ;; esac

# Make a throwaway CA and a certificate for the origin (127.0.0.1 and
# localhost), EC P-256 like patchscope's leaves, into $tls_dir.
make_tls_files() {
	local d=$tls_dir
	mkdir -p "$d"
	cat >"$d/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
[dn]
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
	cat >"$d/origin.ext" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
authorityKeyIdentifier = keyid
EOF
	{
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
			-subj "/CN=patchscope benchmark throwaway CA" -config "$d/ca.cnf" -extensions v3_ca \
			-keyout "$d/ca-key.pem" -out "$d/ca.pem" &&
			openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
				-subj "/CN=127.0.0.1" -keyout "$d/origin-key.pem" -out "$d/origin.csr" &&
			openssl x509 -req -in "$d/origin.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" \
				-set_serial "$((RANDOM * 32768 + RANDOM + 1))" -days 2 -extfile "$d/origin.ext" \
				-out "$d/origin.pem"
	} </dev/null >"$d/openssl.log" 2>&1 || {
		cat "$d/openssl.log" >&2
		die "could not make the benchmark's throwaway CA and certificate"
	}
	chmod 600 "$d/ca-key.pem" "$d/origin-key.pem"
}

build_tlsload() {
	tlsload_bin=$work/tlsload
	"${CC:-cc}" -O2 -pthread -o "$tlsload_bin" "$here/tlsload.c" -lssl -lcrypto \
		>"$work/tlsload-build.log" 2>&1 || {
		cat "$work/tlsload-build.log" >&2
		die "could not build tests/bench/tlsload.c (needs gcc and libssl-dev)"
	}
}

# run_load OUTFILE PROGRAM ARGS...: run a load generator in the background
# and wait for it (see run_wrk in run: keeps Ctrl-C working).
run_load() {
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

# children_cpu VAR: set VAR to the CPU seconds (user + system) used so far by
# this shell's reaped children: the load generators (wrk, tlsload) once they
# have exited. The `times` builtin must run in this shell, not in a command
# substitution (a subshell has children of its own).
children_cpu() {
	times >"$work/times.txt"
	printf -v "$1" '%s' "$(awk 'NR == 2 {
		split($0, f, " "); s = 0
		for (i = 1; i <= 2; i++) { v = f[i]; sub(/s$/, "", v); split(v, ms, "m"); s += ms[1] * 60 + ms[2] }
		printf "%.2f", s }' "$work/times.txt")"
}

tls_headers=(-H "Accept: application/json" -H "Authorization: Basic YWNjMTpiZW5jaC1rZXk=")

# measure_tls LABEL ROUND SERVER_PID PROGRAM ARGS...: a warm-up run
# (BENCH_WARMUP s), then the measured run (duration s) with the same
# arguments; PROGRAM prints a BENCHKV line (bench.lua for wrk, tlsload).
# The duration is passed as -d. Records into the r_* arrays as measure() does.
measure_tls() {
	local label=$1 round=$2 server_pid=$3 key="$1.$2"
	shift 3
	local file=$work/load-$label-$round.txt srv_pids origin_pids s0 s1 o0 o1 c0 c1 kv
	if [ "$warmup" -gt 0 ]; then
		run_load "$work/load-$label-$round-warmup.txt" "$@" -d "$warmup" || true
	fi
	srv_pids=$(workers_of "$server_pid")
	origin_pids=$(workers_of "$origin_pid")
	s0=$(cpu_ticks $srv_pids)
	o0=$(cpu_ticks $origin_pids)
	children_cpu c0
	printf '  %-15s round %d/%d: %d s ... ' "$label" "$round" "$rounds" "$duration"
	if ! run_load "$file" "$@" -d "$duration"; then
		echo "the load generator failed:"
		cat "$file" >&2
		exit 1
	fi
	s1=$(cpu_ticks $srv_pids)
	o1=$(cpu_ticks $origin_pids)
	children_cpu c1
	kv=$(grep -m1 '^BENCHKV ' "$file") || {
		echo "no result line in the output:"
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
	r_cpu[$key]=$(awk -v t=$((s1 - s0)) -v hz="$clk_tck" 'BEGIN { printf "%.2f", t / hz }')
	r_ocpu[$key]=$(awk -v t=$((o1 - o0)) -v hz="$clk_tck" 'BEGIN { printf "%.2f", t / hz }')
	r_ccpu[$key]=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
	printf '%s /s, p99 %s ms' "$rps" "$(awk -v u="$p99_us" 'BEGIN { printf "%.2f", u / 1000 }')"
	if [ "$errors" != 0 ] || [ "$status_errors" != 0 ]; then
		printf ' (%s errors, %s error statuses: see %s)' "$errors" "$status_errors" "$file"
		bad_runs+=("$key")
	fi
	if ! kill -0 "$server_pid" 2>/dev/null; then
		printf ' -- the server process %s has exited!' "$server_pid"
		bad_runs+=("$key:died")
	fi
	echo
}

run_tls() {
	declare -gA r_rps r_p50 r_p99 r_err r_status r_json r_cpu r_ocpu r_ccpu
	bad_runs=()
	tls_dir=$work/tls
	make_tls_files
	build_tlsload

	start_nginx origin-tls origin-tls.conf.in
	origin_port=$nginx_port
	origin_pid=$nginx_pid
	start_nginx nginx-tls reverse-proxy-tls.conf.in "$origin_port"
	local nginx_tls_port=$nginx_port nginx_tls_pid=$nginx_pid
	local target=127.0.0.1:$origin_port
	local origin_url=https://$target$origin_path
	local ps_ca=""
	if [ "$with_patchscope" = yes ]; then
		start_patchscope --upstream-ca "$tls_dir/ca.pem"
		ps_ca=$(PATCHSCOPE_HOME=$ps_home "$ps_bin" ca --dir "$ps_home" </dev/null 2>"$work/ca.log") ||
			die "patchscope ca failed: $(cat "$work/ca.log")"
		[ -f "$ps_ca" ] || die "patchscope ca printed '$ps_ca', not the path of ca.pem"
	fi

	# Check each path once with curl (verifying certificates) before loading it.
	local expected=$work/expected.json code
	code=$(curl -sS --cacert "$tls_dir/ca.pem" -o "$expected" -w '%{http_code}' "$origin_url") ||
		die "curl to the TLS origin failed"
	[ "$code" = 200 ] || die "TLS origin answered $code, not 200"
	body_bytes=$(wc -c <"$expected")
	code=$(curl -sS --cacert "$tls_dir/ca.pem" -o "$work/check-nginx-tls.json" -w '%{http_code}' \
		"https://127.0.0.1:$nginx_tls_port$origin_path") ||
		die "curl to the nginx TLS proxy failed; its error log: $(tail -n 5 "$work/nginx-tls/logs/error.log")"
	if [ "$code" != 200 ] || ! cmp -s "$expected" "$work/check-nginx-tls.json"; then
		echo "$prog: the nginx TLS proxy answered $code with a different body (error log: $work/nginx-tls/logs/error.log):" >&2
		head -c 600 "$work/check-nginx-tls.json" >&2
		echo >&2
		exit 1
	fi
	if [ "$with_patchscope" = yes ]; then
		code=$(curl -sS -x "http://127.0.0.1:$ps_port" --cacert "$ps_ca" -o "$work/check-patchscope.json" \
			-w '%{http_code}' "$origin_url") || die "curl through patchscope (HTTPS) failed; its log: $(tail -n 5 "$work/patchscope/stderr.log")"
		if [ "$code" != 200 ] || ! cmp -s "$expected" "$work/check-patchscope.json"; then
			echo "$prog: patchscope answered $code with a different body:" >&2
			head -c 600 "$work/check-patchscope.json" >&2
			echo >&2
			exit 1
		fi
	fi

	nginx_version=$("$nginx_bin" -v 2>&1 | sed 's|^nginx version: ||')
	wrk_version=$("$wrk_bin" -v 2>&1 | head -n1 | awk '{ print $2 }')
	ps_version=""
	[ "$with_patchscope" = yes ] && ps_version=$("$ps_bin" --version 2>/dev/null | head -n1)
	ncpu=$(nproc)
	local tls_version
	tls_version=$(openssl version | awk '{ print $1 " " $2 }')

	cat <<EOF
patchscope HTTPS benchmark: GET $origin_path (${body_bytes}-byte JSON) over TLS ($tls_version, EC P-256 certificates),
${duration} s per measurement after a ${warmup} s warm-up, $rounds round(s).
  ka-wrk           wrk, $connections kept-alive connections ($threads threads) -> nginx TLS origin $target (reference)
  ka-direct        tlsload, $connections kept-alive TLS connections ($threads threads) -> nginx TLS origin
  ka-nginx         tlsload, $connections kept-alive TLS connections -> nginx TLS reverse proxy 127.0.0.1:$nginx_tls_port
                   (upstream keepalive 64 over TLS, verified, session reuse) -> origin
  conn-direct      tlsload, $tls_parallel clients in a loop: connect + full TLS handshake + 1 GET + close -> origin
EOF
	if [ "$with_patchscope" = yes ]; then
		cat <<EOF
  ka-patchscope    tlsload, $connections kept-alive connections -> CONNECT via patchscope 127.0.0.1:$ps_port
                   (TLS intercepted with its CA, upstream TLS verified with --upstream-ca, pooled) -> origin
  conn-patchscope  tlsload, $tls_parallel clients: connect + CONNECT + full TLS handshake with patchscope's (cached)
                   leaf + 1 GET + close
EOF
	fi
	cat <<EOF
All tlsload figures use the same client, which verifies certificates and never resumes
TLS sessions; the origin and the nginx proxy run worker_processes 1, patchscope one
thread; nothing is pinned, and client, origin and proxy share the $ncpu CPU(s) of this
machine. ka-nginx and ka-patchscope run in this order in odd rounds, reversed in even ones.

EOF

	local labels=(ka-wrk ka-direct ka-nginx conn-direct) round ps_args=() ka_proxies p
	[ "$with_patchscope" = yes ] && labels=(ka-wrk ka-direct ka-nginx ka-patchscope conn-direct conn-patchscope)
	local direct_args=(--target "$target" --cafile "$tls_dir/ca.pem" --path "$origin_path" "${tls_headers[@]}")
	local nginx_args=(--target "127.0.0.1:$nginx_tls_port" --cafile "$tls_dir/ca.pem" --path "$origin_path" "${tls_headers[@]}")
	[ "$with_patchscope" = yes ] && ps_args=(--target "$target" --proxy "127.0.0.1:$ps_port" --cafile "$ps_ca" --path "$origin_path" "${tls_headers[@]}")
	for round in $(seq "$rounds"); do
		measure_tls ka-wrk "$round" "$origin_pid" "$wrk_bin" -t "$threads" -c "$connections" --latency \
			"${wrk_headers[@]}" -s "$here/bench.lua" "$origin_url"
		measure_tls ka-direct "$round" "$origin_pid" "$tlsload_bin" keepalive -t "$threads" -c "$connections" "${direct_args[@]}"
		# The two proxies one after the other, nginx first in odd rounds,
		# patchscope first in even ones, so neither always follows ka-direct.
		ka_proxies=(nginx)
		if [ "$with_patchscope" = yes ]; then
			if [ $((round % 2)) = 1 ]; then ka_proxies=(nginx patchscope); else ka_proxies=(patchscope nginx); fi
		fi
		for p in "${ka_proxies[@]}"; do
			if [ "$p" = nginx ]; then
				measure_tls ka-nginx "$round" "$nginx_tls_pid" "$tlsload_bin" keepalive -t "$threads" -c "$connections" "${nginx_args[@]}"
			else
				measure_tls ka-patchscope "$round" "$ps_pid" "$tlsload_bin" keepalive -t "$threads" -c "$connections" "${ps_args[@]}"
			fi
		done
		measure_tls conn-direct "$round" "$origin_pid" "$tlsload_bin" connect -t "$threads" -c "$tls_parallel" "${direct_args[@]}"
		if [ "$with_patchscope" = yes ]; then
			measure_tls conn-patchscope "$round" "$ps_pid" "$tlsload_bin" connect -t "$threads" -c "$tls_parallel" "${ps_args[@]}"
		fi
	done

	# Medians over rounds, per target.
	declare -A m_rps m_p50 m_p99 m_cpu m_ocpu m_ccpu m_err m_status
	local label vals_rps vals_p50 vals_p99 vals_cpu vals_ocpu vals_ccpu err st k
	for label in "${labels[@]}"; do
		vals_rps=() vals_p50=() vals_p99=() vals_cpu=() vals_ocpu=() vals_ccpu=()
		err=0 st=0
		for round in $(seq "$rounds"); do
			k=$label.$round
			vals_rps+=("${r_rps[$k]}")
			vals_p50+=("${r_p50[$k]}")
			vals_p99+=("${r_p99[$k]}")
			vals_cpu+=("${r_cpu[$k]}")
			vals_ocpu+=("${r_ocpu[$k]}")
			vals_ccpu+=("${r_ccpu[$k]}")
			err=$((err + r_err[$k]))
			st=$((st + r_status[$k]))
		done
		m_rps[$label]=$(median "${vals_rps[@]}")
		m_p50[$label]=$(median "${vals_p50[@]}")
		m_p99[$label]=$(median "${vals_p99[@]}")
		m_cpu[$label]=$(median "${vals_cpu[@]}")
		m_ocpu[$label]=$(median "${vals_ocpu[@]}")
		m_ccpu[$label]=$(median "${vals_ccpu[@]}")
		m_err[$label]=$err
		m_status[$label]=$st
	done

	echo
	[ "$rounds" -gt 1 ] && echo "(medians of $rounds rounds)"
	printf '%-16s %10s %8s %8s %10s %10s %10s %10s %6s %7s\n' target "per second" "p50 ms" "p99 ms" "server CPU" "CPU us/op" "origin CPU" "client CPU" errors non-2xx
	for label in "${labels[@]}"; do
		awk -v l="$label" -v rps="${m_rps[$label]}" -v p50="${m_p50[$label]}" -v p99="${m_p99[$label]}" \
			-v cpu="${m_cpu[$label]}" -v ocpu="${m_ocpu[$label]}" -v ccpu="${m_ccpu[$label]}" -v d="$duration" \
			-v err="${m_err[$label]}" -v st="${m_status[$label]}" \
			'BEGIN { us = (rps > 0) ? cpu * 1e6 / (rps * d) : 0;
			         printf "%-16s %10.0f %8.2f %8.2f %9.0f%% %10.1f %9.0f%% %9.0f%% %6d %7d\n",
			                l, rps, p50 / 1000, p99 / 1000, 100 * cpu / d, us, 100 * ocpu / d, 100 * ccpu / d, err, st }'
	done
	echo "(per second: requests for ka-*, new TLS connections (each with one request) for conn-*."
	echo " server CPU: of the origin nginx for *-direct and ka-wrk, of the nginx TLS proxy for ka-nginx,"
	echo " of patchscope otherwise; 100% = one core."
	echo " CPU us/op: that CPU time per request (ka-*) or per new connection (conn-*)."
	echo " client CPU: of the load generator (wrk or tlsload).)"
	echo

	local ka_ratio=null conn_ratio=null ka_ok="" tlsload_vs_wrk ka_nginx_ratio=null ka_nginx_ok="" nginx_vs_direct
	local ka_cpu_ratio=null rr=() cr=() rr_med=null cr_med=null
	tlsload_vs_wrk=$(ratio "${m_rps[ka-direct]}" "${m_rps[ka-wrk]}")
	nginx_vs_direct=$(ratio "${m_rps[ka-nginx]}" "${m_rps[ka-direct]}")
	if [ "$with_patchscope" = yes ]; then
		ka_ratio=$(ratio "${m_rps[ka-patchscope]}" "${m_rps[ka-direct]}")
		ka_nginx_ratio=$(ratio "${m_rps[ka-patchscope]}" "${m_rps[ka-nginx]}")
		ka_cpu_ratio=$(ratio "$(us_per_req "${m_cpu[ka-patchscope]}" "${m_rps[ka-patchscope]}")" \
			"$(us_per_req "${m_cpu[ka-nginx]}" "${m_rps[ka-nginx]}")")
		# patchscope / nginx within each round (the two measured next to
		# each other): the spread of this run.
		for round in $(seq "$rounds"); do
			rr+=("$(ratio "${r_rps[ka-patchscope.$round]}" "${r_rps[ka-nginx.$round]}")")
			cr+=("$(ratio "$(us_per_req "${r_cpu[ka-patchscope.$round]}" "${r_rps[ka-patchscope.$round]}")" \
				"$(us_per_req "${r_cpu[ka-nginx.$round]}" "${r_rps[ka-nginx.$round]}")")")
		done
		rr_med=$(awk -v m="$(median "${rr[@]}")" 'BEGIN { printf "%.3f", m }')
		cr_med=$(awk -v m="$(median "${cr[@]}")" 'BEGIN { printf "%.3f", m }')
		conn_ratio=$(ratio "${m_rps[conn-patchscope]}" "${m_rps[conn-direct]}")
		ka_ok=$(awk -v r="$ka_ratio" 'BEGIN { print (r >= 0.8) ? 1 : 0 }')
		ka_nginx_ok=$(awk -v r="$ka_nginx_ratio" 'BEGIN { print (r >= 1.0) ? 1 : 0 }')
		printf 'kept-alive requests/s       patchscope / nginx TLS proxy  %6.3f   target >= 1.0   %s\n' "$ka_nginx_ratio" "$(verdict "$ka_nginx_ok")"
		printf 'kept-alive requests/s       patchscope / direct TLS       %6.3f   (reported; nginx TLS proxy / direct TLS: %.3f)\n' \
			"$ka_ratio" "$nginx_vs_direct"
		printf 'kept-alive CPU us/req       patchscope / nginx TLS proxy  %6.3f   (below 1: patchscope is cheaper per request)\n' "$ka_cpu_ratio"
		if [ "$rounds" -gt 1 ]; then
			printf '  patchscope / nginx in each round: req/s %s (median %s)\n' "${rr[*]}" "$rr_med"
			printf '                                    CPU   %s (median %s)\n' "${cr[*]}" "$cr_med"
		fi
		printf 'new TLS connections/s       patchscope / direct TLS       %6.3f   (no target; leaf cached, upstream pooled)\n' "$conn_ratio"
	else
		printf 'kept-alive requests/s       nginx TLS proxy / direct TLS  %6.3f\n' "$nginx_vs_direct"
	fi
	printf '(tlsload / wrk, kept-alive straight to the origin: %.3f)\n' "$tlsload_vs_wrk"

	{
		printf '{\n  "benchmark": "patchscope tests/bench/run --tls",\n'
		printf '  "date": %s,\n' "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
		printf '  "host": {"cpus": %d, "kernel": %s, "nginx": %s, "wrk": %s, "openssl": %s, "patchscope": %s},\n' \
			"$ncpu" "$(json_str "$(uname -sr)")" "$(json_str "$nginx_version")" \
			"$(json_str "$wrk_version")" "$(json_str "$tls_version")" "$(json_str "$ps_version")"
		printf '  "config": {"path": %s, "body_bytes": %d, "keepalive_connections": %d, "wrk_threads": %d, "connect_parallel": %d, "duration_s": %d, "warmup_s": %d, "rounds": %d, "nginx_worker_processes": 1, "nginx_proxy_upstream_keepalive": 64},\n' \
			"$(json_str "$origin_path")" "$body_bytes" "$connections" "$threads" "$tls_parallel" "$duration" "$warmup" "$rounds"
		printf '  "runs": [\n'
		local sep=""
		for round in $(seq "$rounds"); do
			for label in "${labels[@]}"; do
				k=$label.$round
				printf '%s    {"target": "%s", "round": %d, "server_cpu_s": %s, "origin_cpu_s": %s, "client_cpu_s": %s, "load": %s}' \
					"$sep" "$label" "$round" "${r_cpu[$k]}" "${r_ocpu[$k]}" "${r_ccpu[$k]}" "${r_json[$k]}"
				sep=$',\n'
			done
		done
		printf '\n  ],\n  "summary": {\n'
		for label in "${labels[@]}"; do
			awk -v l="$label" -v rps="${m_rps[$label]}" -v p50="${m_p50[$label]}" -v p99="${m_p99[$label]}" \
				-v cpu="${m_cpu[$label]}" -v ocpu="${m_ocpu[$label]}" -v ccpu="${m_ccpu[$label]}" -v d="$duration" -v err="${m_err[$label]}" -v st="${m_status[$label]}" \
				'BEGIN { printf "    \"%s\": {\"per_second\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"server_cpu_percent\": %.1f, \"cpu_us_per_op\": %.2f, \"origin_cpu_percent\": %.1f, \"client_cpu_percent\": %.1f, \"errors\": %d, \"status_errors\": %d},\n",
				         l, rps, p50 / 1000, p99 / 1000, 100 * cpu / d, (rps > 0) ? cpu * 1e6 / (rps * d) : 0, 100 * ocpu / d, 100 * ccpu / d, err, st }'
		done
		printf '    "keepalive_patchscope_vs_direct": %s,\n    "new_connections_patchscope_vs_direct": %s,\n    "tlsload_vs_wrk_direct": %s,\n' \
			"$ka_ratio" "$conn_ratio" "$tlsload_vs_wrk"
		printf '    "keepalive_patchscope_vs_nginx": %s,\n    "keepalive_nginx_vs_direct": %s,\n    "keepalive_cpu_us_per_request_patchscope_vs_nginx": %s,\n' \
			"$ka_nginx_ratio" "$nginx_vs_direct" "$ka_cpu_ratio"
		local rlist="" clist=""
		[ ${#rr[@]} -gt 0 ] && rlist=$(printf '%s, ' "${rr[@]}") && clist=$(printf '%s, ' "${cr[@]}")
		printf '    "keepalive_patchscope_vs_nginx_by_round": [%s],\n    "keepalive_patchscope_vs_nginx_by_round_median": %s,\n' "${rlist%, }" "$rr_med"
		printf '    "keepalive_cpu_us_per_request_patchscope_vs_nginx_by_round": [%s],\n    "keepalive_cpu_us_per_request_patchscope_vs_nginx_by_round_median": %s,\n' "${clist%, }" "$cr_med"
		printf '    "targets": {"keepalive_patchscope_vs_nginx_min": 1.0, "keepalive_vs_nginx_met": %s, "keepalive_patchscope_vs_direct_min": 0.8, "keepalive_met": %s},\n' \
			"$(json_bool "$ka_nginx_ok")" "$(json_bool "$ka_ok")"
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
