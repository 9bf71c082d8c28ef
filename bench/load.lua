-- wrk script for bench/load.sh: POSTs the cases in $CASES (case0..N-1 .path,
-- .body, .reply) in turn on every connection, and checks every reply: its
-- status, and its bytes against the case whose reply has its length.
local dir, n = os.getenv("CASES"), tonumber(os.getenv("NCASES"))
local paths, bodies, replies = {}, {}, {}
local function slurp(name)
    local f = assert(io.open(name, "rb"))
    local s = f:read("*a")
    f:close()
    return s
end
for i = 0, n - 1 do
    paths[i] = slurp(dir .. "/case" .. i .. ".path")
    bodies[i] = slurp(dir .. "/case" .. i .. ".body")
    local r = slurp(dir .. "/case" .. i .. ".reply")
    replies[#r] = r
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

next_case, checked, wrong, bad_status = 0, 0, 0, 0 -- globals: done() reads them with thread:get
function request()
    local i = next_case
    next_case = (next_case + 1) % n
    return wrk.format("POST", paths[i], {["Content-Type"] = "application/json"}, bodies[i])
end

function response(status, headers, body)
    if status ~= 200 then
        bad_status = bad_status + 1
        return
    end
    checked = checked + 1
    if replies[#body] ~= body then wrong = wrong + 1 end
end

function done(summary, latency, requests)
    local c, w, b = 0, 0, 0
    for _, t in ipairs(threads) do
        c = c + t:get("checked")
        w = w + t:get("wrong")
        b = b + t:get("bad_status")
    end
    local e = summary.errors
    io.write(string.format(
        "requests %d in %.1f s: %.0f/s; latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
        summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
    io.write(string.format(
        "checked %d replies: %d wrong, %d not 200; socket errors: connect %d, read %d, write %d, timeout %d\n",
        c, w, b, e.connect, e.read, e.write, e.timeout))
end
