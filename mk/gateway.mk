# The OpenResty gateway (docs/GATEWAY.md).
#
#   make serve          nginx in the foreground with examples/openresty:
#                       the gateway at http://127.0.0.1:$(PORT)/mphybrid,
#                       metrics at /metrics; prefix build/serve/$(PORT)/
#   make reload         the same nginx (same PORT) reads its handlers again
#   make test-gateway   the gateway specs alone (they also run in make test)
#
#   PORT=8080                 the port on 127.0.0.1
#   HANDLERS=<file>           a Lua file returning your handler table
#   STORE=redis://h:p/db      the store on Redis (several nodes share it)

PORT     ?= 8080
SERVE_DIR = build/serve/$(PORT)
NGINX    ?= /usr/sbin/nginx

.PHONY: serve reload test-gateway

# the gateway runs nginx's LuaJIT: the core built for it must be there
# whenever the specs run
test-5.1 test-5.4 test-jit test-asan test-valgrind: build/jit/mphybrid/core.so

$(SERVE_DIR)/conf/nginx.conf: examples/openresty/nginx.conf
	@mkdir -p $(SERVE_DIR)/conf $(SERVE_DIR)/logs $(SERVE_DIR)/tmp
	@ln -sfn $(CURDIR)/lua $(SERVE_DIR)/lua
	@ln -sfn $(CURDIR)/examples $(SERVE_DIR)/examples
	@ln -sfn $(CURDIR)/build/jit $(SERVE_DIR)/lib
	@sed 's/listen 127\.0\.0\.1:8080;/listen 127.0.0.1:$(PORT);/' $< > $@

serve: build/jit/mphybrid/core.so $(SERVE_DIR)/conf/nginx.conf
	@test -x $(NGINX) || { echo "make serve: $(NGINX) is missing: run make setup"; exit 1; }
	@if [ -n "$(HANDLERS)" ] && [ ! -r "$(HANDLERS)" ]; then \
	  echo "make serve: HANDLERS=$(HANDLERS): no such file"; exit 1; fi
	@echo "mphybrid gateway on http://127.0.0.1:$(PORT)/mphybrid (Ctrl-C stops it)"
	@echo "  simulator: http://127.0.0.1:$(PORT)/ (H5 pages from $(H5_ROOT), any of them with /?page=/h5/<file>)"
	@echo "  handlers: $(if $(HANDLERS),$(HANDLERS),examples/openresty/handlers.lua)"
	@echo "  store:    $(if $(STORE),$(STORE),lua_shared_dict (this nginx only))"
	@echo "  logs:     $(SERVE_DIR)/logs/access.log (one line per command), errors here"
	@echo "try:"
	@echo "  curl -s 'http://127.0.0.1:$(PORT)/mphybrid?session=try-0123456789abcdef&src=https%3A%2F%2Fh5.example.com%2F&cmd=%7B%22req%22%3A%22H5Req_1%22%2C%22api%22%3A%22echo%22%2C%22params%22%3A%7B%22hello%22%3A%22world%22%7D%2C%22mph%22%3A2%7D'"
	@echo "  curl -s -d '{\"cmd\":\"{\\\"req\\\":\\\"H5Req_2\\\",\\\"api\\\":\\\"slow\\\",\\\"mph\\\":2}\",\"src\":\"https://h5.example.com/\",\"session\":\"try-0123456789abcdef\"}' http://127.0.0.1:$(PORT)/mphybrid"
	@echo "  curl -s 'http://127.0.0.1:$(PORT)/mphybrid?session=try-0123456789abcdef&src=https%3A%2F%2Fh5.example.com%2F&cmd=%7B%22req%22%3A%22H5Req_3%22%2C%22api%22%3A%22whoami%22%2C%22mph%22%3A2%2C%22ack%22%3A%5B%22H5Req_1%22%5D%7D'"
	@echo "  curl -s http://127.0.0.1:$(PORT)/metrics"
	@MPHYBRID_HANDLERS='$(if $(HANDLERS),$(abspath $(HANDLERS)))' MPHYBRID_STORE='$(STORE)' \
	  $(NGINX) -p $(CURDIR)/$(SERVE_DIR)/ -c conf/nginx.conf -e stderr \
	  -g 'daemon off; error_log stderr warn;' \
	  || { echo "make serve: nginx stopped with an error (see above)"; exit 1; }

reload:
	$(NGINX) -p $(CURDIR)/$(SERVE_DIR)/ -c conf/nginx.conf -e stderr -s reload

test-gateway: build/5.4/mphybrid/core.so build/jit/mphybrid/core.so
	@$(call run_busted,build/5.4,$(LUA54)) spec/gateway_spec.lua spec/store_spec.lua spec/store_shdict_spec.lua \
	  spec/gateway_redis_spec.lua spec/store_redis_spec.lua
