-- mphybrid.shell: the mini-program side. It holds the web-view src, runs
-- each command that reaches the hybrid page's onLoad through a router, and
-- answers by writing a new fragment into the src. Protocol: docs/PROTOCOL.md.

local core = require "mphybrid.core"
local limits = require "mphybrid.options"
local errors = require "mphybrid.errors"
local stores = require "mphybrid.store"
local memory_store = require "mphybrid.store.memory"
local batch = require "mphybrid.batch"

local type = type
local pairs = pairs
local tostring = tostring
local setmetatable = setmetatable
local getmetatable = getmetatable
local error = error
local math_floor = math.floor
local str_byte = string.byte
local str_find = string.find
local str_sub = string.sub
local tonumber = tonumber

local decode_cmd = core.decode_cmd
local encode_reply = core.encode_reply
local json_encode = core.json_encode
local json_decode = core.json_decode
local null = core.null
local array_mt = core.array_mt
local new_error = errors.new
local parse_error = errors.parse

local _M = { _VERSION = "0.1.0" }
local mt = { __index = _M }

-- the request id a command without "req" is answered under (published)
local SEED_REQ = "miniProgramResult"
_M.SEED_REQ = SEED_REQ

-- keys a version 2 fragment uses for itself; never request ids
local RESERVED = { mph = true, hash = true, v = true }
local MPH_PAIR = { "mph", "2" }

-- the shell's own limits; the limits of its default store (outbox_max,
-- outbox_ttl, store_max, store_ttl) are mphybrid.store.defaults
_M.defaults = {
    max_cmd = 65536,       -- bytes of the cmd option, as received
    max_depth = 100,       -- nesting of the command's JSON
    max_src = 16384,       -- bytes of the web-view src written
    max_hash = 512,        -- bytes of the page's own fragment kept for it
}
for name, value in pairs(stores.defaults) do
    if _M.defaults[name] == nil then
        _M.defaults[name] = value
    end
end

-- the session of a shell made without opts.session
local DEFAULT_SESSION = "default"

local function positive(opts, name, min)
    return limits.number("shell.new", _M.defaults, opts, name, min)
end

--- shell.new(opts) -> shell | nil, err
-- opts.router (required), opts.src (required: the web-view src),
-- opts.now() -> ms, opts.log(level, message), opts.env (handed to every
-- handler as ctx.env: timers, services), opts.store (where the outbox, the
-- page's hash and the replay store are kept: see docs/GATEWAY.md; default a
-- mphybrid.store.memory of this shell's own, made with the store limits of
-- opts), opts.session (the web-view session this shell answers for, the
-- key of its outbox and hash in the store; default "default"),
-- opts.replay_scope ("global": a replayed command is known by its request id
-- alone, the default; "session": by its session and request id, so that a
-- reply is only ever replayed to the session that asked), and the limits in
-- shell.defaults.
function _M.new(opts)
    if type(opts) ~= "table" then
        error("shell.new: opts must be a table", 2)
    end
    local router = opts.router
    if type(router) ~= "table" or type(router.dispatch) ~= "function" then
        error("shell.new: opts.router must be a router", 2)
    end
    if type(opts.src) ~= "string" or opts.src == "" then
        return nil, "web-view src must be a non-empty string"
    end
    if opts.now ~= nil and type(opts.now) ~= "function" then
        error("shell.new: opts.now must be a function", 2)
    end
    local store = opts.store
    if store == nil then
        store = memory_store.new({
            outbox_max = opts.outbox_max, outbox_ttl = opts.outbox_ttl,
            store_max = opts.store_max, store_ttl = opts.store_ttl,
        })
    elseif type(store) ~= "table" or type(store.claim) ~= "function"
        or type(store.settle) ~= "function" or type(store.session) ~= "function" then
        error("shell.new: opts.store must be a store (claim, settle, session)", 2)
    end
    local scope = opts.replay_scope
    if scope ~= nil and scope ~= "global" and scope ~= "session" then
        error('shell.new: opts.replay_scope must be "global" or "session"', 2)
    end
    local session = opts.session
    if session == nil then
        session = DEFAULT_SESSION
    elseif type(session) ~= "string" or session == "" then
        error("shell.new: opts.session must be a non-empty string", 2)
    end
    local self = {
        router = router,
        src = opts.src,
        now = opts.now or limits.clock(),
        log = opts.log or router.log,
        env = opts.env,
        max_cmd = positive(opts, "max_cmd"),
        max_depth = positive(opts, "max_depth"),
        max_src = positive(opts, "max_src"),
        max_hash = positive(opts, "max_hash"),
        store = store,
        session = session,
        replay_by_session = scope == "session",
        last_stamp = 0,
    }
    self.decode_opts = { max_size = self.max_cmd, max_depth = self.max_depth }
    self.encode_opts = { max_size = self.max_src }
    return setmetatable(self, mt)
