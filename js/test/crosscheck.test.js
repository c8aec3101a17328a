"use strict";
// One wire, two clients: the Lua client and the Lua shell run the scenarios
// of test/lua/crosscheck.lua; the JS client runs the same steps and must
// write byte-identical command URLs and read every fragment to the same
// results.
const { describe, it } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const { harness, flush } = require("./fakes.js");
const have = require("./have.js");

const ROOT = path.resolve(__dirname, "../..");
const CORE = path.join(ROOT, "build/5.4/mphybrid/core.so");
const SRC = "https://h5.example.com/shop/index.html?from=mp";

const skip = !fs.existsSync(CORE) ? "no " + CORE + " (run make first)"
  : !have("lua5.4", "-v") ? "no lua5.4" : false;

function luaScenarios() {
  const out = execFileSync("lua5.4", [path.join(__dirname, "lua/crosscheck.lua")], {
    cwd: ROOT,
    env: Object.assign({}, process.env, {
      LUA_PATH: "lua/?.lua;lua/?/init.lua;;",
      LUA_CPATH: "build/5.4/?.so;;",
    }),
    encoding: "utf8",
  });
  return JSON.parse(out);
}

// what the Lua script prints for a call's outcome
function outcomeOf(id, err, result) {
  if (err) {
    const o = { id, code: err.code, message: err.message };
    if (err.data !== undefined) o.data = err.data;
    return o;
  }
  return { id, result };
}

// EESCAPE messages name the position of the bad escape in the Lua client's
// own words; the code is what the two clients share
function comparable(list) {
  return list.map((o) => (o.code === "EESCAPE" ? { id: o.id, code: o.code } : o));
}

async function replay(sc) {
  let nextId = null;
  const h = harness({
    href: sc.hash === undefined ? SRC : SRC + "#" + sc.hash,
    client: {
      protocol: sc.protocol,
      maxUrl: sc.max_url,
      hash: sc.hash !== undefined,
      newReqId: () => nextId,
      log: () => {},
    },
  });
  const controllers = new Map();
  let seen = []; // outcomes of the step under way
  for (const [i, step] of sc.steps.entries()) {
    const where = sc.name + ", step " + (i + 1) + " (" + step.kind + (step.id ? " " + step.id : "") + ")";
    seen = [];
    let received = null;
    if (step.kind === "call") {
      nextId = step.id;
      const ac = new AbortController();
      controllers.set(step.id, ac);
      const opts = { signal: ac.signal };
      if (step.timeout !== undefined) opts.timeout = step.timeout;
      const before = h.sent.length;
      h.client.call(step.api, step.params === undefined ? undefined : JSON.parse(step.params), opts)
        .then((r) => seen.push(outcomeOf(step.id, null, r)), (e) => seen.push(outcomeOf(step.id, e)));
      h.timers.advance(0);
      if (step.url === undefined) {
        assert.equal(h.sent.length, before, where + ": nothing is sent");
      } else {
        assert.equal(h.sent.length, before + 1, where + ": one navigateTo");
        assert.equal(h.sent[before], step.url, where + ": the command URL");
      }
    } else if (step.kind === "expire") {
      h.timers.advance(step.ms);
    } else if (step.kind === "cancel") {
      controllers.get(step.id).abort();
    } else if (step.kind === "route") {
      h.win.route(step.route);
    }
    if (step.src !== undefined) {
      received = h.client.receive(step.src);
      assert.equal(received.delivered, step.delivered, where + ": replies delivered from " + step.src);
      assert.equal(received.hash, step.hash, where + ": the page's fragment carried");
    }
    await flush();
    h.timers.advance(0);
    assert.deepEqual(comparable(seen), comparable(step.outcomes), where + ": outcomes");
  }
}

describe("the JS client and the Lua client", { skip }, () => {
  const scenarios = skip ? [] : luaScenarios();
  it("run the same scenarios from the Lua script", () => {
    assert.ok(scenarios.length >= 7);
  });
  for (const sc of scenarios) {
    it("write the same URLs and read the same fragments alike: " + sc.name, () => replay(sc));
  }
});
