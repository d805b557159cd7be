-- Replays requests prepared ahead (bench/replay.js): each thread loads the file and sends them
-- in turn, starting at a different place. Records are "<length>\n<raw HTTP request bytes>".
local requests = {}
local at = 0

function init(args)
  local f = assert(io.open(args[1], "rb"))
  local data = f:read("*a")
  f:close()
  local pos = 1
  while pos <= #data do
    local nl = string.find(data, "\n", pos, true)
    local len = tonumber(string.sub(data, pos, nl - 1))
    table.insert(requests, string.sub(data, nl + 1, nl + len))
    pos = nl + len + 1
  end
  -- Every thread's Lua state has the same random seed: a thread index (bench/nodes.lua sets tid) spreads the starts.
  at = tid and (tid * 7919) % #requests or math.random(#requests)
end

function request()
  at = at % #requests + 1
  return requests[at]
end
