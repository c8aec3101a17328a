"use strict";
// mphybrid.d.ts against a page that uses the whole API (test/types/usage.ts),
// with TypeScript's strict checks: it compiles, and what it marks as errors
// are errors.
const { it } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

const TSC = path.resolve(__dirname, "../node_modules/typescript/bin/tsc");
const skip = fs.existsSync(TSC) ? false : "no TypeScript in js/node_modules (npm ci in js/)";

it("mphybrid.d.ts types the API as a page uses it, under tsc --strict", { skip }, () => {
  const usage = path.join(__dirname, "types/usage.ts");
  let out = "";
  try {
    out = execFileSync(process.execPath, [TSC, "--noEmit", "--strict", "--target", "es2020",
      "--module", "commonjs", "--lib", "es2020,dom", usage], { encoding: "utf8" });
  } catch (e) {
    out = String(e.stdout) + String(e.stderr);
    assert.fail("tsc: " + out);
  }
  assert.equal(out, "");
});
