-- mphybrid.resty in a real nginx (two workers, lua_shared_dict store),
-- spoken to over HTTP: the contract of docs/GATEWAY.md.

local core = require "mphybrid.core"
local nginx = require "helpers.nginx"

local E = core.encode_uri_component
local json = core.encode_json
local SRC = "https://h5.example.com/shop/index.html?from=mp"
local SESSION = "sess-0123456789abcdef"

local available, why = nginx.available()

-- conf for a gateway made with opts (Lua table constructor text)
local function gateway_conf(opts_text, extra_location, dict_size)
  return {
    http = [[
  lua_shared_dict mphybrid ]] .. (dict_size or "4m") .. [[;
  lua_shared_dict mphybrid_claims 1m;
  lua_shared_dict mphybrid_metrics 1m;
  lua_shared_dict spec_runs 1m;
  log_format mphybrid '$mphybrid_req $mphybrid_session $mphybrid_api $mphybrid_outcome $mphybrid_ms';
  init_by_lua_block { require("fixtures.gateway").setup(]] .. opts_text .. [[) }
]],
    server = [[
    location = /__ping { return 200 "pong"; }
    location = /mphybrid {
      set $mphybrid_req ""; set $mphybrid_session ""; set $mphybrid_api "";
      set $mphybrid_outcome ""; set $mphybrid_ms "";
      access_log logs/commands.log mphybrid;
      content_by_lua_block { require("fixtures.gateway").gw:serve() }
    }
    location = /metrics { content_by_lua_block { require("fixtures.gateway").gw:metrics() } }
    location = /runs { content_by_lua_block { require("fixtures.gateway").runs() } }
    location = /returned { content_by_lua_block { require("fixtures.gateway").serve_and_log() } }
]] .. (extra_location or ""),
  }
end

local function body(cmd, src, session)
  return json({ cmd = cmd, src = src or SRC, session = session or SESSION })
end

local function v1_cmd(req, api, params)
  return E(json({ req = req, api = api, params = params }))
end

local function v2_cmd(req, api, params, extra)
  local t = { req = req, api = api, params = params, mph = 2 }
  for k, v in pairs(extra or {}) do t[k] = v end
  return E(json(t))
end

-- the fields of the fragment of a src
local function fragment(src)
  local f = core.get_fragment(src)
  return f and core.decode_fragment(f) or {}
end

local function reply_of(src, req)
  local v = fragment(src)[req]
  return v and core.decode_json(v)
end

local function answer(status, text)
  assert.same(200, status, text)
  return core.decode_json(text)
end

local function refusal(status, text)
  local t = core.decode_json(text)
  return status, t and t.error and t.error.code
end

-- calls f until it returns a true value, for at most 10 s; returns it
local function eventually(f)
  for _ = 1, 200 do
    local v = f()
    if v then return v end
    nginx.sleep(0.05)
  end
  return f()
end

local function unique(prefix)
  return prefix .. tostring(os.time()) .. tostring(math.random(1e6))
end

