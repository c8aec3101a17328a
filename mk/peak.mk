# decode_json's peak memory (tests/alloc/peak_host.c):
#
#   make test-peak   decode texts of 16 MiB (PEAK_MIB) of several shapes in a
#                    Lua 5.4 state with a counting allocator; print the peak,
#                    the result's own size and the difference as multiples of
#                    the text; fail when the difference is over the bound

.PHONY: test-peak
test-peak:
	@$(MAKE) -s -f tests/alloc/Makefile peak $(SUB_LUA)
