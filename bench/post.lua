-- wrk script: POST the file named by $BODY, as $CTYPE (default JSON; "-":
-- none), with the header line in $HEADER ("Name: value") if set.
wrk.method = "POST"
local ctype = os.getenv("CTYPE") or "application/json"
if ctype ~= "-" then wrk.headers["Content-Type"] = ctype end
local header = os.getenv("HEADER")
if header and header ~= "" then
    local name, value = header:match("^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
end
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
