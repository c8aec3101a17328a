-- mphybrid.shell: the mini-program side. It holds the web-view src, runs
-- each command that reaches the hybrid page's onLoad through a router, and
-- answers by writing a new fragment into the src. Protocol: docs/PROTOCOL.md.

local core = require "mphybrid.core"
local limits = require "mphybrid.options"
local errors = require "mphybrid.errors"

local type = type
local tonumber = tonumber
local pcall = pcall
local setmetatable = setmetatable
local getmetatable = getmetatable
local error = error
local math_floor = math.floor

local decode_cmd = core.decode_cmd
local encode_reply = core.encode_reply
local json_encode = core.json_encode
local encode_uri_component = core.encode_uri_component
local null = core.null
local array_mt = core.array_mt
local new_error = errors.new
local parse_error = errors.parse
local to_text = errors.text

local _M = { _VERSION = "0.1.0" }
local mt = { __index = _M }

-- the request id a command without "req" is answered under (published)
local SEED_REQ = "miniProgramResult"
_M.SEED_REQ = SEED_REQ

-- keys a version 2 fragment uses for itself; never request ids
local RESERVED = { mph = true, hash = true, v = true }
-- the key a seed fragment uses for itself: the published listener would
-- hand its caller the stamp (docs/PROTOCOL.md, deliberate differences)
local SEED_RESERVED = { v = true }
local MPH_PAIR = { "mph", "2" }

_M.defaults = {
    max_cmd = 65536,       -- bytes of the cmd option, as received
    max_depth = 100,       -- nesting of the command's JSON
    max_src = 16384,       -- bytes of the web-view src written
    max_hash = 512,        -- bytes of the page's own fragment kept for it
    outbox_max = 32,       -- unacknowledged replies kept
    outbox_ttl = 120000,   -- ms an unacknowledged reply is written again
    store_max = 256,       -- replies kept for replayed commands (>= 2)
    store_ttl = 600000,    -- ms a reply is kept for a replayed command
    max_running = 256,     -- version 2 handlers running at once
}

-- opts[name] (or its default), checked as options.<kind> checks it
local function limit(opts, name, kind, min)
    return limits[kind]("shell.new", _M.defaults, opts, name, min)
end

--- shell.new(opts) -> shell | nil, err
-- opts.router (required), opts.src (required: the web-view src),
-- opts.now() -> ms, opts.log(level, message), opts.env (handed to every
-- handler as ctx.env: timers, services), and the limits in shell.defaults.
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
    local self = {
        router = router,
        src = opts.src,
        now = opts.now or limits.clock(),
        log = errors.logger("shell.new", opts.log, router.log),
        env = opts.env,
        max_cmd = limit(opts, "max_cmd", "size"),
        max_depth = limit(opts, "max_depth", "depth"),
        max_src = limit(opts, "max_src", "size"),
        max_hash = limit(opts, "max_hash", "size"),
        outbox_max = limit(opts, "outbox_max", "count"),
        outbox_ttl = limit(opts, "outbox_ttl", "number"),
        store_max = limit(opts, "store_max", "count", 2),
        store_ttl = limit(opts, "store_ttl", "number"),
        max_running = limit(opts, "max_running", "count"),
        last_stamp = 0,
        hash = nil,          -- the page's own fragment, echoed in v2 replies
        outbox = {},         -- { req =, value =, at = }, oldest first
        -- the store: req -> { api =, value =, at = }, in two
        -- generations; when the young one is full it becomes the old one
        -- and the old one is dropped whole (no deletions: tables that
        -- churn at a fixed size rehash on every insert)
        store_young = {},
        store_old = {},
        young_count = 0,
        old_count = 0,
        -- req -> { api =, at = } of each version 2 handler running: never
        -- evicted (a replay must not start it again), at most max_running
        running = {},
        running_count = 0,
    }
    self.generation = math_floor(self.store_max / 2)
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

