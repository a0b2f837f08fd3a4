-- wrk script: one money movement per request, random wallets, a fresh Idempotency-Key each time.
-- Environment: WRK_KIND (transfer | deposit), WRK_WALLETS (how many bench-NNNNNN wallets),
-- WRK_MAX_AMOUNT, WRK_AUTHORIZATION (header value, or empty), WRK_IDS (a file to append each accepted
-- transaction's Location to, one per line, for poll.lua; or empty).
local kind = os.getenv("WRK_KIND") or "transfer"
local wallets = tonumber(os.getenv("WRK_WALLETS") or "10000")
local max_amount = tonumber(os.getenv("WRK_MAX_AMOUNT") or "1000")
local authorization = os.getenv("WRK_AUTHORIZATION") or ""
local ids_path = os.getenv("WRK_IDS") or ""
local ids
local counter = 0
local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   math.randomseed(id * 7919 + os.time())
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   if authorization ~= "" then
      wrk.headers["Authorization"] = authorization
   end
   if ids_path ~= "" then
      ids = assert(io.open(ids_path, "a"))
      -- One write() per line, so the pollers never wait for a buffer to fill.
      ids:setvbuf("line")
   end
end

local function wallet(i)
   return string.format("bench-%06d", i)
end

function request()
   counter = counter + 1
   local amount = math.random(1, max_amount)
   local payer = math.random(0, wallets - 1)
   local body, path
   if kind == "deposit" then
      path = "/wallets/deposit"
      body = string.format('{"user_id":"%s","amount":%d}', wallet(payer), amount)
   else
      path = "/wallets/transfer"
      local payee = (payer + math.random(1, wallets - 1)) % wallets
      body = string.format('{"from_user_id":"%s","to_user_id":"%s","amount":%d}', wallet(payer), wallet(payee), amount)
   end
   wrk.headers["Idempotency-Key"] = string.format("wrk-%d-%d-%d", id, counter, math.random(0, 2147483647))
   return wrk.format(nil, path, nil, body)
end

-- Defined only when asked for: wrk hands every answer's body to Lua once a response() exists.
if ids_path ~= "" then
   function response(status, headers, body)
      if status == 202 and headers["Location"] then
         ids:write(headers["Location"], "\n")
      end
   end
end

dofile(os.getenv("WRK_LUA_DIR") .. "/report.lua")
