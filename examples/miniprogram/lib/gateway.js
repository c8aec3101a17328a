// What the hybrid page does with a command: forward it to the gateway with
// wx.request, and hand back the web-view src to apply. When no contract
// answer comes, it writes an error reply itself (ENETWORK, EGATEWAY), so
// that the H5 page's call fails at once instead of waiting.
const config = require('../config.js');

const DEFAULT_REQ = 'miniProgramResult';
const RESERVED = { mph: true, hash: true, v: true };

// the published setUrlHash: trim, drop the old fragment, append the new one
function setUrlHash(url, fragment) {
  let base = String(url).trim();
  const at = base.indexOf('#');
  if (at >= 0) base = base.slice(0, at);
  return base + '#' + fragment;
}

// options.cmd as the shell reads it: decoded until it is JSON, at most twice
function readCmd(raw) {
  if (typeof raw !== 'string') return null;
  let text = raw;
  for (let i = 0; i < 2 && text.charAt(0) !== '{'; i++) {
    try { text = decodeURIComponent(text); } catch (e) { return null; }
  }
  try {
    const cmd = JSON.parse(text);
    return cmd && typeof cmd === 'object' && !Array.isArray(cmd) ? cmd : null;
  } catch (e) {
    return null;
  }
}

// a stamp above the one that ends src, so that the fragment changes
function nextStamp(src) {
  const m = /[#&]v=(\d+)$/.exec(src);
  return Math.max(Date.now(), m ? Number(m[1]) + 1 : 0);
}

// src with an error reply to the command, in the command's version
function errorSrc(src, rawCmd, code, message) {
  const cmd = readCmd(rawCmd);
  const req = cmd && typeof cmd.req === 'string' && cmd.req !== '' ? cmd.req : null;
  const v = '&v=' + nextStamp(src);
  if (req && typeof cmd.mph === 'number' && cmd.mph >= 2 && !RESERVED[req]) {
    const reply = JSON.stringify({ error: { code, message } });
    const hash = typeof cmd.hash === 'string' ? '&hash=' + encodeURIComponent(cmd.hash) : '';
    return setUrlHash(src, 'mph=2&' + encodeURIComponent(req) + '=' + encodeURIComponent(reply) + hash + v);
  }
  return setUrlHash(src, encodeURIComponent(req || DEFAULT_REQ) + '=' + code + v);
}

// forward(rawCmd, src, session, done): done(newSrc, back) is called once
function forward(rawCmd, src, session, done) {
  if (typeof rawCmd !== 'string') {
    done(errorSrc(src, null, 'ECMD', 'the page options carry no cmd string'), true);
    return;
  }
  wx.request({
    url: config.GATEWAY_URL,
    method: 'POST',
    header: { 'content-type': 'application/json' },
    data: { cmd: rawCmd, src, session },
    timeout: config.TIMEOUT_MS,
    success(res) {
      const answer = res.data;
      if (res.statusCode === 200 && answer && typeof answer.src === 'string') {
        done(answer.src, answer.back !== false);
        return;
      }
      const code = answer && answer.error && answer.error.code;
      done(errorSrc(src, rawCmd, 'EGATEWAY',
        'the gateway answered ' + res.statusCode + (code ? ' ' + code : '')), true);
    },
    fail(err) {
      done(errorSrc(src, rawCmd, 'ENETWORK', (err && err.errMsg) || 'no answer from the gateway'), true);
    },
  });
}

// a session id: 24 characters of A-Z a-z 0-9 _ - (144 random bits)
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
function sessionId(bytes) {
  let id = '';
  for (let i = 0; i < 24; i++) id += ALPHABET.charAt(bytes[i] & 63);
  return id;
}

// newSession(ready): ready(id) once, from wx.getRandomValues where the
// base library has it, else from Math.random
function newSession(ready) {
  const fallback = () => {
    const bytes = [];
    for (let i = 0; i < 24; i++) bytes.push(Math.floor(Math.random() * 256));
    ready(sessionId(bytes));
  };
  if (typeof wx.getRandomValues !== 'function') {
    fallback();
    return;
  }
  wx.getRandomValues({
    length: 24,
    success(res) { ready(sessionId(new Uint8Array(res.randomValues))); },
    fail: fallback,
  });
}

module.exports = { forward, newSession, errorSrc, readCmd, setUrlHash };
