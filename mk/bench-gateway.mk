# make bench-gateway and make soak-gateway.
#
# make bench-gateway: requests per second of the OpenResty gateway against
# a bare Lua location and the same dispatch on OpenResty's built-ins, one
# nginx worker pinned to cpu 0 and wrk pinned to cpu 1 (bench/gateway/run.lua
# says what each row is). BENCH_SECONDS (3) per measurement, BENCH_ROUNDS
# (3) rounds, BENCH_CONNECTIONS (16). Prints figures with "met"/"not met";
# exits non-zero only when a location answers wrongly or nginx logs an error.

BENCH_GATEWAY_PATH = spec/?.lua;bench/gateway/?.lua;;

.PHONY: bench-gateway
bench-gateway: build/jit/mphybrid/core.so
	@LUA_PATH='$(BENCH_GATEWAY_PATH)' $(LUAJIT) bench/gateway/run.lua

# make soak-gateway: SOAK_SECONDS (60) of wrk with valid, invalid and
# oversized commands against the gateway (two workers); checks no worker
# crashed, every request was answered and worker memory stayed flat, and
# prints RSS at start and end (bench/gateway/soak.lua). Exits non-zero on
# a failed check.
SOAK_SECONDS ?= 60

.PHONY: soak-gateway
soak-gateway: build/jit/mphybrid/core.so
	@SOAK_SECONDS=$(SOAK_SECONDS) LUA_PATH='$(BENCH_GATEWAY_PATH)' $(LUAJIT) bench/gateway/soak.lua
