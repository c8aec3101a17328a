"use strict";
const { describe, it } = require("node:test");
const assert = require("node:assert/strict");
const mphybrid = require("../mphybrid.js");
const { harness, outcome, flush, FakeWindow } = require("./fakes.js");

const { MphybridError } = mphybrid;

// request ids of a fixed length, for tests that measure URLs
function fixedIds() {
  let n = 0;
  return () => "H5Req_" + String(n++).padStart(9, "0");
}

// makes a call and sends its command (the wire's gap elapses)
function send(h, api, params, opts) {
  const o = outcome(h.client.call(api, params, opts));
  h.timers.advance(0);
  return o;
}

describe("mphybrid.call", () => {
  it("sends one version 2 command with the fields in the protocol's order", () => {
    const h = harness();
    send(h, "getUserInfo", { lang: "zh_CN", withCredentials: true });
    assert.equal(h.sent.length, 1);
    const url = h.sent[0];
    const id = h.cmd().req;
    assert.match(id, /^H5Req_[0-9a-z]{8}[0-9a-z]{1,2}$/);
    assert.equal(url, "/pages/hybrid-page/hybrid?cmd=" + encodeURIComponent(
      '{"req":"' + id + '","api":"getUserInfo","params":{"lang":"zh_CN","withCredentials":true},"mph":2,"hash":""}'));
  });

  it("resolves with the result of the version 2 reply", async () => {
    const h = harness();
    const o = send(h, "getUserInfo", { lang: "zh_CN" });
    h.replyV2([[h.cmd().req, { result: { nickName: "小明" } }]]);
    await flush();
    assert.deepEqual(o, { settled: true, ok: true, value: { nickName: "小明" } });
    assert.equal(h.client.pending(), 0);
  });

  it("rejects with an MphybridError carrying the shell's code, message and data", async () => {
    const h = harness();
    const o = send(h, "requestPayment", { total: 9999 });
    h.replyV2([[h.cmd().req, { error: { code: "EPAY", message: "amount over the daily limit", data: { limit: 5000 } } }]]);
    await flush();
    assert.equal(o.ok, false);
    assert.ok(o.err instanceof MphybridError);
    assert.ok(o.err instanceof Error);
    assert.equal(o.err.code, "EPAY");
    assert.equal(o.err.message, "amount over the daily limit");
    assert.deepEqual(o.err.data, { limit: 5000 });
  });

  it("resolves a null result and rejects a reply that is neither {result} nor {error} with EREPLY", async () => {
    const h = harness();
    const a = send(h, "a");
    h.replyV2([[h.cmd().req, { result: null }]]);
    h.timers.advance(0);
    const bads = ['{"error":{"code":"lower"}}', '{"error":null}', "[1]", "null", "not json", "{}", '{"error":{"message":"x"}}'];
    const outs = [];
    for (const bad of bads) {
      outs.push(send(h, "b"));
      h.replyV2([[h.cmd().req, bad]]);
    }
    await flush();
    assert.deepEqual(a, { settled: true, ok: true, value: null });
    for (const o of outs) {
      assert.equal(o.err.code, "EREPLY");
    }
  });

  it("reads a version 1 reply (a published shell) as the string written, without acknowledging it", async () => {
    const h = harness();
    const o = send(h, "getLocation");
    const id = h.cmd().req;
    h.replyV1(id, "ENOAPI");
    h.timers.advance(0);
    await flush();
    assert.deepEqual(o, { settled: true, ok: true, value: "ENOAPI" });
    send(h, "next");
    assert.equal(h.cmd().ack, undefined);
  });

  it("sends a version 1 command with protocol 1", () => {
    const h = harness();
    send(h, "ping", [1, "2"], { protocol: 1 });
    const c = h.cmd();
    assert.deepEqual(Object.keys(c), ["req", "api", "params"]);
    assert.deepEqual(c.params, [1, "2"]);
  });

  it("leaves params out when there are none, and writes null when they are null", () => {
    const h = harness({ client: { protocol: 1 } });
    send(h, "a");
    assert.deepEqual(Object.keys(h.cmd()), ["req", "api"]);
    h.replyV1(h.cmd().req, "0");
    send(h, "b", null);
    assert.equal(h.cmd().params, null);
  });
});

