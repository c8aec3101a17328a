-- The in-process store against the store interface (docs/GATEWAY.md).
local memory = require "mphybrid.store.memory"
local contract = require "helpers.store_contract"

describe("mphybrid.store.memory", function()
  contract(it, memory.new)

  it("keeps at most sessions_max sessions, forgetting the oldest generation", function()
    local st = memory.new({ sessions_max = 2 })
    st:session("s1", 0, { req = "a", value = "1" })
    st:session("s2", 0, {})
    st:session("s3", 0, {})
    assert.same({}, st:session("s1", 0, {}).outbox)
  end)
end)
