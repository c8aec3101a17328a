// mphybrid for import: the same object as require("mphybrid"), whose named
// members are also exported one by one.
import mphybrid from "./mphybrid.js";

export default mphybrid;
export const {
  version,
  defaults,
  codes,
  MphybridError,
  createClient,
  defaultClient,
  call,
  miniProgramHybrid,
} = mphybrid;