describe("bad params and long commands", () => {
  it("rejects params that JSON cannot carry with EVALUE, before navigating", async () => {
    const h = harness();
    const cyclic = {};
    cyclic.self = cyclic;
    const outs = [NaN, Infinity, { x: -Infinity }, cyclic, 10n, () => 1, Symbol("s")].map((p) => send(h, "x", p));
    await flush();
    for (const o of outs) assert.equal(o.err.code, "EVALUE");
    assert.equal(h.sent.length, 0);
    assert.equal(h.client.pending(), 0);
  });

  it("rejects a lone surrogate with EUTF8 (the shell's strict JSON would refuse it)", async () => {
    const h = harness();
    const o1 = send(h, "x", { s: "a\ud800b" });
    const o2 = send(h, "x\udfff");
    const ok = send(h, "x", { s: "\\ud800 is text, 😀 a pair" });
    await flush();
    assert.equal(o1.err.code, "EUTF8");
    assert.equal(o2.err.code, "EUTF8");
    assert.equal(ok.settled, false);
    assert.equal(h.cmd().params.s, "\\ud800 is text, 😀 a pair");
  });

  it("refuses a command URL over maxUrl (1000 bytes by default) with ETOOLONG, sending nothing", async () => {
    const h = harness({ client: { hash: false } });
    const o = send(h, "setClipboardData", { data: "长文本".repeat(60) });
    await flush();
    assert.equal(o.err.code, "ETOOLONG");
    const bytes = Buffer.byteLength("/pages/hybrid-page/hybrid?cmd=" + encodeURIComponent(JSON.stringify(
      { req: o.err.message.length && "H5Req_xxxxxxxx0", api: "setClipboardData", params: { data: "长文本".repeat(60) }, mph: 2 })));
    assert.equal(o.err.message, "command URL of " + bytes + " bytes is over the limit of 1000 bytes");
    assert.equal(h.sent.length, 0);
    assert.equal(mphybrid.defaults.maxUrl, 1000);
  });

  it("sends params nested 99 deep, and refuses 100 deep with EDEPTH at once (a shell reads 100 levels with the command)", async () => {
    const h = harness({ client: { hash: false } });
    const nested = (n) => JSON.parse("[".repeat(n) + "]".repeat(n));
    const o = send(h, "a", nested(99));
    assert.equal(h.sent.length, 1);
    h.replyV2([[h.cmd().req, { result: 1 }]]);
    h.timers.advance(0);
    const o2 = send(h, "a", nested(100));
    const o3 = send(h, "a", { s: "[[[[".repeat(50) + "\\\"[" });
    await flush();
    assert.equal(o.value, 1);
    assert.equal(o2.err.code, "EDEPTH");
    assert.equal(h.sent.length, 2);
    assert.equal(o3.settled, false);
  });

  it("sends a command of exactly maxUrl bytes", () => {
    const h = harness({ client: { hash: false, maxUrl: 200, newReqId: fixedIds() } });
    const bare = "/pages/hybrid-page/hybrid?cmd=" + encodeURIComponent('{"req":"H5Req_xxxxxxxx0","api":"a","params":"","mph":2}');
    const o = send(h, "a", "x".repeat(200 - bare.length));
    assert.equal(h.sent.length, 1);
    assert.equal(h.sent[0].length, 200);
    const o2 = send(h, "a", "x".repeat(201 - bare.length));
    assert.equal(o.settled, false);
    return flush().then(() => assert.equal(o2.err.code, "ETOOLONG"));
  });
});

