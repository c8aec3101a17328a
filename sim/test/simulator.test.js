// End to end: headless Chromium (Debian's, never downloaded) against a real
// `make serve` on a free 127.0.0.1 port. The simulator runs the demo page in
// its web-view frame with the official JS-SDK and the client, and the
// mini-program pages of examples/miniprogram against the gateway.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const { chromium } = require("playwright-core");

const REPO = path.resolve(__dirname, "..", "..");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOT = path.join(REPO, "build", "sim", "simulator.png");
const WAIT = 60000; // ms any one step may take on a loaded machine

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = srv.address().port;
      srv.close(() => resolve(port));
    });
  });
}

// make serve in a process group of its own: stopping it stops its nginx
async function startServe(port) {
  const child = spawn("make", ["--no-print-directory", "serve", "PORT=" + port], {
    cwd: REPO, detached: true, stdio: ["ignore", "pipe", "pipe"]
  });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { out += d; });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const base = "http://127.0.0.1:" + port;
  const deadline = Date.now() + WAIT;
  for (;;) {
    if (child.exitCode !== null) throw new Error("make serve stopped:\n" + out);
    try {
      const r = await fetch(base + "/");
      if (r.ok) break;
    } catch (e) { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error("make serve did not answer:\n" + out);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base, output: () => out,
    stop: async () => {
      if (child.exitCode === null) process.kill(-child.pid, "SIGTERM");
      await exited;
      // the prefix make serve made for this port (links and logs)
      fs.rmSync(path.join(REPO, "build", "serve", String(port)), { recursive: true, force: true });
    }
  };
}

async function startBrowser() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "mphybrid-sim-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1440, height: 900 }
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    }
  };
}

