-- A round-robin of connections over several servers for one wrk: OFFLOAD_BENCH_NODES="host:port,..."
-- (from bench/cluster-load.js); thread i connects to node i mod N, so `-t6 -c30` gives each of 1, 2
-- or 3 nodes the same share of connections. The Host header stays the URL's (signed requests keep
-- their signature). Sets `tid`, the thread's index, for scripts that want each thread to start elsewhere.
local nodes = {}
local count = 0

function setup(thread)
  if #nodes == 0 then
    for hostport in string.gmatch(os.getenv("OFFLOAD_BENCH_NODES") or "", "[^,]+") do
      local host, port = string.match(hostport, "^(.+):(%d+)$")
      table.insert(nodes, wrk.lookup(host, port)[1])
    end
  end
  if #nodes > 0 then thread.addr = nodes[count % #nodes + 1] end
  thread:set("tid", count)
  count = count + 1
end
