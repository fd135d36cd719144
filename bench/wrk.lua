-- wrk.lua: the wrk script of bench/run.sh.
--
-- With BENCH_BODY set, every request is a POST of that JSON body (the login runs);
-- otherwise wrk's plain GET. At the end one machine-readable line is printed:
--
--   BENCH requests=N duration_us=N p50_us=N p99_us=N non2xx=N socket_errors=N timeouts=N

local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
	wrk.method = "POST"
	wrk.body = body
	wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d timeouts=%d\n",
		summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
		e.status, e.connect + e.read + e.write, e.timeout))
end
