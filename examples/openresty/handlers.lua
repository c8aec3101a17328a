-- The example handler table of the gateway (make serve). Handlers run in
-- nginx: they may yield (ngx.sleep, cosockets) while the worker serves
-- other commands. HANDLERS=<file> make serve loads your own table instead.
-- luacheck: globals ngx

return {
  -- returns its params unchanged
  echo = function(params)
    return params
  end,

  -- yields for params.ms milliseconds (default 3000), longer than the
  -- gateway's response wait: a version 2 caller gets the reply through the
  -- outbox, with its next command
  slow = {
    params = { ms = "number?" },
    handler = function(params)
      local ms = math.min(params.ms or 3000, 20000)
      ngx.sleep(ms / 1000)
      return { slept = ms }
    end,
  },

  -- which worker answered, and when
  whoami = function()
    return { worker = ngx.worker.id(), pid = ngx.worker.pid(), time = ngx.now() }
  end,

  -- an error with a code of its own
  pay = {
    params = { total = "number" },
    handler = function(params)
      if params.total > 5000 then
        return nil, { code = "EPAY", message = "amount over the daily limit" }
      end
      return { paid = true, total = params.total }
    end,
  },
}
