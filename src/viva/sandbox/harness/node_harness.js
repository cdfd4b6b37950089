// Runs inside the sandbox as `node -e <this file> <result fd>`: reads one job from fd 0, runs
// each test's code afresh in a new V8 context (its own globals: JSON, Object.prototype, ...)
// and reports on the private result pipe in length-prefixed JSON frames. Expected outputs
// never reach this process; the server compares results outside the sandbox. Everything the
// harness uses is bound here before candidate code runs, and results are encoded by the
// harness's own walker (no toJSON, no prototype lookups), so code that replaces
// JSON.stringify, Buffer.from or Object.prototype.toJSON cannot change what is reported.
"use strict";
const fs = require("fs");
const vm = require("vm");
// Loaded only when a job needs them (stdin mode, TypeScript), before any candidate code runs.
let Readable = null;
let spawnSync = null;
const writeSync = fs.writeSync;
const readSync = fs.readSync;
const stringify = JSON.stringify;
const parse = JSON.parse;
const now = performance.now.bind(performance);
const isArray = Array.isArray;
const keysOf = Object.keys;
const getPrototypeOf = Object.getPrototypeOf;
const ArrayPush = Array.prototype.push;
const ArrayJoin = Array.prototype.join;
const call = Function.prototype.call.bind(Function.prototype.call);
const BufferFrom = Buffer.from;
const BufferAlloc = Buffer.alloc;
const BufferConcat = Buffer.concat;
const BufferByteLength = Buffer.byteLength;
const realReadFileSync = fs.readFileSync;
const activeResources = process.getActiveResourcesInfo.bind(process);
const setImmediateReal = setImmediate;
const RESULT_FD = Number(process.argv[process.argv.length - 1]); // the private pipe the server reads

let nonce = null; // from the job; candidate code has no way to name this closure variable

function send(frame) {
  if (nonce !== null) frame.n = nonce;
  const body = BufferFrom(encode(frame, 0), "utf8");
  const head = BufferAlloc(4);
  head.writeUInt32BE(body.length, 0);
  let data = BufferConcat([head, body]);
  while (data.length) data = data.subarray(writeSync(RESULT_FD, data));
}

function readExact(n) {
  const buf = BufferAlloc(n);
  let got = 0;
  while (got < n) {
    const k = readSync(0, buf, got, n - got, null);
    if (k === 0) process.reallyExit(3);
    got += k;
  }
  return buf;
}

function capture(limit) {
  const chunks = [];
  let size = 0;
  let truncated = false;
  return {
    write(chunk, encoding, cb) {
      const buf = typeof chunk === "string" ? BufferFrom(chunk, typeof encoding === "string" ? encoding : "utf8") : BufferFrom(chunk);
      if (size < limit) chunks.push(buf.subarray(0, limit - size));
      if (size + buf.length > limit) truncated = true;
      size += buf.length;
      const done = typeof encoding === "function" ? encoding : cb;
      if (typeof done === "function") done();
      return true;
    },
    text() {
      return BufferConcat(chunks).toString("utf8");
    },
    get truncated() {
      return truncated;
    },
  };
}

class TooLarge extends Error {}

function describe(err) {
  if (err instanceof TooLarge) return err.message;
  if (err && typeof err === "object" && typeof err.stack === "string") {
    // The harness's own frames say nothing to the candidate.
    return err.stack.split("\n").filter((l) => !l.includes("[eval]") && !l.includes("node:internal")).join("\n");
  }
  try { return "Uncaught " + String(err); } catch (_) { return "Uncaught exception"; }
}

function isMemoryError(err) {
  return err instanceof RangeError && /allocation failed|Array buffer allocation|Invalid array length|heap/i.test(String(err.message));
}

async function settle(baseline) {
  // A stdin program is done when it leaves nothing pending (timers, streams), as a process would exit.
  for (;;) {
    await new Promise((r) => setImmediateReal(r));
    const pending = activeResources().filter((r) => r !== "Immediate");
    if (pending.length <= baseline) return;
  }
}

// JSON text of a result, walking only plain data: arrays, objects whose prototype is an
// Object.prototype (of any context) or null, strings, finite numbers, booleans and null.
function encode(value, depth) {
  if (depth > 200) throw new TypeError("the result is nested too deeply");
  if (value === null || value === undefined) return "null";
  const type = typeof value;
  if (type === "string") return stringify(value);
  if (type === "boolean") return value ? "true" : "false";
  if (type === "number") {
    if (value !== value || value === Infinity || value === -Infinity) throw new TypeError(`the function returned ${value}, which JSON can't carry`);
    return stringify(value);
  }
  if (type !== "object") throw new TypeError(`the function returned a ${type}, which JSON can't carry`);
  if (isArray(value)) {
    const parts = [];
    for (let i = 0; i < value.length; i++) call(ArrayPush, parts, encode(value[i], depth + 1));
    return "[" + call(ArrayJoin, parts, ",") + "]";
  }
  const proto = getPrototypeOf(value);
  if (proto !== null && getPrototypeOf(proto) !== null) {
    const name = value && value.constructor && typeof value.constructor.name === "string" ? value.constructor.name : "object";
    throw new TypeError(`the function returned a ${name}, which JSON can't carry; return arrays, plain objects, strings, numbers, booleans or null`);
  }
  const parts = [];
  for (const key of keysOf(value)) {
    const item = value[key];
    if (item === undefined || typeof item === "function") continue;
    call(ArrayPush, parts, stringify(String(key)) + ":" + encode(item, depth + 1));
  }
  return "{" + call(ArrayJoin, parts, ",") + "}";
}