--- s:stats() -> { outbox =, store =, running = }
function _M.stats(self)
    return { outbox = #self.outbox, store = self.young_count + self.old_count, running = self.running_count }
end

-- a stamp is a whole number of ms that a double holds exactly
local STAMP_MAX = 2 ^ 53

-- the page's clock in ms; what a broken clock gives (an error, not a
-- number, NaN, an infinity, a time a stamp cannot hold) reads as the last
-- stamp written
local function clock(self)
    local ok, t = pcall(self.now)
    t = ok and tonumber(t) or nil
    if t == nil or not (t > -STAMP_MAX and t < STAMP_MAX) then
        return self.last_stamp
    end
    return t
end

-- the fragment stamp: the clock in ms, strictly increasing, so that every
-- fragment written differs from the last one and fires hashchange
local function next_stamp(self)
    local t = math_floor(clock(self))
    if t <= self.last_stamp then
        t = self.last_stamp + 1
    end
    self.last_stamp = t
    return t
end

---------------------------------------------------------------- the store

-- the entry for req: its handler running, or its stored reply; nil when
-- there is none or the reply is too old
local function store_get(self, req, now)
    local e = self.running[req]
    if e then
        return e
    end
    e = self.store_young[req]
    if e == nil then
        e = self.store_old[req]
        if e == nil then
            return nil
        end
    end
    if now - e.at > self.store_ttl then
        return nil
    end
    return e
end

local function store_put(self, req, entry)
    local young = self.store_young
    if young[req] == nil then
        if self.young_count >= self.generation then
            self.store_old = young
            self.old_count = self.young_count
            young = {}
            self.store_young = young
            self.young_count = 0
        end
        self.young_count = self.young_count + 1
        if self.store_old[req] ~= nil then
            self.store_old[req] = nil
            self.old_count = self.old_count - 1
        end
    end
    young[req] = entry
end

--------------------------------------------------------------- the outbox

local function outbox_put(self, req, value, now)
    local outbox = self.outbox
    local n = #outbox
    for i = 1, n do
        if outbox[i].req == req then
            table.remove(outbox, i)
            n = n - 1
            break
        end
    end
    outbox[n + 1] = { req = req, value = value, at = now, pair = { req, value } }
    n = n + 1
    while n > self.outbox_max do
        local dropped = table.remove(outbox, 1)
        n = n - 1
        self.log("warn", "outbox full: reply to " .. dropped.req .. " dropped unacknowledged")
    end
end

local function outbox_ack(self, acks)
    local outbox = self.outbox
    local n = #outbox
    if n == 0 or #acks == 0 then
        return
    end
    local m = #acks
    local set
    if m > 4 then
        set = {}
        for i = 1, m do
            set[acks[i]] = true
        end
    end
    local j = 0
    for i = 1, n do
        local e = outbox[i]
        outbox[i] = nil
        local acked = false
        if set then
            acked = set[e.req] ~= nil
        else
            local req = e.req
            for k = 1, m do
                if acks[k] == req then
                    acked = true
                    break
                end
            end
        end
        if not acked then
            j = j + 1
            outbox[j] = e
        end
    end
end

local function outbox_expire(self, now)
    local outbox = self.outbox
    local n = #outbox
    if n == 0 or now - outbox[1].at <= self.outbox_ttl then
        -- the oldest is young enough (entries are in the order written)
        return
    end
    local j = 0
    for i = 1, n do
        local e = outbox[i]
        outbox[i] = nil
        if now - e.at > self.outbox_ttl then
            self.log("warn", "outbox: reply to " .. e.req .. " expired unacknowledged")
        else
            j = j + 1
            outbox[j] = e
        end
    end
end

---------------------------------------------------------------- replies