end

--- s:get_src() -> the web-view src as last written
function _M.get_src(self)
    return self.src
end

--- s:set_src(url) -> true | nil, err: the web-view now shows another url
function _M.set_src(self, url)
    if type(url) ~= "string" or url == "" then
        return nil, "web-view src must be a non-empty string"
    end
    self.src = url
    return true
end

--- s:stats() -> { outbox =, store =, running = }: what the store reports
-- for this shell's session (a store may leave out what it cannot count)
function _M.stats(self)
    return self.store:stats(self.session)
end

-- the stamp v=<ms> that ends the fragment of src, or 0 (a byte loop, not
-- a pattern: LuaJIT compiles it)
local function stamp_of(src)
    local i = #src
    while i > 0 do
        local b = str_byte(src, i)
        if b < 48 or b > 57 then
            break
        end
        i = i - 1
    end
    if i == #src or i < 3 or str_byte(src, i) ~= 61 or str_byte(src, i - 1) ~= 118 then -- "v="
        return 0
    end
    local sep = str_byte(src, i - 2)
    if sep ~= 35 and sep ~= 38 then -- "#" or "&"
        return 0
    end
    return tonumber(str_sub(src, i + 1)) or 0
end

--- s:for_session(session, src) -> shell
-- A shell for another web-view session that shares this one's router,
-- store, clock, limits and env: what a gateway makes for each request,
-- with the session id and the web-view src the mini-program page sent.
-- Its stamps stay above the one that ends src. Cheap: one table.
function _M.for_session(self, session, src)
    if type(session) ~= "string" or session == "" then
        error("for_session: session must be a non-empty string", 2)
    end
    if type(src) ~= "string" or src == "" then
        error("for_session: src must be a non-empty string", 2)
    end
    local view_mt = self.view_mt
    if view_mt == nil then
        view_mt = { __index = self }
        self.view_mt = view_mt
    end
    return setmetatable({ session = session, src = src, last_stamp = stamp_of(src) }, view_mt)
end

-- the fragment stamp: the clock in ms, strictly increasing, so that every
-- fragment written differs from the last one and fires hashchange
local function next_stamp(self)
    local t = math_floor(self.now())
    if t <= self.last_stamp then
        t = self.last_stamp + 1
    end
    self.last_stamp = t
    return t
end

---------------------------------------------------------------- replies

-- {"error":{...}}; without data when data cannot be encoded, and as an
-- EREPLY that says why when the error itself cannot be (a message that is
-- not UTF-8): the client always gets a well-formed version 2 reply
local function error_envelope(err)
    local s = json_encode({ error = { code = err.code, message = err.message, data = err.data } })
    if not s then
        s = json_encode({ error = { code = err.code, message = err.message } })
    end
    if not s then
        local _, e = json_encode(err.message)
        s = json_encode({ error = { code = "EREPLY", message = "the error of code " .. err.code
            .. " cannot be sent (" .. tostring(e) .. ")" } })
    end
    return s
end

local function ereply(msg)
    return new_error("EREPLY", msg)
end

-- the value a version 2 reply carries: {"result":...} or {"error":{...}}
local function envelope(self, err, result)
    if err then
        return error_envelope(err), err
    end
    if result == nil then
        result = null
    end
    local s, e = json_encode({ result = result }, self.encode_opts)
    if not s then
        local code, msg = parse_error(e, "EVALUE")
        local rerr = ereply("result cannot be sent (" .. code .. ": " .. msg .. ")")
        return error_envelope(rerr), rerr
    end
    return s
end

-- the value a seed reply carries: "0" for no result, String(result) for a
-- scalar, JSON text for a table, the error code for an error
local function seed_value(self, err, result)
    if err then
        return err.code
    end
    local t = type(result)
    if result == nil or result == null then
        return "0"
    elseif t == "string" then
        return result
    end
    local s = json_encode(result, self.encode_opts)
    if not s then
        return "EREPLY"
    end
    return s
end

local function write_seed(self, req, value)
    local src, err = encode_reply(self.src, { { req, value } }, next_stamp(self))
    if src and #src > self.max_src then
        src, err = encode_reply(self.src, { { req, "EREPLY" } }, next_stamp(self))
    end
    if not src then
        -- a request id the fragment cannot carry: answer where the
        -- published client looks for a reply without an id
        local code = parse_error(err, "EREPLY")
        src, err = encode_reply(self.src, { { SEED_REQ, code } }, next_stamp(self))
        if not src then
            return nil, err
        end
    end
    self.src = src
    return src
