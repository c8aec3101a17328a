-- What a web-view src's fragment carries, for specs of the shell's writes.

local core = require "mphybrid.core"

local fragments = {}

-- the replies a src carries: { [key] = value } from its fragment
function fragments.fragment(src)
  return (core.decode_fragment(core.get_fragment(src)))
end

-- the fragment's keys in the order written
function fragments.keys(src)
  local out = {}
  for pair in core.get_fragment(src):gmatch("[^&]+") do
    out[#out + 1] = core.decode_uri_component(pair:match("^[^=]*"))
  end
  return out
end

-- the version 2 reply to req in src, decoded
function fragments.envelope(src, req)
  local value = fragments.fragment(src)[req]
  return value and core.decode_json(value)
end

return fragments
