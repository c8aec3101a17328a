"use strict";
// Batches: once the shell has written a version 2 fragment, the calls
// queued while a command is on its way go together in one navigateTo,
// {"mph":2,"batch":[...],"ack":[...],"hash":"..."}, within maxUrl.
const { describe, it } = require("node:test");
const assert = require("node:assert/strict");
const { harness, outcome, flush, commandOf } = require("./fakes.js");

function fixedIds() {
  let n = 0;
  return () => "H5Req_" + String(n++).padStart(9, "0");
}

// a client that has heard one version 2 reply (to its call "first"), and
// whose wire is free again
async function talking(opts = {}) {
  const h = harness({ client: Object.assign({ newReqId: fixedIds() }, opts) });
  const first = outcome(h.client.call("first"));
  h.timers.advance(0);
  h.replyV2([[h.cmd().req, { result: 1 }]]);
  await flush();
  assert.equal(first.value, 1);
  return h;
}

// calls made in one tick: the wire is free, so they go as one batch (or
// several, past maxUrl or maxBatch)
function flood(h, n, params = (i) => ({ i })) {
  const outs = [];
  for (let i = 0; i < n; i++) outs.push(outcome(h.client.call("n" + i, params(i))));
  h.timers.advance(0);
  return outs;
}

describe("batches", () => {
  it("are never sent before the shell has written a version 2 fragment", async () => {
    const h = harness({ client: { newReqId: fixedIds() } });
    flood(h, 3);
    assert.equal(h.sent.length, 1);
    h.replyV1(h.cmd().req, "0");
    h.timers.advance(0);
    assert.equal(h.sent.length, 2);
    assert.equal(h.cmd().batch, undefined);
    assert.equal(h.cmd().api, "n1");
  });

  it("are not turned on by a fragment that answers none of the client's commands", async () => {
    const h = harness({ client: { newReqId: fixedIds() } });
    h.win.route("mph=2&x=1&v=5");
    h.replyV2([["H5Req_other", { result: 1 }]]);
    flood(h, 3);
    h.replyV1(h.cmd().req, "0");
    h.timers.advance(0);
    assert.equal(h.cmd().batch, undefined);
    assert.equal(h.cmd().api, "n1");
  });

  it("carry the calls queued meanwhile in one navigateTo, written byte for byte as documented", async () => {
    const h = await talking();
    const outs = flood(h, 3, (i) => (i === 1 ? undefined : { i }));
    assert.equal(h.sent.length, 2);
    assert.equal(h.sent[1], "/pages/hybrid-page/hybrid?cmd=" + encodeURIComponent(
      '{"mph":2,"batch":[{"req":"H5Req_000000001","api":"n0","params":{"i":0}},' +
      '{"req":"H5Req_000000002","api":"n1"},{"req":"H5Req_000000003","api":"n2","params":{"i":2}}],' +
      '"ack":["H5Req_000000000"],"hash":""}'));
    // answered together, in one fragment, delivered in the order of the calls
    h.replyV2([["H5Req_000000003", { result: 3 }], ["H5Req_000000001", { result: 1 }],
      ["H5Req_000000002", { error: { code: "EPAY", message: "no" } }]]);
    await flush();
    assert.deepEqual(outs.map((o) => (o.ok ? o.value : o.err.code)), [1, "EPAY", 3]);
    assert.equal(h.client.pending(), 0);
  });

  it("are split where the next call would take the URL over maxUrl, and every URL fits", async () => {
    const h = await talking({ maxUrl: 400 });
    const outs = flood(h, 12, (i) => ({ text: "x".repeat(20 + i) }));
    for (let round = 0; round < 12 && h.client.pending() > 0; round++) {
      const cmd = h.cmd();
      const entries = cmd.batch || [cmd];
      h.replyV2(entries.map((e) => [e.req, { result: e.params.text.length }]));
      await flush();
      h.timers.advance(0);
    }
    assert.deepEqual(outs.map((o) => o.value), outs.map((o, i) => 20 + i));
    const sentBatches = h.sent.slice(1).map(commandOf).filter((c) => c.batch);
    assert.ok(sentBatches.length >= 2, "split into several batches: " + sentBatches.length);
    for (const url of h.sent) assert.ok(Buffer.byteLength(url) <= 400, url.length + " bytes");
    const order = h.sent.slice(1).flatMap((u) => { const c = commandOf(u); return (c.batch || [c]).map((e) => e.api); });
    assert.deepEqual(order, outs.map((o, i) => "n" + i));
  });

  it("carry at most maxBatch calls", async () => {
    const h = await talking({ maxBatch: 3 });
    flood(h, 8);
    assert.deepEqual(h.cmd().batch.map((e) => e.api), ["n0", "n1", "n2"]);
  });

  it("fail every call they carry with ENAVIGATE when navigateTo fails, and give the acknowledgements back", async () => {
    const h = await talking();
    h.onNavigate = () => Promise.reject({ errMsg: "navigateTo:fail webview count limit exceed" });
    const outs = flood(h, 3);
    await flush();
    assert.equal(h.cmd().batch.length, 3);
    assert.deepEqual(h.cmd().ack, ["H5Req_000000000"]);
    assert.deepEqual(outs.map((o) => o.ok ? o.value : o.err.code), ["ENAVIGATE", "ENAVIGATE", "ENAVIGATE"]);
    assert.match(outs[1].err.message, /webview count limit exceed/);
    h.onNavigate = null;
    const next = outcome(h.client.call("after"));
    h.timers.advance(0);
    assert.equal(next.settled, false);
    // the acknowledgements of the failed batch went back to the queue
    assert.deepEqual(h.cmd().ack, ["H5Req_000000000"]);
  });

  it("free the wire at the first reply the shell writes; the other replies are delivered when they come", async () => {
    const h = await talking();
    const outs = flood(h, 3);
    const b = h.cmd().batch;
    assert.equal(b.length, 3);
    h.replyV2([[b[1].req, { result: "one" }]]);
    await flush();
    assert.equal(outs[1].value, "one");
    assert.equal(outs[0].settled, false);
    const later = outcome(h.client.call("later"));
    h.timers.advance(0);
    assert.equal(h.cmd().api, "later", "the wire is free again");
    h.replyV2([[b[1].req, { result: "one" }], [b[0].req, { result: "zero" }], [b[2].req, { result: "two" }],
      [h.cmd().req, { result: "l" }]]);
    await flush();
    assert.deepEqual(outs.map((o) => o.value), ["zero", "one", "two"]);
    assert.equal(later.value, "l");
    for (const o of outs) assert.equal(o.settled, true);
  });

  it("leave a version 1 call out: it goes alone, in its place in the queue", async () => {
    const h = await talking();
    const outs = [outcome(h.client.call("a")), outcome(h.client.call("b")),
      outcome(h.client.call("v1", {}, { protocol: 1 })), outcome(h.client.call("c")), outcome(h.client.call("d"))];
    h.timers.advance(0);
    const apis = [];
    for (let round = 0; round < 6 && h.client.pending() > 0; round++) {
      const cmd = h.cmd();
      apis.push(cmd.batch ? cmd.batch.map((e) => e.api) : [cmd.api]);
      if (cmd.batch) h.replyV2(cmd.batch.map((e) => [e.req, { result: e.api }]));
      else if (cmd.mph) h.replyV2([[cmd.req, { result: cmd.api }]]);
      else h.replyV1(cmd.req, cmd.api);
      await flush();
      h.timers.advance(0);
    }
    assert.deepEqual(apis, [["a", "b"], ["v1"], ["c", "d"]]);
    assert.deepEqual(outs.map((o) => o.value), ["a", "b", "v1", "c", "d"]);
  });

  it("leave out a call whose params a batch would nest deeper than the shell reads (97 levels): it goes alone", async () => {
    const h = await talking();
    let deep = [];
    for (let i = 1; i < 98; i++) deep = [deep];
    const outs = [outcome(h.client.call("a")), outcome(h.client.call("b")),
      outcome(h.client.call("deep", deep)), outcome(h.client.call("c")), outcome(h.client.call("d"))];
    h.timers.advance(0);
    const apis = [];
    for (let round = 0; round < 6 && h.client.pending() > 0; round++) {
      const cmd = h.cmd();
      const entries = cmd.batch || [cmd];
      apis.push(entries.map((e) => e.api));
      h.replyV2(entries.map((e) => [e.req, { result: e.api }]));
      await flush();
      h.timers.advance(0);
    }
    assert.deepEqual(apis, [["a", "b"], ["deep"], ["c", "d"]]);
    assert.deepEqual(outs.map((o) => o.value), ["a", "b", "deep", "c", "d"]);
  });

  it("are not sent by a client made with batch: false", async () => {
    const h = await talking({ batch: false });
    flood(h, 3);
    assert.equal(h.cmd().batch, undefined);
    assert.equal(h.cmd().api, "n0");
  });
});
