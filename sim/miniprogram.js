/*
 * The mini-program of the simulator: runs the pages of a mini-program
 * project (examples/miniprogram, served under /miniprogram/) in the browser,
 * with the few parts of WeChat's base library they use: Page,
 * getCurrentPages, require (CommonJS, from the project's files) and a `wx`
 * shim (navigateTo, navigateBack, redirectTo, request, getRandomValues).
 *
 * Like WeChat, the page stack holds at most MAX_PAGES pages: a navigateTo
 * past it fails ("navigateTo:fail webview count limit exceed").
 *
 * Everything that happens is told to hooks.event(type, detail) so that the
 * simulator can draw it: "stack", "navigate", "navigate-fail", "request",
 * "response", "src".
 */
(function (root) {
  "use strict";

  var MAX_PAGES = 10;

  // ------------------------------------------------------------ paths

  function dirname(path) {
    var i = path.lastIndexOf("/");
    return i < 0 ? "" : path.slice(0, i + 1);
  }

  // a require() or page path against the directory it is written in
  function resolve(from, path) {
    var parts = (path.charAt(0) === "/" ? path : dirname(from) + path).split("/");
    var out = [];
    parts.forEach(function (p) {
      if (p === "" || p === ".") return;
      if (p === "..") out.pop();
      else out.push(p);
    });
    var resolved = out.join("/");
    return /\.js$/.test(resolved) ? resolved : resolved + ".js";
  }

  // "a=1&b=2" -> {a: "1", b: "2"}: values as written, not decoded (as the
  // base library hands navigateTo's query to onLoad)
  function parseQuery(q) {
    var options = {};
    q.split("&").forEach(function (pair) {
      if (pair === "") return;
      var eq = pair.indexOf("=");
      options[eq < 0 ? pair : pair.slice(0, eq)] = eq < 0 ? "" : pair.slice(eq + 1);
    });
    return options;
  }

  function splitUrl(url) {
    var q = url.indexOf("?");
    return { path: q < 0 ? url : url.slice(0, q), query: q < 0 ? "" : url.slice(q + 1) };
  }

  function setPath(obj, path, value) {
    var keys = path.split(".");
    var o = obj;
    for (var i = 0; i < keys.length - 1; i++) {
      if (o[keys[i]] === null || typeof o[keys[i]] !== "object") o[keys[i]] = {};
      o = o[keys[i]];
    }
    o[keys[keys.length - 1]] = value;
  }

  function getPath(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? undefined : o[k]; }, obj);
  }

  function later(fn) {
    setTimeout(fn, 0);
  }

  // calls the success/fail and complete callbacks of a wx api, later
  function answer(o, ok, res) {
    later(function () {
      if (ok && typeof o.success === "function") o.success(res);
      if (!ok && typeof o.fail === "function") o.fail(res);
      if (typeof o.complete === "function") o.complete(res);
    });
  }

  // --------------------------------------------------------- the runtime

  function MiniProgram(base, hooks) {
    this.base = base;            // the project's URL, "/miniprogram/"
    this.hooks = hooks;          // { event(type, detail), configure(path, exports) }
    this.sources = {};           // path -> module source
    this.modules = {};           // path -> module.exports
    this.pages = {};             // route -> { def, json, webviewKey, text }
    this.stack = [];
    this.seq = 0;
    this.wx = this.makeWx();
  }

  MiniProgram.MAX_PAGES = MAX_PAGES;
  MiniProgram.parseQuery = parseQuery;

  MiniProgram.prototype.emit = function (type, detail) {
    try {
      this.hooks.event(type, detail);
    } catch (e) {
      console.error("simulator: " + type + ": " + (e && e.stack || e));
    }
  };

  MiniProgram.prototype.fetchText = function (path, optional) {
    return fetch(this.base + path, { cache: "no-store" }).then(function (r) {
      if (!r.ok) {
        if (optional) return null;
        throw new Error(path + ": " + r.status);
      }
      return r.text();
    });
  };

  // fetches a module and, recursively, what it requires
  MiniProgram.prototype.fetchModule = function (path) {
    var self = this;
    if (Object.prototype.hasOwnProperty.call(this.sources, path)) return Promise.resolve();
    this.sources[path] = null;
    return this.fetchText(path).then(function (src) {
      self.sources[path] = src;
      var re = /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g;
      var deps = [];
      var m;
      while ((m = re.exec(src)) !== null) deps.push(self.fetchModule(resolve(path, m[1])));
      return Promise.all(deps);
    });
  };

  // CommonJS: a module runs once, on its first require
  MiniProgram.prototype.require = function (path) {
    if (Object.prototype.hasOwnProperty.call(this.modules, path)) return this.modules[path];
    var src = this.sources[path];
    if (typeof src !== "string") throw new Error("require: " + path + " is not part of the project");
    var self = this;
    var module = { exports: {} };
    this.modules[path] = module.exports;
    var fn = new Function("require", "module", "exports", "Page", "App", "getApp", "getCurrentPages", "wx",
      src + "\n//# sourceURL=" + location.origin + this.base + path);
    fn(function (p) { return self.require(resolve(path, p)); }, module, module.exports,
      function (def) { self.definePage(path, def); },
      function () {},
      function () { return self.app; },
      function () { return self.stack.slice(); },
      this.wx);
    this.modules[path] = module.exports;
    if (this.hooks.configure) this.hooks.configure(path, module.exports);
    return module.exports;
  };

  MiniProgram.prototype.definePage = function (path, def) {
    var route = path.replace(/\.js$/, "");
    if (!this.pages[route]) throw new Error("Page() in " + path + ", which app.json does not list");
    this.pages[route].def = def || {};
  };

  // app.json, and every page's .js (with what it requires), .json and .wxml
  MiniProgram.prototype.boot = function () {
    var self = this;
    this.app = {};
    return this.fetchText("app.json").then(function (text) {
      var app = JSON.parse(text);
      if (!Array.isArray(app.pages) || app.pages.length === 0) throw new Error("app.json: no pages");
      self.appJson = app;
      return Promise.all(app.pages.map(function (route) {
        self.pages[route] = { def: null, json: {}, webviewKey: null, text: "" };
        return Promise.all([
          self.fetchModule(route + ".js"),
          self.fetchText(route + ".json", true),
          self.fetchText(route + ".wxml", true)
        ]).then(function (r) {
          var page = self.pages[route];
          if (r[1]) page.json = JSON.parse(r[1]);
          var wxml = r[2] || "";
          var m = /<web-view\b[^>]*\bsrc\s*=\s*"\{\{\s*([\w.]+)\s*\}\}"/.exec(wxml);
          page.webviewKey = m ? m[1] : null;
          page.text = wxml.replace(/<[^>]*>/g, "").trim();
        });
      }));
    }).then(function () {
      self.appJson.pages.forEach(function (route) { self.require(route + ".js"); });
    });
  };

  // -------------------------------------------------------------- pages

  MiniProgram.prototype.instantiate = function (route, options) {
    var info = this.pages[route];
    var def = info.def || {};
    var self = this;
    var page = {};
    Object.keys(def).forEach(function (k) {
      page[k] = k === "data" ? JSON.parse(JSON.stringify(def.data || {})) : def[k];
    });
    if (!page.data) page.data = {};
    page.route = route;
    page.options = options;
    page.__simId = ++this.seq;
    page.setData = function (patch, callback) {
      if (patch === null || typeof patch !== "object") throw new TypeError("setData: expected an object");
      var that = this;
      Object.keys(patch).forEach(function (k) { setPath(that.data, k, patch[k]); });
      self.render(this);
      if (typeof callback === "function") later(callback);
    };
    return page;
  };

  MiniProgram.prototype.render = function (page) {
    var info = this.pages[page.route];
    if (info.webviewKey) {
      var src = getPath(page.data, info.webviewKey);
      if (typeof src === "string" && src !== "") this.emit("src", { page: page, src: src });
    }
  };

  MiniProgram.prototype.lifecycle = function (page, name, arg) {
    if (typeof page[name] !== "function") return;
    try {
      page[name](arg);
    } catch (e) {
      console.error("simulator: " + page.route + "." + name + " raised: " + (e && e.stack || e));
      this.emit("page-error", { route: page.route, hook: name, error: String(e && e.message || e) });
    }
  };

  MiniProgram.prototype.emitStack = function () {
    this.emit("stack", { pages: this.stack.slice(), max: MAX_PAGES });
  };

  // url: "/pages/x/y?a=1" or relative to the top page's route
  MiniProgram.prototype.routeOf = function (url) {
    var parts = splitUrl(String(url));
    var from = this.stack.length > 0 ? this.stack[this.stack.length - 1].route : "";
    var route = resolve(from, parts.path).replace(/\.js$/, "");
    return { route: route, options: parseQuery(parts.query) };
  };

  // the first page of app.json (or a route of it) as the only page
  MiniProgram.prototype.launch = function (url) {
    var self = this;
    while (this.stack.length > 0) this.lifecycle(this.stack.pop(), "onUnload");
    var target = this.routeOf(url || "/" + this.appJson.pages[0]);
    var page = this.instantiate(target.route, target.options);
    this.stack.push(page);
    this.emitStack();
    this.lifecycle(page, "onLoad", target.options);
    this.lifecycle(page, "onShow");
    self.emit("launch", { route: page.route });
    return page;
  };

  MiniProgram.prototype.navigateTo = function (o, name) {
    name = name || "navigateTo";
    var url = typeof o.url === "string" ? o.url : "";
    var target = this.routeOf(url);
    var res;
    if (!this.pages[target.route]) {
      res = { errMsg: name + ":fail page \"" + target.route + "\" is not found" };
    } else if (name === "navigateTo" && this.stack.length >= MAX_PAGES) {
      res = { errMsg: name + ":fail webview count limit exceed" };
    }
    if (res) {
      this.emit("navigate-fail", { url: url, errMsg: res.errMsg, depth: this.stack.length });
      answer(o, false, res);
      return;
    }
    var self = this;
    var top = this.stack[this.stack.length - 1];
    if (name === "redirectTo") {
      this.stack.pop();
      this.lifecycle(top, "onUnload");
    } else if (top) {
      this.lifecycle(top, "onHide");
    }
    var page = this.instantiate(target.route, target.options);
    this.stack.push(page);
    this.emit("navigate", { url: url, route: target.route, options: target.options, depth: this.stack.length });
    this.emitStack();
    answer(o, true, { errMsg: name + ":ok" });
    // the new page loads once the navigation has started, as in WeChat
    later(function () {
      if (self.stack.indexOf(page) < 0) return;
      self.lifecycle(page, "onLoad", target.options);
      self.lifecycle(page, "onShow");
    });
  };

  MiniProgram.prototype.navigateBack = function (o) {
    var delta = typeof o.delta === "number" && o.delta >= 1 ? Math.floor(o.delta) : 1;
    if (this.stack.length <= 1) {
      answer(o, false, { errMsg: "navigateBack:fail cannot navigate back at first page." });
      return;
    }
    while (delta-- > 0 && this.stack.length > 1) this.lifecycle(this.stack.pop(), "onUnload");
    this.lifecycle(this.stack[this.stack.length - 1], "onShow");
    this.emitStack();
    answer(o, true, { errMsg: "navigateBack:ok" });
  };

  // ----------------------------------------------------------- wx shim

  MiniProgram.prototype.request = function (o) {
    var self = this;
    var method = String(o.method || "GET").toUpperCase();
    var headers = {};
    var header = o.header || {};
    Object.keys(header).forEach(function (k) { headers[k] = String(header[k]); });
    var url = String(o.url);
    var body;
    if (o.data !== undefined && method !== "GET") {
      body = typeof o.data === "string" ? o.data : JSON.stringify(o.data);
    } else if (o.data !== undefined && o.data !== null && typeof o.data === "object") {
      var q = Object.keys(o.data).map(function (k) {
        return encodeURIComponent(k) + "=" + encodeURIComponent(o.data[k]);
      }).join("&");
      if (q !== "") url += (url.indexOf("?") < 0 ? "?" : "&") + q;
    }
    var ctl = new AbortController();
    var timedOut = false;
    var timer = setTimeout(function () { timedOut = true; ctl.abort(); },
      typeof o.timeout === "number" ? o.timeout : 60000);
    var id = ++this.seq;
    var start = performance.now();
    this.emit("request", { id: id, url: url, method: method, data: o.data });
    fetch(url, { method: method, headers: headers, body: body, signal: ctl.signal, cache: "no-store" })
      .then(function (r) {
        var h = {};
        r.headers.forEach(function (v, k) { h[k] = v; });
        return r.text().then(function (text) {
          var data = text;
          if (o.dataType === undefined || o.dataType === "json") {
            try { data = JSON.parse(text); } catch (e) { data = text; }
          }
          return { statusCode: r.status, data: data, header: h, errMsg: "request:ok" };
        });
      })
      .then(function (res) {
        clearTimeout(timer);
        self.emit("response", { id: id, data: o.data, statusCode: res.statusCode, body: res.data,
          ms: performance.now() - start });
        answer(o, true, res);
      }, function (err) {
        clearTimeout(timer);
        var res = { errMsg: "request:fail " + (timedOut ? "timeout" : String(err && err.message || err)) };
        self.emit("response", { id: id, data: o.data, errMsg: res.errMsg, ms: performance.now() - start });
        answer(o, false, res);
      });
    return { abort: function () { ctl.abort(); } };
  };

  MiniProgram.prototype.makeWx = function () {
    var self = this;
    function opts(o) { return o !== null && typeof o === "object" ? o : {}; }
    return {
      navigateTo: function (o) { self.navigateTo(opts(o), "navigateTo"); },
      redirectTo: function (o) { self.navigateTo(opts(o), "redirectTo"); },
      navigateBack: function (o) { self.navigateBack(opts(o)); },
      request: function (o) { return self.request(opts(o)); },
      getRandomValues: function (o) {
        o = opts(o);
        var n = o.length;
        if (typeof n !== "number" || n < 1 || n > 4096) {
          answer(o, false, { errMsg: "getRandomValues:fail invalid length" });
          return;
        }
        var bytes = new Uint8Array(n);
        crypto.getRandomValues(bytes);
        answer(o, true, { randomValues: bytes.buffer, errMsg: "getRandomValues:ok" });
      },
      getSystemInfoSync: function () {
        return { platform: "devtools", SDKVersion: "3.3.4", windowWidth: 375, windowHeight: 667 };
      }
    };
  };

  root.MiniProgram = MiniProgram;
})(window);
