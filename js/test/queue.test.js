"use strict";
// One hybrid page at a time: every navigateTo pushes a page and WeChat
// refuses a push past 10, so calls made while a command is on its way wait
// in a queue.
const { describe, it } = require("node:test");
const assert = require("node:assert/strict");
const { harness, outcome, flush, commandOf, fragmentV2 } = require("./fakes.js");

// A mini-program around the page: a page stack of at most 10 (the index
// page and the web-view page at the bottom); navigateTo pushes the hybrid
// page, which answers after a delay and goes back. behaviour(cmd) says how:
// { delay, answer: false } for a shell that goes back without a reply.
function miniProgram(h, behaviour) {
  const mp = { stack: ["index", "web-view"], maxStack: 2, inFlight: 0, maxInFlight: 0, refused: 0, ran: new Map() };
  h.onNavigate = (url) => {
    if (mp.stack.length >= 10) {
      mp.refused++;
      return Promise.reject({ errMsg: "navigateTo:fail webview count limit exceed" });
    }
    mp.stack.push("hybrid");
    mp.maxStack = Math.max(mp.maxStack, mp.stack.length);
    mp.inFlight++;
    mp.maxInFlight = Math.max(mp.maxInFlight, mp.inFlight);
    const cmd = commandOf(url);
    mp.ran.set(cmd.req, (mp.ran.get(cmd.req) || 0) + 1);
    const b = behaviour(cmd);
    h.timers.setTimeout(() => {
      if (b.answer !== false) {
        h.win.setSrc(h.win.base + "#" + fragmentV2([[cmd.req, { result: { api: cmd.api, params: cmd.params } }]]));
      }
      mp.stack.pop();
      mp.inFlight--;
    }, b.delay);
    return undefined;
  };
  return mp;
}

describe("the wire", () => {
  it("turns twenty calls made in one tick into one navigation at a time, each after the previous reply", async () => {
    const h = harness();
    const mp = miniProgram(h, () => ({ delay: 50 }));
    const outs = [];
    for (let i = 0; i < 20; i++) outs.push(outcome(h.client.call("n" + i, { i })));
    assert.equal(h.sent.length, 0, "nothing is sent within the tick of the calls");
    h.timers.advance(0);
    assert.equal(h.sent.length, 1);
    h.timers.advance(50);
    assert.equal(h.sent.length, 2);
    h.timers.advance(10000);
    await flush();
    assert.equal(h.sent.length, 20);
    assert.deepEqual(h.sent.map((u) => commandOf(u).api), outs.map((o, i) => "n" + i));
    outs.forEach((o, i) => assert.deepEqual(o.value, { api: "n" + i, params: { i } }));
    assert.equal(mp.maxInFlight, 1);
    assert.equal(mp.maxStack, 3);
    assert.equal(mp.refused, 0);
  });

  it("never has two navigations in flight under random delays, silent shells, timeouts and cancels", async () => {
    let seed = 7;
    const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const h = harness({ client: { timeout: 5000 } });
    const mp = miniProgram(h, (cmd) => ({ delay: Math.floor(rand() * 1999), answer: cmd.params.answer }));
    const outs = [];
    for (let round = 0; round < 200; round++) {
      const n = rand() < 0.3 ? 1 + Math.floor(rand() * 3) : 0;
      for (let k = 0; k < n; k++) {
        const i = outs.length;
        const ac = new AbortController();
        const o = outcome(h.client.call("n" + i, { i, answer: rand() < 0.8 }, { signal: ac.signal }));
        o.i = i;
        outs.push(o);
        if (rand() < 0.1) h.timers.setTimeout(() => ac.abort(), Math.floor(rand() * 3000));
      }
      h.timers.advance(Math.floor(rand() * 4000));
    }
    h.timers.advance(1e6);
    await flush();
    assert.equal(mp.maxInFlight, 1);
    assert.ok(mp.maxStack <= 3);
    assert.equal(mp.refused, 0);
    for (const [, count] of mp.ran) assert.equal(count, 1, "every command is sent once");
    const codes = {};
    for (const o of outs) {
      assert.equal(o.settled, true, "call " + o.i + " settled");
      if (o.ok) assert.deepEqual(o.value.params.i, o.i);
      const k = o.ok ? "ok" : o.err.code;
      codes[k] = (codes[k] || 0) + 1;
    }
    // the run exercises every outcome
    assert.ok(codes.ok > 10 && codes.ETIMEOUT > 10 && codes.ECANCELED > 0, JSON.stringify(codes));
    assert.equal(h.client.pending(), 0);
    assert.equal(h.timers.size, 0, "no timer left behind");
  });

  it("keeps the queue's order and sends each command with the acknowledgements received so far", async () => {
    const h = harness();
    miniProgram(h, () => ({ delay: 10 }));
    const outs = [];
    for (let i = 0; i < 5; i++) outs.push(outcome(h.client.call("n" + i)));
    h.timers.advance(1000);
    await flush();
    const cmds = h.sent.map(commandOf);
    for (let i = 1; i < 5; i++) assert.deepEqual(cmds[i].ack, [cmds[i - 1].req]);
  });

  it("sends the next command after the gap a client sets between a reply and a navigateTo", () => {
    const h = harness({ client: { gap: 300 } });
    miniProgram(h, () => ({ delay: 10 }));
    h.client.call("a").catch(() => {});
    h.client.call("b").catch(() => {});
    h.timers.advance(300);
    assert.equal(h.sent.length, 1);
    h.timers.advance(309);
    assert.equal(h.sent.length, 1);
    h.timers.advance(1);
    assert.equal(h.sent.length, 2);
  });
});
