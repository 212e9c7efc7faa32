-- wrk script for tests/bench/run.
--
--   wrk ... -s bench.lua http://127.0.0.1:PROXYPORT/ -- http://127.0.0.1:ORIGINPORT/path
--
-- With an argument, every request carries that absolute-form target and its
-- authority as Host, as a client configured with a forward proxy sends them
-- (patchscope answers 400 host_mismatch otherwise). Without one, wrk's usual
-- origin-form request for the URL on its command line is sent.
--
-- There is deliberately no request() function: the request is built once,
-- after init(), and wrk stays in its fast static mode, so the client costs
-- the same for every target. done() prints one machine-readable line that
-- the run script picks up.

function init(args)
   local target = args[1]
   if target ~= nil and target ~= "" then
      wrk.path = target
      wrk.headers["Host"] = target:match("^%a+://([^/]+)")
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      'BENCH {"requests": %d, "duration_us": %d, "bytes": %d, "rps": %.1f, ' ..
      '"latency_us": {"min": %d, "mean": %.1f, "stdev": %.1f, "p50": %d, ' ..
      '"p90": %d, "p99": %d, "p99_9": %d, "max": %d}, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
      summary.requests, summary.duration, summary.bytes, summary.requests / secs,
      latency.min, latency.mean, latency.stdev,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout))
   io.write(string.format(
      'BENCHKV rps=%.1f p50_us=%d p99_us=%d requests=%d errors=%d status_errors=%d\n',
      summary.requests / secs, latency:percentile(50), latency:percentile(99),
      summary.requests, e.connect + e.read + e.write + e.timeout, e.status))
end
