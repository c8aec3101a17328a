# The benchmarks of issue 10: mphybrid.core and the round trip against
# what users write without it (README, "Benchmarks"; bench/report.lua says
# how to read the table).
#
#   make bench        the table on Lua 5.4, LuaJIT and Lua 5.1 (BENCH_LUAS):
#                     primitives against lua-cjson and pure Lua, the round
#                     trip against a naive loop; best and median of 7 runs,
#                     the target and "met"/"NOT met" on each row
#   make bench-nginx  the primitives inside an nginx worker (the nginx of
#                     make serve) against cjson and ngx.escape_uri /
#                     ngx.unescape_uri, one fresh nginx per row
#   make bench-jv     what LuaJIT's compiler makes of each row (traces,
#                     aborts and their reasons, blacklisted loops), on
#                     luajit and inside nginx
#   make bench-smoke  all three with BENCH_QUICK=1 (a few calls per run):
#                     fails when a program fails or a row is missing,
#                     never on a figure
#
# BENCH_QUICK=1 on any of them: figures that mean nothing, fast. They exit
# non-zero when mphybrid and a peer disagree on a result (checked before
# timing) or nginx logs an error; a target not met is printed, not failed.

BENCH_LUAS ?= 5.4 jit 5.1
BENCH_PATH  = $(LUA_PATH_)

.PHONY: bench bench-nginx bench-jv bench-smoke

bench: $(foreach v,$(BENCH_LUAS),build/$(v)/mphybrid/core.so)
	@set -e; for v in $(BENCH_LUAS); do \
	  case $$v in 5.1) run=$(LUA51);; 5.4) run=$(LUA54);; *) run=$(LUAJIT);; esac; \
	  LUA_PATH='$(BENCH_PATH)' LUA_CPATH="build/$$v/?.so;;" $$run bench/bench.lua; echo; \
	done

bench-nginx: build/jit/mphybrid/core.so
	@LUA_PATH='$(BENCH_PATH)' LUA_CPATH='build/jit/?.so;;' $(LUAJIT) bench/nginx.lua

bench-jv: build/jit/mphybrid/core.so
	@LUA_PATH='$(BENCH_PATH)' LUA_CPATH='build/jit/?.so;;' $(LUAJIT) bench/bench.lua --jv
	@echo
	@LUA_PATH='$(BENCH_PATH)' LUA_CPATH='build/jit/?.so;;' $(LUAJIT) bench/nginx.lua --jv

bench-smoke: $(foreach v,$(BENCH_LUAS),build/$(v)/mphybrid/core.so)
	@LUA_PATH='$(BENCH_PATH)' LUA_CPATH='build/jit/?.so;;' $(LUAJIT) bench/smoke.lua '$(MAKE)' $(BENCH_LUAS)
