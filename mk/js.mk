# The H5 client in JavaScript (js/): the npm package mphybrid and its tests.
#
#   make test-js   node --test over js/test/*.test.js: the client on a fake
#                  window, the drop-in against the published library (read
#                  from ../shared), the cross-check against the Lua client
#                  (needs build/5.4), and npm pack; npm ci first when js/ has
#                  devDependencies and no node_modules. The whole TAP output
#                  goes to build/test-js.log; it prints the failures and
#                  node's summary (# tests, # pass, # fail, ...).

.PHONY: test-js

test-js: build/5.4/mphybrid/core.so
	@echo "== node --test on js/"
	@if [ ! -d js/node_modules ] && grep -q '"devDependencies"' js/package.json; then \
	  (cd js && npm ci --no-audit --no-fund) || exit 1; \
	fi
	@cd js && node --test test/*.test.js > ../build/test-js.log 2>&1; rc=$$?; \
	 grep -E '^ *not ok|^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ' ../build/test-js.log; \
	 exit $$rc
