# The simulator of make serve (sim/): the H5 page in a web-view frame, the
# mini-program pages of examples/miniprogram run in the browser, a timeline.
#
#   make serve            also serves the simulator at http://127.0.0.1:$(PORT)/
#   H5_ROOT=<dir>         the H5 pages served under /h5/ (examples/h5 by default)
#   make test-sim         the end-to-end test: headless Chromium (/usr/bin/chromium,
#                         driven by playwright-core) against a real make serve on
#                         a free port; node's summary (# tests, # pass, # fail...)
#                         and the failures are printed, the TAP output goes to
#                         build/test-sim.log, the screenshot to
#                         build/sim/simulator.png
#
# The npm packages (weixin-js-sdk, playwright-core) come from
# sim/package-lock.json with npm ci; no browser is ever downloaded.

H5_ROOT  ?= examples/h5
CHROMIUM ?= /usr/bin/chromium

.PHONY: serve-sim test-sim

sim/node_modules/.package-lock.json: sim/package-lock.json
	@cd sim && npm ci --no-audit --no-fund

# what the simulator's locations in examples/openresty/nginx.conf lead to
serve-sim: sim/node_modules/.package-lock.json $(SERVE_DIR)/conf/nginx.conf
	@test -d "$(H5_ROOT)" || { echo "make serve: H5_ROOT=$(H5_ROOT): no such directory"; exit 1; }
	@ln -sfn $(CURDIR)/sim $(SERVE_DIR)/sim
	@ln -sfn $(CURDIR)/js $(SERVE_DIR)/js
	@ln -sfn $(abspath $(H5_ROOT)) $(SERVE_DIR)/h5

serve: serve-sim

test-sim: sim/node_modules/.package-lock.json build/jit/mphybrid/core.so
	@test -x $(CHROMIUM) || { echo "make test-sim: $(CHROMIUM) is missing: run make setup"; exit 1; }
	@mkdir -p build/sim
	@echo "== node --test on sim/ (headless Chromium against make serve)"
	@cd sim && CHROMIUM=$(CHROMIUM) node --test test/*.test.js > ../build/test-sim.log 2>&1; rc=$$?; \
	 grep -E '^ *not ok|^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ' ../build/test-sim.log; \
	 exit $$rc
