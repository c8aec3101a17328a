# The release: its tarball, its rock, and a test that installs the rock.
#
#   make dist       build/dist/mphybrid-<version>.tar.gz: git archive of
#                   DIST_REF (default HEAD, so commit first) under the prefix
#                   mphybrid-<version>/, as the release tarball is made
#   make rock       build/rock/mphybrid-<version>-<rev>.src.rock: luarocks pack
#                   of rockspec/mphybrid-<version>-<rev>.rockspec on that
#                   tarball, offline (its source.url is pointed at the tarball
#                   and given the tarball's md5)
#   make test-rock  installs the .src.rock with luarocks into empty trees on
#                   Lua 5.1 and 5.4 with no network, loads it there and in
#                   LuaJIT (on the 5.1 tree) and runs one exchange through the
#                   installed modules; then runs luarocks make in the unpacked
#                   release and checks that make clean leaves nothing behind
#                   (tests/rock/run.sh)
#
# The version is csrc/version.h's, the only place it is written.

VERSION  := $(shell sed -n 's/^\#define MPH_VERSION "\(.*\)"$$/\1/p' csrc/version.h)
ROCKSPEC := $(lastword $(sort $(wildcard rockspec/mphybrid-$(VERSION)-*.rockspec)))
DIST_REF ?= HEAD
DIST     := build/dist/mphybrid-$(VERSION).tar.gz
SRC_ROCK := build/rock/$(notdir $(ROCKSPEC:.rockspec=.src.rock))
LUAROCKS ?= luarocks

.PHONY: dist rock test-rock

dist:
	@test -n "$(ROCKSPEC)" || { echo "no rockspec/mphybrid-$(VERSION)-*.rockspec"; exit 1; }
	@mkdir -p $(dir $(DIST))
	git archive --format=tar.gz --prefix=mphybrid-$(VERSION)/ -o $(DIST) $(DIST_REF)
	@echo "$(DIST)"

rock: dist
	@rm -rf build/rock && mkdir -p build/rock
	@sed -e 's|^  url = .*|  url = "file://$(abspath $(DIST))",|' \
	     -e "s|^  dir = |  md5 = \"$$(md5sum $(DIST) | cut -d' ' -f1)\",\n  dir = |" \
	     $(ROCKSPEC) > build/rock/$(notdir $(ROCKSPEC))
	@grep -q '^  url = "file://' build/rock/$(notdir $(ROCKSPEC)) || { echo "$(ROCKSPEC): no source url line"; exit 1; }
	cd build/rock && $(LUAROCKS) pack $(notdir $(ROCKSPEC))
	@echo "$(SRC_ROCK)"

test-rock: rock
	@LUAROCKS='$(LUAROCKS)' LUA51='$(LUA51)' LUA54='$(LUA54)' LUAJIT='$(LUAJIT)' \
	 sh tests/rock/run.sh $(SRC_ROCK) $(DIST) $(ROCKSPEC)
