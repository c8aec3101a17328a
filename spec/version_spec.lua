-- One version: csrc/version.h's, which mphybrid.core exports as _VERSION.
-- The rockspec, every Lua module, NEWS.md and (when there is one) the npm
-- package read or repeat it, and the rockspec builds every C file and every
-- Lua module of the tree.
local core = require "mphybrid.core"
local paths = require "helpers.paths"

local root = paths.repo_root()
local version = core._VERSION

local files_under = paths.files_under

-- a rockspec's fields, read as the Lua it is, with nothing else in reach
local function load_rockspec(path)
  local text = assert(paths.read_file(root .. "/" .. path), path)
  local fields = {}
  local chunk
  local setfenv, loadstring = rawget(_G, "setfenv"), rawget(_G, "loadstring")
  if setfenv then
    chunk = assert(loadstring(text, "=" .. path))
    setfenv(chunk, fields)
  else
    chunk = assert(load(text, "=" .. path, "t", fields))
  end
  chunk()
  return fields
end

-- lua/mphybrid/init.lua -> mphybrid, lua/mphybrid/a/b.lua -> mphybrid.a.b
local function module_name(file)
  return (file:gsub("^lua/", ""):gsub("/init%.lua$", ""):gsub("%.lua$", ""):gsub("/", "."))
end

describe("the version", function()
  it("is written once, in csrc/version.h, and is what mphybrid.core says", function()
    assert.matches("^%d+%.%d+%.%d+$", version)
    local header = assert(paths.read_file(root .. "/csrc/version.h"))
    assert.are.equal(version, header:match('#define MPH_VERSION "([^"]*)"'))
    local literal = {}
    for _, file in ipairs(files_under("csrc", "%.[ch]$")) do
      if file ~= "csrc/version.h" and paths.read_file(root .. "/" .. file):find('"%d+%.%d+%.%d+"') then
        literal[#literal + 1] = file
      end
    end
    assert.are.same({}, literal)
  end)

  it("is every Lua module's _VERSION, read from the core and never written", function()
    local modules = files_under("lua", "%.lua$")
    assert.is_true(#modules > 0)
    for _, file in ipairs(modules) do
      local text = paths.read_file(root .. "/" .. file)
      assert.is_nil(text:match("_VERSION%s*=%s*[\"'%[]"), file .. " writes a version of its own")
      local ok, m = pcall(require, module_name(file))
      -- a module for nginx (it names ngx or resty.*) may not load outside
      -- it: the text rule above checks it
      local for_nginx = text:find("ngx", 1, true) or text:find("resty%.")
      if ok or not for_nginx then
        assert(ok, m)
        assert.are.equal(version, m._VERSION, file)
      end
    end
  end)

  it("heads NEWS.md", function()
    local news = assert(paths.read_file(root .. "/NEWS.md"), "NEWS.md")
    assert.are.equal(version, news:match("\n## (%d+%.%d+%.%d+)"))
  end)

  it("is the npm package's, when there is one", function()
    local package_json = paths.read_file(root .. "/js/package.json")
    if package_json then
      assert.are.equal(version, package_json:match('"version"%s*:%s*"([^"]*)"'))
    end
  end)
end)

describe("the rockspec", function()
  local files = files_under("rockspec", "%.rockspec$")
  local released = "rockspec/mphybrid-" .. version .. "-1.rockspec"

  it("exists for this version, and every rockspec is named by its version", function()
    assert.is_true(#files > 0)
    local this = false
    for _, file in ipairs(files) do
      local spec = load_rockspec(file)
      assert.are.equal("mphybrid", spec.package)
      assert.are.equal("rockspec/" .. spec.package .. "-" .. spec.version .. ".rockspec", file)
      local v = spec.version:match("^(.-)%-%d+$")
      assert(v == version or v == "scm" or v == "dev", file .. " is for version " .. tostring(v))
      if v == version then this = true end
    end
    assert.is_true(this, "no rockspec/mphybrid-" .. version .. "-<rev>.rockspec")
  end)

  it("installs from the release tarball of this version", function()
    local spec = load_rockspec(released)
    assert.are.equal("mphybrid-" .. version, spec.source.dir)
    assert.matches("/mphybrid%-" .. version:gsub("%.", "%%.") .. "%.tar%.gz$", spec.source.url)
    assert.matches("^https://", spec.source.url)
    assert.matches("^https://", spec.description.homepage)
    assert.are.equal("MIT", spec.description.license)
    assert.are.same({ "unix" }, spec.supported_platforms)
    assert.matches("^MIT License\n\nCopyright %(c%) 2026 the mphybrid authors\n",
      assert(paths.read_file(root .. "/LICENSE"), "LICENSE"))
  end)

  it("builds mphybrid.core from every C file at the top of csrc/ and installs every Lua module", function()
    local spec = load_rockspec(released)
    -- csrc/binding/*.c are included by mphybrid.c, not compiled on their own
    local c_files = files_under("csrc", "^csrc/[^/]+%.c$")
    local sources = {}
    for _, s in ipairs(spec.build.modules["mphybrid.core"].sources) do sources[#sources + 1] = s end
    table.sort(sources)
    assert.are.same(c_files, sources)

    local expected = { ["mphybrid.core"] = "(C)" }
    for _, file in ipairs(files_under("lua", "%.lua$")) do expected[module_name(file)] = file end
    local listed = {}
    for name, v in pairs(spec.build.modules) do
      listed[name] = type(v) == "string" and v or "(C)"
    end
    assert.are.same(expected, listed)
  end)
end)
