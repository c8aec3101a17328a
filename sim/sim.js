/*
 * The simulator page: the web-view frame, the WeChat host of its bridge
 * (window.mphybridSim, reached by webview-env.js inside the frame), the
 * mini-program of /miniprogram/ and the timeline.
 */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var frame = $("webview");
  var params = new URLSearchParams(location.search);
  var DEFAULT_PAGE = "/h5/demo.html";
  var page = params.get("page") || DEFAULT_PAGE;
  var pageError = null;
  if (!/^\/h5\/[^?#]*/.test(page) || /(^|\/)\.\.(\/|$)/.test(page)) {
    pageError = "?page= must be a page under /h5/: " + page;
    page = DEFAULT_PAGE;
  }
  var h5Url = location.origin + page;
  var gatewayUrl = location.origin + "/mphybrid";

  var timeline = new window.Timeline($("timeline"), {
    api: $("filter-api"), status: $("filter-status"), clear: $("clear"), empty: $("empty")
  });

  // ------------------------------------------------------ the web-view

  var shownSrc = null;   // the src the web-view page set last
  var loads = 0;         // documents loaded in the frame
  var hashWrites = 0;    // srcs that changed only the fragment

  function showAddress(src) {
    var addr = $("address");
    addr.textContent = "";
    var p = src.indexOf("#");
    var base = document.createElement("span");
    base.className = "base";
    base.textContent = p < 0 ? src : src.slice(0, p);
    addr.appendChild(base);
    if (p >= 0) {
      var frag = document.createElement("span");
      frag.className = "frag";
      frag.textContent = src.slice(p);
      addr.appendChild(frag);
    }
    addr.title = src;
  }

  function showCounters() {
    $("loads").textContent = loads;
    $("hashes").textContent = hashWrites;
    document.body.setAttribute("data-frame-loads", loads);
  }

  // As in WeChat: a src that differs from the last one only in its fragment
  // changes the frame's fragment (a hashchange, no reload); any other
  // change loads the page.
  function setSrc(src) {
    if (src === shownSrc) return;
    var prev = shownSrc;
    shownSrc = src;
    showAddress(src);
    var p = src.indexOf("#");
    var base = p < 0 ? src : src.slice(0, p);
    var prevBase = prev === null ? null : prev.split("#")[0];
    if (base === prevBase && loads > 0) {
      hashWrites++;
      frame.contentWindow.location.hash = p < 0 ? "" : src.slice(p + 1);
    } else {
      frame.src = src;
    }
    showCounters();
  }

  frame.addEventListener("load", function () {
    loads++;
    showCounters();
  });

  // ------------------------------------------------- the mini-program

  var stackList = $("stack");
  var commandPages = 0;  // hybrid pages pushed with a cmd
  var overlay = $("page-overlay");

  function drawStack(pages, max) {
    stackList.textContent = "";
    pages.slice().reverse().forEach(function (p, i) {
      var li = document.createElement("li");
      li.className = i === 0 ? "top" : "";
      var route = document.createElement("span");
      route.className = "route";
      route.textContent = "/" + p.route;
      li.appendChild(route);
      var opts = Object.keys(p.options || {});
      if (opts.length > 0) {
        var o = document.createElement("span");
        o.className = "opts";
        o.textContent = opts.map(function (k) {
          var v = String(p.options[k]);
          return k + "=" + (v.length > 48 ? v.slice(0, 48) + "…" : v);
        }).join("  ");
        li.appendChild(o);
      }
      stackList.appendChild(li);
    });
    $("depth").textContent = pages.length + " / " + max;
    $("depth").classList.toggle("full", pages.length >= max);
    document.body.setAttribute("data-stack-depth", pages.length);
    var top = pages[pages.length - 1];
    var info = top && mp.pages[top.route];
    var title = info && info.json.navigationBarTitleText;
    $("nav-title").textContent = title !== undefined ? title : (mp.appJson.window || {}).navigationBarTitleText || "mphybrid";
    $("nav-back").hidden = pages.length <= 1;
    var covered = !!(info && !info.webviewKey);
    overlay.hidden = !covered;
    if (covered) {
      overlay.querySelector(".route").textContent = "/" + top.route;
      overlay.querySelector(".text").textContent = info.text;
    }
  }

  function flash(message, kind) {
    var box = $("toast");
    var item = document.createElement("div");
    item.className = "toast " + (kind || "");
    item.textContent = message;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 6000);
  }

  var mp = new window.MiniProgram("/miniprogram/", {
    // the simulator points the project's config at itself
    configure: function (path, exports) {
      if (path === "config.js" && exports && typeof exports === "object") {
        if ("GATEWAY_URL" in exports) exports.GATEWAY_URL = gatewayUrl;
        if ("H5_URL" in exports) exports.H5_URL = h5Url;
      }
    },
    event: function (type, d) {
      if (type === "stack") drawStack(d.pages, d.max);
      else if (type === "src") setSrc(d.src), timeline.src(d.src);
      else if (type === "navigate" && d.options && d.options.cmd !== undefined) {
        commandPages++;
        $("pushes").textContent = commandPages;
        document.body.setAttribute("data-command-pages", commandPages);
        timeline.command(d.url, d.options);
      }
      else if (type === "navigate-fail") {
        timeline.navigateFailed(d.url, d.errMsg);
        flash(d.errMsg + " (" + d.depth + " pages)", "bad");
      } else if (type === "response") timeline.gateway(d);
      else if (type === "page-error") flash(d.route + "." + d.hook + ": " + d.error, "bad");
    }
  });

  $("nav-back").addEventListener("click", function () { mp.wx.navigateBack({}); });

  // ------------------------------------------------ the bridge's host

  window.mphybridSim = {
    appId: "wxsimulator0000001",
    wechatVersion: "8.0.50(0x18003237)",
    // WeixinJSBridge.invoke from the frame's page
    invoke: function (win, name, args, callback) {
      var reply = function (res) { callback(res); };
      if (name !== "invokeMiniProgramAPI") {
        reply({ errMsg: name + ":fail not supported in the simulator" });
        return;
      }
      var api = args && args.name;
      var arg = (args && args.arg) || {};
      var done = {
        success: function () { reply({ errMsg: "invokeMiniProgramAPI:ok" }); },
        fail: function (res) { reply({ errMsg: res.errMsg }); }
      };
      if (api === "navigateTo" || api === "redirectTo") {
        mp.wx[api]({ url: arg.url, success: done.success, fail: done.fail });
      } else if (api === "navigateBack") {
        mp.wx.navigateBack({ delta: arg.delta, success: done.success, fail: done.fail });
      } else {
        reply({ errMsg: api + ":fail not supported in the simulator" });
      }
    },
    on: function () {},
    mp: mp,
    timeline: timeline
  };

  // ------------------------------------------------------------ start

  $("gateway").textContent = gatewayUrl.replace(location.origin, "");
  $("page").value = page;
  $("page-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    location.search = "?page=" + encodeURIComponent($("page").value.trim());
  });
  if (pageError) flash(pageError, "bad");

  mp.boot().then(function () {
    var first = mp.appJson.pages[0];
    mp.launch("/" + first + "?url=" + encodeURIComponent(h5Url));
    document.body.setAttribute("data-ready", "1");
  }).catch(function (e) {
    flash("the mini-program did not start: " + (e && e.message || e), "bad");
    console.error(e);
  });
})();
