-- wrk script: GET /transactions/{id} of transactions just accepted, as submit-and-poll clients do.
-- WRK_IDS: the file money.lua appends each accepted transaction's Location to; every thread keeps
-- the latest RING_SIZE of them and reads what was appended every REFILL_EVERY requests.
-- WRK_AUTHORIZATION: Authorization header value, or empty.
local authorization = os.getenv("WRK_AUTHORIZATION") or ""
local RING_SIZE = 200
local REFILL_EVERY = 20
-- "/transactions/" and a UUID: a shorter line is one money.lua was still writing, and is skipped.
local PATH_LENGTH = 14 + 36
local ring, slot, counter = {}, 0, 0
local ids
local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

local function refill()
   -- Seeking clears the end-of-file mark, so the lines appended since the last read are read.
   ids:seek("cur")
   for line in ids:lines() do
      if #line == PATH_LENGTH then
         slot = slot % RING_SIZE + 1
         ring[slot] = line
      end
   end
end

function init(args)
   math.randomseed(id * 7919 + os.time())
   ids = assert(io.open(os.getenv("WRK_IDS"), "r"))
   refill()
   -- The bench starts the pollers once the writer has been answered at least once.
   assert(#ring > 0, "poll.lua: no transaction in " .. os.getenv("WRK_IDS"))
   if authorization ~= "" then
      wrk.headers["Authorization"] = authorization
   end
end

function request()
   counter = counter + 1
   if counter % REFILL_EVERY == 0 then
      refill()
   end
   return wrk.format("GET", ring[math.random(1, #ring)])
end

dofile(os.getenv("WRK_LUA_DIR") .. "/report.lua")
