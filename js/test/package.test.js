"use strict";
// The npm package: npm pack gives a tarball that installs into an empty
// project and loads through require and import; the file also works as a
// classic <script>.
const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const vm = require("node:vm");
const { execFileSync } = require("node:child_process");
const have = require("./have.js");

const PKG = path.resolve(__dirname, "..");
const pkg = require("../package.json");

function npm(args, cwd) {
  return execFileSync("npm", args, {
    cwd,
    encoding: "utf8",
    env: Object.assign({}, process.env, { npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" }),
  });
}

describe("the npm package", () => {
  let dir;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mphybrid-pack-"));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("has the rock's version, the JS-SDK as its only peer and no runtime dependency", () => {
    const rockVersion = fs.readFileSync(path.resolve(PKG, "../csrc/version.h"), "utf8");
    assert.equal(pkg.version, /#define MPH_VERSION "([^"]+)"/.exec(rockVersion)[1]);
    assert.equal(require("../mphybrid.js").version, pkg.version);
    assert.deepEqual(Object.keys(pkg.peerDependencies), ["weixin-js-sdk"]);
    assert.equal(pkg.dependencies, undefined);
  });

  it("packs into a tarball that installs and loads with require and import", { skip: have("npm", "--version") ? false : "no npm" }, () => {
    const out = JSON.parse(npm(["pack", "--json", "--pack-destination", dir], PKG));
    const files = out[0].files.map((f) => f.path).sort();
    assert.deepEqual(files, ["mphybrid.d.ts", "mphybrid.js", "mphybrid.mjs", "package.json"]);
    const tarball = path.join(dir, out[0].filename);
    const app = path.join(dir, "app");
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, "package.json"), '{"name":"app","version":"1.0.0","private":true}');
    npm(["install", "--offline", "--omit=peer", "--no-save", tarball], app);
    const cjs = execFileSync(process.execPath, ["-e",
      'const m = require("mphybrid"); const c = m.createClient({ window: null, navigate() {} });' +
      'process.stdout.write([m.version, typeof m.call, typeof m.miniProgramHybrid.call, c.pending()].join(" "))'],
    { cwd: app, encoding: "utf8" });
    assert.equal(cjs, pkg.version + " function function 0");
    const esm = execFileSync(process.execPath, ["--input-type=module", "-e",
      'import m, { version, createClient, MphybridError } from "mphybrid";' +
      'import { createRequire } from "node:module";' +
      'const same = m === createRequire(process.cwd() + "/")("mphybrid");' +
      'process.stdout.write([version, typeof createClient, new MphybridError("ETIMEOUT", "x").code, same].join(" "))'],
    { cwd: app, encoding: "utf8" });
    assert.equal(esm, pkg.version + " function ETIMEOUT true");
    assert.ok(fs.existsSync(path.join(app, "node_modules/mphybrid/mphybrid.d.ts")));
  });

  it("works as a classic <script>: the globals mphybrid and miniProgramHybrid, listening at once", () => {
    const listeners = [];
    const sandbox = {
      location: { href: "https://h5.example.com/p" },
      addEventListener: (type) => listeners.push(type),
      setTimeout,
      clearTimeout,
    };
    sandbox.window = sandbox;
    vm.createContext(sandbox);
    vm.runInContext(fs.readFileSync(path.join(PKG, "mphybrid.js"), "utf8"), sandbox);
    assert.equal(vm.runInContext("typeof mphybrid.call + ' ' + mphybrid.version", sandbox), "function " + pkg.version);
    assert.equal(vm.runInContext("miniProgramHybrid === mphybrid.miniProgramHybrid", sandbox), true);
    assert.deepEqual(listeners, ["hashchange"]);
    assert.equal(sandbox.module, undefined);
  });

  it("declares in mphybrid.d.ts every member it exports", () => {
    const dts = fs.readFileSync(path.join(PKG, "mphybrid.d.ts"), "utf8");
    for (const name of Object.keys(require("../mphybrid.js"))) {
      assert.match(dts, new RegExp("\\b(const|function|class) " + name + "\\b"), name);
    }
    const mjs = fs.readFileSync(path.join(PKG, "mphybrid.mjs"), "utf8");
    for (const name of Object.keys(require("../mphybrid.js"))) {
      assert.match(mjs, new RegExp("\\b" + name + ","), "mphybrid.mjs exports " + name);
    }
  });
});
