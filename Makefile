# mphybrid: build, test, benchmark and demo on Lua 5.1, Lua 5.4 and LuaJIT.
#
#   make            build build/<lua>/mphybrid/core.so for every Lua
#   make test       the busted suite on each Lua, then under ASan+UBSan
#   make demo       one whole exchange, every wire message printed
#   make bench      benchmarks against pure Lua and lua-cjson
#   make fuzz       every libFuzzer target for FUZZ_SECONDS (default 60) each
#   make test-alloc the allocation-failure sweep of every core function
#   make test-valgrind  the busted suite under valgrind memcheck
#   make setup      install the Debian packages all of the above need

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -std=gnu99 -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes
PIC      = -fPIC
LDSHARED = -shared
LIBS     = -lcjson -lpthread -lm

LUAS     = 5.1 5.4 jit
INC_5.1  = -I/usr/include/lua5.1
INC_5.4  = -I/usr/include/lua5.4
INC_jit  = -I/usr/include/luajit-2.1
RUN_5.1  = lua5.1
RUN_5.4  = lua5.4
RUN_jit  = luajit

SRCS     = $(wildcard csrc/*.c)
HDRS     = $(wildcard csrc/*.h csrc/binding/*.c)
BUSTED   = /usr/bin/busted
LUA_PATH_ = lua/?.lua;lua/?/init.lua;spec/?.lua;spec/?/init.lua;;

SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
ASAN_LIB  = $(shell $(CC) -print-file-name=libasan.so)
UBSAN_LIB = $(shell $(CC) -print-file-name=libubsan.so)

.PHONY: all setup test test-5.1 test-5.4 test-jit test-asan test-valgrind test-alloc fuzz demo bench lint clean

all: $(foreach v,$(LUAS),build/$(v)/mphybrid/core.so)

build/%/mphybrid/core.so: $(SRCS) $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(PIC) $(INC_$*) $(SRCS) $(LDSHARED) -o $@ $(LIBS)

build/asan/mphybrid/core.so: $(SRCS) $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) -O1 -g $(WARN) $(SAN_FLAGS) $(PIC) $(INC_5.4) $(SRCS) $(LDSHARED) -o $@ $(LIBS)

setup:
	sh .ci/setup

define run_busted
LUA_PATH='$(LUA_PATH_)' LUA_CPATH='$(1)/?.so;;' $(2) $(BUSTED) -o utfTerminal $(BUSTED_ARGS)
endef

define test_rule
test-$(1): build/$(1)/mphybrid/core.so
	@echo "== busted on $(RUN_$(1))"
	@$$(call run_busted,build/$(1),$(RUN_$(1))) 2>&1 | tee build/test-$(1).log
endef
$(foreach v,$(LUAS),$(eval $(call test_rule,$(v))))

test-asan: build/asan/mphybrid/core.so
	@echo "== busted on lua5.4 under AddressSanitizer and UndefinedBehaviorSanitizer"
	@ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 LD_PRELOAD='$(ASAN_LIB) $(UBSAN_LIB)' \
	 $(call run_busted,build/asan,lua5.4) 2>&1 | tee build/test-asan.log

test-valgrind: build/5.4/mphybrid/core.so
	@echo "== busted on lua5.4 under valgrind memcheck"
	@$(call run_busted,build/5.4,valgrind --error-exitcode=1 --leak-check=full \
	  --errors-for-leak-kinds=definite lua5.4) > build/test-valgrind.log 2>&1; \
	 echo "valgrind exit status: $$?" >> build/test-valgrind.log; \
	 grep -E 'successes|ERROR SUMMARY|definitely lost|in use at exit|exit status' build/test-valgrind.log

test-alloc:
	@mkdir -p build
	@$(MAKE) -s -f tests/alloc/Makefile run > build/test-alloc.log 2>&1; \
	 rc=$$?; tail -n 2 build/test-alloc.log; exit $$rc

FUZZ_SECONDS ?= 60
fuzz:
	@$(MAKE) -s -f fuzz/Makefile run FUZZ_SECONDS=$(FUZZ_SECONDS)

test:
	@sh .ci/test-all

demo: build/5.4/mphybrid/core.so
	LUA_PATH='$(LUA_PATH_)' LUA_CPATH='build/5.4/?.so;;' lua5.4 examples/roundtrip.lua

bench: build/5.4/mphybrid/core.so build/jit/mphybrid/core.so
	@for v in 5.4 jit; do \
	  run=lua$$v; [ $$v = jit ] && run=luajit; \
	  for b in bench/*_bench.lua; do \
	    echo "== $$b on $$run"; \
	    LUA_PATH='$(LUA_PATH_)' LUA_CPATH="build/$$v/?.so;;" $$run $$b || exit 1; \
	  done; \
	done

lint:
	luacheck lua spec bench examples

clean:
	rm -rf build

# each part of the project with targets of its own: mk/<part>.mk
include $(wildcard mk/*.mk)
