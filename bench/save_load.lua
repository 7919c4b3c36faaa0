-- wrk script for bench/national.py: each wrk thread is one client (run with -t N -c N).
--
-- BENCH_CLIENTS names a file with one tab-separated line per client:
--   path  item_id  version  first_answer  csrf_token  cookie
-- Each client saves its own item over and over, alternating yes/no (starting with
-- first_answer, the opposite of what is stored), sending the version the previous response
-- returned. Statuses are counted per client: 200, 409 (a version conflict) and anything else
-- (an error); a 200 saying "unchanged" is counted apart. With BENCH_REDIRECT_OK=1 (the
-- section form post, which answers a browser with a redirect) a 302 is a save and the version
-- goes up by one. done() prints one line of JSON for national.py to read.

local clients = {}
local threads = {}

local function read_clients()
  local name = os.getenv("BENCH_CLIENTS")
  for line in io.lines(name) do
    local fields = {}
    for field in string.gmatch(line, "[^\t]+") do
      table.insert(fields, field)
    end
    table.insert(clients, fields)
  end
end

function setup(thread)
  if #clients == 0 then read_clients() end
  local n = #threads + 1
  local c = clients[((n - 1) % #clients) + 1]
  thread:set("path", c[1])
  thread:set("item", c[2])
  thread:set("version", tonumber(c[3]))
  thread:set("first", c[4])
  thread:set("csrf", c[5])
  thread:set("cookie", c[6])
  thread:set("redirect_ok", os.getenv("BENCH_REDIRECT_OK") == "1")
  thread:set("n", n)
  table.insert(threads, thread)
end

local function urlencode(s)
  return (string.gsub(s, "[^%w%-_%.~]", function(ch)
    return string.format("%%%02X", string.byte(ch))
  end))
end

function init(args)
  ok, conflicts, errors, unparsed, unchanged, skipped = 0, 0, 0, 0, 0, 0
  answer = first
  first_error = ""
  headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Sec-Fetch-Site"] = "same-origin",
  }
  if not redirect_ok then headers["Accept"] = "application/json" end
  if cookie ~= "-" then headers["Cookie"] = cookie end
end

-- request() only reads the state: wrk calls it once more before the run starts (to count
-- pipelined requests), so the answer flips in response(), after each save.
function request()
  local p = "i" .. item .. "_"
  local body = "csrf_token=" .. urlencode(csrf)
    .. "&" .. p .. "version=" .. version
    .. "&" .. p .. "answer=" .. answer
    .. "&" .. p .. "comment=" .. urlencode("Klient " .. n .. " svarar " .. answer)
  return wrk.format("POST", path, headers, body)
end

function response(status, hdrs, body)
  if (status == 200) or (redirect_ok and status == 302) then
    answer = answer == "yes" and "no" or "yes"
  end
  if redirect_ok and status == 302 then
    ok = ok + 1
    version = version + 1
    return
  end
  local v = string.match(body, '"version"%s*:%s*(%d+)')
  if status == 200 then
    ok = ok + 1
    if string.find(body, '"state"%s*:%s*"unchanged"') then
      unchanged = unchanged + 1
    elseif v and tonumber(v) ~= version + 1 then
      skipped = skipped + 1 -- a save that did not move the version by exactly one
    end
  elseif status == 409 then
    conflicts = conflicts + 1
  else
    errors = errors + 1
    if first_error == "" then first_error = tostring(status) end
  end
  if v then
    version = tonumber(v)
  elseif status == 200 or status == 409 then
    unparsed = unparsed + 1
  end
end

function done(summary, latency, requests)
  local ok_total, c_total, e_total, u_total, n_total, s_total = 0, 0, 0, 0, 0, 0
  local first = ""
  local finals = {}
  for _, t in ipairs(threads) do
    s_total = s_total + (t:get("skipped") or 0)
    table.insert(finals, string.format('"%s": %d', t:get("item"), t:get("version")))
    ok_total = ok_total + (t:get("ok") or 0)
    c_total = c_total + (t:get("conflicts") or 0)
    e_total = e_total + (t:get("errors") or 0)
    u_total = u_total + (t:get("unparsed") or 0)
    n_total = n_total + (t:get("unchanged") or 0)
    if first == "" then first = t:get("first_error") or "" end
  end
  local s = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "ok": %d, "conflicts": %d, '
      .. '"errors": %d, "unparsed": %d, "unchanged": %d, "first_error": "%s", '
      .. '"skipped": %d, "final": {%s}, "socket_errors": %d, '
      .. '"timeouts": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, ok_total, c_total, e_total, u_total, n_total, first,
    s_total, table.concat(finals, ", "),
    s.connect + s.read + s.write, s.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
