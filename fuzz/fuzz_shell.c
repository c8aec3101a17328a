/* The Lua layer under a hostile page: mphybrid.shell and mphybrid.client
   (lua/mphybrid/, run on the instrumented core) in a Lua state.

   The input is up to 8 lines. Each line goes to a fresh shell as the cmd
   option of onLoad, as the platform hands it over (the raw line; and, when
   it decodes, the line percent-decoded once, as some devices do). Then each
   line goes to a client with three calls in flight as a web-view src or
   fragment, and finally the last src the shell wrote.

   - on_load never raises, always writes a src within max_src that keeps the
     page's URL, and asks to navigate back (every handler here answers at
     once); its fragment decodes without errors and ends with v=;
   - receive never raises; no callback runs twice; a call is either in
     flight or answered. */

#include <stdint.h>

#include "host.h"

#ifndef FUZZ_ROOT
#define FUZZ_ROOT "."
#endif

static const char CHECKER[] = FZ_LUA_PRELUDE
  /* FUZZ_LUA_DIR: another copy of lua/ to fuzz (e.g. with a fix being tried) */
  "local dir = os.getenv('FUZZ_LUA_DIR') or '" FUZZ_ROOT "/lua'\n"
  "package.path = dir .. '/?.lua;' .. dir .. '/?/init.lua;' .. package.path\n"
  "local router, shell, client = require 'mphybrid.router', require 'mphybrid.shell', require 'mphybrid.client'\n"
  "local SRC = 'https://h5.example.com/p?a=1#/route'\n"
  "local KEPT = 'https://h5.example.com/p?a=1#'\n"
  "local quiet = function() end\n"
  "local r = router.new({ log = quiet })\n"
  "r:register('ping', function(p) return p end)\n"
  "r:register('async', function(p, ctx, reply) reply(p) end, { async = true })\n"
  "r:register('boom', function() error('boom') end)\n"
  "r:register('none', function() return nil end)\n"
  "r:register('fail', function(p) return nil, { code = 'EPAY', message = 'declined', data = p } end)\n"
  "r:register('checked', function(p) return p.n end, { params = { n = 'integer' } })\n"
  "local clock = 1700000000000\n"
  "local function now() return clock end\n"
  "local function check_src(s, src, back, why, line)\n"
  "  if type(src) ~= 'string' then error('on_load wrote no src (' .. q(why) .. ') for ' .. q(line)) end\n"
  "  if back ~= true then error('on_load did not navigate back for ' .. q(line)) end\n"
  "  if #src > shell.defaults.max_src then error('src over max_src: ' .. #src) end\n"
  "  if src:sub(1, #KEPT) ~= KEPT then error('src lost the page URL: ' .. q(src:sub(1, 80))) end\n"
  "  local t, errs = core.decode_fragment(core.get_fragment(src))\n"
  "  if errs ~= nil then error('the shell wrote a fragment with bad pairs: ' .. q(src)) end\n"
  "  if not src:find('&v=%d+$') and not src:find('#v=%d+$') then error('fragment does not end with v=: ' .. q(src)) end\n"
  "end\n"
  "return function(input)\n"
  "  local lines = {}\n"
  "  for line in (input .. '\\n'):gmatch('([^\\n]*)\\n') do\n"
  "    if #lines == 8 then break end\n"
  "    lines[#lines + 1] = line\n"
  "  end\n"
  "  local s = assert(shell.new({ router = r, src = SRC, now = now, log = quiet }))\n"
  "  for _, line in ipairs(lines) do\n"
  "    clock = clock + 1\n"
  "    check_src(s, s:on_load({ cmd = line }))\n"
  "    local once = core.decode_uri_component(line)\n"
  "    if once and once ~= line then check_src(s, s:on_load({ cmd = once })) end\n"
  "  end\n"
  /* a page with three calls in flight, receiving hostile srcs and fragments */
  "  local ids, k = { 'H5Req_a', 'H5Req_b', 'H5Req_c' }, 0\n"
  "  local c = client.new({ navigate = function() return true end, now = now, log = quiet,\n"
  "    new_req_id = function() k = k + 1 return ids[k] end })\n"
  /* (the client runs callbacks under pcall: a failure is recorded, not raised) */
  "  local answered, twice = {}, nil\n"
  "  for i = 1, 3 do\n"
  "    c:call('ping', { i = i }, function(err, result)\n"
  "      if answered[i] then twice = i end\n"
  "      answered[i] = true\n"
  "    end)\n"
  "  end\n"
  "  local total = 0\n"
  "  for _, line in ipairs(lines) do\n"
  "    total = total + c:receive(line)\n"
  "    if twice then error('the callback of call ' .. twice .. ' ran twice, receiving ' .. q(line)) end\n"
  "  end\n"
  "  total = total + c:receive(s:get_src())\n"
  "  if twice then error('the callback of call ' .. twice .. ' ran twice') end\n"
  "  local n = 0\n"
  "  for i = 1, 3 do if answered[i] then n = n + 1 end end\n"
  "  if n ~= total or c:pending() ~= 3 - n then\n"
  "    error('receive counted ' .. total .. ' replies, ' .. n .. ' callbacks ran, ' .. c:pending() .. ' in flight')\n"
  "  end\n"
  "end\n";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fz_lua_open("shell", CHECKER);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_lua_check(data, size, NULL);
  return 0;
}