-- {"error":{...}}, held to max_src as results are: without data when data
-- cannot be encoded within it, and as an EREPLY that says why when the
-- error itself cannot be (a message that is not UTF-8, or over max_src):
-- the client always gets a well-formed version 2 reply
local function error_envelope(self, err)
    local opts = self.encode_opts
    local s, e = json_encode({ error = { code = err.code, message = err.message, data = err.data } }, opts)
    if not s and err.data ~= nil then
        s, e = json_encode({ error = { code = err.code, message = err.message } }, opts)
    end
    if not s then
        s = json_encode({ error = { code = "EREPLY", message = "the error of code " .. err.code
            .. " cannot be sent (" .. to_text(e) .. ")" } })
    end
    return s
end

local function ereply(msg)
    return new_error("EREPLY", msg)
end

-- the value a version 2 reply carries: {"result":...} or {"error":{...}}
local function envelope(self, err, result)
    if err then
        return error_envelope(self, err), err
    end
    if result == nil then
        result = null
    end
    local s, e = json_encode({ result = result }, self.encode_opts)
    if not s then
        local code, msg = parse_error(e, "EVALUE")
        local rerr = ereply("result cannot be sent (" .. code .. ": " .. msg .. ")")
        return error_envelope(self, rerr), rerr
    end
    return s
end

-- the value a seed reply carries: "0" for no result, the string itself, a
-- number or boolean as is (encode_reply writes String(value), NaN and
-- Infinity too), JSON text for a table, the error code for an error
local function seed_value(self, err, result)
    if err then
        return err.code
    end
    local t = type(result)
    if result == nil or result == null then
        return "0"
    elseif t == "string" or t == "number" or t == "boolean" then
        return result
    end
    local s = json_encode(result, self.encode_opts)
    if not s then
        return "EREPLY"
    end
    return s
end

-- req is a usable request id (decode_cmd and the reserved names checked
-- it), so what the fragment cannot carry is the value: not UTF-8, or over
-- max_src; it is answered EREPLY under its own req
local function write_seed(self, req, value)
    local stamp = next_stamp(self)
    -- max_src bounds the encoding itself, so a long result costs no more
    local src, err, code = encode_reply(self.src, { { req, value } }, stamp, self.encode_opts)
    if not src and code ~= "EURL" then
        src, err = encode_reply(self.src, { { req, "EREPLY" } }, stamp)
    end
    if not src then
        return nil, err
    end
    self.src = src
    return src
end

-- the bytes "&<req>=<value>" adds to a fragment (the "&" and the pair),
-- measured once per reply; false when a fragment cannot carry the pair
local function pair_size(e)
    local size = e.size
    if size == nil then
        local k = encode_uri_component(e.req)
        local v = k and encode_uri_component(e.value)
        size = v and #k + #v + 2 or false
        e.size = size
    end
    return size
end

-- the newest reply does not fit in a fragment on its own: it becomes EREPLY,
-- in the outbox and in the store
local function shrink(self, e, bytes)
    local rerr = ereply("reply of " .. bytes .. " bytes over the limit of " .. self.max_src .. " bytes")
    e.value = error_envelope(self, rerr)
    e.pair = { e.req, e.value }
    e.size = nil
    local stored = self.store_young[e.req] or self.store_old[e.req]
    if stored then
        stored.value = e.value
    end
end

-- a reply the fragment cannot carry: drop it, say so where the published
-- client looks for a reply without an id
local function unwritable(self, err)
    local e = table.remove(self.outbox)
    self.log("error", "reply to " .. e.req .. " cannot be written: " .. to_text(err))
    return write_seed(self, SEED_REQ, (parse_error(err, "EREPLY")))
end

