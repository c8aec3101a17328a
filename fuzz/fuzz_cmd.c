/* Whole commands: core.decode_cmd through a Lua state, on the cmd query
   value exactly as the hybrid page's onLoad receives it (encoded once,
   twice, or already decoded by the platform).

   Every outcome is compared with the same steps composed from the other
   public functions (the value trimmed as JavaScript trims it;
   decode_uri_component until the value starts with '{',
   at most twice; decode_json with the command depth limit; the api, req
   and mph rules), for the default depth limit and a small one: the same command
   table, or the same error code. decode_cmd must never raise on a string. */

#include <stdint.h>
#include <stdio.h>

#include "host.h"

static const char CHECKER[] = FZ_LUA_PRELUDE
  "local decode_cmd, dec, decode_json = core.decode_cmd, core.decode_uri_component, core.decode_json\n"
  "local null, tonumber = core.null, tonumber\n"
  "local ID_MAX, CMD_MAX_DEPTH, CMD_MAX_SIZE = core.limits.max_id, core.limits.max_cmd_depth, core.limits.max_cmd\n"
  "local function bad_id(s)\n"
  "  return type(s) ~= 'string' or #s == 0 or #s > ID_MAX or s:find('[%z\\1-\\31\\127]') ~= nil\n"
  "end\n"
  "-- JavaScript's WhiteSpace and LineTerminator, as UTF-8\n"
  "local SPACES = { ' ', '\\t', '\\n', '\\v', '\\f', '\\r', '\\194\\160', '\\225\\154\\128', '\\226\\128\\168',\n"
  "  '\\226\\128\\169', '\\226\\128\\175', '\\226\\129\\159', '\\227\\128\\128', '\\239\\187\\191' }\n"
  "for c = 128, 138 do SPACES[#SPACES + 1] = '\\226\\128' .. string.char(c) end\n"
  "local function trim(s)\n"
  "  local again = true\n"
  "  while again do\n"
  "    again = false\n"
  "    for _, sp in ipairs(SPACES) do\n"
  "      if #s >= #sp and s:sub(1, #sp) == sp then s, again = s:sub(#sp + 1), true end\n"
  "      if #s >= #sp and s:sub(-#sp) == sp then s, again = s:sub(1, -#sp - 1), true end\n"
  "    end\n"
  "  end\n"
  "  return s\n"
  "end\n"
  "local function expected(s, depth)\n"
  "  if #s > CMD_MAX_SIZE then return nil, 'ESIZE' end\n"
  "  local v = trim(s)\n"
  "  for round = 0, 2 do\n"
  "    if v:find('^[ \\t\\n\\r]*{') then\n"
  "      local t, _, code = decode_json(v, { max_depth = depth })\n"
  "      if t == nil then return nil, code end\n"
  "      if type(t) ~= 'table' or getmetatable(t) ~= nil then return nil, 'ECMD' end\n"
  "      if t.req == null then t.req = nil end\n"
  "      if type(t.req) == 'string' then t.req = trim(t.req) if t.req == '' then t.req = nil end end\n"
  "      if t.req ~= nil and bad_id(t.req) then return nil, 'ECMD' end\n"
  "      if type(t.api) == 'string' then t.api = trim(t.api) end\n"
  "      if bad_id(t.api) then return nil, 'ECMD' end\n"
  "      if t.mph ~= nil and t.mph ~= 1 and not (type(t.mph) == 'number' and t.mph >= 2) then return nil, 'ECMD' end\n"
  "      return t\n"
  "    end\n"
  "    if round == 2 or not v:find('%', 1, true) then return nil, 'ECMD' end\n"
  "    local d, _, code = dec(v)\n"
  "    if d == nil then return nil, code end\n"
  "    v = d\n"
  "  end\n"
  "end\n"
  "local function check(s, depth, opts)\n"
  "  local got, msg, code = decode_cmd(s, opts)\n"
  "  local want, want_code = expected(s, depth)\n"
  "  local what = 'decode_cmd (max_depth ' .. depth .. ')'\n"
  "  if want == nil then\n"
  "    failure(what, { [want_code] = true }, got, msg, code)\n"
  "    return\n"
  "  end\n"
  "  if type(got) ~= 'table' then error(what .. ': refused a good command: ' .. q(msg)) end\n"
  "  if getmetatable(got) ~= nil or bad_id(got.api) or (got.req ~= nil and bad_id(got.req)) then\n"
  "    error(what .. ': returned a command of the wrong shape')\n"
  "  end\n"
  "  if not same(got, want) then error(what .. ': a different command than its steps give') end\n"
  "end\n"
  "return function(s)\n"
  "  check(s, CMD_MAX_DEPTH, nil)\n"
  "  local small = #s % 4 + 1\n"
  "  check(s, small, { max_depth = small })\n"
  "end\n";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fz_lua_open("cmd", CHECKER);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_lua_check(data, size, NULL);
  return 0;
}
