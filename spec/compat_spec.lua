-- Version 1 compatibility: our shell and client against the published
-- WxMiniProgramHybrid code itself (../shared/conformance/WxMiniProgramHybrid,
-- read where it lies and run unmodified by Node.js, see spec/oracle/
-- published.js). For each case the published H5 library sends a command;
-- the published hybrid page and our shell each answer it, with options.cmd
-- percent-encoded and already decoded, at the same clock; the src each
-- writes must be the same bytes, and what the published hashchange listener
-- and our client hand their callbacks must agree. Every other outcome must be
-- one of the deliberate differences that docs/PROTOCOL.md lists, named by
-- the case that shows it.

local core = require "mphybrid.core"
local router = require "mphybrid.router"
local shell = require "mphybrid.shell"
local client = require "mphybrid.client"
local paths = require "helpers.paths"
local published = require "helpers.published"

local null, array_mt = core.null, core.array_mt

local STAMP = 1700000000000
local SRC = "https://h5.example.com/app/index.html?from=mp"

-- a shell whose handlers answer with fixed values, at a fixed time
local function v1_shell()
  local r = router.new({ log = function() end })
  r:register("getUserInfo", function() return '{"nickName":"小明","gender":1}' end)
  r:register("setTitle", function() return nil end)
  return assert(shell.new({ router = r, src = SRC, now = function() return STAMP end }))
end

---------------------------------------------------------------- the cases

local NONE = setmetatable({}, { __tostring = function() return "nothing" end })
local function A(...) return setmetatable({ ... }, array_mt) end

-- h5: the published library's call(api, params), as JS; call: the same call
-- through our client (absent when it cannot make it); result: what the
-- published "value" handler hands its callback, as JS; lua: what ours
-- returns. cmd: a hand-written command (JSON text), raw: an options.cmd
-- handed as it is, none: options without cmd; wait: the request id the H5
-- side waits for, when no library call chose it. differs, decoded, heard,
-- url: the deliberate difference (docs/PROTOCOL.md) a case shows in the src
-- written, in the src of the decoded form only, in what the H5 sides hand
-- their callbacks, in the command URL.
-- a hand-written command {"req":<req>,"api":"value"} answered "ok", whose
-- H5 side waits for wait; differs: in the src and in what the H5 sides hear
local function req_case(name, req, wait, differs)
  return { name = name, cmd = '{"req":' .. req .. ',"api":"value"}', wait = wait, result = "'ok'", lua = "ok",
           differs = differs, heard = differs }
end

