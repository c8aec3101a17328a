// Type-checked by types.test.js (tsc --noEmit --strict): the API as a page
// uses it. Lines marked @ts-expect-error must not compile.
import mphybrid = require("../../mphybrid");

async function page(): Promise<void> {
  const ac = new AbortController();
  const order = await mphybrid.call<{ orderId: string }>("createOrder", { shopId: "S-1" },
    { timeout: 5000, signal: ac.signal });
  const id: string = order.orderId;
  try {
    await mphybrid.call("x", undefined, { timeout: false, protocol: 1 });
  } catch (e) {
    if (e instanceof mphybrid.MphybridError) {
      const code: string = e.code;
      const data: unknown = e.data;
      void code, data;
    }
  }
  const c = mphybrid.createClient({
    window: null,
    navigate: (url: string) => url.length > 0,
    timeout: 1000,
    maxUrl: 2000,
    maxAcks: 4,
    maxDone: 64,
    protocol: 2,
    prefix: "P_",
    hash: false,
    gap: 10,
    now: () => Date.now(),
    log: (level, message) => console.log(level, message),
    newReqId: (prefix) => prefix + "1",
  });
  const r = c.receive("#mph=2&P_1=%7B%22result%22%3A1%7D&v=1");
  const n: number = r.delivered + c.pending();
  const h: string | undefined = r.hash;
  c.close();
  mphybrid.miniProgramHybrid.call("getUserInfo", { lang: "zh_CN" }, (result: string) => void result);
  const v: string = mphybrid.version + mphybrid.defaults.page + mphybrid.codes.ETIMEOUT;
  const d: mphybrid.Client = mphybrid.defaultClient();
  void id, n, h, v, d;

  // @ts-expect-error api must be a string
  mphybrid.call(7, {});
  // @ts-expect-error timeout is a number or false
  mphybrid.call("x", {}, { timeout: "1s" });
  // @ts-expect-error protocol 1 or 2
  mphybrid.createClient({ protocol: 3 });
  // @ts-expect-error no such option
  mphybrid.createClient({ maxURL: 5 });
  // @ts-expect-error receive takes a string
  c.receive(5);
}
void page;