describe("timeouts", () => {
  it("rejects with ETIMEOUT at the call's deadline and frees the wire for the next command", async () => {
    const h = harness({ client: { timeout: 5000 } });
    const a = send(h, "slow");
    const b = send(h, "next", null, { timeout: 10000 });
    assert.equal(h.sent.length, 1);
    h.timers.advance(4999);
    await flush();
    assert.equal(a.settled, false);
    h.timers.advance(1);
    await flush();
    assert.equal(a.err.code, "ETIMEOUT");
    assert.equal(a.err.message, "no reply to slow within 5000 ms");
    assert.equal(h.sent.length, 2);
    assert.equal(h.cmd().api, "next");
    assert.equal(b.settled, false);
  });

  it("counts a call's time in the queue, takes a per-call timeout, and none with timeout false", async () => {
    const h = harness({ client: { timeout: false } });
    const a = send(h, "first");
    const b = send(h, "queued", null, { timeout: 100 });
    h.timers.advance(100);
    await flush();
    assert.equal(b.err.code, "ETIMEOUT");
    assert.equal(h.sent.length, 1); // never sent
    h.timers.advance(1e9);
    await flush();
    assert.equal(a.settled, false);
    assert.equal(h.client.pending(), 1);
  });

  it("acknowledges the late reply of a call that timed out, and does not deliver it", async () => {
    const h = harness({ client: { timeout: 1000 } });
    const a = send(h, "slow");
    const idA = h.cmd().req;
    h.timers.advance(1000);
    const b = send(h, "b");
    const idB = h.cmd().req;
    h.replyV2([[idA, { result: "late" }], [idB, { result: "b" }]]);
    h.timers.advance(0);
    await flush();
    assert.equal(a.err.code, "ETIMEOUT");
    assert.equal(b.value, "b");
    send(h, "c");
    assert.deepEqual(h.cmd().ack, [idA, idB]);
  });
});

describe("cancel through an AbortSignal", () => {
  it("rejects with ECANCELED at once, with the signal's reason as cause", async () => {
    const h = harness();
    const ac = new AbortController();
    const o = send(h, "chooseImage", null, { signal: ac.signal });
    ac.abort("user left");
    await flush();
    assert.equal(o.err.code, "ECANCELED");
    assert.equal(o.err.cause, "user left");
    assert.equal(h.client.pending(), 0);
  });

  it("sends nothing for a signal aborted before the call, or a call canceled in the queue", async () => {
    const h = harness();
    const a = send(h, "first");
    const o1 = send(h, "x", null, { signal: AbortSignal.abort() });
    const ac = new AbortController();
    const o2 = outcome(h.client.call("queued", null, { signal: ac.signal }));
    ac.abort();
    h.replyV2([[h.cmd().req, { result: 1 }]]);
    h.timers.advance(0);
    await flush();
    assert.equal(o1.err.code, "ECANCELED");
    assert.equal(o2.err.code, "ECANCELED");
    assert.equal(a.value, 1);
    assert.equal(h.sent.length, 1);
  });

  it("keeps the wire held after canceling the command on its way, until its reply or its deadline", async () => {
    const h = harness({ client: { timeout: 3000 } });
    const ac = new AbortController();
    const a = send(h, "slow", null, { signal: ac.signal });
    const idA = h.cmd().req;
    const b = send(h, "b");
    ac.abort();
    h.timers.advance(0);
    await flush();
    assert.equal(a.err.code, "ECANCELED");
    assert.equal(h.sent.length, 1, "the hybrid page of the canceled command may still be shown");
    h.replyV2([[idA, { result: "ignored" }]]);
    h.timers.advance(0);
    assert.equal(h.sent.length, 2, "its reply frees the wire");
    assert.deepEqual(h.cmd().ack, [idA]);
    h.replyV2([[h.cmd().req, { result: "b" }]]);
    await flush();
    assert.equal(b.value, "b");

    // without a reply, the deadline the canceled call had frees the wire
    const ac2 = new AbortController();
    send(h, "slow2", null, { signal: ac2.signal });
    send(h, "c", null, { timeout: 10000 });
    h.timers.advance(1000);
    ac2.abort();
    h.timers.advance(1999);
    assert.equal(h.sent.length, 3);
    h.timers.advance(1);
    assert.equal(h.sent.length, 4);
    assert.equal(h.cmd().api, "c");
  });

  it("checks the signal and the other options where they are given", () => {
    const h = harness();
    assert.throws(() => h.client.call("x", null, { signal: {} }), TypeError);
    assert.throws(() => h.client.call("x", null, { timeout: -1 }), TypeError);
    assert.throws(() => h.client.call("x", null, { timeout: NaN }), TypeError);
    assert.throws(() => h.client.call("x", null, { protocol: 3 }), TypeError);
    assert.throws(() => h.client.call("x", null, 5), TypeError);
    assert.throws(() => h.client.call("", null), TypeError);
    assert.throws(() => h.client.call(7, null), TypeError);
    assert.throws(() => mphybrid.createClient({ maxUrl: 3 }), TypeError);
    assert.throws(() => mphybrid.createClient({ prefix: "a b" }), TypeError);
    assert.throws(() => mphybrid.createClient({ page: "/p?x=1" }), TypeError);
    assert.throws(() => mphybrid.createClient({ navigate: "no" }), TypeError);
    assert.throws(() => mphybrid.createClient({ window: {} }), TypeError);
    assert.equal(h.client.pending(), 0);
  });
});