-- writes the outbox into the src: the newest replies that fit in max_src
-- together (with the mph, hash and v pairs), the oldest waiting for a later
-- write. Each reply is measured once and the src encoded once, so a write
-- costs time linear in the outbox.
local function write_v2(self, now)
    outbox_expire(self, now)
    local outbox = self.outbox
    local n = #outbox
    local stamp = next_stamp(self)
    local hash_pair = self.hash ~= nil and { "hash", self.hash } or nil
    local base, err = encode_reply(self.src, { MPH_PAIR, hash_pair }, stamp)
    if not base then
        return nil, err
    end
    local room = self.max_src - #base
    if room < 0 then
        return nil, "EREPLY: web-view src over max_src even without replies"
    end
    if n == 0 then
        self.src = base
        return base
    end
    local newest = outbox[n]
    if not pair_size(newest) then
        local _, e = encode_reply(self.src, { newest.pair }, stamp)
        return unwritable(self, e)
    end
    if pair_size(newest) > room then
        shrink(self, newest, #base + pair_size(newest))
        if pair_size(newest) > room then
            return nil, "EREPLY: web-view src over max_src even with the newest reply as EREPLY"
        end
    end
    local first, used = n, pair_size(newest)
    for i = n - 1, 1, -1 do
        local size = pair_size(outbox[i])
        if not size or used + size > room then
            break
        end
        used = used + size
        first = i
    end
    local list = { MPH_PAIR }
    for i = first, n do
        list[#list + 1] = outbox[i].pair
    end
    list[#list + 1] = hash_pair
    local src
    src, err = encode_reply(self.src, list, stamp)
    if not src then
        return unwritable(self, err)
    end
    self.src = src
    return src
end

-- the request id a command is answered under, and whether it asked for
-- version 2: nil for no usable id (a reserved name included)
local function answer_to(cmd)
    local mph = cmd.mph
    local v2 = type(mph) == "number" and mph >= 2
    local req = cmd.req
    if req ~= nil and (v2 and RESERVED or SEED_RESERVED)[req] then
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

-- answers a command that never reached a handler
local function answer_error(self, req, v2, code, msg, done)
    local now = clock(self)
    local src, err
    if v2 and req then
        outbox_put(self, req, error_envelope(self, new_error(code, msg)), now)
        src, err = write_v2(self, now)
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
    local cmd, err, code, read = decode_cmd(raw, self.decode_opts)
    if not cmd then
        -- refused for its shape, the command as far as it was read names
        -- whoever sent it
        local req, v2
        if type(read) == "table" then
            req, v2 = answer_to(read)
        end
        local c, msg = parse_error(err, code or "ECMD")
        return answer_error(self, req, v2, code or c, msg, done)
    end

    local mph = cmd.mph
    local req = cmd.req
    if mph == nil or mph == 1 then
        -- seed-compatible: the published reply format
        if req ~= nil and SEED_RESERVED[req] then
            return answer_error(self, nil, false, "ECMD", "request id " .. req
                .. " is the fragment's own key", done)
        end
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

    local now = clock(self)
    if ack then
        outbox_ack(self, ack)
    end
    if hash ~= nil then
        self.hash = hash
    end

    local stored = store_get(self, req, now)
    if stored then
        if stored.api ~= cmd.api then
            return answer_error(self, req, true, "ECMD",
                "request id " .. req .. " was already used for api " .. stored.api, done)
        end
        if stored.value == nil then
            -- running: the first run will write the reply; nothing new to
            -- write now
            return finish(self.src, done)
        end
        outbox_put(self, req, stored.value, now)
        return finish(write_v2(self, now), done)
    end
    if self.running_count >= self.max_running then
        -- not stored: a replay runs it once one of the others has ended
        return answer_error(self, req, true, "EBUSY",
            "already " .. self.running_count .. " handlers running (max_running)", done)
    end

    local entry = { api = cmd.api, at = now }
    self.running[req] = entry
    self.running_count = self.running_count + 1
    local ctx = { req = req, version = 2, shell = self, env = self.env }
    return run(self, cmd, ctx, done, function(e, result)
        local t = clock(self)
        local value = envelope(self, e, result)
        -- the router calls this once: the entry leaves the running ones for
        -- the store
        self.running[req] = nil
        self.running_count = self.running_count - 1
        entry.value, entry.at = value, t
        store_put(self, req, entry)
        outbox_put(self, req, value, t)
        return write_v2(self, t)
    end)
end

return _M
