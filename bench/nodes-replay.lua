-- bench/nodes.lua's round-robin of connections with bench/replay.lua's prepared requests.
local dir = os.getenv("OFFLOAD_BENCH_LUA")
dofile(dir .. "/nodes.lua")
dofile(dir .. "/replay.lua")