describe("navigate failures", () => {
  it("rejects with ENAVIGATE when navigate throws, returns false or rejects, and sends the next command", async () => {
    const h = harness();
    h.onNavigate = () => { throw new Error("navigateTo:fail page limit exceeded"); };
    const a = send(h, "a");
    h.onNavigate = () => false;
    const b = send(h, "b");
    h.onNavigate = () => Promise.reject({ errMsg: "navigateTo:fail webview count limit exceed" });
    const c = send(h, "c");
    await flush();
    h.timers.advance(0);
    h.onNavigate = null;
    const d = send(h, "d");
    await flush();
    assert.equal(a.err.code, "ENAVIGATE");
    assert.match(a.err.message, /page limit exceeded/);
    assert.equal(b.err.code, "ENAVIGATE");
    assert.equal(c.err.code, "ENAVIGATE");
    assert.match(c.err.message, /webview count limit exceed/);
    assert.equal(d.settled, false);
    assert.equal(h.sent.length, 4);
  });

  it("gives the acknowledgements of a command that was not sent back to the next one", async () => {
    const h = harness();
    send(h, "a");
    const idA = h.cmd().req;
    h.replyV2([[idA, { result: 1 }]]);
    h.onNavigate = () => false;
    send(h, "b");
    h.timers.advance(0);
    assert.deepEqual(h.cmd().ack, [idA]);
    h.onNavigate = null;
    send(h, "c");
    assert.deepEqual(h.cmd().ack, [idA]);
  });

  it("navigates through wx.miniProgram.navigateTo by default, and fails with ENAVIGATE on its fail callback", async () => {
    const h = harness({ client: { navigate: undefined, wx: {
      miniProgram: {
        navigateTo(o) {
          h.sent.push(o.url);
          if (o.url.includes("bad")) o.fail({ errMsg: "navigateTo:fail" });
          else o.success({});
        },
      },
    } } });
    const a = send(h, "good");
    const b = send(h, "bad");
    h.replyV2([[h.cmd(0).req, { result: true }]]);
    h.timers.advance(0);
    await flush();
    assert.equal(a.value, true);
    assert.equal(b.err.code, "ENAVIGATE");
    assert.equal(h.sent.length, 2);
  });
});

