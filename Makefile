# mphybrid: build, test, benchmark and demo on Lua 5.1, Lua 5.4 and LuaJIT.
#
#   make            build build/<lua>/mphybrid/core.so for every Lua
#   make test       every run below, closing with "N passed, N failed" (.ci/test-all)
#   make test-5.1, test-5.4, test-jit
#                   the busted suite on one Lua
#   make test-asan  the busted suite on Lua 5.4 under ASan and UBSan
#   make test-valgrind  the busted suite under valgrind memcheck
#   make test-alloc the allocation-failure sweep of every core function
#   make fuzz       every libFuzzer target for FUZZ_SECONDS (default 60) each
#   make lint       luacheck over every Lua file (.luacheckrc)
#   make demo       one whole exchange, every wire message printed
#   make bench      benchmarks against pure Lua and lua-cjson (mk/bench.mk)
#   make setup      install the Debian packages all of the above need
#   make dist, rock, test-rock   the release tarball and the rock (mk/rock.mk)
#
# Every target exits with the status of what it ran. The Luas are found
# through the variables below (Debian's paths by default), for example
#   make LUA54_INCDIR=/usr/local/include LUA54=/usr/local/bin/lua
# BUSTED_OUTPUT picks busted's output handler (.ci/test-all reads TAP);
# BUSTED_ARGS adds options, e.g. BUSTED_ARGS=spec/shell_spec.lua.

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -std=gnu99 -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes
# hidden: calls between the files of the core go straight, not through the
# PLT; only luaopen_mphybrid_core is exported
PIC      = -fPIC -fvisibility=hidden
LDSHARED = -shared
LIBS     = -lcjson -lpthread -lm

# the Luas: headers, interpreters, and the library that embeds Lua 5.4 in the
# fuzz and allocation-sweep hosts
LUA51_INCDIR  ?= /usr/include/lua5.1
LUA54_INCDIR  ?= /usr/include/lua5.4
LUAJIT_INCDIR ?= /usr/include/luajit-2.1
LUA51  ?= lua5.1
LUA54  ?= lua5.4
LUAJIT ?= luajit
LUA54_LIB ?= -llua5.4

LUAS     = 5.1 5.4 jit
INC_5.1  = -I$(LUA51_INCDIR)
INC_5.4  = -I$(LUA54_INCDIR)
INC_jit  = -I$(LUAJIT_INCDIR)
RUN_5.1  = $(LUA51)
RUN_5.4  = $(LUA54)
RUN_jit  = $(LUAJIT)
# passed to the sub-makes of tests/alloc and fuzz, which embed Lua 5.4
SUB_LUA  = LUA_INCDIR='$(LUA54_INCDIR)' LUA_LIB='$(LUA54_LIB)' LUA='$(LUA54)'

SRCS     = $(wildcard csrc/*.c)
HDRS     = $(wildcard csrc/*.h csrc/binding/*.c)
BUSTED  ?= /usr/bin/busted
BUSTED_OUTPUT ?= utfTerminal
LUACHECK ?= luacheck
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

# $(call run_busted,DIR,INTERPRETER): the busted suite with DIR/mphybrid/core.so
define run_busted
LUA_PATH='$(LUA_PATH_)' LUA_CPATH='$(1)/?.so;;' $(2) $(BUSTED) -o $(BUSTED_OUTPUT) $(BUSTED_ARGS)
endef

define test_rule
test-$(1): build/$(1)/mphybrid/core.so
	@echo "== busted on $(RUN_$(1))"
	@$$(call run_busted,build/$(1),$(RUN_$(1)))
endef
$(foreach v,$(LUAS),$(eval $(call test_rule,$(v))))

test-asan: build/asan/mphybrid/core.so
	@echo "== busted on $(LUA54) under AddressSanitizer and UndefinedBehaviorSanitizer"
	@ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 LD_PRELOAD='$(ASAN_LIB) $(UBSAN_LIB)' \
	 $(call run_busted,build/asan,$(LUA54))

# valgrind's own exit status (1) when it finds an error or a definite leak,
# busted's otherwise
test-valgrind: build/5.4/mphybrid/core.so
	@echo "== busted on $(LUA54) under valgrind memcheck"
	@$(call run_busted,build/5.4,valgrind -q --error-exitcode=1 --leak-check=full \
	  --errors-for-leak-kinds=definite $(LUA54))

# prints the totals; the whole log is in build/test-alloc.log
test-alloc:
	@mkdir -p build
	@$(MAKE) -s -f tests/alloc/Makefile run $(SUB_LUA) > build/test-alloc.log 2>&1; \
	 rc=$$?; if [ $$rc -eq 0 ]; then tail -n 2 build/test-alloc.log; else tail -n 40 build/test-alloc.log; fi; \
	 exit $$rc

FUZZ_SECONDS ?= 60
fuzz:
	@$(MAKE) -s -f fuzz/Makefile run FUZZ_SECONDS=$(FUZZ_SECONDS) $(SUB_LUA)

test:
	@sh .ci/test-all

demo: build/5.4/mphybrid/core.so
	LUA_PATH='$(LUA_PATH_)' LUA_CPATH='build/5.4/?.so;;' $(LUA54) examples/roundtrip.lua

# the standards each part may use are in .luacheckrc
lint:
	$(LUACHECK) .

clean:
	rm -rf build
	@# what luarocks make leaves in a checkout
	rm -f csrc/*.o mphybrid/core.so
	@if [ -d mphybrid ]; then rmdir mphybrid; fi

# each part of the project with targets of its own: mk/<part>.mk
include $(wildcard mk/*.mk)
