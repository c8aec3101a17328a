-- The lua_shared_dict store against the store interface (docs/GATEWAY.md):
-- the contract of spec/helpers/store_contract.lua, run inside a real nginx
-- (shared dicts exist only there), each case reported back by name.

local nginx = require "helpers.nginx"

local available, why = nginx.available()

describe("mphybrid.store.shdict", function()
  if not available then
    pending("needs nginx with its lua module: " .. why)
    return
  end

  it("passes the store contract in nginx, on zones made empty for each case", function()
    local srv = assert(nginx.start({ name = "store-shdict", workers = 1,
      http = "lua_shared_dict contract 1m; lua_shared_dict contract_claims 1m;",
      server = [[
    location = /__ping { return 200 "pong"; }
    location = /contract { content_by_lua_block {
      local contract = require "helpers.store_contract"
      local shdict = require "mphybrid.store.shdict"
      local failed = {}
      contract(function(name, case)
        local ok, err = xpcall(case, debug.traceback)
        if not ok then failed[#failed + 1] = name .. ": " .. tostring(err) end
      end, function(limits)
        ngx.shared.contract:flush_all()
        ngx.shared.contract_claims:flush_all()
        limits.dict, limits.claims = "contract", "contract_claims"
        return shdict.new(limits)
      end)
      ngx.print(#failed == 0 and "all cases passed" or table.concat(failed, "\n"))
    } }
]] }))
    local status, text = srv:get("/contract")
    srv:stop()
    assert.same(200, status)
    assert.same("all cases passed", text)
  end)
end)
