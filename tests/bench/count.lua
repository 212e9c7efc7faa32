-- wrk script for tests/bench/record: a fixed number of requests, then stop.
--
--   wrk -t T -c C -d LIMIT --latency -s count.lua http://127.0.0.1:PROXYPORT/ \
--       -- http://127.0.0.1:ORIGINPORT/path TOTAL T DONEDIR
--
-- wrk has no request-count option: it runs for -d seconds. Here each thread
-- stops its loop once it has had its share of TOTAL responses (TOTAL / T,
-- the remainder going to the first threads), and the last thread to stop
-- sends wrk itself SIGINT, which ends wrk's sleep at once: the summary
-- (requests, duration, latency) is then that of exactly TOTAL completed
-- requests, and -d is only an upper bound. Threads find out which is last
-- through marker files in DONEDIR (Lua states are per thread): each creates
-- its own, then looks for all of them, so the last one always sees them all.
--
-- Requests still in flight on the other connections of a thread when it
-- stops are abandoned (at most one per connection); the proxy sees the
-- client leave. Every request carries the absolute-form target and its
-- authority as Host, as bench.lua sends it to a forward proxy.
--
-- This script defines response(), so wrk hands every response to Lua: the
-- client costs a little more per request than with bench.lua, the same for
-- every target measured with it. done() prints the same BENCH and BENCHKV
-- lines as bench.lua.

local ffi = require("ffi")
ffi.cdef [[
int kill(int pid, int sig);
int getpid(void);
]]

local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("idx", counter - 1)
end

function init(args)
   local target = args[1]
   wrk.path = target
   wrk.headers["Host"] = target:match("^%a+://([^/]+)")
   local total, nthreads = tonumber(args[2]), tonumber(args[3])
   donedir = args[4]
   threads_n = nthreads
   quota = math.floor(total / nthreads)
   if idx < total % nthreads then
      quota = quota + 1
   end
   seen = 0
   if quota == 0 then
      finished()
   end
end

function finished()
   wrk.thread:stop()
   local f = assert(io.open(donedir .. "/done." .. idx, "w"))
   f:close()
   for i = 0, threads_n - 1 do
      local g = io.open(donedir .. "/done." .. i, "r")
      if g == nil then
         return
      end
      g:close()
   end
   ffi.C.kill(ffi.C.getpid(), 2) -- SIGINT: wrk prints its summary now
end

function response(status, headers, body)
   seen = seen + 1
   if seen == quota then
      finished()
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
      'BENCHKV rps=%.1f p50_us=%d p99_us=%d requests=%d errors=%d status_errors=%d duration_us=%d\n',
      summary.requests / secs, latency:percentile(50), latency:percentile(99),
      summary.requests, e.connect + e.read + e.write + e.timeout, e.status, summary.duration))
end