describe("the OpenResty gateway", function()
  if not available then
    pending("needs nginx with its lua module: " .. why)
    return
  end

  local srv

  local function post(cmd, src, session, headers)
    return srv:request("POST", "/mphybrid", body(cmd, src, session), headers)
  end

  local function runs()
    local status, text = srv:get("/runs")
    assert.same(200, status)
    return core.decode_json(text)
  end

  setup(function()
    local err
    srv, err = nginx.start(gateway_conf([[{ response_wait = 300, handler_timeout = 1500,
      apis = { "echo", "count", "slow", "block", "release", "pid", "big", "fail", "crash" } }]]))
    assert(srv, err)
  end)

  teardown(function()
    if srv then
      srv:stop()
    end
  end)

  describe("the HTTP contract", function()
    it("answers a POST with the new src and back: true", function()
      local a = answer(post(v1_cmd("H5Req_p1", "echo", { a = 1 })))
      assert.is_true(a.back)
      assert.same('{"a":1}', fragment(a.src).H5Req_p1)
      assert.same(SRC, a.src:sub(1, #SRC))
    end)

    it("takes a cmd already decoded, as onLoad may receive it", function()
      local a = answer(post('{"req":"H5Req_d1","api":"echo","params":{"s":"100% & 50%"}}'))
      assert.same('{"s":"100% & 50%"}', fragment(a.src).H5Req_d1)
    end)

    it("answers a GET with the same three fields as query arguments", function()
      local q = "cmd=" .. E(v1_cmd("H5Req_g1", "echo", { q = "中 &" })) .. "&src=" .. E(SRC) .. "&session=" .. SESSION
      local a = answer(srv:request("GET", "/mphybrid?" .. q))
      assert.same('{"q":"中 &"}', fragment(a.src).H5Req_g1)
    end)

    it("answers version 1 commands exactly as the shell does in-process", function()
      local shell = require "mphybrid.shell"
      local router = require "mphybrid.router"
      local r = router.new({ log = function() end })
      r:register("echo", function(p) return p end)
      r:register("fail", function() return nil, { code = "EPAY", message = "declined" } end)
      local cmds = {
        v1_cmd("H5Req_s1", "echo", { x = { 1, 2 }, s = "é" }),
        v1_cmd("H5Req_s2", "fail"),
        v1_cmd("H5Req_s3", "nothing"),
        E('{"api":"echo","params":"plain"}'),
        '{"req":"H5Req_s4","api":',
        "%ZZ",
        E('{"req":"H5Req_s5","api":7}'),
      }
      for _, cmd in ipairs(cmds) do
        local s = shell.new({ router = r, src = SRC })
        local want = s:on_load({ cmd = cmd })
        local got = answer(post(cmd)).src
        assert.same(want:gsub("v=%d+$", "v="), got:gsub("v=%d+$", "v="))
      end
    end)

    it("answers version 2 commands with {result} or {error} under their request id", function()
      local a = answer(post(v2_cmd("H5Req_v1", "echo", { k = "v" })))
      assert.same("2", fragment(a.src).mph)
      assert.same({ result = { k = "v" } }, reply_of(a.src, "H5Req_v1"))
      a = answer(post(v2_cmd("H5Req_v2", "fail", nil, { ack = { "H5Req_v1" } })))
      assert.same({ error = { code = "EPAY", message = "declined" } }, reply_of(a.src, "H5Req_v2"))
      assert.is_nil(fragment(a.src).H5Req_v1)
    end)

    it("writes stamps that keep increasing above the one of the src it was sent", function()
      local far = SRC .. "#x=1&v=99999999999999"
      local a = answer(post(v1_cmd("H5Req_t1", "echo"), far))
      assert.same("100000000000000", fragment(a.src).v)
    end)
  end)

  describe("exactly once", function()
    it("runs a command replayed to every worker once, and answers each replay with its reply", function()
      local key = unique("k")
      local cmd = v2_cmd("H5Req_" .. key, "count", { key = key })
      local pids = {}
      for i = 1, 12 do
        local a = answer(post(cmd, SRC, "sess-replay-" .. key))
        assert.same({ result = 1 }, reply_of(a.src, "H5Req_" .. key))
        local p = answer(post(v1_cmd("H5Req_pid" .. i, "pid"))).src
        pids[fragment(p)["H5Req_pid" .. i]] = true
      end
      assert.same(1, runs()[key])
      local n = 0
      for _ in pairs(pids) do n = n + 1 end
      assert.same(2, n)
    end)

    it("runs once the same command sent many times at the same instant", function()
      local key = unique("k")
      local list = {}
      for i = 1, 40 do
        list[i] = { path = "/mphybrid", body = body(v2_cmd("H5Req_" .. key, "count", { key = key, ms = 50 }), SRC,
          "sess-burst-" .. key) }
      end
      local results = srv:parallel(list)
      for _, r in ipairs(results) do
        assert.same(200, r.status)
      end
      nginx.sleep(0.2)
      assert.same(1, runs()[key])
    end)

    it("replays a reply only to the session that sent the command (replay_scope session)", function()
      local key = unique("k")
      local cmd = v2_cmd("H5Req_" .. key, "count", { key = key })
      assert.same({ result = 1 }, reply_of(answer(post(cmd, SRC, "sess-owner-" .. key)).src, "H5Req_" .. key))
      assert.same({ result = 2 }, reply_of(answer(post(cmd, SRC, "sess-other-" .. key)).src, "H5Req_" .. key))
      assert.same({ result = 1 }, reply_of(answer(post(cmd, SRC, "sess-owner-" .. key)).src, "H5Req_" .. key))
    end)

    it("refuses a request id reused for another api with ECMD", function()
      answer(post(v2_cmd("H5Req_reuse1", "echo", {})))
      local a = answer(post(v2_cmd("H5Req_reuse1", "pid")))
      assert.same("ECMD", reply_of(a.src, "H5Req_reuse1").error.code)
    end)
  end)

  describe("handlers that yield", function()
    it("serves other commands while a handler waits: one worker, released by a later command", function()
      local one = assert(nginx.start(gateway_conf("{}")))
      local ok, err = pcall(function()
        local job = one:background({ { path = "/mphybrid", body = body(v1_cmd("H5Req_b1", "block")) } })
        nginx.sleep(0.2)
        local status = one:request("POST", "/mphybrid", body(v1_cmd("H5Req_r1", "release")))
        assert.same(200, status)
        local r = job.wait()[1]
        assert.same(200, r.status)
        assert.same("released", fragment(core.decode_json(r.body).src).H5Req_b1)
      end)
      one:stop()
      assert(ok, err)
    end)

    it("answers a version 2 handler slower than response_wait later, through the outbox, run once", function()
      local key = unique("k")
      local session = "sess-slow-" .. key
      local a = answer(post(v2_cmd("H5Req_slow", "slow", { key = key, ms = 800 }), SRC, session))
      assert.is_true(a.back)
      assert.same(SRC, a.src)
      -- replayed while it runs: nothing new, and it is not started again
      a = answer(post(v2_cmd("H5Req_slow", "slow", { key = key, ms = 800 }), SRC, session))
      assert.same(SRC, a.src)
      assert.same(1, eventually(function() return runs()[key .. ":done"] end))
      a = answer(post(v2_cmd("H5Req_after", "echo", {}), SRC, session))
      assert.same({ result = { slept = 800 } }, reply_of(a.src, "H5Req_slow"))
      assert.same({ result = {} }, reply_of(a.src, "H5Req_after"))
      assert.same(1, runs()[key])
    end)

    it("closes the connection of an answer given before its handler ended, so that no request waits behind it", function()
      local key = unique("k")
      local f = srv:tmp("deferred")
      local h = io.open(f, "wb")
      h:write(body(v2_cmd("H5Req_" .. key, "slow", { key = key, ms = 1500 }), SRC, "sess-conn-" .. key))
      h:close()
      local out = nginx.capture("curl -sS -w '\\n' --data-binary @" .. f .. " " .. srv:url("/mphybrid")
        .. " --next -sS " .. srv:url("/runs"))
      local runs_then = core.decode_json(out:match("\n(.-)\n$"))
      assert.same(1, runs_then[key])
      assert.is_nil(runs_then[key .. ":done"])
    end)

    it("answers a version 1 handler slower than response_wait in the same answer", function()
      local key = unique("k")
      local a = answer(post(v1_cmd("H5Req_sslow", "slow", { key = key, ms = 500 })))
      assert.same('{"slept":500}', fragment(a.src).H5Req_sslow)
    end)

    it("answers ETIMEOUT for a handler over handler_timeout, and ignores its late reply", function()
      local key = unique("k")
      local a = answer(post(v1_cmd("H5Req_late", "slow", { key = key, ms = 3000 })))
      assert.same("ETIMEOUT", fragment(a.src).H5Req_late)
      local session = "sess-late-" .. key
      answer(post(v2_cmd("H5Req_late2", "slow", { key = key .. "b", ms = 3000 }), SRC, session))
      local n = 0
      local late = eventually(function()
        n = n + 1
        return reply_of(answer(post(v2_cmd("H5Req_late3_" .. n, "echo", {}), SRC, session)).src, "H5Req_late2")
      end)
      assert.same("ETIMEOUT", late.error.code)
      assert.is_nil(runs()[key .. "b:done"])
    end)
  end)

  describe("replay_scope global", function()
    local g

    setup(function()
      g = assert(nginx.start(gateway_conf('{ replay_scope = "global", response_wait = 300 }')))
    end)

    teardown(function()
      if g then g:stop() end
    end)

    local function gpost(cmd, session)
      return answer(g:request("POST", "/mphybrid", body(cmd, SRC, session)))
    end

    local function gruns()
      local status, text = g:get("/runs")
      assert.same(200, status)
      return core.decode_json(text)
    end

    it("replays a reply by request id alone, to a new session too, and runs the command once", function()
      local key = unique("k")
      local cmd = v2_cmd("H5Req_" .. key, "count", { key = key })
      for i = 1, 6 do
        assert.same({ result = 1 }, reply_of(gpost(cmd, "sess-g" .. i .. "-" .. key).src, "H5Req_" .. key))
      end
      assert.same(1, gruns()[key])
    end)

    it("delivers a slow reply to the session that replayed the command while it ran", function()
      local key = unique("k")
      gpost(v2_cmd("H5Req_moved", "slow", { key = key, ms = 600 }), "sess-first-" .. key)
      gpost(v2_cmd("H5Req_moved", "slow", { key = key, ms = 600 }), "sess-second-" .. key)
      eventually(function() return gruns()[key .. ":done"] end)
      local a = gpost(v2_cmd("H5Req_next", "echo", {}), "sess-second-" .. key)
      assert.same({ result = { slept = 600 } }, reply_of(a.src, "H5Req_moved"))
      assert.same(1, gruns()[key])
    end)
  end)

  describe("authorization", function()
    it("answers an api left out of the allowlist as unknown, and runs nothing", function()
      local a = answer(post(v2_cmd("H5Req_sec", "secret")))
      assert.same("ENOAPI", reply_of(a.src, "H5Req_sec").error.code)
      a = answer(post(v1_cmd("H5Req_sec2", "secret")))
      assert.same("ENOAPI", fragment(a.src).H5Req_sec2)
      assert.is_nil(runs().secret)
    end)

    it("runs a command only when authorize allows it", function()
      local guarded = assert(nginx.start(gateway_conf('{ authorize = "token" }')))
      local ok, err = pcall(function()
        local key = unique("k")
        local function send(req, token)
          local status, text = guarded:request("POST", "/mphybrid", body(v2_cmd(req, "count", { key = key })),
            token and { "X-Token: " .. token } or nil)
          return reply_of(answer(status, text).src, req)
        end
        assert.same({ error = { code = "EAUTH", message = "bad token" } }, send("H5Req_a1"))
        assert.same("EAUTH", send("H5Req_a2", "guess").error.code)
        assert.same({ result = 1 }, send("H5Req_a3", "let-me-in"))
        local status, text = guarded:get("/runs")
        assert.same(200, status)
        assert.same(1, core.decode_json(text)[key])
      end)
      guarded:stop()
      assert(ok, err)
    end)
  end)

  describe("transport faults", function()
    local cases = {
      { "a method other than GET and POST", function() return srv:request("PUT", "/mphybrid", "{}") end, 405, "EMETHOD" },
      { "a body that is not JSON", function() return srv:request("POST", "/mphybrid", "cmd=x") end, 400, "EBODY" },
      { "a JSON body that is not an object", function() return srv:request("POST", "/mphybrid", "[1]") end, 400, "EBODY" },
      { "an empty body", function() return srv:request("POST", "/mphybrid", "") end, 400, "EBODY" },
      { "a body nested too deep", function()
        return srv:request("POST", "/mphybrid", '{"cmd":"x","src":"y","session":"' .. SESSION .. '","z":[[[1]]]}') end, 400, "EBODY" },
      { "a body nested two levels (docs/PROTOCOL.md: one level)", function()
        return srv:request("POST", "/mphybrid", '{"cmd":"x","src":"y","session":"' .. SESSION .. '","a":{"b":1}}') end,
        400, "EBODY" },
      { "a body whose only field is nested", function()
        return srv:request("POST", "/mphybrid", '{"a":{"b":1}}') end, 400, "EBODY" },
      { "no cmd", function() return srv:request("POST", "/mphybrid", json({ src = SRC, session = SESSION })) end, 400, "EFIELD" },
      { "a cmd that is not a string", function()
        return srv:request("POST", "/mphybrid", json({ cmd = 7, src = SRC, session = SESSION })) end, 400, "EFIELD" },
      { "no src", function() return srv:request("POST", "/mphybrid", json({ cmd = "x", session = SESSION })) end, 400, "EFIELD" },
      { "an empty src", function() return post("x", "") end, 400, "EFIELD" },
      { "a blank src", function() return post("x", " \t ") end, 400, "EFIELD" },
      { "a src over max_src", function() return post("x", SRC .. ("a"):rep(16384 - #SRC + 1)) end, 400, "EFIELD" },
      { "no session", function() return srv:request("POST", "/mphybrid", json({ cmd = "x", src = SRC })) end, 400, "EFIELD" },
      { "a session id too short", function() return post("x", SRC, "short") end, 400, "ESESSION" },
      { "a session id with other characters", function() return post("x", SRC, "sess/0123456789abcdef") end, 400, "ESESSION" },
      { "a session id too long", function() return post("x", SRC, ("s"):rep(129)) end, 400, "ESESSION" },
      { "a query with a malformed escape", function()
        return srv:request("GET", "/mphybrid?cmd=%ZZ&src=x&session=" .. SESSION) end, 400, "EQUERY" },
      { "a body over max_body", function()
        return post(("x"):rep(100000)) end, 413, "ETOOLARGE" },
    }
    for _, c in ipairs(cases) do
      it("refuses " .. c[1] .. " with " .. c[3] .. " " .. c[4], function()
        local status, code = refusal(c[2]())
        assert.same({ c[3], c[4] }, { status, code })
      end)
    end

    it("are returned by gw:serve as nil, \"CODE: message\", code, as every running failure", function()
      local status = srv:request("PUT", "/returned", "{}")
      assert.same(405, status)
      local log = srv:error_log() or ""
      assert.truthy(log:find("serve returned nil | EMETHOD: method PUT not allowed: use POST or GET | EMETHOD",
        1, true), log)
    end)

    it("refuses a body over max_body that comes without a length", function()
      local f = srv:tmp("chunked")
      local h = io.open(f, "wb")
      h:write(body(("x"):rep(100000)))
      h:close()
      local out = nginx.capture("curl -sS -H 'Transfer-Encoding: chunked' --data-binary @" .. f
        .. " -w '\\n%{http_code}' " .. srv:url("/mphybrid"))
      assert.truthy(out:find("ETOOLARGE", 1, true))
      assert.truthy(out:find("413$"))
    end)

    it("never lets a worker raise, whatever is sent", function()
      for _, b in ipairs({ "null", '"s"', "1", "{}", '{"cmd":null,"src":null,"session":null}',
        '{"cmd":"","src":"x","session":"' .. SESSION .. '"}', '{"cmd":"\\u0000","src":"x","session":"' .. SESSION .. '"}',
        "\255\254", '{"cmd":{"a":1},"src":"x","session":"' .. SESSION .. '"}' }) do
        local status = srv:request("POST", "/mphybrid", b)
        assert.truthy(status == 200 or status == 400, b)
      end
      local log = srv:error_log() or ""
      assert.falsy(log:find("[error]", 1, true), log)
      assert.falsy(log:find("[alert]", 1, true), log)
    end)
  end)

  describe("under load", function()
    it("answers 200 concurrent commands, each with its own reply", function()
      local list = {}
      for i = 1, 200 do
        local req = "H5Req_c" .. i
        local cmd = i % 2 == 0 and v2_cmd(req, "count", { key = "conc" .. i, ms = 20 })
          or v1_cmd(req, "echo", { i = i })
        list[i] = { path = "/mphybrid", body = body(cmd, SRC, "sess-conc-" .. i .. "-0123456789") }
      end
      local results = srv:parallel(list, 200)
      for i, r in ipairs(results) do
        local a = answer(r.status, r.body)
        local req = "H5Req_c" .. i
        if i % 2 == 0 then
          assert.same({ result = 1 }, reply_of(a.src, req))
        else
          assert.same('{"i":' .. i .. '}', fragment(a.src)[req])
        end
      end
      local counted = runs()
      for i = 2, 200, 2 do
        assert.same(1, counted["conc" .. i])
      end
    end)

    it("loses no command and runs none twice across nginx -s reload under traffic", function()
      local tag = unique("rl")
      local list = {}
      for i = 1, 300 do
        list[i] = { path = "/mphybrid", body = body(v2_cmd("H5Req_" .. tag .. i, "count", { key = tag .. i, ms = 30 }),
          SRC, "sess-reload-" .. i .. "-0123456789") }
      end
      local before = srv:workers()
      local job = srv:background(list, 20)
      nginx.sleep(0.3)
      srv:reload()
      local results = job.wait()
      for i, r in ipairs(results) do
        local a = answer(r.status, r.body)
        assert.same({ result = 1 }, reply_of(a.src, "H5Req_" .. tag .. i))
      end
      -- replayed after the reload: answered from the store, not run again
      for i = 1, 300, 37 do
        local a = answer(post(v2_cmd("H5Req_" .. tag .. i, "count", { key = tag .. i, ms = 30 }), SRC,
          "sess-reload-" .. i .. "-0123456789"))
        assert.same({ result = 1 }, reply_of(a.src, "H5Req_" .. tag .. i))
      end
      local counted = runs()
      for i = 1, 300 do
        assert.same(1, counted[tag .. i])
      end
      local after = srv:workers()
      assert.are_not.same(before, after)
      local log = srv:error_log() or ""
      assert.falsy(log:find("[alert]", 1, true), log)
      assert.falsy(log:find("exited on signal", 1, true), log)
    end)
  end)

  describe("observability", function()
    it("writes one log line per command: request id, session, api, outcome, latency", function()
      answer(post(v2_cmd("H5Req_log1", "fail"), SRC, "sess-log-0123456789abcdef"))
      srv:request("PUT", "/mphybrid", "{}")
      nginx.sleep(0.1)
      local log = assert(nginx.read_file(srv.prefix .. "/logs/commands.log"))
      assert.truthy(log:find("\nH5Req_log1 sess%-log%-0123456789abcdef fail EPAY %d+\n"), log)
      assert.truthy(log:find("\n%- %- %- EMETHOD %d+\n"), log)
    end)

    it("counts commands, latencies, replays and refusals in the Prometheus text format", function()
      answer(post(v2_cmd("H5Req_m1", "echo", {})))
      answer(post(v2_cmd("H5Req_m1", "echo", {})))
      answer(post(v1_cmd("H5Req_m2", "no such api")))
      srv:request("POST", "/mphybrid", "not json")
      local status, text = srv:get("/metrics")
      assert.same(200, status)
      assert.truthy(text:find('mphybrid_commands_total{api="echo",outcome="ok"} %d+'))
      assert.truthy(text:find('mphybrid_commands_total{api="echo",outcome="replay"} %d+'))
      assert.truthy(text:find('mphybrid_commands_total{api="other",outcome="ENOAPI"} %d+'))
      assert.truthy(text:find('mphybrid_refused_total{code="EBODY"} %d+'))
      assert.truthy(text:find("mphybrid_replays_total [1-9]"))
      assert.truthy(text:find('mphybrid_command_seconds_bucket{le="%+Inf"} %d+'))
      assert.truthy(text:find('mphybrid_outbox_replies_bucket{le="1"} %d+'))
      assert.truthy(text:find("mphybrid_store_errors_total 0"))
    end)
  end)

  describe("limits", function()
    local lim

    setup(function()
      lim = assert(nginx.start(gateway_conf([[{ direct = { "echo", "big" }, max_body = 3000, max_cmd = 600, max_depth = 5,
        max_src = 700, max_hash = 20, max_outbox = 2, outbox_ttl = 1000, store_ttl = 1000 }]])))
    end)

    teardown(function()
      if lim then lim:stop() end
    end)

    local function send(cmd, session)
      return answer(lim:request("POST", "/mphybrid", body(cmd, SRC, session or SESSION)))
    end

    it("max_body: a larger body is refused ETOOLARGE", function()
      local status, code = refusal(lim:request("POST", "/mphybrid", body(("x"):rep(3000))))
      assert.same({ 413, "ETOOLARGE" }, { status, code })
    end)

    it("max_cmd: a longer cmd is answered ESIZE", function()
      local a = send(v1_cmd("H5Req_l1", "echo", { s = ("y"):rep(700) }))
      assert.same("ESIZE", fragment(a.src).miniProgramResult)
    end)

    it("max_depth: a deeper command is answered EDEPTH", function()
      local a = send(E('{"req":"H5Req_l2","api":"echo","params":[[[[[[1]]]]]]}'))
      assert.same("EDEPTH", fragment(a.src).miniProgramResult)
    end)

    it("max_src: a reply that does not fit is answered EREPLY", function()
      local a = send(v2_cmd("H5Req_l3", "big", { n = 800 }, {}), "sess-big-0123456789abcdef")
      assert.same("EREPLY", reply_of(a.src, "H5Req_l3").error.code)
    end)

    it("max_hash: a longer page fragment is answered ECMD", function()
      local a = send(v2_cmd("H5Req_l4", "echo", {}, { hash = ("/r"):rep(20) }))
      assert.same("ECMD", reply_of(a.src, "H5Req_l4").error.code)
    end)

    it("max_outbox and outbox_ttl: older unacknowledged replies are no longer written", function()
      local session = "sess-outbox-" .. unique("s")
      send(v2_cmd("H5Req_o1", "echo", {}), session)
      send(v2_cmd("H5Req_o2", "echo", {}), session)
      local a = send(v2_cmd("H5Req_o3", "echo", {}), session)
      assert.is_nil(fragment(a.src).H5Req_o1)
      assert.truthy(fragment(a.src).H5Req_o2)
      nginx.sleep(1.2)
      a = send(v2_cmd("H5Req_o4", "echo", {}), session)
      assert.same({ "mph", "H5Req_o4", "v" }, (function()
        local keys = {}
        for k in core.get_fragment(a.src):gmatch("([^&=]+)=[^&]*") do keys[#keys + 1] = k end
        return keys
      end)())
    end)

    it("store_ttl: a reply older than that is forgotten, and its command runs again", function()
      local key = unique("k")
      local cmd = v2_cmd("H5Req_" .. key, "count", { key = key })
      assert.same({ result = 1 }, reply_of(send(cmd).src, "H5Req_" .. key))
      assert.same({ result = 1 }, reply_of(send(cmd).src, "H5Req_" .. key))
      nginx.sleep(1.2)
      assert.same({ result = 2 }, reply_of(send(cmd).src, "H5Req_" .. key))
    end)
  end)

  describe("a claims zone that is full", function()
    it("answers new version 2 commands ESTORE under their own request id, and counts the store errors", function()
      local conf = gateway_conf("{ response_wait = 100 }")
      conf.http = conf.http:gsub("lua_shared_dict mphybrid_claims 1m", "lua_shared_dict mphybrid_claims 12k")
      local tight = assert(nginx.start(conf))
      local ok, err = pcall(function()
        local key = unique("k")
        local list = {}
        for i = 1, 150 do
          list[i] = { path = "/mphybrid", body = body(v2_cmd("H5Req_full" .. i, "slow", { key = key .. i, ms = 600 }),
            SRC, "sess-full-" .. i .. "-0123456789") }
        end
        local refused = 0
        for i, r in ipairs(tight:parallel(list, 150)) do
          local a = answer(r.status, r.body)
          local reply = reply_of(a.src, "H5Req_full" .. i)
          if reply then
            assert.same("ESTORE", reply.error.code)
            refused = refused + 1
          end
        end
        assert.is_true(refused > 0)
        local _, text = tight:get("/metrics")
        assert.truthy(text:find("mphybrid_store_errors_total [1-9]"))
        local log = tight:error_log() or ""
        assert.falsy(log:find("[alert]", 1, true), log)
        assert.falsy(log:find("runtime error", 1, true), log)
      end)
      tight:stop()
      assert(ok, err)
    end)
  end)

  describe("a store zone that is full", function()
    it("drops the least recently used sessions and replies, never a running claim", function()
      local small = assert(nginx.start(gateway_conf("{ response_wait = 100 }", nil, "64k")))
      local ok, err = pcall(function()
        local key = unique("k")
        local status = small:request("POST", "/mphybrid",
          body(v2_cmd("H5Req_run", "block", { key = key }), SRC, "sess-running-0123456789"))
        assert.same(200, status)
        local list = {}
        for i = 1, 400 do
          list[i] = { path = "/mphybrid", body = body(v2_cmd("H5Req_fill" .. i, "big", { n = 300 }), SRC,
            "sess-fill-" .. i .. "-0123456789") }
        end
        for _, r in ipairs(small:parallel(list, 20)) do
          assert.same(200, r.status)
        end
        -- the first sessions are gone: their replies are not written again
        local a = answer(small:request("POST", "/mphybrid", body(v2_cmd("H5Req_z", "echo", {}), SRC,
          "sess-fill-1-0123456789")))
        assert.is_nil(fragment(a.src).H5Req_fill1)
        -- the running command was not claimed again
        small:request("POST", "/mphybrid", body(v2_cmd("H5Req_run", "block", { key = key }), SRC,
          "sess-running-0123456789"))
        local s, text = small:get("/runs")
        assert.same(200, s)
        assert.same(1, core.decode_json(text)[key])
        small:request("POST", "/mphybrid", body(v1_cmd("H5Req_rel", "release")))
      end)
      small:stop()
      assert(ok, err)
    end)
  end)

  describe("batches (version 2)", function()
    local function batch_cmd(entries, extra)
      local parts = {}
      for i, e in ipairs(entries) do parts[i] = json(e) end
      return E('{"mph":2,"batch":[' .. table.concat(parts, ",") .. "]" .. (extra or "") .. "}")
    end

    it("answers every entry of a batch in one src, each run once, failures under their own ids", function()
      local key = unique("k")
      local session = "sess-batch-" .. key
      local a = answer(post(batch_cmd({
        { req = "H5Req_g1", api = "echo", params = { n = 1 } },
        { req = "H5Req_g2", api = "count", params = { key = key } },
        { req = "H5Req_g3", api = "fail" },
        { req = "H5Req_g4", api = "nosuch" },
      }, ',"hash":"/cart"'), SRC, session))
      assert.is_true(a.back)
      assert.same({ result = { n = 1 } }, reply_of(a.src, "H5Req_g1"))
      assert.same({ result = 1 }, reply_of(a.src, "H5Req_g2"))
      assert.same("EPAY", reply_of(a.src, "H5Req_g3").error.code)
      assert.same("ENOAPI", reply_of(a.src, "H5Req_g4").error.code)
      assert.same("/cart", fragment(a.src).hash)
      -- the same batch again: answered from the replay store, run once
      a = answer(post(batch_cmd({ { req = "H5Req_g2", api = "count", params = { key = key } } }), SRC, session))
      assert.same({ result = 1 }, reply_of(a.src, "H5Req_g2"))
      assert.same(1, runs()[key])
    end)

    it("waits for a yielding entry within response_wait, and sends a slower one through the outbox", function()
      local key = unique("k")
      local session = "sess-bslow-" .. key
      local a = answer(post(batch_cmd({
        { req = "H5Req_q1", api = "slow", params = { key = key .. "a", ms = 100 } },
        { req = "H5Req_q2", api = "echo", params = { x = 2 } },
      }), SRC, session))
      assert.same({ result = { slept = 100 } }, reply_of(a.src, "H5Req_q1"))
      assert.same({ result = { x = 2 } }, reply_of(a.src, "H5Req_q2"))
      a = answer(post(batch_cmd({
        { req = "H5Req_q3", api = "slow", params = { key = key .. "b", ms = 800 } },
        { req = "H5Req_q4", api = "echo", params = { x = 4 } },
      }, ',"ack":["H5Req_q1","H5Req_q2"]'), SRC, session))
      -- answered at response_wait with what was written: the fast entry
      assert.same({ result = { x = 4 } }, reply_of(a.src, "H5Req_q4"))
      assert.is_nil(reply_of(a.src, "H5Req_q3"))
      assert.is_nil(reply_of(a.src, "H5Req_q1"))
      nginx.sleep(1)
      a = answer(post(v2_cmd("H5Req_q5", "echo", {}, { ack = { "H5Req_q4" } }), SRC, session))
      assert.same({ result = { slept = 800 } }, reply_of(a.src, "H5Req_q3"))
      assert.same(1, runs()[key .. "b"])
    end)

    it("answers ETIMEOUT for a batch entry over handler_timeout", function()
      local key = unique("k")
      local session = "sess-btime-" .. key
      answer(post(batch_cmd({ { req = "H5Req_t1", api = "slow", params = { key = key, ms = 3000 } } }), SRC, session))
      nginx.sleep(1.5)
      local a = answer(post(v2_cmd("H5Req_t2", "echo", {}), SRC, session))
      assert.same("ETIMEOUT", reply_of(a.src, "H5Req_t1").error.code)
      assert.is_nil(runs()[key .. ":done"])
    end)
  end)
end)
