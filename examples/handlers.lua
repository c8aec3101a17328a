-- A handler table as a mini-program would define it, in Lua: each api is a
-- function (synchronous: return a result, or nil and an error), or a table
-- with the handler and its options (async, params, before, after).
--
--   local r = require("mphybrid.router").new()
--   assert(r:load("examples/handlers.lua"))
--
-- Asynchronous handlers answer later through reply(). Where the shell was
-- given env.after(ms, fn) (a timer), they use it; otherwise they answer at
-- once.

local function after(ctx, ms, fn)
  local env = ctx.env
  if env and env.after then
    env.after(ms, fn)
  else
    fn()
  end
end

return {
  -- synchronous, with a params schema ("?" marks an optional field)
  getUserInfo = {
    params = { withCredentials = "boolean?", lang = "string?" },
    handler = function(params)
      return {
        nickName = "小明",
        avatarUrl = "https://img.example.com/avatar/7.png",
        language = params.lang or "zh_CN",
      }
    end,
  },

  -- a bare function: synchronous, no checks
  getSystemInfo = function()
    return { platform = "devtools", SDKVersion = "3.3.4", windowWidth = 375 }
  end,

  createOrder = {
    params = { shopId = "string", items = "array", remark = "string?", coupon = "string?" },
    handler = function(params)
      local total, count = 0, 0
      for _, item in ipairs(params.items) do
        total = total + item.price * item.qty
        count = count + item.qty
      end
      return { orderId = "SO" .. params.shopId .. "-0001", count = count, total = total }
    end,
  },

  -- an error with its own code: the page's callback gets it as err
  requestPayment = {
    params = { orderId = "string", total = "number" },
    handler = function(params)
      if params.total > 5000 then
        return nil, { code = "EPAY", message = "amount over the daily limit" }
      end
      return { paid = true, orderId = params.orderId }
    end,
  },

  -- asynchronous: the user picks an address, some time later
  chooseAddress = {
    async = true,
    handler = function(_, ctx, reply)
      after(ctx, 300, function()
        reply({ userName = "张三", provinceName = "上海市", detailInfo = "人民路 1 号 & 2 号" })
      end)
    end,
  },

  -- asynchronous and slow: the camera stays open for five seconds
  scanCode = {
    async = true,
    handler = function(_, ctx, reply)
      after(ctx, 5000, function()
        reply({ result = "https://example.com/q?id=42", scanType = "QR_CODE" })
      end)
    end,
  },
}
