#!/usr/bin/env node
// JavaScript reference answers for spec/oracle_spec.lua.
//
//   node spec/oracle/oracle.js <cases-file> <answers-file>
//
// Each line of the cases file is one case: a kind, then space-separated
// fields. Byte strings travel as "x" followed by lowercase hex (so "x" alone
// is the empty string); UTF-16 strings travel as "u" followed by 4 hex digits
// per code unit, so that lone surrogates survive the trip. Each line of the
// answers file answers the case on the same line: "OK <fields>" or
// "ERR <reason>".
'use strict';

const fs = require('fs');
const querystring = require('querystring');

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function bytesOf(field) {
  if (field[0] !== 'x') throw new Error('bad byte field: ' + field);
  return Buffer.from(field.slice(1), 'hex');
}

// Bytes -> JS string, or null when the bytes are not valid UTF-8.
function textOf(field) {
  try {
    return utf8.decode(bytesOf(field));
  } catch (e) {
    return null;
  }
}

function unitsOf(field) {
  if (field[0] !== 'u') throw new Error('bad unit field: ' + field);
  const hex = field.slice(1);
  const units = [];
  for (let i = 0; i < hex.length; i += 4) units.push(parseInt(hex.slice(i, i + 4), 16));
  let s = '';
  for (let i = 0; i < units.length; i += 4096) {
    s += String.fromCharCode.apply(null, units.slice(i, i + 4096));
  }
  return s;
}

// A JS string that contains no lone surrogate -> "x" + hex of its UTF-8.
function hexOf(s) {
  return 'x' + Buffer.from(s, 'utf8').toString('hex');
}

