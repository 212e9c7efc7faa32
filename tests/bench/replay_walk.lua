-- wrk script for tests/bench/run --replay: walk distinct profile paths.
--
--   wrk -t T ... -s replay_walk.lua http://127.0.0.1:PORT/ -- N T
--
-- Each request is GET /v1/acc1/profiles/pK, K going 1..N round and round;
-- thread j (of T) starts at j*N/T + 1, so the threads walk different parts
-- of the cassette at once. The headers are those given with -H. Defining
-- request() puts wrk in its per-request mode, which costs the client more
-- than bench.lua's static request: compare this only with nginx walked by
-- the same script. done() is bench.lua's (the BENCH/BENCHKV lines).

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "bench.lua")

local next_tid = 0

function setup(thread)
   thread:set("tid", next_tid)
   next_tid = next_tid + 1
end

local n, k

function init(args)
   n = tonumber(args[1]) or 1
   local threads = tonumber(args[2]) or 1
   k = math.floor((tid or 0) * n / threads)
end

function request()
   k = k % n + 1
   return wrk.format("GET", "/v1/acc1/profiles/p" .. k)
end
