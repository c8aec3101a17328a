"use strict";
// A fake browser for the client: timers on a fake clock, a window with
// location, history and hashchange, and a recorder of navigateTo calls.

const mphybrid = require("../mphybrid.js");

class FakeTimers {
  constructor(start = 1700000000000) {
    this.time = start;
    this.timers = new Map();
    this.nextId = 1;
    this.now = () => this.time;
    this.setTimeout = (fn, ms) => {
      const id = this.nextId++;
      this.timers.set(id, { fn, at: this.time + Math.max(0, ms || 0), id });
      return id;
    };
    this.clearTimeout = (id) => {
      this.timers.delete(id);
    };
  }

  // runs every timer due by now + ms, in order of time then creation,
  // including those the timers themselves set
  advance(ms = 0) {
    const until = this.time + ms;
    for (;;) {
      let next = null;
      for (const t of this.timers.values()) {
        if (t.at <= until && (next === null || t.at < next.at || (t.at === next.at && t.id < next.id))) {
          next = t;
        }
      }
      if (next === null) break;
      this.timers.delete(next.id);
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = until;
  }

  get size() {
    return this.timers.size;
  }
}

class FakeEvent {
  constructor(type, init) {
    this.type = type;
    Object.assign(this, init || {});
  }
}

class FakeWindow {
  constructor(href = "https://h5.example.com/shop/index.html?from=mp") {
    this.location = { href };
    this.listeners = new Map();
    this.replaced = [];
    this.events = [];
    this.Event = FakeEvent;
    this.HashChangeEvent = FakeEvent;
    const win = this;
    this.history = {
      state: null,
      replaceState(state, title, url) {
        this.state = state;
        win.location.href = url;
        win.replaced.push(url);
      },
    };
  }

  addEventListener(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(fn);
  }

  removeEventListener(type, fn) {
    const l = this.listeners.get(type) || [];
    const i = l.indexOf(fn);
    if (i >= 0) l.splice(i, 1);
  }

  dispatchEvent(ev) {
    this.events.push(ev);
    for (const fn of (this.listeners.get(ev.type) || []).slice()) fn(ev);
    return true;
  }

  // the web-view src changed to src: only its fragment differs, so the page
  // is not reloaded and sees a hashchange
  setSrc(src) {
    const oldURL = this.location.href;
    this.location.href = src;
    this.dispatchEvent(new FakeEvent("hashchange", { oldURL, newURL: src }));
  }

  // the page's own route: location.hash = "#" + frag
  route(frag) {
    const base = this.location.href.split("#")[0];
    this.setSrc(base + "#" + frag);
  }

  get base() {
    return this.location.href.split("#")[0];
  }

  get fragment() {
    const p = this.location.href.indexOf("#");
    return p < 0 ? null : this.location.href.slice(p + 1);
  }
}

// a client on a fake window and clock; every navigateTo is recorded with
// the command it carries
function harness(opts = {}) {
  const timers = new FakeTimers();
  const win = opts.window || new FakeWindow(opts.href);
  const sent = [];
  const h = {
    timers,
    win,
    sent,
    navigateResult: undefined,
    onNavigate: null,
  };
  const clientOpts = Object.assign({
    window: win,
    now: timers.now,
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
    navigate(url) {
      sent.push(url);
      if (h.onNavigate) return h.onNavigate(url);
      return h.navigateResult;
    },
  }, opts.client || {});
  h.client = mphybrid.createClient(clientOpts);
  // the command of the n-th navigateTo (default: the last)
  h.cmd = (n = sent.length - 1) => commandOf(sent[n]);
  // the shell writes pairs ([req, value] ...) as a version 2 fragment
  h.replyV2 = (pairs, extra = {}) => win.setSrc(win.base + "#" + fragmentV2(pairs, extra));
  h.replyV1 = (req, value, v = 1) => win.setSrc(win.base + "#" + encodeURIComponent(req) + "=" +
    encodeURIComponent(value) + "&v=" + v);
  return h;
}

let stamp = 1700000000000;

function fragmentV2(pairs, extra = {}) {
  const parts = ["mph=2"];
  for (const [req, value] of pairs) {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    parts.push(encodeURIComponent(req) + "=" + encodeURIComponent(text));
  }
  if (extra.hash !== undefined) parts.push("hash=" + encodeURIComponent(extra.hash));
  parts.push("v=" + (extra.v || ++stamp));
  return parts.join("&");
}

function commandOf(url) {
  const m = /^\/pages\/hybrid-page\/hybrid\?cmd=(.*)$/.exec(url);
  if (!m) throw new Error("not a command URL: " + url);
  return JSON.parse(decodeURIComponent(m[1]));
}

// settles a promise into { ok, value } | { ok: false, err } for assertions
function outcome(p) {
  const o = { settled: false };
  p.then((value) => Object.assign(o, { settled: true, ok: true, value }),
    (err) => Object.assign(o, { settled: true, ok: false, err }));
  return o;
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

module.exports = { FakeTimers, FakeWindow, FakeEvent, harness, fragmentV2, commandOf, outcome, flush };
