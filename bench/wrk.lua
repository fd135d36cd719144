-- wrk.lua: the wrk script of bench/run.sh.
--
-- With BENCH_BODY set, every request is a POST of that JSON body (the login runs).
-- With BENCH_VOTES set to a file of lines "TOKEN ORIGAMI_ID" (one user per line), each
-- wrk thread takes the next line and alternates POST and DELETE on
-- /api/origamis/ORIGAMI_ID/vote with that user's Bearer token. wrk has no per-connection
-- hook, so run it with as many threads as connections (-tN -cN): then every connection
-- is one user, and a user's vote and withdrawal never race each other.
-- Otherwise wrk's plain GET. At the end one machine-readable line is printed:
--
--   BENCH requests=N duration_us=N p50_us=N p99_us=N non2xx=N socket_errors=N timeouts=N

local body = os.getenv("BENCH_BODY")
local votes = os.getenv("BENCH_VOTES")

if body and body ~= "" then
	wrk.method = "POST"
	wrk.body = body
	wrk.headers["Content-Type"] = "application/json"
elseif votes and votes ~= "" then
	local users, taken = nil, 0

	-- Runs in the main state, once per thread, before the threads start.
	function setup(thread)
		if not users then
			users = {}
			for line in io.lines(votes) do
				local token, id = line:match("^(%S+)%s+(%d+)%s*$")
				if token then
					users[#users + 1] = { token = token, id = id }
				end
			end
			assert(#users > 0, "no users in " .. votes)
		end
		local user = users[taken % #users + 1]
		taken = taken + 1
		thread:set("vote_token", user.token)
		thread:set("vote_path", "/api/origamis/" .. user.id .. "/vote")
	end

	local cast, withdraw, withdrawing

	-- Runs in each thread's own state; vote_token and vote_path come from setup.
	function init(args)
		local headers = { ["Authorization"] = "Bearer " .. vote_token }
		cast = wrk.format("POST", vote_path, headers, "")
		withdraw = wrk.format("DELETE", vote_path, headers, "")
		withdrawing = false
	end

	function request()
		local r = withdrawing and withdraw or cast
		withdrawing = not withdrawing
		return r
	end
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d timeouts=%d\n",
		summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
		e.status, e.connect + e.read + e.write, e.timeout))
end
