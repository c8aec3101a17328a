/*
 * The simulator's timeline: one row per command the hybrid page receives,
 * updated as its reply is written into the web-view src. Rows carry the
 * time, request id, api, status, latency and (expandable) the command, the
 * gateway's answer and the reply. Filterable by api and status.
 */
(function (root) {
  "use strict";

  var RESERVED = { mph: true, hash: true, v: true };
  var CODE = /^[A-Z][A-Z0-9_]*$/;

  // options.cmd as the shell reads it: decoded until it is JSON, at most twice
  function readCmd(raw) {
    if (typeof raw !== "string") return null;
    var text = raw;
    for (var i = 0; i < 2 && text.charAt(0) !== "{"; i++) {
      try { text = decodeURIComponent(text); } catch (e) { return null; }
    }
    try {
      var cmd = JSON.parse(text);
      return cmd && typeof cmd === "object" && !Array.isArray(cmd) ? cmd : null;
    } catch (e) {
      return null;
    }
  }

  // the commands one navigateTo carries: one, or the entries of a batch
  function commandsOf(cmd) {
    if (!cmd) return [];
    if (Array.isArray(cmd.batch)) {
      return cmd.batch.filter(function (e) { return e && typeof e === "object"; }).map(function (e) {
        return { req: e.req, api: e.api, params: e.params, mph: cmd.mph, batch: cmd.batch.length };
      });
    }
    return [{ req: cmd.req, api: cmd.api, params: cmd.params, mph: cmd.mph, batch: 0 }];
  }

  function fragmentPairs(src) {
    var p = src.indexOf("#");
    var pairs = [];
    if (p < 0) return pairs;
    src.slice(p + 1).split("&").forEach(function (pair) {
      if (pair === "") return;
      var eq = pair.indexOf("=");
      try {
        pairs.push([decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq)),
          eq < 0 ? "" : decodeURIComponent(pair.slice(eq + 1))]);
      } catch (e) {
        pairs.push([pair.slice(0, eq < 0 ? pair.length : eq), null]);
      }
    });
    return pairs;
  }

  // a reply as the client reads it: {ok, code, value}
  function readReply(value, v2) {
    if (value === null) return { ok: false, code: "EESCAPE", value: "(malformed escape)" };
    if (!v2) {
      // the published convention: any value other than "0" that looks like
      // a code is an error code
      return CODE.test(value) && value !== "0" ? { ok: false, code: value, value: value }
        : { ok: true, value: value };
    }
    var t;
    try { t = JSON.parse(value); } catch (e) { t = undefined; }
    if (t && typeof t === "object" && t.error && typeof t.error === "object") {
      return { ok: false, code: String(t.error.code), value: t };
    }
    if (t && typeof t === "object" && Object.prototype.hasOwnProperty.call(t, "result")) {
      return { ok: true, value: t };
    }
    return { ok: false, code: "EREPLY", value: value };
  }

  function clock(d) {
    function two(n) { return (n < 10 ? "0" : "") + n; }
    var ms = d.getMilliseconds();
    return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds()) + "." +
      (ms < 10 ? "00" : ms < 100 ? "0" : "") + ms;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function pretty(v) {
    if (v === undefined) return "(none)";
    if (typeof v === "string") {
      try { return JSON.stringify(JSON.parse(v), null, 2); } catch (e) { return v; }
    }
    return JSON.stringify(v, null, 2);
  }

  function Timeline(list, controls) {
    this.list = list;
    this.controls = controls;  // { api: <select>, status: container of [data-status] buttons, counts }
    this.rows = [];
    this.open = new Map();     // req -> row waiting for its reply
    this.byReq = new Map();    // req -> last row
    this.apis = new Set();
    this.filter = { api: "", status: "" };
    this.maxLatency = 1000;
    var self = this;
    controls.api.addEventListener("change", function () {
      self.filter.api = controls.api.value;
      self.applyFilter();
    });
    Array.prototype.forEach.call(controls.status.querySelectorAll("[data-status]"), function (b) {
      b.addEventListener("click", function () {
        self.filter.status = b.getAttribute("data-status");
        Array.prototype.forEach.call(controls.status.querySelectorAll("[data-status]"), function (o) {
          o.classList.toggle("on", o === b);
        });
        self.applyFilter();
      });
    });
    if (controls.clear) controls.clear.addEventListener("click", function () { self.clear(); });
  }

  Timeline.readCmd = readCmd;
  Timeline.commandsOf = commandsOf;
  Timeline.fragmentPairs = fragmentPairs;

  Timeline.prototype.clear = function () {
    this.rows = [];
    this.open.clear();
    this.byReq.clear();
    this.list.textContent = "";
    this.counts();
  };

  // the hybrid page was pushed with this url
  Timeline.prototype.command = function (url, options) {
    var raw = options && options.cmd;
    var cmd = readCmd(raw);
    var cmds = commandsOf(cmd);
    var bytes = new TextEncoder().encode(url).length;
    if (cmds.length === 0) {
      this.add({ req: "miniProgramResult", api: "(unreadable)", raw: raw, bytes: bytes, status: "error",
        code: "ECMD", note: "the hybrid page got a cmd it cannot read" });
      return;
    }
    var self = this;
    cmds.forEach(function (c) {
      var req = typeof c.req === "string" && c.req !== "" ? c.req : "miniProgramResult";
      var again = self.byReq.get(req);
      var row = self.add({
        req: req, api: typeof c.api === "string" ? c.api : String(c.api), params: c.params,
        v2: typeof c.mph === "number" && c.mph >= 2, batch: c.batch, cmd: cmd, bytes: bytes,
        status: "pending", note: again ? "sent again (replay of " + again.req + ")" : ""
      });
      self.open.set(req, row);
    });
  };

  // a navigateTo that WeChat refused
  Timeline.prototype.navigateFailed = function (url, errMsg) {
    var q = url.indexOf("?");
    var options = q < 0 ? {} : root.MiniProgram.parseQuery(url.slice(q + 1));
    var cmds = commandsOf(readCmd(options.cmd));
    var self = this;
    var bytes = new TextEncoder().encode(url).length;
    if (cmds.length === 0) {
      this.add({ req: "-", api: "navigateTo", status: "failed", code: "navigateTo:fail", note: errMsg, bytes: bytes });
      return;
    }
    cmds.forEach(function (c) {
      self.add({ req: String(c.req), api: String(c.api), params: c.params, v2: c.mph >= 2, batch: c.batch,
        bytes: bytes, status: "failed", code: "navigateTo:fail", note: errMsg });
    });
  };

  // the hybrid page's wx.request to the gateway answered (or failed)
  Timeline.prototype.gateway = function (detail) {
    var data = detail.data || {};
    var cmds = commandsOf(readCmd(data.cmd));
    var self = this;
    cmds.forEach(function (c) {
      var row = self.open.get(c.req) || self.byReq.get(c.req);
      if (!row) return;
      row.http = detail.statusCode !== undefined ? detail.statusCode : detail.errMsg;
      row.gatewayMs = detail.ms;
      row.answer = detail.body !== undefined ? detail.body : detail.errMsg;
      if (row.status === "pending" && detail.statusCode === 200 && detail.body &&
          typeof detail.body.src === "string" && detail.body.src.indexOf(encodeURIComponent(c.req) + "=") < 0) {
        row.note = "the gateway answered before the handler: the reply waits in the outbox for the next command";
      }
      self.draw(row);
    });
  };

  // the web-view src was set: replies for the rows waiting
  Timeline.prototype.src = function (src) {
    var pairs = fragmentPairs(src);
    var v2 = pairs.length > 0 && pairs[0][0] === "mph" && pairs[0][1] === "2";
    var now = performance.now();
    var self = this;
    pairs.forEach(function (kv) {
      if (v2 && RESERVED[kv[0]]) return;
      var row = self.open.get(kv[0]);
      if (!row) return;
      self.open.delete(kv[0]);
      var r = readReply(kv[1], v2);
      row.status = r.ok ? "ok" : "error";
      row.code = r.code;
      row.reply = r.value;
      row.latency = now - row.t0;
      row.fragment = src.slice(src.indexOf("#"));
      if (row.latency > self.maxLatency) {
        self.maxLatency = row.latency;
        self.rows.forEach(function (o) { self.draw(o); });
      } else {
        self.draw(row);
      }
    });
    this.counts();
  };

  Timeline.prototype.add = function (row) {
    row.n = this.rows.length + 1;
    row.t0 = performance.now();
    row.at = new Date();
    this.rows.push(row);
    this.byReq.set(row.req, row);
    if (!this.apis.has(row.api)) {
      this.apis.add(row.api);
      var o = el("option", "", row.api);
      o.value = row.api;
      this.controls.api.appendChild(o);
    }
    row.el = el("li", "row");
    row.el.setAttribute("data-req", row.req);
    var self = this;
    row.el.addEventListener("click", function (ev) {
      if (ev.target.closest(".details")) return;
      row.expanded = !row.expanded;
      self.draw(row);
    });
    this.list.insertBefore(row.el, this.list.firstChild);
    this.draw(row);
    this.counts();
    return row;
  };

  Timeline.prototype.draw = function (row) {
    var e = row.el;
    e.textContent = "";
    e.className = "row " + row.status + (row.expanded ? " expanded" : "");
    e.setAttribute("data-status", row.status);
    e.setAttribute("data-api", row.api);
    var line = el("div", "line");
    line.appendChild(el("span", "n", "#" + row.n));
    line.appendChild(el("span", "time", clock(row.at)));
    line.appendChild(el("span", "req", row.req));
    var api = el("span", "api", row.api);
    if (row.batch) api.appendChild(el("span", "tag", "batch of " + row.batch));
    if (row.v2 === false) api.appendChild(el("span", "tag v1", "v1"));
    line.appendChild(api);
    var label = row.status === "pending" ? "pending" : row.status === "ok" ? "ok" : row.code;
    line.appendChild(el("span", "status", label));
    var lat = el("span", "latency");
    if (row.latency !== undefined) {
      var bar = el("span", "bar");
      bar.style.width = Math.max(2, Math.round(100 * row.latency / this.maxLatency)) + "%";
      lat.appendChild(bar);
      lat.appendChild(el("span", "ms", row.latency < 10 ? row.latency.toFixed(1) + " ms" : Math.round(row.latency) + " ms"));
    } else if (row.status === "pending") {
      lat.appendChild(el("span", "spinner"));
    }
    line.appendChild(lat);
    e.appendChild(line);
    if (row.note) e.appendChild(el("div", "note", row.note));
    if (row.expanded) {
      var d = el("div", "details");
      var grid = [["params", pretty(row.params)], ["reply", row.reply === undefined ? "(none yet)" : pretty(row.reply)]];
      grid.forEach(function (g) {
        var box = el("div", "box");
        box.appendChild(el("h4", "", g[0]));
        box.appendChild(el("pre", "", g[1]));
        d.appendChild(box);
      });
      var facts = el("dl", "facts");
      [["protocol", row.v2 ? "version 2" : "version 1"],
       ["command URL", row.bytes + " bytes"],
       ["gateway", row.http === undefined ? "-" : row.http + (row.gatewayMs !== undefined ? " in " + Math.round(row.gatewayMs) + " ms" : "")],
       ["fragment", row.fragment ? row.fragment.length + " characters" : "-"]].forEach(function (f) {
        facts.appendChild(el("dt", "", f[0]));
        facts.appendChild(el("dd", "", f[1]));
      });
      d.appendChild(facts);
      if (row.cmd) {
        var box = el("div", "box wide");
        box.appendChild(el("h4", "", "command"));
        box.appendChild(el("pre", "", pretty(row.cmd)));
        d.appendChild(box);
      }
      e.appendChild(d);
    }
    this.visible(row);
  };

  Timeline.prototype.visible = function (row) {
    var f = this.filter;
    var show = (!f.api || row.api === f.api) &&
      (!f.status || row.status === f.status || (f.status === "error" && row.status === "failed"));
    row.el.hidden = !show;
  };

  Timeline.prototype.applyFilter = function () {
    var self = this;
    this.rows.forEach(function (r) { self.visible(r); });
  };

  Timeline.prototype.counts = function () {
    var c = { all: this.rows.length, pending: 0, ok: 0, error: 0 };
    this.rows.forEach(function (r) {
      if (r.status === "pending") c.pending++;
      else if (r.status === "ok") c.ok++;
      else c.error++;
    });
    var box = this.controls.status;
    Object.keys(c).forEach(function (k) {
      var n = box.querySelector("[data-count=" + k + "]");
      if (n) n.textContent = c[k];
    });
    if (this.controls.empty) this.controls.empty.hidden = c.all > 0;
  };

  root.Timeline = Timeline;
})(window);
