#!/bin/sh
# make test-rock: installs the rock the way a user does and uses it.
#
#   tests/rock/run.sh ROCK TARBALL ROCKSPEC
#
# ROCK is the .src.rock of make rock, TARBALL the release tarball of make
# dist, ROCKSPEC the rockspec's path inside it (rockspec/...).
#  1. luarocks install ROCK into an empty tree, on Lua 5.1 and on Lua 5.4,
#     with no rocks server and no dependency lookup (nothing is downloaded);
#  2. tests/rock/exchange.lua on each tree, with LUA_PATH and LUA_CPATH
#     naming that tree only, and on LuaJIT with the 5.1 tree;
#  3. luarocks make in the unpacked TARBALL, then make clean there: no file
#     may be left that the tarball does not hold (no .o, no core.so).
# Prints TAP (one "ok" or "not ok" line per check, then the plan "1..N") and
# exits non-zero if any check fails; the logs are in build/rock/.
set -u
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
ROCK=$(abs "$1") TARBALL=$(abs "$2") ROCKSPEC=$3
LUAROCKS=${LUAROCKS:-luarocks}
LUA51=${LUA51:-lua5.1} LUA54=${LUA54:-lua5.4} LUAJIT=${LUAJIT:-luajit}
ROOT=$(pwd)
OUT=$ROOT/build/rock
failed=0 n=0

check() { # NAME LOG COMMAND...: runs COMMAND into LOG, prints a TAP line
  name=$1 log=$2; shift 2
  n=$((n + 1))
  if "$@" >"$log" 2>&1; then
    echo "ok $n - $name"
  else
    echo "not ok $n - $name"; echo "# see $log"; tail -n 15 "$log" | sed 's/^/# /'
    failed=$((failed + 1))
  fi
}

# a proxy that refuses, so that any download fails at once
offline() { http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 "$@"; }

install() { # V TREE
  offline "$LUAROCKS" --lua-version="$1" --tree="$2" --only-server="$OUT/no-server" \
    install --deps-mode=none --no-doc "$ROCK"
}

exchange() { # V TREE INTERPRETER
  LUA_PATH="$2/share/lua/$1/?.lua;$2/share/lua/$1/?/init.lua" LUA_CPATH="$2/lib/lua/$1/?.so" \
    "$3" "$ROOT/tests/rock/exchange.lua" "$2"
}

for v in 5.1 5.4; do
  tree=$OUT/tree-$v
  rm -rf "$tree"
  check "luarocks install $(basename "$ROCK") on Lua $v" "$OUT/install-$v.log" install "$v" "$tree"
  run=$LUA54; [ "$v" = 5.1 ] && run=$LUA51
  check "one exchange through the rock on $run" "$OUT/exchange-$v.log" exchange "$v" "$tree" "$run"
  sed 's/^/# /' "$OUT/exchange-$v.log" | head -n 1
  echo "# installed: $(cd "$tree" 2>/dev/null && find share lib/lua -type f | sort | tr '\n' ' ')"
done
check "one exchange through the rock on $LUAJIT (Lua 5.1 tree)" "$OUT/exchange-jit.log" \
  exchange 5.1 "$OUT/tree-5.1" "$LUAJIT"

# luarocks make from the release, then make clean: nothing may stay behind
make_then_clean() (
  src=$OUT/src
  rm -rf "$src" "$OUT/tree-make" && mkdir -p "$src" &&
  tar -xzf "$TARBALL" -C "$src" &&
  tar -tzf "$TARBALL" >"$OUT/files-released" &&
  sed -i 's|^[^/]*/||; /\/$/d; /^$/d' "$OUT/files-released" && sort -o "$OUT/files-released" "$OUT/files-released" &&
  cd "$src"/mphybrid-* &&
  offline "$LUAROCKS" --lua-version=5.4 --tree="$OUT/tree-make" --only-server="$OUT/no-server" \
    make --deps-mode=none "$ROCKSPEC" &&
  exchange 5.4 "$OUT/tree-make" "$LUA54" &&
  make -s clean &&
  find . -type f | sed 's|^\./||' | sort >"$OUT/files-left" &&
  left=$(comm -13 "$OUT/files-released" "$OUT/files-left") &&
  { [ -z "$left" ] || { echo "left behind by luarocks make after make clean:"; echo "$left"; false; }; }
)
check "luarocks make in the release, then make clean leaves nothing" "$OUT/make.log" make_then_clean

echo "1..$n"
[ "$failed" -eq 0 ]
