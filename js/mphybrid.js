/*
 * mphybrid: the H5 side of H5 <-> WeChat mini-program messaging. The page
 * sends each command by navigating the mini-program to the hybrid page
 * (wx.miniProgram.navigateTo), and reads the replies the shell writes into
 * the web-view's fragment (hashchange). Protocol: docs/PROTOCOL.md; the Lua
 * client (lua/mphybrid/client.lua) is the reference this file follows.
 *
 * A classic <script> gets the globals `mphybrid` and `miniProgramHybrid`;
 * require() and import get the same object (no globals).
 */
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module !== null && typeof module.exports === "object") {
    module.exports = factory(root, false);
  } else {
    var m = factory(root, true);
    root.mphybrid = m;
    root.miniProgramHybrid = m.miniProgramHybrid;
  }
})(typeof globalThis !== "undefined" ? globalThis : typeof self !== "undefined" ? self : this,
function (root, classic) {
  "use strict";

  var VERSION = "0.1.0";

  var defaults = {
    page: "/pages/hybrid-page/hybrid", // the hybrid page, as published
    timeout: 30000,   // ms from the call to ETIMEOUT; false for none
    maxUrl: 1000,     // bytes of the whole navigateTo URL
    maxAcks: 16,      // acknowledgements carried by one command
    maxDone: 256,     // finished request ids remembered (at least) to acknowledge
    maxHash: 512,     // bytes of the page's own fragment carried (the shell's max_hash)
    prefix: "H5Req_", // request id prefix, as published
    protocol: 2,
    gap: 0,           // ms between a reply and the next command's navigateTo
    batch: true,      // several queued commands in one navigateTo (version 2)
    maxBatch: 16      // commands one batch carries
  };

  // the codes this file gives calls itself; the shell's are in docs/PROTOCOL.md
  var codes = {
    EVALUE: "params that JSON cannot carry",
    EUTF8: "a string with a lone surrogate (not valid UTF-8 on the wire)",
    ETOOLONG: "the command URL is over maxUrl",
    EDEPTH: "params nested deeper than the shell reads (99 levels)",
    ENAVIGATE: "navigateTo failed: the command was not sent",
    ETIMEOUT: "no reply before the call's deadline",
    ECANCELED: "the call was canceled",
    EREPLY: "a version 2 reply that is not {result} or {error}",
    EESCAPE: "a reply pair with a malformed percent escape"
  };

  var DEFAULT_REQ = "miniProgramResult";
  var hasOwn = Object.prototype.hasOwnProperty;

  // ------------------------------------------------------------ errors

  class MphybridError extends Error {
    constructor(code, message, data) {
      super(message);
      this.name = "MphybridError";
      this.code = code;
      if (data !== undefined) this.data = data;
    }
  }

  function validCode(c) {
    return typeof c === "string" && c.length <= 64 && /^[A-Z][A-Z0-9_]*$/.test(c);
  }

  // ------------------------------------------------------- request ids

  var ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

  // ids of the published shape: prefix, 8 characters of [0-9a-z] drawn
  // from random(), and a base-36 counter tail of 1 to 2 characters that
  // wraps after 256
  function idSource() {
    var count = 0;
    return function (prefix, random) {
      var s = prefix;
      for (var i = 0; i < 8; i++) s += ALPHABET.charAt(Math.floor(random() * 36));
      var tail = (count++).toString(36);
      if (count > 256) count = 0;
      return s + tail.substring(tail.length - 2);
    };
  }

  var nextId = idSource();

  function cryptoRandom() {
    var c = root.crypto;
    if (c && typeof c.getRandomValues === "function") {
      var buf = new Uint32Array(1);
      return function () {
        c.getRandomValues(buf);
        return buf[0] / 4294967296;
      };
    }
    return null;
  }

  // ---------------------------------------------------------- the wire

  function utf8Length(s) {
    var n = 0;
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) { n += 4; i++; }
      else n += 3;
    }
    return n;
  }

  // JSON.stringify writes a lone surrogate as the escape \udXXX (and a pair
  // as itself): the shell's strict JSON refuses it, so the client does first
  var LONE_SURROGATE = /(?:^|[^\\])(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/;

  // the nesting of params a shell with the default max_depth (100) reads:
  // the command object is one level
  var PARAMS_MAX_DEPTH = 99;

  // the deepest nesting of JSON text (brackets outside strings)
  function jsonDepth(text) {
    var depth = 0, max = 0, inString = false;
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      if (inString) {
        if (c === 92) i++; // a backslash: the next character is escaped
        else if (c === 34) inString = false;
      } else if (c === 34) {
        inString = true;
      } else if (c === 91 || c === 123) {
        if (++depth > max) max = depth;
      } else if (c === 93 || c === 125) {
        depth--;
      }
    }
    return max;
  }

  function refuseNonFinite(key, value) {
    if (typeof value === "number" && !isFinite(value)) {
      throw new MphybridError("EVALUE", "params: " + value + " cannot be written as JSON");
    }
    return value;
  }

  // JSON text of params: undefined for none; throws an MphybridError.
  // loose: what JSON.stringify writes, as the published library sends it
  function paramsJson(params, loose) {
    if (params === undefined) return undefined;
    var json;
    try {
      json = loose ? JSON.stringify(params) : JSON.stringify(params, refuseNonFinite);
    } catch (e) {
      if (e instanceof MphybridError) throw e;
      throw new MphybridError("EVALUE", "params: " + (e && e.message));
    }
    if (json === undefined && !loose) {
      throw new MphybridError("EVALUE", "params: a " + typeof params + " cannot be written as JSON");
    }
    return json;
  }

  // req, api and params of a command, in the published order, unclosed
  function entryJson(call) {
    var s = '{"req":' + JSON.stringify(call.id);
    if (call.apiJson !== undefined) s += ',"api":' + call.apiJson;
    if (call.paramsJson !== undefined) s += ',"params":' + call.paramsJson;
    return s;
  }

  function v2Fields(acks, hashJson) {
    var s = "";
    if (acks && acks.length > 0) s += ',"ack":' + JSON.stringify(acks);
    if (hashJson !== undefined) s += ',"hash":' + hashJson;
    return s;
  }

  // the command's JSON text, fields in the published order (req, api,
  // params), then the version 2 fields: byte for byte what the Lua client
  // writes for the same values
  function commandJson(call, acks, hashJson) {
    var s = entryJson(call);
    if (call.v2) s += ',"mph":2' + v2Fields(acks, hashJson);
    return s + "}";
  }

  // a batch: several version 2 commands in one navigateTo, the
  // acknowledgements and the hash once (docs/PROTOCOL.md, "Batches")
  function batchJson(calls, acks, hashJson) {
    var s = '{"mph":2,"batch":[';
    for (var i = 0; i < calls.length; i++) s += (i > 0 ? "," : "") + entryJson(calls[i]) + "}";
    return s + "]" + v2Fields(acks, hashJson) + "}";
  }

  // Reads k=v&k=v (the fragment, without "#"): pairs without "=" get "",
  // empty pairs are skipped, a repeated key keeps its last value (in the
  // place of its first), and a pair with a malformed escape is set aside in
  // bad without losing the others (core.decode_fragment).
  function decodeFragment(frag) {
    var map = new Map();
    var withEq = new Set();
    var bad = [];
    var parts = frag.split("&");
    for (var i = 0; i < parts.length; i++) {
      var pair = parts[i];
      if (pair === "") continue;
      var eq = pair.indexOf("=");
      var rawKey = eq < 0 ? pair : pair.slice(0, eq);
      var key, value;
      try {
        key = decodeURIComponent(rawKey);
        value = eq < 0 ? "" : decodeURIComponent(pair.slice(eq + 1));
      } catch (e) {
        bad.push({ index: i + 1, pair: pair, rawKey: rawKey });
        continue;
      }
      map.set(key, value);
      if (eq >= 0) withEq.add(key);
    }
    return { map: map, withEq: withEq, bad: bad };
  }

  // a fragment the shell wrote (rather than the page's own route)
  function isReplyFragment(map) {
    if (map.has("mph") || map.has(DEFAULT_REQ)) return true;
    var last;
    map.forEach(function (v, k) { last = k; });
    return map.size > 1 && last === "v" && /^[0-9]+$/.test(map.get("v"));
  }

  function decodeEnvelope(value) {
    var t;
    try {
      t = JSON.parse(value);
    } catch (e) {
      t = undefined;
    }
    if (t !== null && typeof t === "object") {
      if (hasOwn.call(t, "error")) {
        var e = t.error;
        if (e !== null && typeof e === "object" && validCode(e.code)) {
          return [new MphybridError(e.code, typeof e.message === "string" ? e.message : "",
            hasOwn.call(e, "data") ? e.data : undefined)];
        }
      } else if (hasOwn.call(t, "result")) {
        return [null, t.result];
      }
    }
    return [new MphybridError("EREPLY", "reply is not a version 2 reply")];
  }

  // ------------------------------------------------------- the client

  function checkCount(opts, name, min) {
    var v = opts[name];
    if (v === undefined) return defaults[name];
    if (typeof v !== "number" || v !== v || v < min) {
      throw new TypeError("createClient: " + name + " must be a number >= " + min);
    }
    return v;
  }

  function checkTimeout(v, who) {
    if (v === false || v === 0) return false;
    if (typeof v !== "number" || v !== v || v < 0) {
      throw new TypeError(who + ": timeout must be a number of ms or false");
    }
    return v;
  }

  function sdkNavigate(getWx) {
    return function (url) {
      var wx = getWx();
      var mp = wx && wx.miniProgram;
      if (!mp || typeof mp.navigateTo !== "function") {
        throw new Error("wx.miniProgram.navigateTo is not available (include the JS-SDK, weixin-js-sdk)");
      }
      return new Promise(function (resolve, reject) {
        mp.navigateTo({ url: url, success: resolve, fail: reject });
      });
    };
  }

  function findWx(opts) {
    if (opts.wx) return function () { return opts.wx; };
    return function () {
      if (root.wx && root.wx.miniProgram) return root.wx;
      if (!classic && typeof require === "function") {
        try {
          return require("weixin-js-sdk");
        } catch (e) {
          return undefined;
        }
      }
      return undefined;
    };
  }

  function fragmentOf(href) {
    var p = href.indexOf("#");
    return p < 0 ? "" : href.slice(p + 1);
  }

  function Client(opts) {
    if (opts === undefined) opts = {};
    if (opts === null || typeof opts !== "object") throw new TypeError("createClient: opts must be an object");
    var page = opts.page === undefined ? defaults.page : opts.page;
    if (typeof page !== "string" || page === "" || /[?#]/.test(page)) {
      throw new TypeError("createClient: page must be a page path without query or fragment");
    }
    var protocol = opts.protocol === undefined ? defaults.protocol : opts.protocol;
    if (protocol !== 1 && protocol !== 2) throw new TypeError("createClient: protocol must be 1 or 2");
    ["navigate", "now", "log", "newReqId", "setTimeout", "clearTimeout"].forEach(function (name) {
      if (opts[name] !== undefined && typeof opts[name] !== "function") {
        throw new TypeError("createClient: " + name + " must be a function");
      }
    });
    var prefix = opts.prefix === undefined ? defaults.prefix : opts.prefix;
    if (typeof prefix !== "string" || !/^[A-Za-z0-9_.~-]{0,32}$/.test(prefix)) {
      throw new TypeError("createClient: prefix must be 0 to 32 characters of [A-Za-z0-9_.~-]");
    }
    var win = opts.window === undefined ? (root.location && root.addEventListener ? root : null) : opts.window;
    if (win !== null && win !== false && (typeof win !== "object" || typeof win.addEventListener !== "function")) {
      throw new TypeError("createClient: window must be a window, or null for none");
    }

    this.page = page;
    this.urlHead = page + "?cmd=";
    this.protocol = protocol;
    this.timeout = opts.timeout === undefined ? defaults.timeout : checkTimeout(opts.timeout, "createClient");
    this.maxUrl = checkCount(opts, "maxUrl", 16);
    this.maxAcks = checkCount(opts, "maxAcks", 0);
    this.maxDone = checkCount(opts, "maxDone", 1);
    this.gap = checkCount(opts, "gap", 0);
    this.batch = opts.batch === undefined ? defaults.batch : !!opts.batch;
    this.maxBatch = checkCount(opts, "maxBatch", 1);
    // batches go only to a shell that has answered one of our commands in
    // version 2
    this.peerV2 = false;
    this.prefix = prefix;
    this.carryHash = opts.hash === undefined ? true : !!opts.hash;
    this.navigate = opts.navigate || sdkNavigate(findWx(opts));
    this.now = opts.now || function () { return Date.now(); };
    this.log = opts.log || function (level, msg) {
      if (typeof console !== "undefined") console.error("mphybrid " + level + ": " + msg);
    };
    this.newReqId = opts.newReqId || null;
    this.random = cryptoRandom() || Math.random;
    var st = opts.setTimeout || root.setTimeout;
    var ct = opts.clearTimeout || root.clearTimeout;
    this.setTimer = function (f, ms) { return st(f, ms); };
    this.clearTimer = function (t) { ct(t); };

    this.calls = new Map();   // request id -> call in flight (queued or sent)
    this.queue = [];          // calls waiting for the wire, oldest first
    this.wire = null;         // the command on its way: { ids: [...], timer }
    this.pumping = null;      // the timer that sends the next command
    this.seq = 0;
    // request ids finished lately, acknowledged again on sight: two
    // generations of maxDone ids, the old one dropped whole
    this.done = new Set();
    this.doneOld = new Set();
    this.toAck = [];          // request ids received, to acknowledge
    this.toAckSet = new Set();
    this.pageHash = "";       // the page's own fragment, kept across replies
    this.restoring = false;

    this.win = win || null;
    if (this.win) {
      var self = this;
      this.listener = function () {
        if (!self.restoring) self.onHashChange();
      };
      this.win.addEventListener("hashchange", this.listener);
      var frag = fragmentOf(String(this.win.location.href));
      var d = decodeFragment(frag);
      if (isReplyFragment(d.map)) {
        // reloaded with a reply in the URL: the shell carried the route
        this.pageHash = d.map.get("mph") === "2" && d.map.has("hash") ? d.map.get("hash") : "";
        this.restoreHash();
      } else {
        this.pageHash = frag;
      }
    }
  }

  // the number of calls in flight (queued or sent)
  Client.prototype.pending = function () {
    return this.calls.size;
  };

  // stops listening and fails every call in flight with ECANCELED
  Client.prototype.close = function () {
    if (this.win && this.listener) this.win.removeEventListener("hashchange", this.listener);
    this.listener = null;
    var self = this;
    Array.from(this.calls.values()).forEach(function (call) {
      self.end(call, new MphybridError("ECANCELED", "call to " + call.api + " canceled: client closed"));
    });
    if (this.pumping !== null) this.clearTimer(this.pumping);
    this.pumping = null;
  };

  // what a thrown value says, whatever it is (a Symbol, an object without
  // toString, a Proxy that throws): the text never throws
  function thrownText(e) {
    try {
      return String(e && e.stack || e);
    } catch (x) {
      return "(a value that cannot be shown)";
    }
  }

  // a callback that throws, or a log that throws, never stops the other
  // calls being settled
  Client.prototype.safeSettle = function (call, err, result) {
    try {
      call.settle(err, result, call.id);
    } catch (e) {
      try {
        this.log("error", "callback of " + call.api + " (" + call.id + ") raised: " + thrownText(e));
      } catch (x) {
        // a faulty log is ignored
      }
    }
  };

  Client.prototype.markDone = function (id) {
    if (this.done.size >= this.maxDone) {
      this.doneOld = this.done;
      this.done = new Set();
    }
    this.done.add(id);
  };

  // the acknowledgements waiting for a command: at most maxDone, the oldest
  // given up first (the shell's outbox forgets its reply by its own limits);
  // none when no command carries them
  Client.prototype.queueAck = function (id) {
    if (this.maxAcks === 0 || this.toAckSet.has(id)) return;
    if (this.toAck.length >= this.maxDone) this.toAckSet.delete(this.toAck.shift());
    this.toAckSet.add(id);
    this.toAck.push(id);
  };

  // takes a call out of the flight table (and the queue); settling it is
  // the caller's job. Returns false when it was not in flight.
  Client.prototype.finish = function (call) {
    if (this.calls.get(call.id) !== call) return false;
    this.calls.delete(call.id);
    if (call.timer !== null) this.clearTimer(call.timer);
    call.timer = null;
    if (call.unlisten) call.unlisten();
    if (call.sent) {
      this.markDone(call.id);
    } else {
      var i = this.queue.indexOf(call);
      if (i >= 0) this.queue.splice(i, 1);
    }
    return true;
  };

  // finishes a call with an error and settles it: exactly once
  Client.prototype.end = function (call, err) {
    if (this.finish(call)) this.safeSettle(call, err);
  };

  // the wire is free: the next command goes after the gap
  Client.prototype.release = function () {
    if (this.wire && this.wire.timer !== null) this.clearTimer(this.wire.timer);
    this.wire = null;
    this.pump();
  };

  Client.prototype.wireHolds = function (id) {
    return this.wire !== null && this.wire.ids.indexOf(id) >= 0;
  };

  Client.prototype.pump = function () {
    if (this.wire !== null || this.pumping !== null || this.queue.length === 0) return;
    var self = this;
    this.pumping = this.setTimer(function () {
      self.pumping = null;
      self.sendNext();
    }, this.gap);
  };

  Client.prototype.hashJson = function () {
    if (!this.carryHash || !this.win) return undefined;
    var h = this.pageHash;
    // a longer one would be refused by the shell (its max_hash)
    return utf8Length(h) <= defaults.maxHash ? JSON.stringify(h) : undefined;
  };

  // the command URL of call, with acks when they fit; null when even
  // without them it is over maxUrl (the length in bytes goes in .length)
  Client.prototype.commandUrl = function (call, acks) {
    var hashJson = call.v2 ? this.hashJson() : undefined;
    var url = this.urlHead + encodeURIComponent(commandJson(call, acks, hashJson));
    var bytes = utf8Length(url);
    if (bytes > this.maxUrl && acks && acks.length > 0) {
      // acknowledgements wait for a shorter command
      acks.length = 0;
      url = this.urlHead + encodeURIComponent(commandJson(call, null, hashJson));
      bytes = utf8Length(url);
    }
    return { url: bytes > this.maxUrl ? null : url, bytes: bytes };
  };

  function tooLong(self, bytes) {
    return new MphybridError("ETOOLONG", "command URL of " + bytes +
      " bytes is over the limit of " + self.maxUrl + " bytes");
  }

  // The URL of a batch of the call at the head of the queue and the version
  // 2 calls after it (params at most 97 deep: the batch nests them two
  // levels more), as many as fit in maxUrl (the rest wait for the next
  // batch); null when not even two fit, or batches are not for this shell.
  Client.prototype.batchUrl = function (acks) {
    var q = this.queue;
    if (!this.batch || !this.peerV2 || this.maxBatch < 2 || q.length < 2 || !q[0].batchable || !q[1].batchable) {
      return null;
    }
    var hashJson = this.hashJson();
    var group = [q[0]];
    var url = null;
    for (var i = 1; i < q.length && group.length < this.maxBatch && q[i].batchable; i++) {
      var next = this.urlHead + encodeURIComponent(batchJson(group.concat([q[i]]), acks, hashJson));
      if (utf8Length(next) > this.maxUrl) break;
      group.push(q[i]);
      url = next;
    }
    if (url === null) return null;
    q.splice(0, group.length);
    return { calls: group, url: url };
  };

  // Sends the commands of the queue while the wire is free: one command per
  // navigateTo, or, once the shell has shown that it speaks version 2, a
  // batch of the queued version 2 commands that fit.
  Client.prototype.sendNext = function () {
    while (this.wire === null && this.queue.length > 0) {
      var acks = null;
      if (this.queue[0].v2 && this.toAck.length > 0 && this.maxAcks > 0) {
        acks = this.toAck.slice(0, this.maxAcks);
      }
      var batch = this.batchUrl(acks);
      if (batch === null && acks) {
        // acknowledgements never keep commands apart: they wait
        batch = this.batchUrl(null);
        if (batch !== null) acks = null;
      }
      if (batch !== null) {
        this.transmit(batch.calls, batch.url, acks);
        continue;
      }
      var call = this.queue.shift();
      var built = this.commandUrl(call, acks);
      if (built.url === null) {
        // the page's own fragment grew since the call was made
        this.end(call, tooLong(this, built.bytes));
        continue;
      }
      this.transmit([call], built.url, acks);
    }
  };

  // The wire is held until a fragment answers one of the commands sent, or,
  // when the shell never does, for the longest timeout of the calls from
  // now: a call may have waited in the queue, or been canceled, but the
  // hybrid page it opens gets its time before another is pushed. With a
  // timeout false, only a reply frees the wire.
  Client.prototype.transmit = function (calls, url, acks) {
    var self = this;
    var wire = { ids: [], timer: null };
    var hold = 0;
    calls.forEach(function (call) {
      call.sent = true;
      wire.ids.push(call.id);
      if (hold !== false) hold = call.timeout === false ? false : Math.max(hold, call.timeout);
    });
    this.wire = wire;
    if (hold !== false) {
      wire.timer = this.setTimer(function () {
        wire.timer = null;
        if (self.wire === wire) self.release();
      }, hold);
    }
    // the acknowledgements leave the queue before navigating: the shell
    // may answer (and the page receive) within navigate
    if (acks && acks.length > 0) {
      for (var i = 0; i < acks.length; i++) this.toAckSet.delete(acks[i]);
      this.toAck.splice(0, acks.length);
    }
    var failed = function (why) {
      if (self.wire !== wire) return; // answered already: the reply stands
      if (acks) acks.forEach(function (id) { self.queueAck(id); });
      if (wire.timer !== null) self.clearTimer(wire.timer);
      self.wire = null;
      var message = "navigate failed: " + (why && why.errMsg || why && why.message || String(why));
      // every call leaves the flight table before any is settled
      var failing = calls.filter(function (call) {
        if (self.calls.get(call.id) !== call) return false;
        self.calls.delete(call.id);
        if (call.timer !== null) self.clearTimer(call.timer);
        if (call.unlisten) call.unlisten();
        return true;
      });
      failing.forEach(function (call) {
        self.safeSettle(call, new MphybridError("ENAVIGATE", message));
      });
      self.pump();
    };
    var r;
    try {
      r = this.navigate(url);
    } catch (e) {
      failed(e);
      return;
    }
    if (r === false) {
      failed("navigate returned false");
    } else if (r && typeof r.then === "function") {
      r.then(null, failed);
    }
  };

  function checkSignal(signal) {
    if (signal === undefined || signal === null) return null;
    if (typeof signal !== "object" || typeof signal.addEventListener !== "function" ||
        typeof signal.aborted !== "boolean") {
      throw new TypeError("call: signal must be an AbortSignal");
    }
    return signal;
  }

  // the api as text for messages (the published API takes any value)
  function apiName(api) {
    try {
      return String(api);
    } catch (e) {
      return typeof api;
    }
  }

  function canceled(name, signal, how) {
    var err = new MphybridError("ECANCELED", "call to " + name + " " + how);
    if (signal.reason !== undefined) err.cause = signal.reason;
    return err;
  }

  // The call itself: settle(err, result, id) is called exactly once.
  // o.timeout, o.signal, o.protocol; o.loose: the published library's
  // semantics for api and params (miniProgramHybrid.call).
  Client.prototype.start = function (api, params, settle, o) {
    var timeout = this.timeout;
    if (o.timeout !== undefined) timeout = checkTimeout(o.timeout, "call");
    var signal = checkSignal(o.signal);
    var protocol = o.protocol === undefined ? this.protocol : o.protocol;
    if (protocol !== 1 && protocol !== 2) throw new TypeError("call: protocol must be 1 or 2");

    var id;
    if (this.newReqId) {
      id = this.newReqId(this.prefix);
      // the shell trims a request id, as the published driver does: one
      // with spaces around it would be answered under another
      if (typeof id !== "string" || id === "" || utf8Length(id) > 128 || /[\u0000-\u001f\u007f]/.test(id) ||
          id.trim() !== id) {
        throw new Error("call: newReqId returned an unusable request id");
      }
      // keys a fragment uses for itself, in either version: v (the stamp),
      // mph (what marks version 2), hash
      if (id === "mph" || id === "hash" || id === "v") {
        throw new Error("call: newReqId returned a name that fragments reserve: " + id);
      }
      if (this.calls.has(id)) throw new Error("call: newReqId returned the id of a call in flight: " + id);
    } else {
      // the published library draws from Math.random; our own calls from
      // the system's random source where there is one
      var random = o.loose ? Math.random : this.random;
      var tries = 0;
      do {
        // more tries than the counter has values: the random source repeats
        if (++tries > 258) throw new Error("call: request ids repeat (is Math.random constant?)");
        id = nextId(this.prefix, random);
      } while (this.calls.has(id));
    }

    var call = {
      id: id, api: apiName(api), settle: settle, seq: ++this.seq, v2: protocol === 2,
      apiJson: undefined, paramsJson: undefined, batchable: false,
      timeout: timeout, timer: null, unlisten: null, sent: false
    };
    var self = this;
    var early = function (err) {
      self.safeSettle(call, err);
      return id;
    };
    if (signal && signal.aborted) {
      return early(canceled(call.api, signal, "canceled before it was sent"));
    }
    try {
      call.apiJson = JSON.stringify(api);
    } catch (e) {
      return early(new MphybridError("EVALUE", "api: " + (e && e.message)));
    }
    try {
      call.paramsJson = paramsJson(params, o.loose);
    } catch (e) {
      return early(e);
    }
    var text = commandJson(call, null, undefined);
    if (!o.loose && LONE_SURROGATE.test(text)) {
      return early(new MphybridError("EUTF8", "a string in api or params has a lone surrogate"));
    }
    var built = this.commandUrl(call, null);
    if (built.url === null) return early(tooLong(this, built.bytes));
    var depth = call.paramsJson === undefined ? 0 : jsonDepth(call.paramsJson);
    // deeper params would be answered where no call hears it
    if (!o.loose && depth > PARAMS_MAX_DEPTH) {
      return early(new MphybridError("EDEPTH", "params: nesting deeper than " + PARAMS_MAX_DEPTH +
        " levels, which the shell does not read"));
    }
    // in a batch, params sit two levels deeper (the batch array, the entry)
    call.batchable = call.v2 && depth <= PARAMS_MAX_DEPTH - 2;

    this.calls.set(id, call);
    this.queue.push(call);
    if (timeout !== false) {
      call.timer = this.setTimer(function () {
        call.timer = null;
        self.end(call, new MphybridError("ETIMEOUT", "no reply to " + call.api + " within " + timeout + " ms"));
      }, timeout);
    }
    if (signal) {
      var onAbort = function () {
        self.end(call, canceled(call.api, signal, "canceled"));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      call.unlisten = function () { signal.removeEventListener("abort", onAbort); };
    }
    this.pump();
    return id;
  };

  // client.call(api, params, { timeout, signal, protocol }) -> Promise
  Client.prototype.call = function (api, params, opts) {
    if (typeof api !== "string" || api === "") throw new TypeError("call: api must be a non-empty string");
    if (opts === undefined || opts === null) opts = {};
    if (typeof opts !== "object") throw new TypeError("call: opts must be an object");
    var self = this;
    var settle;
    var promise = new Promise(function (resolve, reject) {
      settle = function (err, result) {
        if (err) reject(err);
        else resolve(result);
      };
    });
    self.start(api, params, settle, {
      timeout: opts.timeout, signal: opts.signal, protocol: opts.protocol
    });
    return promise;
  };

  // client.receive(srcOrFragment) -> { delivered, hash }
  // Delivers every reply in the web-view src (or its fragment, with or
  // without "#") to its call in flight, oldest call first.
  Client.prototype.receive = function (s) {
    return this.read(s).result;
  };

  Client.prototype.read = function (s) {
    if (typeof s !== "string") throw new TypeError("receive: expected the web-view src or its fragment");
    var none = { result: { delivered: 0, hash: undefined }, ours: false };
    var frag;
    var p = s.indexOf("#");
    if (p >= 0) {
      frag = s.slice(p + 1);
    } else if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(s) || s.charAt(0) === "/") {
      return none;
    } else {
      frag = s;
    }
    if (frag === "") return none;

    var d = decodeFragment(frag);
    var map = d.map;
    var v2 = map.get("mph") === "2";
    var calls = this.calls;
    var found = [];
    var values = new Map();
    var bad = new Map();
    var reacked = false;
    var answersWire = false;
    var self = this;
    map.forEach(function (value, key) {
      if (self.wireHolds(key) && d.withEq.has(key)) answersWire = true;
      var call = calls.get(key);
      // "#<id>" without "=" is no reply (the published listener looks
      // for "#<id>=")
      if (call && value === "" && !d.withEq.has(key)) call = undefined;
      if (call && call.sent) {
        found.push(call);
        values.set(call, value);
      } else if (!call && v2 && (self.done.has(key) || self.doneOld.has(key))) {
        // a reply delivered (or given up) before, written again because
        // the acknowledgement has not reached the shell yet
        self.queueAck(key);
        reacked = true;
      }
    });
    for (var i = 0; i < d.bad.length; i++) {
      var key;
      try {
        key = decodeURIComponent(d.bad[i].rawKey);
      } catch (e) {
        continue;
      }
      if (this.wireHolds(key)) answersWire = true;
      var call = calls.get(key);
      // once per call, even when the fragment repeats its key
      if (call && call.sent && !values.has(call) && !bad.has(call)) {
        found.push(call);
        bad.set(call, true);
      }
    }
    // a version 2 reply to our own command: the shell reads batches
    if (v2 && (found.length > 0 || answersWire)) this.peerV2 = true;
    var hash = v2 && map.has("hash") ? map.get("hash") : undefined;
    var out = { result: { delivered: found.length, hash: hash },
      ours: found.length > 0 || reacked || answersWire || isReplyFragment(map) };
    if (answersWire) {
      if (this.wire.timer !== null) this.clearTimer(this.wire.timer);
      this.wire = null;
    }
    if (found.length > 1) found.sort(function (a, b) { return a.seq - b.seq; });
    // every call leaves the flight table before any is settled, so a
    // callback that cancels or calls again cannot touch them
    found.forEach(function (c) {
      self.finish(c);
      if (v2 && c.v2) self.queueAck(c.id);
    });
    found.forEach(function (c) {
      if (bad.has(c)) {
        self.safeSettle(c, new MphybridError("EESCAPE", "reply to " + c.id + ": malformed escape"));
      } else if (v2) {
        var r = decodeEnvelope(values.get(c));
        self.safeSettle(c, r[0], r[1]);
      } else {
        self.safeSettle(c, null, values.get(c));
      }
    });
    if (answersWire) this.pump();
    return out;
  };

  // puts the page's own fragment back after a reply was read
  Client.prototype.restoreHash = function () {
    var win = this.win;
    var hist = win.history;
    if (!this.carryHash || !hist || typeof hist.replaceState !== "function") return;
    var href = String(win.location.href);
    var p = href.indexOf("#");
    var base = p < 0 ? href : href.slice(0, p);
    var target = this.pageHash === "" ? base : base + "#" + this.pageHash;
    if (target === href) return;
    hist.replaceState(hist.state, "", target);
    // a hash router whose listener ran before ours saw the reply: tell it
    var ev = null;
    if (typeof win.HashChangeEvent === "function") {
      ev = new win.HashChangeEvent("hashchange", { oldURL: href, newURL: target });
    } else if (typeof win.Event === "function") {
      ev = new win.Event("hashchange");
    }
    if (ev && typeof win.dispatchEvent === "function") {
      this.restoring = true;
      try {
        win.dispatchEvent(ev);
      } finally {
        this.restoring = false;
      }
    }
  };

  Client.prototype.onHashChange = function () {
    var href = String(this.win.location.href);
    if (this.read(href).ours) {
      this.restoreHash();
    } else {
      // the page's own route changed
      this.pageHash = fragmentOf(href);
    }
  };

  // ---------------------------------------------------- the module

  var shared = null;

  function defaultClient() {
    if (shared === null) shared = new Client({});
    return shared;
  }

  // the published library's API, on the default client: the published
  // wire format (version 1), callback(result) with the string the shell
  // wrote, or with our error code ("ETIMEOUT", "ETOOLONG", ...) where the
  // published library would never call back
  var miniProgramHybrid = {
    call: function (api, params, callback) {
      var fn = typeof callback === "function" ? callback : null;
      defaultClient().start(api, params, function (err, result, id) {
        var value = err ? err.code : result;
        if (fn) fn(value);
        else if (typeof console !== "undefined") console.log(id + " -> " + value);
      }, { protocol: 1, loose: true });
    }
  };

  var mphybrid = {
    version: VERSION,
    defaults: defaults,
    codes: codes,
    MphybridError: MphybridError,
    createClient: function (opts) { return new Client(opts); },
    defaultClient: defaultClient,
    call: function (api, params, opts) { return defaultClient().call(api, params, opts); },
    miniProgramHybrid: miniProgramHybrid
  };

  if (classic && root.location && typeof root.addEventListener === "function") {
    // listening from the start, as the published library does
    defaultClient();
  }
  return mphybrid;
});
