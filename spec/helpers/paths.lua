-- Where the repository and its neighbours are, wherever the specs run from.

local paths = {}

-- This file is <root>/spec/helpers/paths.lua.
function paths.repo_root()
  local source = debug.getinfo(1, "S").source
  local file = source:sub(1, 1) == "@" and source:sub(2) or "spec/helpers/paths.lua"
  local root = file:match("^(.-)/?spec/helpers/paths%.lua$")
  if root == nil or root == "" then
    return file:sub(1, 1) == "/" and "/" or "."
  end
  return root
end

-- The shared folder that sits beside the repository (../shared).
function paths.shared_dir()
  return paths.repo_root() .. "/../shared"
end

function paths.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- Writes text into path (replacing it); raises when it cannot.
function paths.write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- s quoted for sh: '...' with every ' written '\''
function paths.shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- A new temporary file holding text; returns its path (the caller removes it).
function paths.temp_file(text)
  local path = os.tmpname()
  paths.write_file(path, text)
  return path
end

-- Names in a directory (sorted), or nil when it cannot be listed.
function paths.list_dir(dir)
  local f = io.open(dir, "rb")
  if not f then return nil end
  f:close()
  local p = io.popen('ls -1 "' .. dir .. '" 2>/dev/null')
  if not p then return nil end
  local names = {}
  for name in p:lines() do names[#names + 1] = name end
  p:close()
  table.sort(names)
  return names
end

-- Files under dir (relative to the repository's root, sorted) whose path
-- matches pattern, named as from the root.
function paths.files_under(dir, pattern)
  local found = {}
  local p = assert(io.popen('cd "' .. paths.repo_root() .. '" && find ' .. dir .. ' -type f | sort'))
  for name in p:lines() do
    if name:match(pattern) then found[#found + 1] = name end
  end
  p:close()
  return found
end

return paths
