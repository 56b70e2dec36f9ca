-- wrk's side of bench/load.py. The scenario is a file of Lua that load.py writes (a
-- table: method, paths, body pieces, nonce, threads), named after `--` on wrk's command
-- line. The result goes to stdout after a marker line, as JSON, for load.py to read.

local threads = {}

function setup(thread)
  -- Each thread's id: its place among the paths, and part of every order id it makes.
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  scenario = dofile(args[1])
  sent = 0
  statuses = {}
end

function request()
  local s = scenario
  -- The threads interleaved: requests in flight together name different paths (orgs,
  -- holds), and none comes round again before the list is through.
  local path = s.paths[(sent * s.threads + id) % #s.paths + 1]
  local body = nil
  if s.item then
    local name = s.nonce .. "-" .. id .. "-" .. sent
    local items = {}
    for k = 1, s.items do
      items[k] = (s.item:gsub("{id}", name .. "-" .. k))
    end
    body = s.head .. table.concat(items, ",") .. s.tail
  end
  sent = sent + 1
  return wrk.format(s.method, path, nil, body)
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  local statuses = {}
  for status, count in pairs(counts) do
    statuses[#statuses + 1] = string.format('"%d": %d', status, count)
  end
  -- Every latency seen (microseconds) with how often, lowest first.
  local histogram = {}
  for i = 1, #latency do
    local us, count = latency(i)
    histogram[i] = string.format("[%d, %d]", us, count)
  end
  local errors = summary.errors
  io.write("\n--- load.lua ---\n", string.format(
    '{"duration_us": %d, "requests": %d, "no_answer": %d, "statuses": {%s}, "latency_us": [%s]}\n',
    summary.duration, summary.requests,
    errors.connect + errors.read + errors.write + errors.timeout,
    table.concat(statuses, ", "), table.concat(histogram, ", ")))
end
