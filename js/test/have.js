"use strict";
// have("lua5.4", "-v"): whether a command of the machine runs, for tests
// that skip with a reason when it does not.
const { execFileSync } = require("node:child_process");

module.exports = function have(command, ...args) {
  try {
    execFileSync(command, args, { stdio: "ignore" });
    return true;
  } catch (e) {
    return false;
  }
};
