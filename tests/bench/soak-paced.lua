-- wrk script for tests/bench/soak: absolute-form requests through a proxy,
-- as bench.lua sends them, paced: each connection waits PAUSE_MS after each
-- answer, so a recording grows at a known rate.
--
--   wrk ... -s soak-paced.lua http://127.0.0.1:PROXYPORT/ -- http://127.0.0.1:ORIGINPORT/path PAUSE_MS
--
-- done() prints the same BENCH and BENCHKV lines as bench.lua.

local pause_ms = 0

function init(args)
   local target = args[1]
   if target ~= nil and target ~= "" then
      wrk.path = target
      wrk.headers["Host"] = target:match("^%a+://([^/]+)")
   end
   pause_ms = tonumber(args[2]) or 0
end

function delay()
   return pause_ms
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
