/* On LuaJIT, encode_uri_component and decode_uri_component are reached
   through the FFI: a JIT trace calls an FFI function in a few nanoseconds,
   where a lua_CFunction ends the trace. luaopen_mphybrid_core runs the
   chunk below with the module and the addresses of two plain C functions;
   on a Lua without the "ffi" module, or with MPH_NO_FFI set in the
   environment, it leaves the Lua C API functions in place.

   The FFI functions answer what the C API ones answer: a non-string
   argument, and any input the codec refuses, is handed to the C API
   function, which raises or returns nil, "ECODE: message", "ECODE" as
   always. The codec writes into a buffer the chunk owns, sized for the
   longest output (n bytes decoded, 3n encoded) before the call; an input
   whose longest output passes SCRATCH_KEEP goes to the C API function. */

/* The codec over s[0..n) into out, which holds the longest output. Returns
   the output's length, or -1 when the codec refuses s (the C API function
   tells why). A double: a number to Lua, never a boxed 64-bit cdata. */
static double ffi_uri_encode(const char *s, size_t n, char *out) {
  mph_buf b;
  size_t at;
  mph_buf_init_fixed(&b, out, 3 * n);
  return mph_uri_encode(&b, s, n, &at) == MPH_OK ? (double)b.len : -1;
}

static double ffi_uri_decode(const char *s, size_t n, char *out) {
  mph_buf b;
  size_t at;
  mph_buf_init_fixed(&b, out, n);
  return mph_uri_decode(&b, s, n, 0, &at) == MPH_OK ? (double)b.len : -1;
}

static const char ffi_chunk[] =
  "local core, encode_p, decode_p, keep = ...\n"
  "local ok, ffi = pcall(require, 'ffi')\n"
  "local off = os and os.getenv and os.getenv('MPH_NO_FFI')\n"
  "if not ok or (off and off ~= '') then return end\n"
  "local type, new, str = type, ffi.new, ffi.string\n"
  "local codec_t = ffi.typeof('double (*)(const char *, size_t, char *)')\n"
  "local buf_t = ffi.typeof('char[?]')\n"
  "local buf, cap = new(buf_t, 4096), 4096\n"
  /* a buffer of at least need bytes: the kept one, grown up to `keep`
     bytes; nil past that (the C API path takes longer inputs, which
     ffi.new could not hold past 2 GB) */
  "local function out_buf(need)\n"
  "  if need <= cap then return buf end\n"
  "  if need > keep then return nil end\n"
  "  buf, cap = new(buf_t, need), need\n"
  "  return buf\n"
  "end\n"
  /* NAME: the C API function, called as before when the argument is no
     string, so that it raises the same error (a tail call, as the caller
     called it) */
  "local template = [[\n"
  "local NAME, codec, factor, type, out_buf, str = ...\n"
  "return function(...)\n"
  "  local s = ...\n"
  "  if type(s) ~= 'string' then return NAME(...) end\n"
  "  local n = #s\n"
  "  local b = out_buf(n * factor + 1)\n"
  "  if not b then return NAME(s) end\n"
  "  local len = codec(s, n, b)\n"
  "  if len < 0 then\n"
  "    local r, e, c = NAME(s)\n"
  "    return r, e, c\n"
  "  end\n"
  "  return str(b, len)\n"
  "end]]\n"
  "local function wrap(name, codec, factor)\n"
  "  local make = assert(loadstring(template:gsub('NAME', name), '=mphybrid.core ffi'))\n"
  "  core[name] = make(core[name], ffi.cast(codec_t, codec), factor, type, out_buf, str)\n"
  "end\n"
  "wrap('encode_uri_component', encode_p, 3)\n"
  "wrap('decode_uri_component', decode_p, 1)\n";

/* Runs the chunk over the module on the top of the stack. */
static void open_ffi(lua_State *L) {
  if (luaL_loadbuffer(L, ffi_chunk, sizeof ffi_chunk - 1, "=mphybrid.core ffi") != 0)
    lua_error(L);
  lua_pushvalue(L, -2);
  lua_pushlightuserdata(L, (void *)(uintptr_t)&ffi_uri_encode);
  lua_pushlightuserdata(L, (void *)(uintptr_t)&ffi_uri_decode);
  lua_pushnumber(L, (lua_Number)SCRATCH_KEEP);
  lua_call(L, 4, 0);
}