test.describe("the simulator of make serve, in headless Chromium", () => {
  let serve;
  let browser;
  let page;
  const errors = [];

  test.before(async () => {
    serve = await startServe(await freePort());
    browser = await startBrowser();
    page = browser.context.pages()[0] || await browser.context.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
  });

  test.after(async () => {
    if (browser) await browser.close();
    if (serve) await serve.stop();
  });

  async function openDemo(query) {
    await page.goto(serve.base + "/" + (query || ""));
    await page.waitForSelector('body[data-ready="1"]', { timeout: WAIT });
    const frame = page.frameLocator("#webview");
    await frame.locator("#ten").waitFor({ timeout: WAIT });
    return frame;
  }

  test.it("runs the demo page in a WeChat-like web-view: the SDK sees micromessenger, the bridge and the stack", async () => {
    const frame = await openDemo();
    assert.equal(await frame.locator("#env").innerText(), "in WeChat (miniprogram)");
    const env = await page.frame({ url: /\/h5\/demo\.html/ }).evaluate(() => ({
      ua: navigator.userAgent, bridge: typeof window.WeixinJSBridge,
      wx: typeof (window.wx && window.wx.miniProgram && window.wx.miniProgram.navigateTo)
    }));
    assert.match(env.ua, /MicroMessenger\/\d+\.\d+\.\d+/);
    assert.equal(env.bridge, "object");
    assert.equal(env.wx, "function");
    assert.equal(await page.locator("#depth").innerText(), "1 / 10");
    assert.deepEqual(errors, []);
  });

  test.it("answers ten calls made at once (one slow, one failing) each exactly once, and the timeline lists all ten", async () => {
    const frame = await openDemo();
    await frame.locator("#ten").click();
    const results = frame.locator('#results li[data-group="ten-1"]');
    await page.waitForFunction(() => {
      const doc = document.getElementById("webview").contentDocument;
      const lis = doc.querySelectorAll('#results li[data-group="ten-1"]');
      return lis.length === 10 && Array.from(lis).every((li) => !li.classList.contains("pending"));
    }, null, { timeout: WAIT });
    const shown = await results.evaluateAll((lis) => lis.map((li) => ({
      call: li.getAttribute("data-call"), api: li.getAttribute("data-api"), cls: li.className,
      settled: li.getAttribute("data-settled"), code: li.getAttribute("data-code"),
      text: li.querySelector(".val").textContent
    })));
    assert.equal(shown.length, 10);
    assert.equal(new Set(shown.map((r) => r.call)).size, 10, "one result line per call");
    for (const r of shown) assert.equal(r.settled, "1", "call #" + r.call + " settled " + r.settled + " times");
    const failed = shown.filter((r) => r.cls === "error");
    assert.deepEqual(failed.map((r) => [r.api, r.code]), [["pay", "EPAY"]]);
    assert.match(failed[0].text, /^EPAY: amount over the daily limit/);
    const slow = shown.find((r) => r.api === "slow");
    assert.deepEqual(JSON.parse(slow.text), { slept: 1500 });
    for (const r of shown.filter((x) => x.api === "echo")) {
      assert.deepEqual(JSON.parse(r.text), { hello: "world", n: Number(r.call) });
    }

    // the timeline: all ten, each once, with its status
    const rows = await page.locator("#timeline li.row").evaluateAll((lis) => lis.map((li) => ({
      req: li.getAttribute("data-req"), api: li.getAttribute("data-api"),
      status: li.getAttribute("data-status"), label: li.querySelector(".status").textContent
    })));
    assert.equal(rows.length, 10);
    assert.equal(new Set(rows.map((r) => r.req)).size, 10);
    assert.deepEqual(rows.map((r) => r.api).sort(), shown.map((r) => r.api).sort());
    assert.deepEqual(rows.filter((r) => r.status !== "ok").map((r) => [r.api, r.status, r.label]),
      [["pay", "error", "EPAY"]]);
    assert.equal(await page.locator('#filter-status [data-count="all"]').innerText(), "10");

    // once the first reply showed a version 2 shell, the calls queued went
    // in batches: fewer hybrid pages than commands
    const pushed = Number(await page.locator("body").getAttribute("data-command-pages"));
    assert.ok(pushed >= 2 && pushed < 10, pushed + " hybrid pages for ten commands");
    assert.ok(await page.locator("#timeline li.row .tag:not(.v1)").count() >= 2, "rows sent in a batch");

    // every reply changed only the fragment: the page was loaded once
    assert.equal(await page.locator("body").getAttribute("data-frame-loads"), "1");
    assert.equal(await page.locator("#depth").innerText(), "1 / 10");
    assert.deepEqual(errors, []);

    // the screenshot: the failing command expanded
    await page.locator('#timeline li.row[data-api="pay"]').click();
    await page.locator('#timeline li.row[data-api="pay"] .details').waitFor();
    fs.mkdirSync(path.dirname(SHOT), { recursive: true });
    await page.screenshot({ path: SHOT });
  });

  test.it("filters the timeline by status and by api", async () => {
    // the rows of the previous test are still there (same page)
    await page.locator('#filter-status [data-status="error"]').click();
    assert.deepEqual(await page.locator("#timeline li.row:visible").evaluateAll(
      (lis) => lis.map((li) => li.getAttribute("data-api"))), ["pay"]);
    await page.locator('#filter-status [data-status=""]').click();
    await page.locator("#filter-api").selectOption("echo");
    const apis = await page.locator("#timeline li.row:visible").evaluateAll(
      (lis) => lis.map((li) => li.getAttribute("data-api")));
    assert.ok(apis.length >= 1 && apis.every((a) => a === "echo"), apis.join(","));
    await page.locator("#filter-api").selectOption("");
  });

  test.it("fails a push past 10 pages as WeChat does, and a call made then fails with ENAVIGATE", async () => {
    const frame = await openDemo();
    const h5 = page.frame({ url: /\/h5\/demo\.html/ });
    // nine pushes of the web-view page fill the stack to 10; the tenth fails
    const outcomes = await h5.evaluate(() => new Promise((resolve) => {
      const out = [];
      const next = () => {
        if (out.length === 10) return resolve(out);
        window.wx.miniProgram.navigateTo({
          url: "/pages/webview/webview",
          success: () => { out.push("ok"); next(); },
          fail: (res) => { out.push(res.errMsg); next(); }
        });
      };
      next();
    }));
    assert.deepEqual(outcomes.slice(0, 9), Array(9).fill("ok"));
    assert.equal(outcomes[9], "navigateTo:fail webview count limit exceed");
    assert.equal(await page.locator("#depth").innerText(), "10 / 10");

    const err = await h5.evaluate(() => window.mphybrid.call("echo", { a: 1 }).then(
      () => null, (e) => ({ code: e.code, message: e.message })));
    assert.equal(err.code, "ENAVIGATE");
    assert.match(err.message, /webview count limit exceed/);
    const row = page.locator('#timeline li.row[data-status="failed"][data-api="echo"]');
    await row.waitFor({ timeout: WAIT });
    assert.equal(await row.locator(".status").innerText(), "navigateTo:fail");
    assert.match(await row.locator(".note").innerText(), /webview count limit exceed/);
    assert.ok(frame);
  });

  test.it("shows any page under /h5/ with ?page=, and refuses a page elsewhere", async () => {
    const shown = await page.evaluate(async () => (await fetch("/h5/demo.html")).text());
    assert.match(shown, /^<!doctype html>\s*<html lang="en">\s*<head><script src="\/sim\/webview-env.js"><\/script>/);
    await openDemo("?page=" + encodeURIComponent("/h5/demo.html?from=sim"));
    assert.match(await page.locator("#webview").getAttribute("src"), /\/h5\/demo\.html\?from=sim$/);
    await openDemo("?page=" + encodeURIComponent("/sim/index.html"));
    assert.match(await page.locator("#webview").getAttribute("src"), /\/h5\/demo\.html$/);
    assert.match(await page.locator("#toast").innerText(), /must be a page under \/h5\//);
  });
});
