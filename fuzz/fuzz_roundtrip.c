/* Encode -> decode round trips through mphybrid.core in a Lua state.

   - URI components: encode_uri_component(s) succeeds exactly when s is
     UTF-8, writes only unreserved characters and %XX, and decodes back to s;
     decode(encode(decode(s))) == decode(s).
   - JSON: for every text decode_json accepts, encode_json of the value
     succeeds (unless the value holds a number too large for a double, which
     JSON.stringify cannot write either: EVALUE), decodes back to the same
     value (array marks and integer/float kinds included; -0 reads back as
     0), and encoding that again gives the same text.
   - Queries: the ordered pairs decode_query reads, written by encode_query,
     read back to the same pairs, and writing them again gives the same text.
   - Replies: the input split at its first newline into a request id and a
     value; encode_reply writes them into a web-view src (or refuses a bad
     request id with ECMD, a value that is not UTF-8 with EUTF8), and
     decode_fragment of that src's fragment gives back exactly the request id
     with its value and the stamp. A JSON value goes as encode_json writes
     it. */

#include <stdint.h>

#include "host.h"

static const char CHECKER[] = FZ_LUA_PRELUDE
  "local enc, dec = core.encode_uri_component, core.decode_uri_component\n"
  "local encode_json, decode_json = core.encode_json, core.decode_json\n"
  "local encode_query, decode_query = core.encode_query, core.decode_query\n"
  "local encode_reply, get_fragment, decode_fragment = core.encode_reply, core.get_fragment, core.decode_fragment\n"
  "local SRC, SRC_KEPT = ' https://h5.example.com/p?a=1#old ', 'https://h5.example.com/p?a=1#'\n"
  "local function check_uri(s)\n"
  "  local e, msg, code = enc(s)\n"
  "  if valid_utf8(s) then\n"
  "    if e == nil then error('encode_uri_component refused UTF-8: ' .. q(msg)) end\n"
  "    if e:find(\"[^%w%-_%.!~%*'%(%)%%]\") or e:gsub('%%%x%x', ''):find('%%') or e:find('%%%x?[a-f]') then\n"
  "      error('encode_uri_component wrote ' .. q(e))\n"
  "    end\n"
  "    local back = dec(e)\n"
  "    if back ~= s then error('decode(encode(s)) ~= s') end\n"
  "  else\n"
  "    failure('encode_uri_component', { EUTF8 = true }, e, msg, code)\n"
  "  end\n"
  "  local d = dec(s)\n"
  "  if d ~= nil then\n"
  "    local e2 = enc(d)\n"
  "    if e2 == nil or dec(e2) ~= d then error('decode(encode(decode(s))) ~= decode(s)') end\n"
  "  end\n"
  "end\n"
  "local function has_huge(v)\n"
  "  if type(v) == 'number' then return v == huge or v == -huge end\n"
  "  if type(v) == 'table' then for _, x in pairs(v) do if has_huge(x) then return true end end end\n"
  "  return false\n"
  "end\n"
  "local function check_json(s)\n"
  "  local v = decode_json(s)\n"
  "  if v == nil then return end\n"
  "  local e, msg, code = encode_json(v)\n"
  "  if has_huge(v) then failure('encode_json of an infinity', { EVALUE = true }, e, msg, code); return end\n"
  "  if e == nil then error('encode_json of a decoded value: ' .. q(msg)) end\n"
  "  local v2, msg2 = decode_json(e)\n"
  "  if v2 == nil then error('decode_json of encode_json output: ' .. q(msg2) .. ' in ' .. q(e)) end\n"
  "  if not same(v, v2) then error('decode(encode(decode(x))) ~= decode(x): ' .. q(e)) end\n"
  "  if encode_json(v2) ~= e then error('encode_json is not stable: ' .. q(e)) end\n"
  "  return v, e\n"
  "end\n"
  "local function check_query(s)\n"
  "  local pairs1 = decode_query(s, { ordered = true })\n"
  "  if pairs1 == nil then return end\n"
  "  local text, msg = encode_query(pairs1)\n"
  "  if text == nil then error('encode_query of decoded pairs: ' .. q(msg)) end\n"
  "  local pairs2, msg2 = decode_query(text, { ordered = true })\n"
  "  if pairs2 == nil then error('decode_query of encode_query output: ' .. q(msg2)) end\n"
  "  if not same(pairs1, pairs2) then error('query pairs do not read back: ' .. q(text)) end\n"
  "  if encode_query(pairs2) ~= text then error('encode_query is not stable: ' .. q(text)) end\n"
  "end\n"
  "local function bad_req(r)\n"
  "  return #r == 0 or #r > core.limits.max_id or r:find('[%z\\1-\\31\\127]') ~= nil or r == 'v'\n"
  "    or not valid_utf8(r) or core.trim(r) ~= r\n"
  "end\n"
  "local function read_back(src, req, want, stamp)\n"
  "  if src:sub(1, #SRC_KEPT) ~= SRC_KEPT then error('encode_reply lost the src: ' .. q(src)) end\n"
  "  local t, errs = decode_fragment(get_fragment(src))\n"
  "  if errs ~= nil then error('decode_fragment of a written reply reports errors: ' .. q(src)) end\n"
  "  local n = 0\n"
  "  for _ in pairs(t) do n = n + 1 end\n"
  "  if n ~= 2 or t[req] ~= want or t.v ~= stamp then error('reply does not read back: ' .. q(src)) end\n"
  "end\n"
  "local function check_reply(s, v, e)\n"
  "  local req, value = s:match('^([^\\n]*)\\n(.*)$')\n"
  "  if req == nil then req, value = 'H5Req_k3j2h1g0a', s end\n"
  "  local src, msg, code = encode_reply(SRC, { { req, value } }, 1)\n"
  "  if bad_req(req) then failure('encode_reply', { ECMD = true }, src, msg, code)\n"
  "  elseif not valid_utf8(value) then failure('encode_reply', { EUTF8 = true }, src, msg, code)\n"
  "  else\n"
  "    if src == nil then error('encode_reply refused a good reply: ' .. q(msg)) end\n"
  "    read_back(src, req, value, '1')\n"
  "    if encode_reply(SRC, { [req] = value }, 1) ~= src then error('encode_reply: map and array forms differ') end\n"
  "  end\n"
  "  if v ~= nil then\n"
  "    local src2, msg2 = encode_reply(SRC, { { 'H5Req_json', v } }, 1700000000000)\n"
  "    if src2 == nil then error('encode_reply of a JSON value: ' .. q(msg2)) end\n"
  "    read_back(src2, 'H5Req_json', type(v) == 'string' and v or e, '1700000000000')\n"
  "  end\n"
  "end\n"
  "return function(s)\n"
  "  check_uri(s)\n"
  "  local v, e = check_json(s)\n"
  "  check_query(s)\n"
  "  check_reply(s, v, e)\n"
  "end\n";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fz_lua_open("roundtrip", CHECKER);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_lua_check(data, size, NULL);
  return 0;
}