const GLOBALS = ["console", "process", "Buffer", "setTimeout", "setInterval", "setImmediate", "clearTimeout",
  "clearInterval", "clearImmediate", "queueMicrotask", "URL", "URLSearchParams", "TextEncoder", "TextDecoder",
  "structuredClone", "performance", "atob", "btoa", "AbortController", "Event", "EventTarget"];

function freshContext() {
  const sandbox = {};
  for (const name of GLOBALS) if (name in globalThis) sandbox[name] = globalThis[name];
  sandbox.global = sandbox;
  return vm.createContext(sandbox);
}

async function runTest(script, job, test, out, err) {
  process.stdout.write = out.write;
  process.stderr.write = err.write;
  const module = { exports: {} };
  if (job.mode === "stdin") {
    const input = test.input;
    const stdin = Readable.from([BufferFrom(input, "utf8")]);
    Object.defineProperty(process, "stdin", { value: stdin, configurable: true, writable: true });
    fs.readFileSync = function (path, options) {
      if (path === 0 || path === "/dev/stdin") {
        const enc = typeof options === "string" ? options : options && options.encoding;
        return enc ? input : BufferFrom(input, "utf8");
      }
      return realReadFileSync.apply(fs, arguments);
    };
    const baseline = activeResources().filter((r) => r !== "Immediate").length;
    script.runInContext(freshContext())(module, module.exports, require);
    await settle(baseline);
    return undefined;
  }
  const found = script.runInContext(freshContext())(module, module.exports, require);
  if (typeof found !== "function") throw new ReferenceError(`the code defines no function named ${stringify(job.entrypoint)}`);
  let result = found(...test.input);
  if (result && typeof result.then === "function") result = await result;
  const text = encode(result, 0);
  // Characters first (cheap, a lower bound of the bytes), so a huge string is never copied again.
  if (text.length > job.max_value || BufferByteLength(text, "utf8") > job.max_value) {
    throw new TooLarge(`The function returned a value of about ${BufferByteLength(text, "utf8")} bytes; the limit is ${job.max_value / 1048576} MiB of JSON`);
  }
  return parse(text);
}

async function main() {
  send({ t: "ready" });
  const job = parse(readExact(readExact(4).readUInt32BE(0)).toString("utf8"));
  nonce = job.nonce;
  job.nonce = null;
  if (job.transpile) {
    // TypeScript → CommonJS with the pinned esbuild, in this same sandbox; its errors are the
    // candidate's compile output. GOMAXPROCS=1: a Go program's threads count against the
    // sandbox's process limit.
    spawnSync = require("child_process").spawnSync;
    const [tool, ...args] = job.transpile;
    const out = spawnSync(tool, args, { input: job.code, env: { GOMAXPROCS: "1" }, maxBuffer: 16 << 20 });
    if (out.status !== 0) {
      const message = out.stderr && out.stderr.length ? out.stderr.toString("utf8").trim() : `TypeScript could not be compiled (${out.error || "esbuild exited with status " + out.status})`;
      send({ t: "compile_error", message });
      process.reallyExit(0);
    }
    job.code = out.stdout.toString("utf8");
  }
  if (job.mode === "stdin") Readable = require("stream").Readable;
  const entry = job.entrypoint;
  const tail = job.mode === "stdin" ? "" :
    `\n;return (typeof ${entry} === "function") ? ${entry} : (module.exports && typeof module.exports[${stringify(entry)}] === "function") ? module.exports[${stringify(entry)}] : (typeof module.exports === "function" && module.exports.name === ${stringify(entry)}) ? module.exports : (typeof Solution === "function" && typeof Solution.prototype[${stringify(entry)}] === "function") ? ((s) => (...a) => s[${stringify(entry)}](...a))(new Solution()) : undefined;`;
  let script;
  try {
    script = new vm.Script(`(function (module, exports, require) {${job.code}\n${tail}\n})`, { filename: job.filename || "solution.js" });
  } catch (e) {
    send({ t: "compile_error", message: describe(e) });
    process.reallyExit(0);
  }
  process.on("unhandledRejection", () => {});
  for (const test of job.tests) {
    send({ t: "start", i: test.i });
    const out = capture(job.max_output);
    const err = capture(job.max_output);
    const frame = { t: "done", i: test.i, ok: true, value: null };
    const started = now();
    try {
      frame.value = await runTest(script, job, test, out, err);
    } catch (e) {
      frame.ok = false;
      frame.kind = isMemoryError(e) ? "memory" : "error";
      frame.error = describe(e);
    }
    frame.ms = now() - started;
    frame.stdout = out.text();
    frame.stdout_truncated = out.truncated;
    frame.stderr = err.text();
    frame.stderr_truncated = err.truncated;
    if (job.mode === "stdin" && frame.ok) frame.value = frame.stdout;
    send(frame);
  }
  send({ t: "end" });
  process.reallyExit(0);
}

main().catch((e) => {
  try { send({ t: "fatal", message: describe(e) }); } catch (_) {}
  process.reallyExit(4);
});
