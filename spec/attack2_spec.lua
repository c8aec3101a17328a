-- Regressions found by attacking the one error rule and mphybrid.protocol:
-- each was a promise of README.md ("Errors", the client, the shell) or of
-- docs/PROTOCOL.md that an input broke.

local client = require "mphybrid.client"

describe("a request id from opts.new_req_id that is not UTF-8", function()
  -- ids with '"' or '\' are usable (JSON escapes them); one that also holds
  -- a byte that is not UTF-8 cannot be written as JSON at all
  local IDS = { 'H5Req_"\255', "H5Req_\\\255", "H5Req_\255", "H5Req_\237\160\128" }

  it("fails c:call with EUTF8, returned, never raised, the callback never called", function()
    for _, id in ipairs(IDS) do
      local runs = 0
      local c = client.new({ navigate = function() error("never sent") end, new_req_id = function() return id end })
      local ok, got, err, code = pcall(c.call, c, "echo", nil, function() runs = runs + 1 end)
      assert.is_true(ok, ("%q: %s"):format(id, tostring(got)))
      assert.same({ nil, "EUTF8" }, { got, code })
      assert.is_string(err)
      assert.same(0, runs)
      assert.same(0, c:pending())
    end
  end)

  it("fails that entry of c:batch with EUTF8, never raised, nothing sent for it", function()
    for _, id in ipairs(IDS) do
      local runs = 0
      local c = client.new({ navigate = function() error("never sent") end, new_req_id = function() return id end })
      local ok, ids, failures = pcall(c.batch, c, { { "echo", nil, function() runs = runs + 1 end } })
      assert.is_true(ok, ("%q: %s"):format(id, tostring(ids)))
      assert.same({ false }, ids)
      assert.same("EUTF8", failures[1].code)
      assert.same(0, runs)
      assert.same(0, c:pending())
    end
  end)
end)