end

-- one step on this shell's session in the store (see mphybrid.store):
-- returns the session's state, or a state of change alone when the store
-- fails (logged: the command is still answered)
local function session_step(self, now, change)
    local state, dropped = self.store:session(self.session, now, change)
    if state == nil then
        self.log("error", "store: session " .. self.session .. ": " .. tostring(dropped))
        return { hash = change.hash, outbox = change.req and { { change.req, change.value, now } } or {} }
    end
    if dropped then
        for i = 1, #dropped do
            local d = dropped[i]
            if d[2] == "full" then
                self.log("warn", "outbox full: reply to " .. d[1] .. " dropped unacknowledged")
            else
                self.log("warn", "outbox: reply to " .. d[1] .. " expired unacknowledged")
            end
        end
    end
    return state
end

-- applies change to the session (see mphybrid.store.change_outbox) and
-- writes its whole outbox; when it does not all fit in max_src, the oldest
-- replies wait for a later write. Returns src, err, and the value that
-- replaced change.value when that reply alone was over max_src.
local function write_v2(self, now, change)
    local state = session_step(self, now, change)
    local outbox = state.outbox
    local n = #outbox
    local first = 1
    local shrunk, replaced
    while true do
        local list = { MPH_PAIR }
        local k = 1
        for i = first, n do
            k = k + 1
            list[k] = outbox[i]
        end
        if state.hash ~= nil then
            list[k + 1] = { "hash", state.hash }
        end
        local src, err = encode_reply(self.src, list, next_stamp(self))
        if not src then
            if n == 0 then
                return nil, err
            end
            -- a reply the fragment cannot carry: drop it, say so where the
            -- published client looks for a reply without an id
            local req = outbox[n][1]
            session_step(self, now, { ack = { req } })
            self.log("error", "reply to " .. req .. " cannot be written: " .. tostring(err))
            return write_seed(self, SEED_REQ, (parse_error(err, "EREPLY")))
        end
        if #src <= self.max_src then
            self.src = src
            return src, nil, replaced
        end
        if first < n then
            first = first + 1
        elseif n > 0 and not shrunk then
            -- the newest reply does not fit on its own: it becomes EREPLY
            local req = outbox[n][1]
            local rerr = ereply("reply of " .. #src .. " bytes over the limit of "
                .. self.max_src .. " bytes")
            local value = error_envelope(rerr)
            state = session_step(self, now, { req = req, value = value, hash = change.hash })
            outbox = state.outbox
            n = #outbox
            if req == change.req then
                replaced = value
            end
            shrunk = true
        else
            return nil, "EREPLY: web-view src over max_src even without replies"
        end
    end
end

-- the request id and version of a command that decode_cmd refused for its
-- shape, when the JSON itself is readable: so the error reaches its caller
local function peek(raw)
    local text = batch.json_text(raw)
    if not text then
        return nil
    end
    local cmd = json_decode(text)
    if type(cmd) ~= "table" then
        return nil
    end
    local req = cmd.req
    if type(req) ~= "string" or req == "" or #req > 128 or str_find(req, "%c") then
        req = nil
    end
    local v2 = type(cmd.mph) == "number" and cmd.mph >= 2
    if v2 and req and RESERVED[req] then
        req = nil
    end
    return req, v2
end

local function finish(src, done, err)
    if done then
        done(src, true, err)
    end
    return src, true, err
end

-- what became of the last command, for a gateway's log and metrics: the
-- outcome (an error code, "replay" or "running"; a dispatched command's is
-- set by whoever watches the dispatch), its request id and api
local function note(self, outcome, req, api)
    self.outcome, self.outcome_req, self.outcome_api = outcome, req, api
end

-- answers a command that never reached a handler
local function answer_error(self, req, v2, code, msg, done)
    note(self, code, req)
    local now = self.now()
    local src, err
    if v2 and req then
        src, err = write_v2(self, now, { req = req, value = error_envelope(new_error(code, msg)) })
    else
        src, err = write_seed(self, req or SEED_REQ, code)
    end
    return finish(src, done, err)
end

-- ack: absent, or a JSON array of request ids
local function valid_acks(ack)
    if ack == nil then
        return true
    end
    if getmetatable(ack) ~= array_mt then
        return false
    end
    for i = 1, #ack do
        local id = ack[i]
        if type(id) ~= "string" or id == "" or #id > 128 then
            return false
        end
    end
    return true
end

