/*
 * The WeChat environment of a page in the simulator's web-view frame. The
 * server puts this script first in the <head> of every page under /h5/; it
 * does nothing unless the page is in the simulator's frame.
 *
 * As in a mini-program's web-view: navigator.userAgent carries
 * "MicroMessenger/<version>" and "miniProgram" (the JS-SDK reads it once,
 * when it loads), window.__wxjs_environment is "miniprogram", and
 * window.WeixinJSBridge arrives after the page's first scripts, announced by
 * a WeixinJSBridgeReady event on the document (the JS-SDK waits for it).
 */
(function () {
  "use strict";
  var host = null;
  try {
    if (window.parent !== window) host = window.parent.mphybridSim || null;
  } catch (e) {
    host = null; // another origin: not the simulator
  }
  if (!host) return;

  var ua = navigator.userAgent + " MicroMessenger/" + host.wechatVersion +
    " NetType/WIFI Language/zh_CN miniProgram/" + host.appId;
  Object.defineProperty(navigator, "userAgent", {
    configurable: true,
    get: function () { return ua; }
  });
  window.__wxjs_environment = "miniprogram";

  var bridge = {
    // WeixinJSBridge.invoke(name, args, callback): callback({errMsg, ...})
    invoke: function (name, args, callback) {
      host.invoke(window, name, args, function (res) {
        if (typeof callback === "function") callback(res);
      });
    },
    on: function (name, callback) {
      host.on(window, name, callback);
    },
    call: function (name) {
      host.invoke(window, name, {}, function () {});
    }
  };

  setTimeout(function () {
    window.WeixinJSBridge = bridge;
    var ev;
    try {
      ev = new Event("WeixinJSBridgeReady");
    } catch (e) {
      ev = document.createEvent("Event");
      ev.initEvent("WeixinJSBridgeReady", false, false);
    }
    document.dispatchEvent(ev);
  }, 0);
})();