function hasLoneSurrogate(s) {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { i++; continue; }
      return true;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

function numberOf(text) {
  if (text === 'NaN') return NaN;
  if (text === 'Infinity') return Infinity;
  if (text === '-Infinity') return -Infinity;
  const n = Number(text);
  if (Number.isNaN(n)) throw new Error('bad number: ' + text);
  return n;
}

// o[k] = v would call the __proto__ setter; JSON.parse defines own properties.
function define(o, k, v) {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function byteOrder(a, b) {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

// Objects are rebuilt with their keys inserted in bytewise order; JavaScript
// itself then moves array-index keys ("0" .. "4294967294") to the front in
// numeric order. That is the key order the README documents for encode_json.
function ordered(v) {
  if (Array.isArray(v)) return v.map(ordered);
  if (v !== null && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort(byteOrder)) define(out, k, ordered(v[k]));
    return out;
  }
  return v;
}

function walkStrings(v, f) {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.some((x) => walkStrings(x, f));
  if (v !== null && typeof v === 'object') {
    return Object.keys(v).some((k) => f(k) || walkStrings(v[k], f));
  }
  return false;
}

function hasNonFinite(v) {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (Array.isArray(v)) return v.some(hasNonFinite);
  if (v !== null && typeof v === 'object') return Object.keys(v).some((k) => hasNonFinite(v[k]));
  return false;
}

// Value description written by the spec: comma-separated tokens in prefix
// order. N null, T true, F false, d<number>, s<hex>, a<n> then n values,
// o<n> then n times (k<hex>, value).
function buildValue(desc) {
  const tokens = desc.split(',');
  let i = 0;
  function str(tok) { return Buffer.from(tok.slice(1), 'hex').toString('utf8'); }
  function value() {
    const t = tokens[i++];
    switch (t[0]) {
      case 'N': return null;
      case 'T': return true;
      case 'F': return false;
      case 'd': return numberOf(t.slice(1));
      case 's': return str(t);
      case 'a': {
        const n = parseInt(t.slice(1), 10);
        const a = [];
        for (let j = 0; j < n; j++) a.push(value());
        return a;
      }
      case 'o': {
        const n = parseInt(t.slice(1), 10);
        const pairs = [];
        for (let j = 0; j < n; j++) {
          const k = tokens[i++];
          if (k[0] !== 'k') throw new Error('bad key token: ' + k);
          pairs.push([str(k), value()]);
        }
        const o = {};
        pairs.sort((p, q) => byteOrder(p[0], q[0]));
        for (const [k, v] of pairs) define(o, k, v);
        return o;
      }
      default: throw new Error('bad token: ' + t);
    }
  }
  const v = value();
  if (i !== tokens.length) throw new Error('trailing tokens in ' + desc);
  return v;
}

// The published H5 helper, applied to the entries in the given order; the
// README's encode_query also percent-encodes keys, hence encodeKey.
function serialize(entries, encodeKey) {
  let s = '';
  for (const [p, v] of entries) {
    s += '&' + (encodeKey ? encodeURIComponent(p) : p) + '=' +
      encodeURIComponent(v).replace(/\+/gm, '%2B');
  }
  s = s.length > 0 ? s.substring(1) : s;
  return s;
}

// The published mini-program helper (as given in the project's brief).
function setUrlHash(url, hash) {
  if (!url) return url;
  url = url.trim();
  // a blank url is returned trimmed (the published setUrlHash assigns the
  // trimmed url before it tests it)
  if (url === '') return url;
  const i = url.indexOf('#');
  if (i > -1) url = url.substring(0, i);
  return url + '#' + hash;
}

function typedValue(field) {
  switch (field[0]) {
    case 'x': return textOf(field);
    case 'n': return numberOf(field.slice(1));
    case 'b': return field === 'b1';
    default: throw new Error('bad typed value: ' + field);
  }
}

const handlers = {
  // encodeURIComponent of a UTF-16 string (lone surrogates allowed).
  euc16(f) {
    try {
      return 'OK ' + hexOf(encodeURIComponent(unitsOf(f[0])));
    } catch (e) {
      if (e instanceof URIError) return 'ERR uri';
      throw e;
    }
  },
  // encodeURIComponent of raw bytes: not UTF-8 means no JS string exists.
  eucb(f) {
    const s = textOf(f[0]);
    if (s === null) return 'ERR utf8';
    return 'OK ' + hexOf(encodeURIComponent(s));
  },
  duc(f) {
    const s = textOf(f[0]);
    if (s === null) return 'ERR utf8';
    let d;
    try {
      d = decodeURIComponent(s);
    } catch (e) {
      if (e instanceof URIError) return 'ERR uri';
      throw e;
    }
    if (hasLoneSurrogate(d)) throw new Error('decodeURIComponent gave a lone surrogate');
    return 'OK ' + hexOf(d);
  },
  // Number::toString two ways: JSON.stringify([n]) and String(n).
  num(f) {
    const n = numberOf(f[0]);
    const json = Number.isFinite(n) ? JSON.stringify([n]) : '-';
    return 'OK ' + hexOf(json) + ' ' + hexOf(String(n));
  },
  jenc(f) {
    return 'OK ' + hexOf(JSON.stringify(buildValue(f[0])));
  },
  jdec(f) {
    const s = textOf(f[0]);
    if (s === null) return 'ERR utf8';
    let v;
    try {
      v = JSON.parse(s);
    } catch (e) {
      if (e instanceof SyntaxError) return 'ERR json';
      if (e instanceof RangeError) return 'ERR depth'; // call stack exhausted
      throw e;
    }
    if (walkStrings(v, hasLoneSurrogate)) return 'ERR lone-surrogate';
    if (hasNonFinite(v)) return 'ERR non-finite';
    return 'OK ' + hexOf(JSON.stringify(ordered(v)));
  },
  trim(f) {
    const s = textOf(f[0]);
    if (s === null) throw new Error('trim needs UTF-8');
    return 'OK ' + hexOf(s.trim());
  },
  sfrag(f) {
    const url = textOf(f[0]);
    const hash = textOf(f[1]);
    if (url === null || hash === null) throw new Error('sfrag needs UTF-8');
    return 'OK ' + hexOf(setUrlHash(url, hash));
  },
  // equery <pub|enc> k1 v1 k2 v2 ...
  equery(f) {
    const entries = [];
    for (let i = 1; i < f.length; i += 2) entries.push([textOf(f[i]), typedValue(f[i + 1])]);
    return 'OK ' + hexOf(serialize(entries, f[0] === 'enc'));
  },
  // querystring.parse, written back as key-sorted "k=S:v" / "k=A:v1,v2" pairs.
  qparse(f) {
    const s = textOf(f[0]);
    if (s === null) throw new Error('qparse needs UTF-8');
    const q = querystring.parse(s);
    const keys = Object.keys(q).sort(byteOrder);
    const out = keys.map((k) => {
      const v = q[k];
      if (Array.isArray(v)) return hexOf(k) + '=A:' + v.map(hexOf).join(',');
      return hexOf(k) + '=S:' + hexOf(v);
    });
    return 'OK ' + (out.length ? out.join('&') : '-');
  },
  // The published reply: setUrlHash(src, req=enc(String(v))[&...]&v=stamp).
  reply(f) {
    const src = textOf(f[0]);
    const stamp = f[1];
    const parts = [];
    for (let i = 2; i < f.length; i += 2) {
      parts.push(textOf(f[i]) + '=' + encodeURIComponent(String(textOf(f[i + 1]))));
    }
    parts.push('v=' + String(Number(stamp)));
    return 'OK ' + hexOf(setUrlHash(src, parts.join('&')));
  },
};

function main() {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    process.stderr.write('usage: node oracle.js <cases-file> <answers-file>\n');
    process.exit(2);
  }
  const lines = fs.readFileSync(input, 'latin1').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const answers = new Array(lines.length);
  for (let i = 0; i < lines.length; i++) {
    const fields = lines[i].split(' ');
    const kind = fields.shift();
    const h = handlers[kind];
    if (!h) throw new Error('line ' + (i + 1) + ': unknown kind ' + kind);
    answers[i] = h(fields);
  }
  fs.writeFileSync(output, answers.join('\n') + '\n');
}

main();