-- Dispatches cmd; write(err, result) writes the reply into the src and
-- returns src, err. A synchronous handler's src is returned at once (with
-- true: navigate back); an asynchronous one's goes to done when it comes.
local function run(self, cmd, ctx, done, write)
    local written, written_err
    self.router:dispatch(cmd, ctx, function(e, result)
        local src, werr = write(e, result)
        written, written_err = src or false, werr
        finish(src, done, werr)
    end)
    if written ~= nil then
        return written or nil, true, written_err
    end
    return false
end

--- s:on_load(options [, done]) -> src, back
-- What the hybrid page's onLoad does with its options: decode options.cmd,
-- run it, and write the reply into the web-view src. Returns the new src and
-- true (navigate back now) when the reply is ready at once; false while an
-- asynchronous handler runs. done(src, true), when given, is called exactly
-- once, as soon as the reply is written. If no src could be written at all,
-- src is nil and a third value tells why.
function _M.on_load(self, options, done)
    local raw = type(options) == "table" and options.cmd or nil
    if type(raw) ~= "string" then
        return answer_error(self, nil, false, "ECMD", "the page options carry no cmd string", done)
    end
    local cmd, err, code = decode_cmd(raw, self.decode_opts)
    if not cmd then
        local req, v2
        if code == "ECMD" then
            -- a version 2 batch has no api of its own (mphybrid.batch)
            local entries, berr = batch.read(raw, self.decode_opts)
            if entries then
                return batch.run(self, entries, done)
            elseif berr then
                err = "ECMD: " .. berr
            end
            req, v2 = peek(raw)
        end
        local c, msg = parse_error(err, code or "ECMD")
        return answer_error(self, req, v2, code or c, msg, done)
    end

    local mph = cmd.mph
    local req = cmd.req
    if mph == nil or mph == 1 then
        -- seed-compatible: the published reply format
        req = req or SEED_REQ
        local ctx = { req = req, version = 1, shell = self, env = self.env }
        return run(self, cmd, ctx, done, function(e, result)
            return write_seed(self, req, seed_value(self, e, result))
        end)
    end

    if type(mph) ~= "number" or mph < 2 then
        return answer_error(self, req, false, "ECMD", "mph must be a protocol version number", done)
    end
    if req == nil or RESERVED[req] then
        return answer_error(self, nil, false, "ECMD",
            "a version 2 command needs a req other than mph, hash and v", done)
    end
    local ack, hash = cmd.ack, cmd.hash
    if not valid_acks(ack) then
        return answer_error(self, req, true, "ECMD", "ack must be an array of request ids", done)
    end
    if hash ~= nil and (type(hash) ~= "string" or #hash > self.max_hash) then
        return answer_error(self, req, true, "ECMD",
            "hash must be a string of at most " .. self.max_hash .. " bytes", done)
    end

    local now = self.now()
    local store, api = self.store, cmd.api
    -- the key of the command in the replay store
    local key = self.replay_by_session and self.session .. "\t" .. req or req
    if ack or hash ~= nil then
        -- acknowledged replies leave the outbox before the command runs
        session_step(self, now, { ack = ack, hash = hash })
    end

    local claimed, stored, scode = store:claim(key, api, self.session, now)
    if claimed == nil then
        local c, msg = parse_error(stored, scode or "ESTORE")
        return answer_error(self, req, true, scode or c, msg, done)
    end
    if not claimed then
        if stored.api ~= api then
            return answer_error(self, req, true, "ECMD",
                "request id " .. req .. " was already used for api " .. tostring(stored.api), done)
        end
        if stored.running then
            -- the first run will write the reply; nothing new to write now
            note(self, "running", req, api)
            return finish(self.src, done)
        end
        note(self, "replay", req, api)
        return finish(write_v2(self, now, { req = req, value = stored.value }), done)
    end

    local ctx = { req = req, version = 2, shell = self, env = self.env }
    return run(self, cmd, ctx, done, function(e, result)
        local t = self.now()
        local value = envelope(self, e, result)
        local waiting, serr = store:settle(key, api, value, t)
        if waiting == nil then
            self.log("error", "store: settle " .. key .. ": " .. tostring(serr))
            waiting = {}
        end
        for i = 1, #waiting do
            -- a session that replayed the command while it ran gets the reply too
            local ok, werr = store:session(waiting[i], t, { req = req, value = value })
            if ok == nil then
                self.log("error", "store: session " .. tostring(waiting[i]) .. ": " .. tostring(werr))
            end
        end
        local src, werr, replaced = write_v2(self, t, { req = req, value = value })
        if replaced then
            store:settle(key, api, replaced, t)
        end
        return src, werr
    end)
end

return _M
