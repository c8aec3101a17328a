-- Deterministic pseudo-random numbers, identical on Lua 5.1, Lua 5.4 and
-- LuaJIT: a Park-Miller generator (multiplier 48271, modulus 2^31 - 1)
-- whose products stay below 2^53, so plain number arithmetic is exact on
-- every interpreter and no bit operations are needed.

local floor = math.floor

local M = 2147483647
local TWO26 = 67108864
local TWO52 = 4503599627370496

local prng = {}
prng.__index = prng

function prng.new(seed)
  local x = floor(seed) % M
  if x == 0 then x = 1 end
  return setmetatable({ x = x }, prng)
end

-- 1 .. 2^31 - 2
function prng:next()
  local x = (self.x * 48271) % M
  self.x = x
  return x
end

-- 26 uniform bits: 0 .. 2^26 - 1
function prng:bits26()
  return floor((self:next() - 1) / 32)
end

-- An integer in [lo, hi] (hi - lo < 2^52).
function prng:int(lo, hi)
  local n = hi - lo + 1
  if n <= 65536 then
    return lo + floor((self:next() - 1) * n / (M - 1))
  end
  local r = self:bits26() * TWO26 + self:bits26()
  return lo + floor(r / TWO52 * n)
end

function prng:chance(p)
  return (self:next() - 1) / (M - 1) < p
end

function prng:pick(list)
  return list[self:int(1, #list)]
end

-- x * 2^k, exact whenever the result is representable.
local TWO500 = 1.0
for _ = 1, 500 do TWO500 = TWO500 * 2 end
local INV500 = 1 / TWO500

local function ldexp(x, k)
  x = x + 0.0
  while k > 500 do x = x * TWO500; k = k - 500 end
  while k < -500 do x = x * INV500; k = k + 500 end
  local p = 1.0
  if k >= 0 then
    for _ = 1, k do p = p * 2 end
  else
    for _ = 1, -k do p = p * 0.5 end
  end
  return x * p
end
prng.ldexp = ldexp

-- A finite double made of random bits: sign, biased exponent 0 .. 2046 and a
-- 52-bit mantissa (subnormals and -0 included).
function prng:double_bits()
  local negative = self:int(0, 1) == 1
  local e = self:int(0, 2046)
  local m = self:bits26() * TWO26 + self:bits26()
  local v
  if e == 0 then
    v = ldexp(m, -1074)
  else
    v = ldexp(m + TWO52, e - 1075)
  end
  if negative then v = -v end
  return v
end

return prng