describe("callbacks that throw", () => {
  // the drop-in's callback runs inside settle (start is what
  // miniProgramHybrid.call uses): what it throws, and a log that throws,
  // never stop the other calls from being settled
  for (const [name, thrown, log] of [
    ["an object without toString", () => Object.create(null), undefined],
    ["a Symbol", () => Symbol("x"), undefined],
    ["an Error, to a log that throws", () => new Error("x"), () => { throw new Error("log"); }],
  ]) {
    it("never stop the other calls that time out together: " + name, () => {
      const h = harness({ client: { timeout: 100, log: log || (() => {}) } });
      const ran = [];
      for (const i of [1, 2, 3]) {
        h.client.start("a", { i }, (err) => { ran.push(i + " " + err.code); throw thrown(); }, { protocol: 1 });
      }
      h.timers.advance(0);
      assert.doesNotThrow(() => h.timers.advance(200));
      assert.deepEqual(ran, ["1 ETIMEOUT", "2 ETIMEOUT", "3 ETIMEOUT"]);
      assert.equal(h.client.pending(), 0);
    });
  }
});

describe("acknowledgements", () => {
  it("acknowledges each reply in the next version 2 command, at most maxAcks per command", async () => {
    const h = harness({ client: { maxAcks: 2 } });
    const ids = [];
    for (let i = 0; i < 3; i++) {
      send(h, "a" + i);
      ids.push(h.cmd().req);
      if (i > 0) assert.deepEqual(h.cmd().ack, ids.slice(i - 1, i));
      h.replyV2([[h.cmd().req, { result: i }]]);
      h.timers.advance(0);
    }
    // three calls more, sent at once in the queue's order
    for (let i = 0; i < 2; i++) send(h, "b" + i);
    assert.deepEqual(h.cmd().ack, [ids[2]]);
  });

  it("leaves acknowledgements for a later command when they would make the command too long", () => {
    const h = harness({ client: { hash: false, newReqId: fixedIds() } });
    send(h, "a");
    const idA = h.cmd().req;
    h.replyV2([[idA, { result: 1 }]]);
    const bare = "/pages/hybrid-page/hybrid?cmd=" + encodeURIComponent('{"req":"H5Req_xxxxxxxx0","api":"b","params":"","mph":2}');
    send(h, "b", "x".repeat(1000 - bare.length));
    assert.equal(h.cmd().ack, undefined);
    assert.equal(h.sent[1].length, 1000);
    h.replyV2([[h.cmd().req, { result: 1 }]]);
    send(h, "c");
    assert.equal(h.cmd().ack.length, 2);
    assert.equal(h.cmd().ack[0], idA);
  });

  it("keeps no acknowledgements when maxAcks is 0, however many calls", () => {
    const h = harness({ client: { maxAcks: 0 } });
    for (let i = 0; i < 500; i++) {
      send(h, "a", { i });
      h.replyV2([[h.cmd().req, { result: i }]]);
      h.timers.advance(0);
    }
    assert.equal(h.client.pending(), 0);
    assert.equal(h.client.toAck.length, 0);
    assert.equal(h.client.toAckSet.size, 0);
  });

  it("keeps at most maxDone acknowledgements waiting when every command is too long to carry one", () => {
    const h = harness({ client: { hash: false, newReqId: fixedIds(), maxDone: 8 } });
    const bare = "/pages/hybrid-page/hybrid?cmd=" + encodeURIComponent('{"req":"H5Req_xxxxxxxx0","api":"b","params":"","mph":2}');
    for (let i = 0; i < 500; i++) {
      send(h, "b", "x".repeat(1000 - bare.length));
      assert.equal(h.cmd().ack, undefined);
      h.replyV2([[h.cmd().req, { result: i }]]);
      h.timers.advance(0);
    }
    assert.equal(h.client.pending(), 0);
    assert.ok(h.client.toAck.length <= 8, String(h.client.toAck.length));
    assert.equal(h.client.toAckSet.size, h.client.toAck.length);
  });

  for (const protocol of [1, 2]) {
    it("refuses v, mph, hash and ids with spaces around them from newReqId (protocol " + protocol + ")", () => {
      for (const id of ["v", "mph", "hash", " H5Req_1", "H5Req_1\u3000"]) {
        const h = harness({ client: { protocol, newReqId: () => id } });
        assert.throws(() => h.client.call("a"), /newReqId/, JSON.stringify(id));
        h.timers.advance(0);
        assert.equal(h.sent.length, 0);
        assert.equal(h.client.pending(), 0);
      }
    });
  }

  it("never acknowledges keys that are not its calls", () => {
    const h = harness();
    send(h, "a");
    const idA = h.cmd().req;
    h.replyV2([["H5Req_otherpage1", { result: 1 }], [idA, { result: 1 }], ["access_token", "x"]]);
    send(h, "b");
    assert.deepEqual(h.cmd().ack, [idA]);
  });
});

