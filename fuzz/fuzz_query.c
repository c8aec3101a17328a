/* Queries and fragments: the pair splitter of csrc/query.c, and
   core.decode_query / core.decode_fragment through a Lua state, each against
   a reference built in Lua from string.gmatch and decode_uri_component:

   - the pairs are the non-empty runs between '&', in order, each split at
     its first '=' (no '=': the whole run is the key, the value is empty);
   - decode_query (ordered or not, '+' as space or not) gives exactly the
     decoded pairs, repeated keys as arrays in order, or the error of the
     first pair that does not decode, naming that pair;
   - decode_fragment never fails: every pair that decodes is in the table
     (a repeated key keeps its last value), every other one is reported with
     its index and raw text, in order. */

#include <stdint.h>
#include <string.h>

#include "../csrc/query.h"
#include "host.h"

static const char CHECKER[] = FZ_LUA_PRELUDE
  "local decode_query, decode_fragment = core.decode_query, core.decode_fragment\n"
  "local dec = core.decode_uri_component\n"
  "local ipairs, tostring = ipairs, tostring\n"
  "local function split(s)\n"
  "  local out = {}\n"
  "  for raw in s:gmatch('[^&]+') do\n"
  "    local eq = raw:find('=', 1, true)\n"
  "    if eq then out[#out + 1] = { raw, raw:sub(1, eq - 1), raw:sub(eq + 1) }\n"
  "    else out[#out + 1] = { raw, raw, '' } end\n"
  "  end\n"
  "  return out\n"
  "end\n"
  /* '+' read as a space: only a raw '+' can be one, so replacing first is the same */
  "local function decode(s, plus)\n"
  "  if plus then s = s:gsub('%+', ' ') end\n"
  "  return dec(s)\n"
  "end\n"
  "local function check_query(s, plus)\n"
  "  local body = s:sub(1, 1) == '?' and s:sub(2) or s\n"
  "  local ordered, map, bad, bad_code = {}, {}, nil, nil\n"
  "  for i, p in ipairs(split(body)) do\n"
  "    local k, _, kc = decode(p[2], plus)\n"
  "    local v, vc\n"
  "    if k then v, _, vc = decode(p[3], plus) end\n"
  "    if v == nil then bad, bad_code = i, kc or vc; break end\n"
  "    ordered[i] = { k, v }\n"
  "    local old = map[k]\n"
  "    if old == nil then map[k] = v\n"
  "    elseif type(old) == 'string' then map[k] = { old, v }\n"
  "    else old[#old + 1] = v end\n"
  "  end\n"
  "  local what = 'decode_query(plus=' .. tostring(plus) .. ')'\n"
  "  local got, msg, code = decode_query(s, { ordered = true, plus = plus })\n"
  "  local got2, msg2, code2 = decode_query(s, { plus = plus })\n"
  "  if bad then\n"
  "    failure(what, { [bad_code] = true }, got, msg, code)\n"
  "    failure(what, { [bad_code] = true }, got2, msg2, code2)\n"
  "    if not msg:find(' in pair ' .. bad .. '$') then error(what .. ': names the wrong pair: ' .. msg .. ', want ' .. bad) end\n"
  "    if msg2 ~= msg then error(what .. ': ordered and not differ: ' .. msg .. ' / ' .. msg2) end\n"
  "    return\n"
  "  end\n"
  "  if not same(got, ordered) then error(what .. ' ordered: wrong pairs') end\n"
  "  if not same(got2, map) then error(what .. ': wrong table') end\n"
  "end\n"
  "local function check_fragment(s)\n"
  "  local body = s:sub(1, 1) == '#' and s:sub(2) or s\n"
  "  local want, errs = {}, {}\n"
  "  for i, p in ipairs(split(body)) do\n"
  "    local k, _, kc = dec(p[2])\n"
  "    local v, vc\n"
  "    if k then v, _, vc = dec(p[3]) end\n"
  "    if v ~= nil then want[k] = v\n"
  "    else errs[#errs + 1] = { index = i, pair = p[1], code = kc or vc } end\n"
  "  end\n"
  "  local t, e = decode_fragment(s)\n"
  "  if not same(t, want) then error('decode_fragment: wrong table') end\n"
  "  if #errs == 0 then\n"
  "    if e ~= nil then error('decode_fragment: errors reported for good pairs') end\n"
  "    return\n"
  "  end\n"
  "  if type(e) ~= 'table' or #e ~= #errs then error('decode_fragment: wrong number of errors') end\n"
  "  for j, w in ipairs(errs) do\n"
  "    local g = e[j]\n"
  "    if g.index ~= w.index or g.pair ~= w.pair or type(g.err) ~= 'string'\n"
  "      or g.err:sub(1, #w.code + 2) ~= w.code .. ': ' then\n"
  "      error('decode_fragment: error ' .. j .. ' is ' .. q(g.index) .. ' ' .. q(g.pair) .. ' ' .. q(g.err)\n"
  "        .. ', want ' .. w.index .. ' ' .. q(w.pair) .. ' ' .. w.code)\n"
  "    end\n"
  "  end\n"
  "end\n"
  "return function(s)\n"
  "  check_query(s, false)\n"
  "  check_query(s, true)\n"
  "  check_fragment(s)\n"
  "end\n";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fz_lua_open("query", CHECKER);
  return 0;
}

/* the splitter itself: maximal non-empty runs between '&', split at '=' */
static void check_pairs(const char *s, size_t n) {
  mph_pairs it;
  mph_pair p;
  size_t amps = 0, covered = 0, i;
  const char *last_end = s;
  for (i = 0; i < n; i++) amps += s[i] == '&';
  mph_pairs_init(&it, s, n);
  while (mph_pairs_next(&it, &p)) {
    const char *eq;
    FZ_ASSERT(p.raw >= last_end && p.raw_len > 0 && p.raw + p.raw_len <= s + n,
              "pair out of order or out of bounds");
    FZ_ASSERT(p.raw == s || p.raw[-1] == '&', "pair does not start after '&'");
    FZ_ASSERT(p.raw + p.raw_len == s + n || p.raw[p.raw_len] == '&', "pair does not end at '&'");
    FZ_ASSERT(memchr(p.raw, '&', p.raw_len) == NULL, "pair holds '&'");
    eq = (const char *)memchr(p.raw, '=', p.raw_len);
    FZ_ASSERT(p.key == p.raw, "key does not start the pair");
    if (eq) {
      FZ_ASSERT(p.has_eq && p.key_len == (size_t)(eq - p.raw) && p.value == eq + 1 &&
                    p.value_len == p.raw_len - p.key_len - 1,
                "pair not split at its first '='");
    } else {
      FZ_ASSERT(!p.has_eq && p.key_len == p.raw_len && p.value_len == 0,
                "pair without '=' not read as a key");
    }
    covered += p.raw_len;
    last_end = p.raw + p.raw_len;
  }
  FZ_ASSERT(covered + amps == n, "pairs cover %zu of %zu bytes", covered + amps, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_pairs((const char *)data, size);
  fz_lua_check(data, size, NULL);
  return 0;
}
