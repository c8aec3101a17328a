// Types of mphybrid, the H5 client of H5 <-> WeChat mini-program messaging.
// Protocol: docs/PROTOCOL.md of the mphybrid repository.

declare namespace mphybrid {
  /** The codes the client gives calls itself; the shell answers with others
   * (ENOAPI, EPARAMS, EHANDLER, ECRASH, EDENIED, ECMD, EJSON, ...) and a
   * handler may use codes of its own: [A-Z][A-Z0-9_]*, at most 64 bytes. */
  type ClientErrorCode =
    | "EVALUE"
    | "EUTF8"
    | "ETOOLONG"
    | "EDEPTH"
    | "ENAVIGATE"
    | "ETIMEOUT"
    | "ECANCELED"
    | "EREPLY"
    | "EESCAPE";

  type ErrorCode = ClientErrorCode | (string & {});

  /** A failed call: the shell's error, or one of the client's own. */
  class MphybridError extends Error {
    constructor(code: string, message: string, data?: unknown);
    readonly name: "MphybridError";
    /** a stable code: "ETIMEOUT", "ENOAPI", a handler's "EPAY" */
    code: ErrorCode;
    /** what the handler attached to its error, if anything */
    data?: unknown;
    /** the AbortSignal's reason, for ECANCELED */
    cause?: unknown;
  }

  /** The part of the official JS-SDK (weixin-js-sdk) the client uses. */
  interface WxLike {
    miniProgram: {
      navigateTo(options: {
        url: string;
        success?: (res: unknown) => void;
        fail?: (res: { errMsg?: string }) => void;
      }): void;
    };
  }

  /** The part of a window the client uses. */
  interface WindowLike {
    location: { href: string };
    history?: { state: unknown; replaceState(state: unknown, title: string, url: string): void };
    addEventListener(type: "hashchange", listener: (ev: unknown) => void): void;
    removeEventListener(type: "hashchange", listener: (ev: unknown) => void): void;
    dispatchEvent?(ev: unknown): boolean;
  }

  interface ClientOptions {
    /** the window whose fragment carries replies (default: the global one);
     * null: none, the page calls client.receive() itself */
    window?: WindowLike | null;
    /** sends a command URL; may throw, return false or a Promise that
     * rejects (ENAVIGATE). Default: wx.miniProgram.navigateTo */
    navigate?: (url: string) => unknown;
    /** the JS-SDK to navigate with (default: the global wx, or
     * require("weixin-js-sdk")) */
    wx?: WxLike;
    /** the hybrid page's path: "/pages/hybrid-page/hybrid" */
    page?: string;
    /** ms from a call to ETIMEOUT (30000); false or 0 for none */
    timeout?: number | false;
    /** bytes of a navigateTo URL (1000); a longer command fails with ETOOLONG */
    maxUrl?: number;
    /** acknowledgements one command carries (16) */
    maxAcks?: number;
    /** finished request ids remembered to acknowledge again (256) */
    maxDone?: number;
    /** 2 (default) or 1: version 1, the format of the published code */
    protocol?: 1 | 2;
    /** request id prefix: "H5Req_" */
    prefix?: string;
    /** carry the page's own fragment through replies and put it back (true) */
    hash?: boolean;
    /** ms between a reply and the next command's navigateTo (0) */
    gap?: number;
    /** send the version 2 calls queued while a command is on its way
     * together, in one navigateTo, once the shell has answered one of the
     * client's commands in a version 2 fragment (true) */
    batch?: boolean;
    /** commands one batch carries (16); a batch also stays within maxUrl */
    maxBatch?: number;
    /** the clock, in ms (Date.now) */
    now?: () => number;
    setTimeout?: (fn: () => void, ms: number) => unknown;
    clearTimeout?: (timer: any) => void;
    log?: (level: "error" | "warn", message: string) => void;
    /** request ids of your own: 1 to 128 bytes of UTF-8, no control
     * characters, no spaces around; not "mph", "hash" or "v" */
    newReqId?: (prefix: string) => string;
  }

  interface CallOptions {
    /** ms for this call; false or 0 for none */
    timeout?: number | false;
    /** aborting it fails the call with ECANCELED */
    signal?: AbortSignal;
    /** this call's protocol: 1 sends what the published library sends */
    protocol?: 1 | 2;
  }

  interface Received {
    /** replies delivered to calls in flight */
    delivered: number;
    /** the page's own fragment, when the shell carried it */
    hash: string | undefined;
  }

  interface Client {
    /** Sends a command (queued while another is on its way) and resolves
     * with the handler's result, or rejects with an MphybridError. */
    call<T = any>(api: string, params?: unknown, options?: CallOptions): Promise<T>;
    /** Reads a web-view src, or its fragment, as the hashchange listener does. */
    receive(srcOrFragment: string): Received;
    /** calls in flight, queued or sent */
    pending(): number;
    /** stops listening and fails every call in flight with ECANCELED */
    close(): void;
  }

  interface Defaults {
    page: string;
    timeout: number;
    maxUrl: number;
    maxAcks: number;
    maxDone: number;
    maxHash: number;
    prefix: string;
    protocol: 1 | 2;
    gap: number;
    batch: boolean;
    maxBatch: number;
  }

  /** The published library's API: callback(result) gets the string the
   * shell wrote ("0" for success as published, an error code otherwise). */
  interface MiniProgramHybrid {
    call(api: any, params?: any, callback?: (result: string) => void): void;
  }

  const version: string;
  const defaults: Readonly<Defaults>;
  const codes: Readonly<Record<ClientErrorCode, string>>;
  function createClient(options?: ClientOptions): Client;
  /** the client of the page's window, made on first use */
  function defaultClient(): Client;
  /** defaultClient().call(api, params, options) */
  function call<T = any>(api: string, params?: unknown, options?: CallOptions): Promise<T>;
  const miniProgramHybrid: MiniProgramHybrid;
}

declare global {
  /** set by the classic <script> */
  var mphybrid: typeof import("./mphybrid");
  var miniProgramHybrid: import("./mphybrid").MiniProgramHybrid;
}

export = mphybrid;