describe("fragments", () => {
  it("takes the reply of the command on its way wherever it stands among other pairs", async () => {
    const h = harness();
    const o = send(h, "a");
    const id = h.cmd().req;
    h.win.setSrc(h.win.base + "#foo=1&mph=2&x&&" + id + "=" + encodeURIComponent('{"result":7}') + "&hash=&v=3");
    await flush();
    assert.equal(o.value, 7);
  });

  it("survives malformed fragments: no crash, no lost call", async () => {
    const h = harness();
    const o = send(h, "a");
    const id = h.cmd().req;
    const junk = ["%", "%E4", "&&&", "=", "==&=", "mph=2", "mph=2&%ZZ=1", id, id + "&mph=2", "mph=2&" + id,
      "#", "a=%", encodeURIComponent(id) + "x=1", "mph=2&" + id + "x=%7B", "v=1&mph=3&" + id + "+=1"];
    for (const j of junk) h.win.route(j);
    for (let i = 0; i < 300; i++) {
      let s = "";
      const alphabet = ["%", "&", "=", "#", "mph", "2", "v", id, "%7B", "%E4%B8", "x", "hash"];
      for (let k = 0; k < 8; k++) s += alphabet[(i * 7 + k * 13 + (i >> 3)) % alphabet.length];
      h.win.route(s);
    }
    await flush();
    assert.equal(o.settled, false);
    assert.equal(h.client.pending(), 1);
    h.replyV2([[id, { result: "still here" }]]);
    await flush();
    assert.equal(o.value, "still here");
  });

  it("fails the call with EESCAPE when its own reply pair is malformed, and delivers the fragment's other pairs", async () => {
    const h = harness();
    const a = send(h, "a");
    const id = h.cmd().req;
    h.win.setSrc(h.win.base + "#mph=2&" + id + "=%E4&other=%ZZ&v=9");
    await flush();
    assert.equal(a.err.code, "EESCAPE");
    const b = send(h, "b");
    const idB = h.cmd().req;
    h.win.setSrc(h.win.base + "#mph=2&junk=%ZZ&" + idB + "=" + encodeURIComponent('{"result":2}') + "&v=10");
    await flush();
    assert.equal(b.value, 2);
  });

  it("ignores a bare request id without '=' (no reply)", async () => {
    const h = harness();
    const o = send(h, "a");
    h.win.route(h.cmd().req);
    h.win.route("mph=2&" + h.cmd().req + "&v=1");
    await flush();
    assert.equal(o.settled, false);
  });

  it("receive() reads a src or a fragment and says how many replies it delivered", () => {
    const h = harness({ client: { window: null } });
    send(h, "a");
    const id = h.cmd().req;
    assert.deepEqual(h.client.receive("https://h5.example.com/app/index.html#/orders/42"), { delivered: 0, hash: undefined });
    assert.deepEqual(h.client.receive("https://h5.example.com/app/index.html"), { delivered: 0, hash: undefined });
    assert.deepEqual(h.client.receive("#mph=2&" + id + "=%7B%22result%22%3A1%7D&hash=%2Fcart&v=1700000000000"),
      { delivered: 1, hash: "/cart" });
    assert.throws(() => h.client.receive(5), TypeError);
  });
});

