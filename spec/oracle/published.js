'use strict';
// Runs the published WxMiniProgramHybrid code itself (read from the folder
// given, loaded unmodified in node's vm with stub wx, Page, getCurrentPages,
// getApp, window and location) over a batch of version 1 cases, in two
// phases within one process:
//
//   phase 1: for each case, the published H5 library's navigateTo URL (or
//            the hand-written cmd) and what the published hybrid page writes
//            into the web-view src for options.cmd percent-encoded and
//            already decoded; one JSON line on stdout;
//   phase 2: the caller writes a list of {req, src} into the fifo given;
//            for each, what the published hashchange listener hands to the
//            callback; one JSON line on stdout.
//
// usage: node published.js <published folder> <cases.json> <fifo>
//
// A case: { h5: "<JS array [api, params]>" | cmd: "<JSON text>" |
//           raw: "<options.cmd as it is>" | none: true,
//           handler: "<JS expression: the result handed to callback>",
//           src: "<the web-view src>", now: <ms> }

const fs = require('fs');
const path = require('path');
const vm = require('vm');

const [folder, casesPath, fifo] = process.argv.slice(2);
const dir = path.resolve(folder);
const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8'));

// a seeded Math.random, so that a run can be repeated
function seeded(seed) {
  let x = seed >>> 0;
  return function () {
    x = (x + 0x6D2B79F5) >>> 0;
    let t = x;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function quiet() {
  return { log() {}, warn() {}, error() {}, info() {} };
}

function describeError(e) {
  return (e && e.name ? e.name + ': ' + e.message : String(e));
}

// ------------------------------------------------------------ the H5 side
const h5 = {
  sent: null,
  listeners: [],
};
const h5Context = vm.createContext({
  console: quiet(),
  wx: { miniProgram: { navigateTo(o) { h5.sent = o.url; } } },
  location: { hash: '' },
  addEventListener(type, fn) { if (type === 'hashchange') h5.listeners.push(fn); },
});
h5Context.window = h5Context;
vm.runInContext('Math.random = (' + seeded.toString() + ')(20190101);', h5Context);
const h5File = path.join(dir, 'h5', 'miniProgramHybrid.js');
vm.runInContext(fs.readFileSync(h5File, 'utf8'), h5Context, { filename: h5File });

// ------------------------------------------------------ the mini-program
const pageDefs = [];
const webviewPage = {
  data: { webviewSrc: '' },
  written: false,
  setData(d) { Object.assign(this.data, d); this.written = true; },
};
const hybridPage = { data: {}, setData(d) { Object.assign(this.data, d); } };
const mp = { back: 0, app: {} };
const mpContext = vm.createContext({
  console: quiet(),
  wx: { navigateBack() { mp.back++; } },
  Page(def) { pageDefs.push(def); },
  getCurrentPages() { return [webviewPage, hybridPage]; },
  getApp() { return mp.app; },
  setTimeout() {},
});
vm.runInContext('Math.random = (' + seeded.toString() + ')(20190102);', mpContext);

// CommonJS as the mini-program runs it: each file a function of module,
// exports and require, compiled from the file's text as it is
const modules = {};
function load(file) {
  if (modules[file]) return modules[file].exports;
  const module = { exports: {} };
  modules[file] = module;
  const fn = vm.compileFunction(fs.readFileSync(file, 'utf8'), ['module', 'exports', 'require'],
                                { parsingContext: mpContext, filename: file });
  fn(module, module.exports, (name) => load(path.resolve(path.dirname(file), name)));
  return module.exports;
}
const pagesDir = path.join(dir, 'miniprogram', 'pages');
load(path.join(pagesDir, 'hybrid-page', 'hybrid.js'));
const hybridPageDef = pageDefs[pageDefs.length - 1];
const handlers = load(path.join(pagesDir, 'hybrid-lib', 'handler.js'));

// the handlers of the test, defined on the published handler table
let currentCase = null;
function defineHandlers() {
  const define = (name, source) => { handlers[name] = vm.runInContext('(' + source + ')', mpContext); };
  mpContext.__result = () => vm.runInContext(currentCase.result, mpContext);
  define('value', 'function (params, callback) { callback(__result()); }');
  define('echo', 'function (params, callback) { callback(JSON.stringify(params)); }');
  define('throws', 'function (params, callback) { throw new Error("handler failed"); }');
  define('never', 'function (params, callback) {}');
  define('twice', 'function (params, callback) { callback("first"); callback("second"); }');
}
defineHandlers();

function setNow(now) {
  const n = Number(now);
  mpContext.__now = n;
  h5Context.__now = n;
  vm.runInContext('Date.now = function () { return __now; };', mpContext);
  vm.runInContext('Date.now = function () { return __now; };', h5Context);
}

function runPage(options, src) {
  webviewPage.data.webviewSrc = src;
  webviewPage.written = false;
  mp.back = 0;
  let threw = null;
  try {
    hybridPageDef.onLoad(options);
  } catch (e) {
    threw = describeError(e);
  }
  return { src: webviewPage.written ? webviewPage.data.webviewSrc : null, threw: threw, back: mp.back };
}

// ---------------------------------------------------------------- phase 1
const phase1 = cases.map((c) => {
  currentCase = c;
  setNow(c.now);
  const out = { url: null, req: null, forms: {} };
  let encoded = null;
  let decoded = null;
  if (c.h5 !== undefined) {
    const args = vm.runInContext(c.h5, h5Context);
    h5.sent = null;
    try {
      h5Context.miniProgramHybrid.call(args[0], args[1], function () {});
    } catch (e) {
      out.threw = describeError(e);
    }
    out.url = h5.sent;
    out.req = h5Context.currentReq; // the request id call() keeps for its listener
    if (out.url !== null) {
      encoded = out.url.slice(out.url.indexOf('?cmd=') + 5);
      decoded = decodeURIComponent(encoded);
    }
  } else if (c.cmd !== undefined) {
    encoded = encodeURIComponent(c.cmd);
    decoded = c.cmd;
  } else if (c.raw !== undefined) {
    encoded = c.raw;
  }
  if (c.none) {
    out.forms.none = runPage({}, c.src);
  }
  if (encoded !== null) {
    out.forms.encoded = Object.assign({ cmd: encoded }, runPage({ cmd: encoded }, c.src));
  }
  if (decoded !== null) {
    out.forms.decoded = Object.assign({ cmd: decoded }, runPage({ cmd: decoded }, c.src));
  }
  return out;
});
fs.writeSync(1, JSON.stringify(phase1) + '\n');

// ---------------------------------------------------------------- phase 2
const deliveries = JSON.parse(fs.readFileSync(fifo, 'utf8'));
const phase2 = deliveries.map((d) => {
  let got = { called: false };
  // the state call() leaves for its listener: the request id in flight
  h5Context.currentReq = d.req;
  h5Context.currentCallback = function (result) {
    got = { called: true, result: result === undefined ? null : String(result),
            undefined: result === undefined };
  };
  const i = d.src.indexOf('#');
  h5Context.location.hash = i < 0 ? '' : d.src.slice(i);
  try {
    h5.listeners.forEach((fn) => fn.call(h5Context, { type: 'hashchange' }));
  } catch (e) {
    got.threw = describeError(e);
  }
  return got;
});
fs.writeSync(1, JSON.stringify(phase2) + '\n');