local CASES = {
  -- results: strings
  { name = "a string", h5 = "['value']", call = { "value" }, result = "'hello'", lua = "hello" },
  { name = "an empty string", h5 = "['value']", call = { "value" }, result = "''", lua = "" },
  { name = "the string 0", h5 = "['value']", call = { "value" }, result = "'0'", lua = "0" },
  { name = "&=#%+?/", h5 = "['value']", call = { "value" }, result = "'a&b=c#d%e+f?g/h'", lua = "a&b=c#d%e+f?g/h" },
  { name = "quotes and a backslash", h5 = "['value']", call = { "value" },
    result = [['\'single\' "double" \\back']], lua = [['single' "double" \back]] },
  { name = "CJK", h5 = "['value']", call = { "value" }, result = "'小明，你好'", lua = "小明，你好" },
  { name = "emoji", h5 = "['value']", call = { "value" }, result = "'😀👍🏽🇨🇳'", lua = "😀👍🏽🇨🇳" },
  { name = "spaces, tab, newline and NUL", h5 = "['value']", call = { "value" },
    result = "'  a\\tb\\nc\\u0000 '", lua = "  a\tb\nc\0 " },
  -- results: numbers
  { name = "an integer", h5 = "['value']", call = { "value" }, result = "42", lua = 42 },
  { name = "a fraction", h5 = "['value']", call = { "value" }, result = "0.1", lua = 0.1 },
  { name = "a negative number", h5 = "['value']", call = { "value" }, result = "-7.5", lua = -7.5 },
  { name = "1e21", h5 = "['value']", call = { "value" }, result = "1e21", lua = 1e21 },
  { name = "1e-7", h5 = "['value']", call = { "value" }, result = "1e-7", lua = 1e-7 },
  { name = "2^53", h5 = "['value']", call = { "value" }, result = "9007199254740992", lua = 2 ^ 53 },
  { name = "the largest double", h5 = "['value']", call = { "value" },
    result = "1.7976931348623157e308", lua = 1.7976931348623157e308 },
  { name = "the smallest double", h5 = "['value']", call = { "value" }, result = "5e-324", lua = 5e-324 },
  { name = "-0", h5 = "['value']", call = { "value" }, result = "-0", lua = -0.0 },
  { name = "Infinity", h5 = "['value']", call = { "value" }, result = "Infinity", lua = math.huge },
  { name = "-Infinity", h5 = "['value']", call = { "value" }, result = "-Infinity", lua = -math.huge },
  { name = "NaN", h5 = "['value']", call = { "value" }, result = "NaN", lua = 0 / 0 },
  -- results: booleans, null, nothing
  { name = "true", h5 = "['value']", call = { "value" }, result = "true", lua = true },
  { name = "false", h5 = "['value']", call = { "value" }, result = "false", lua = false },
  { name = "null", h5 = "['value']", call = { "value" }, result = "null", lua = null },
  { name = "no result", h5 = "['value']", call = { "value" }, result = "undefined", lua = NONE },
  -- results: objects (the JS handler writes JSON.stringify, as the
  -- published sample handler does; ours returns the table)
  { name = "a nested object", h5 = "['value']", call = { "value" },
    result = "JSON.stringify({a: [1, {b: null, c: [true, 'x']}], d: '中', e: {}})",
    lua = { a = A(1, { b = null, c = A(true, "x") }), d = "中", e = {} } },
  { name = "an array", h5 = "['value']", call = { "value" },
    result = "JSON.stringify([3, 'two', false, null, [], 1e21])",
    lua = A(3, "two", false, null, core.empty_array, 1e21) },
  { name = "an object whose keys are not in sorted order", h5 = "['value']", call = { "value" },
    result = "JSON.stringify({z: 1, a: 2, '10': 3, '9': 4})", lua = { z = 1, a = 2, ["10"] = 3, ["9"] = 4 },
    differs = "key-order" },
  { name = "an object holding Infinity", h5 = "['value']", call = { "value" },
    result = "JSON.stringify({a: Infinity})", lua = { a = math.huge }, differs = "not-json" },
  { name = "a string that is not UTF-8 (GBK; a lone surrogate in JS)", h5 = "['value']", call = { "value" },
    result = "'\\uD800'", lua = "\176\161", differs = "not-utf8" },
  -- params
  { name = "params with &=#%+?/", h5 = "['echo', {s: 'a&b=c#d%e+f?g/h'}]", call = { "echo", { s = "a&b=c#d%e+f?g/h" } },
    decoded = "decoded-twice" },
  { name = "params with a literal %25", h5 = "['echo', {s: '100%25 sure'}]", call = { "echo", { s = "100%25 sure" } },
    decoded = "decoded-twice" },
  { name = "params with CJK, emoji and quotes", h5 = [[['echo', {a: '中文', b: '😀', c: '\'"\\'}]
]], call = { "echo", { a = "中文", b = "😀", c = [['"\]] } } },
  { name = "nested params", h5 = "['echo', {a: {b: [1, 2.5, {c: null}]}, d: true}]",
    call = { "echo", { a = { b = A(1, 2.5, { c = null }) }, d = true } } },
  { name = "params whose keys are not in sorted order", h5 = "['echo', {b: 1, a: 2}]",
    call = { "echo", { b = 1, a = 2 } }, differs = "key-order", url = "key-order" },
  { name = "params an array", h5 = "['echo', [3, 2, 1]]", call = { "echo", A(3, 2, 1) } },
  { name = "params with a string cut within a surrogate pair", h5 = "['value', {s: '\\uD83D\\uDE00'.slice(0, 1)}]",
    result = "'ok'", lua = "ok", differs = "lone-surrogate", heard = "lone-surrogate" },
  { name = "params nested 101 deep", h5 = "['value', JSON.parse('['.repeat(101) + ']'.repeat(101))]",
    call = { "value", (function()
      local t = core.empty_array
      for _ = 1, 100 do t = A(t) end
      return t
    end)() }, result = "'ok'", lua = "ok", differs = "limits", heard = "limits", url = "limits" },
  { name = "params a number", h5 = "['echo', 7]", call = { "echo", 7 } },
  { name = "params a string", h5 = "['echo', 'x y']", call = { "echo", "x y" } },
  { name = "params 0", h5 = "['echo', 0]", call = { "echo", 0 } },
  { name = "params false", h5 = "['echo', false]", call = { "echo", false } },
  { name = "params an empty string", h5 = "['echo', '']", call = { "echo", "" } },
  { name = "params null", h5 = "['echo', null]", call = { "echo", null } },
  { name = "params absent", h5 = "['echo']", call = { "echo" } },
  { name = "params holding NaN", h5 = "['echo', {a: NaN}]", call = { "echo", { a = 0 / 0 } }, url = "not-json" },
  -- api names
  { name = "an api with spaces around it", h5 = "[' echo ', {a: 1}]", call = { " echo ", { a = 1 } } },
  { name = "an api with a tab, a newline and ideographic space around it", h5 = "['\\techo\\n\\u3000', {a: 1}]",
    call = { "\techo\n\227\128\128", { a = 1 } } },
  { name = "an api with a space inside", h5 = "['ec ho']", call = { "ec ho" }, differs = "unknown-api" },
  { name = "an unknown api", h5 = "['nope']", call = { "nope" }, differs = "unknown-api" },
  { name = "the api toString", h5 = "['toString']", call = { "toString" }, differs = "inherited-api" },
  { name = "the api constructor", h5 = "['constructor']", call = { "constructor" }, differs = "inherited-api" },
  { name = "the api hasOwnProperty", h5 = "['hasOwnProperty']", call = { "hasOwnProperty" }, differs = "inherited-api" },
  { name = "the api __proto__", h5 = "['__proto__']", call = { "__proto__" }, differs = "inherited-api" },
  { name = "the api valueOf", h5 = "['valueOf']", call = { "valueOf" }, differs = "inherited-api" },
  { name = "an empty api", h5 = "['', {}]", differs = "api-shape" },
  { name = "a blank api", h5 = "['   ', {}]", call = { "   ", {} }, differs = "api-shape" },
  { name = "a null api", h5 = "[null, {}]", differs = "api-shape" },
  { name = "a numeric api", h5 = "[7, {}]", differs = "api-shape" },
  { name = "an api of 129 bytes", h5 = "['a'.repeat(129)]", call = { ("a"):rep(129) }, differs = "api-shape" },
  { name = "an api with a tab inside", h5 = "['ec\\tho']", call = { "ec\tho" }, differs = "api-shape" },
  -- handlers
  { name = "a throwing handler", h5 = "['throws', {}]", call = { "throws", {} }, differs = "handler-raised" },
  { name = "a handler that never answers", h5 = "['never', {}]", call = { "never", {} } },
  { name = "a handler that answers twice", h5 = "['twice', {}]", call = { "twice", {} }, differs = "twice" },
  -- web-view srcs
  { name = "a src with spaces and an old fragment", h5 = "['value']", call = { "value" }, result = "'x'", lua = "x",
    src = "  " .. SRC .. "#H5Req_old=1&v=3 \227\128\128" },
  { name = "a src with hash routing", h5 = "['value']", call = { "value" }, result = "1", lua = 1,
    src = "https://h5.example.com/app/#/orders/42?tab=1" },
  { name = "a src with two #", h5 = "['value']", call = { "value" }, result = "1", lua = 1,
    src = "https://h5.example.com/a#b#c" },
  { name = "a blank src", h5 = "['value']", call = { "value" }, result = "1", lua = 1, src = " \t ",
    differs = "blank-src" },
  -- hand-written commands: request ids (see req_case below)
  req_case("a req with spaces around it", '" H5Req_sp "', "H5Req_sp"),
  req_case("an empty req", '""', "miniProgramResult"),
  req_case("a blank req", '" \\t "', "miniProgramResult"),
  req_case("a null req", "null", "miniProgramResult"),
  req_case("a req with a space inside", '"a b"', "a b", "req-escaped"),
  req_case("a req with &", '"a&b"', "a&b", "req-escaped"),
  req_case("a req with =", '"a=b"', "a=b", "req-escaped"),
  req_case("a req with #", '"a#b"', "a#b", "req-escaped"),
  req_case("a req with %", '"a%b"', "a%b", "req-escaped"),
  req_case("a req with non-ASCII", '"请求1"', "请求1", "req-escaped"),
  req_case("the req v", '"v"', "v", "reserved-req"),
  req_case("the req mph", '"mph"', "mph", "reserved-req"),
  req_case("a numeric req", "7", "7", "req-shape"),
  req_case("a req with a tab inside", '"a\\tb"', "a\tb", "req-shape"),
  { name = "no req", cmd = '{"api":"value"}', wait = "miniProgramResult", result = "'ok'", lua = "ok" },
  -- hand-written commands: their text
  { name = "a cmd with spaces around it", raw = "  " .. core.encode_uri_component('{"req":"H5Req_ws1","api":"value"}')
    .. "\227\128\128", wait = "H5Req_ws1", result = "'ok'", lua = "ok" },
  { name = "a cmd with spaces around it and a numeric api",
    raw = "  " .. core.encode_uri_component('{"req":"H5Req_ws2","api":7}'), wait = "H5Req_ws2",
    differs = "api-shape" },
  { name = "no cmd", none = true, wait = "miniProgramResult", differs = "no-cmd" },
  { name = "a blank cmd", raw = " \t ", wait = "miniProgramResult", differs = "no-cmd" },
  { name = "a cmd cut short", cmd = '{"req":"H5Req_cut","api":"val', wait = "miniProgramResult", differs = "bad-cmd" },
  { name = "a cmd that is an array", cmd = '[{"req":"H5Req_arr","api":"value"}]', wait = "miniProgramResult",
    differs = "bad-cmd" },
  { name = "a cmd that is null", cmd = "null", wait = "miniProgramResult", differs = "bad-cmd" },
}

------------------------------------------------------------------ our side

local VALUE -- what our "value" handler returns for the case at hand

local function our_shell(src)
  local r = router.new({ log = function() end })
  r:register("value", function()
    if VALUE == NONE then return nil end
    return VALUE
  end)
  r:register("echo", function(params) return assert(core.encode_json(params)) end)
  r:register("throws", function() error("handler failed") end)
  r:register("never", function() end, { async = true })
  r:register("twice", function(_, _, reply)
    reply("first")
    reply("second")
  end, { async = true })
  return assert(shell.new({ router = r, src = src, now = function() return STAMP end, log = function() end }))
end

-- what our shell writes for the page options: the src, or nil (a src the
-- shell refuses, a blank one, is never written into)
local function our_src(case, options)
  VALUE = case.lua
  local s = our_shell(SRC)
  if not s:set_src(case.src) then
    return nil
  end
  local src = s:on_load(options)
  return src or nil
end

-- our client in version 1, whose next request id is req
local function our_client(req, navigate)
  return client.new({ protocol = 1, timeout = false, log = function() end,
                      navigate = navigate or function() end, new_req_id = function() return req end })
end

-- what our client sends for the case's call, or nil
local function our_url(case, req)
  local sent
  local c = our_client(req, function(url) sent = url end)
  c:call(case.call[1], case.call[2], function() end)
  return sent
end

-- what our client, waiting for req, hands its callback for src
local function our_callback(req, src)
  local got = "not called"
  local c = our_client(req)
  if not pcall(c.call, c, "x", nil, function(err, result)
    got = err and ("called with error " .. err.code) or ("called with " .. string.format("%q", result))
  end) then
    return "refuses the request id"
  end
  c:receive(src)
  return got
end

local function listener_callback(answer)
  if answer.called then
    if answer.undefined then
      return "called with undefined"
    end
    return "called with " .. string.format("%q", answer.result)
  end
  return "not called" .. (answer.threw and (" (" .. answer.threw .. ")") or "")
end

---------------------------------------------- the documented differences

-- the ids of PROTOCOL.md's table of deliberate differences
local function documented()
  local doc = assert(paths.read_file(paths.repo_root() .. "/docs/PROTOCOL.md"))
  local section = doc:match("\n## Version 1 and the published code\n(.-)\n## ")
  assert(section, "docs/PROTOCOL.md has no section \"Version 1 and the published code\"")
  local ids = {}
  for id in section:gmatch("\n| `([%w-]+)` |") do
    ids[id] = true
  end
  return ids
end

------------------------------------------------------------------ the run

local function show(v)
  if v == nil then return "nothing" end
  return string.format("%q", v)
end

local function differential(it)
  local ids = documented()
  for _, case in ipairs(CASES) do
    case.src = case.src or SRC
    case.result = case.result or "undefined"
    case.lua = case.lua == nil and NONE or case.lua
  end
  local js_cases = {}
  for i, case in ipairs(CASES) do
    js_cases[i] = { h5 = case.h5, cmd = case.cmd, raw = case.raw, none = case.none or nil,
                    result = case.result, src = case.src, now = STAMP }
  end

  -- every comparison: { case =, what =, form =, published =, ours = }
  local checks = {}
  local function compare(case, what, form, theirs, ours)
    checks[#checks + 1] = { case = case, what = what, form = form, published = theirs, ours = ours }
  end

  local ok, err = pcall(function()
    local _, heard = published.run(js_cases, function(answers)
      local deliveries = {}
      for i, case in ipairs(CASES) do
        local a = answers[i]
        local wait = case.wait or a.req
        case.wait = wait
        if case.call then
          compare(case, "command URL", nil, a.url ~= null and a.url or nil, our_url(case, a.req))
        end
        for _, form in ipairs({ "encoded", "decoded", "none" }) do
          local page = a.forms[form]
          if page then
            local options = form ~= "none" and { cmd = page.cmd } or {}
            local theirs = page.src ~= null and page.src or nil
            local ours = our_src(case, options)
            compare(case, "src", form, theirs, ours)
            -- each src written, to both H5 sides
            local srcs = {}
            if theirs then srcs[#srcs + 1] = theirs end
            if ours and ours ~= theirs then srcs[#srcs + 1] = ours end
            for _, src in ipairs(srcs) do
              deliveries[#deliveries + 1] = { req = wait, src = src }
              compare(case, "callback for " .. show(src), form, #deliveries, our_callback(wait, src))
            end
          end
        end
      end
      return deliveries
    end)
    for _, check in ipairs(checks) do
      if type(check.published) == "number" and check.what:match("^callback") then
        check.published = listener_callback(heard[check.published])
      end
    end
  end)

  it("runs the published code over every case", function()
    assert(ok, err)
  end)
  if not ok then
    return
  end

  local function allowed(check)
    local case = check.case
    if check.what == "command URL" then
      return case.url
    elseif check.what ~= "src" then
      return case.heard
    elseif check.form == "decoded" and case.decoded then
      return case.decoded
    end
    return case.differs
  end

  for _, case in ipairs(CASES) do
    it("answers " .. case.name .. " as the published code does, or as PROTOCOL.md says it differs", function()
      local problems, shown = {}, {}
      for _, check in ipairs(checks) do
        if check.case == case then
          local id = allowed(check)
          local where = check.what .. (check.form and (" (" .. check.form .. ")") or "")
          if check.published ~= check.ours then
            if not id then
              problems[#problems + 1] = ("undocumented difference in the %s:\n  published: %s\n  ours:      %s")
                :format(where, show(check.published), show(check.ours))
            elseif not ids[id] then
              problems[#problems + 1] = ("difference %q is not in PROTOCOL.md's table"):format(id)
            else
              shown[id] = true
            end
          end
        end
      end
      for _, id in pairs({ case.differs, case.decoded, case.url, case.heard }) do
        if not shown[id] and #problems == 0 then
          problems[#problems + 1] = ("the case names difference %q, but shows none"):format(id)
        end
      end
      assert(#problems == 0, case.name .. ":\n" .. table.concat(problems, "\n"))
    end)
  end

  it("shows every difference PROTOCOL.md lists", function()
    local named = {}
    for _, case in ipairs(CASES) do
      for _, id in ipairs({ case.differs or false, case.decoded or false, case.url or false,
                            case.heard or false }) do
        if id then named[id] = true end
      end
    end
    local unshown = {}
    for id in pairs(ids) do
      if not named[id] then unshown[#unshown + 1] = id end
    end
    table.sort(unshown)
    assert(#unshown == 0, "PROTOCOL.md lists differences no case shows: " .. table.concat(unshown, ", "))
  end)
end

describe("version 1 compatibility", function()
  describe("literal", function()
    it("our shell answers the published request for getUserInfo with the published fragment", function()
      local url = "/pages/hybrid-page/hybrid?cmd=%7B%22req%22%3A%22H5Req_k3j2h1g0a%22%2C%22api%22%3A%22getUserInfo%22"
        .. "%2C%22params%22%3A%7B%22lang%22%3A%22zh_CN%22%2C%22withCredentials%22%3Atrue%7D%7D"
      local src = v1_shell():on_load({ cmd = url:match("%?cmd=(.*)$") })
      assert.same("https://h5.example.com/app/index.html?from=mp#H5Req_k3j2h1g0a="
        .. "%7B%22nickName%22%3A%22%E5%B0%8F%E6%98%8E%22%2C%22gender%22%3A1%7D&v=1700000000000", src)
    end)

    it("answers a null result with 0 and a command without req under miniProgramResult", function()
      local s = v1_shell()
      assert.same(SRC .. "#H5Req_a=0&v=1700000000000",
        s:on_load({ cmd = "%7B%22req%22%3A%22H5Req_a%22%2C%22api%22%3A%22setTitle%22%7D" }))
      assert.same(SRC .. "#miniProgramResult=0&v=1700000000001",
        s:on_load({ cmd = "%7B%22api%22%3A%22setTitle%22%7D" }))
    end)

    it("our client (version 1) sends the published request", function()
      local sent
      local c = client.new({ protocol = 1, navigate = function(url) sent = url end,
                             new_req_id = function() return "H5Req_k3j2h1g0a" end })
      c:call("getUserInfo", { lang = "zh_CN", withCredentials = true }, function() end)
      assert.same("/pages/hybrid-page/hybrid?cmd=%7B%22req%22%3A%22H5Req_k3j2h1g0a%22%2C%22api%22%3A"
        .. "%22getUserInfo%22%2C%22params%22%3A%7B%22lang%22%3A%22zh_CN%22%2C%22withCredentials%22%3Atrue%7D%7D",
        sent)
    end)

    it("our client takes the published reply fragment, for either version", function()
      for _, protocol in ipairs({ 1, 2 }) do
        local got
        local c = client.new({ protocol = protocol, navigate = function() end,
                               new_req_id = function() return "H5Req_k3j2h1g0a" end })
        c:call("getUserInfo", nil, function(err, result) got = { err, result } end)
        assert.same(1, c:receive("https://h5.example.com/app/index.html?from=mp#H5Req_k3j2h1g0a="
          .. "%7B%22nickName%22%3A%22%E5%B0%8F%E6%98%8E%22%7D&v=1700000000000"))
        assert.same({ nil, '{"nickName":"小明"}' }, got)
      end
    end)
  end)

  describe("against the published code, run by Node.js", function()
    local why = published.missing()
    if why then
      it("needs the published code", function()
        pending(why)
      end)
      return
    end
    differential(it)
  end)
end)