describe("the page's own fragment", () => {
  it("carries the page's route in the command and puts it back after the reply, announcing it with a hashchange", async () => {
    const h = harness({ href: "https://h5.example.com/shop/index.html?from=mp#/cart" });
    const o = send(h, "a");
    assert.equal(h.cmd().hash, "/cart");
    const id = h.cmd().req;
    h.replyV2([[id, { result: 1 }]], { hash: "/cart" });
    await flush();
    assert.equal(o.value, 1);
    assert.equal(h.win.location.href, "https://h5.example.com/shop/index.html?from=mp#/cart");
    const last = h.win.events[h.win.events.length - 1];
    assert.equal(last.type, "hashchange");
    assert.equal(last.newURL, "https://h5.example.com/shop/index.html?from=mp#/cart");
  });

  it("follows the page's route changes, and puts back a page without fragment after a version 1 reply", async () => {
    const h = harness();
    h.win.route("/orders/42");
    send(h, "a");
    assert.equal(h.cmd().hash, "/orders/42");
    h.replyV2([[h.cmd().req, { result: 1 }]]);
    assert.equal(h.win.fragment, "/orders/42");
    h.win.setSrc(h.win.base);
    send(h, "b", null, { protocol: 1 });
    h.replyV1(h.cmd().req, "0");
    assert.equal(h.win.location.href, "https://h5.example.com/shop/index.html?from=mp");
  });

  it("puts back the route the shell carried when the page is loaded with a reply in its URL", () => {
    const win = new FakeWindow("https://h5.example.com/shop/index.html?from=mp#mph=2&H5Req_abcdefgh1=%7B%22result%22%3A1%7D&hash=%2Fcart&v=17");
    const h = harness({ window: win });
    assert.equal(win.location.href, "https://h5.example.com/shop/index.html?from=mp#/cart");
    send(h, "a");
    assert.equal(h.cmd().hash, "/cart");
  });

  it("leaves the fragment alone and sends no hash with hash: false", () => {
    const h = harness({ client: { hash: false }, href: "https://h5.example.com/p#/x" });
    send(h, "a");
    assert.equal(h.cmd().hash, undefined);
    h.replyV2([[h.cmd().req, { result: 1 }]]);
    assert.match(h.win.fragment, /^mph=2&/);
  });

  it("leaves out a page fragment over 512 bytes", () => {
    const h = harness({ href: "https://h5.example.com/p#" + "x".repeat(513) });
    send(h, "a");
    assert.equal(h.cmd().hash, undefined);
  });
});

describe("exactly once", () => {
  it("settles each call once when a callback re-enters the client", async () => {
    const h = harness();
    const seen = [];
    const results = [];
    const p = h.client.call("a").then((v) => {
      results.push(v);
      // a new call and a second copy of the same reply, from inside
      seen.push(outcome(h.client.call("b")));
    });
    h.timers.advance(0);
    const id = h.cmd().req;
    h.replyV2([[id, { result: 1 }]]);
    h.replyV2([[id, { result: 1 }]]);
    await p;
    h.timers.advance(0);
    h.replyV2([[h.cmd().req, { result: 2 }]]);
    await flush();
    assert.deepEqual(results, [1]);
    assert.equal(seen[0].value, 2);
  });

  it("close() fails every call in flight with ECANCELED and stops listening", async () => {
    const h = harness();
    const a = send(h, "a");
    const b = send(h, "b");
    const id = h.cmd().req;
    h.client.close();
    h.replyV2([[id, { result: 1 }]]);
    await flush();
    assert.equal(a.err.code, "ECANCELED");
    assert.equal(b.err.code, "ECANCELED");
  });
});
