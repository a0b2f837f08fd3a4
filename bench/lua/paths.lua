-- wrk script: GET a random path from the file WRK_PATHS (one path per line).
-- WRK_AUTHORIZATION: Authorization header value, or empty.
local authorization = os.getenv("WRK_AUTHORIZATION") or ""
local paths = {}
local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   math.randomseed(id * 7919 + os.time())
   for line in io.lines(os.getenv("WRK_PATHS")) do
      table.insert(paths, line)
   end
   if authorization ~= "" then
      wrk.headers["Authorization"] = authorization
   end
end

function request()
   return wrk.format("GET", paths[math.random(1, #paths)])
end

dofile(os.getenv("WRK_LUA_DIR") .. "/report.lua")
