// The gRPC service checked by a second implementation, independent of
// tests/grpc_check.py's (python3-grpcio, C core): @grpc/grpc-js, pure
// JavaScript over Node's http2, with the messages of proto/*.proto loaded at
// run time by @grpc/proto-loader (protobuf.js); a few checks also speak raw
// HTTP/2 with node:http2, to see what the server itself does (its
// grpc-timeout, its compressed replies).
//
// Against the server binary started with --port 0 --grpc-port 0
// --max-body 80M: ServerLive, ServerReady, ModelReady (NOT_FOUND too),
// ServerMetadata and ModelMetadata (equal to REST's GET /v2 and
// /v2/models/{m}); ModelInfer bit for bit against PyTorch
// (tests/data/torch_cases.jsonl, float64; tests/data/torch_extra.jsonl,
// float32 and PReLU with grad_slope) from raw_input_contents and from typed
// fp32_contents/fp64_contents; negative_slope as double_param, int64_param
// and string_param; errors (status codes, non-empty details, REST's
// message where REST has the same error); gzip and deflate requests; a
// deadline; ModelStreamInfer; x-request-id; Health/Check; reflection, and a
// call made with the descriptors it serves; a 64 MB FP32 tensor; SIGTERM,
// exit 0. TAP output (tests/tap.mjs). Node.js 18 or later.
//
// Usage: npm ci --prefix tests/grpc_node && node tests/grpc_node/check.mjs SERVER_BINARY
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { readFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import os from "node:os";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";
import { ok, done } from "../tap.mjs";

const binary = process.argv[2];
if (!binary) {
  console.error("usage: node tests/grpc_node/check.mjs SERVER_BINARY");
  process.exit(2);
}
const root = fileURLToPath(new URL("../../", import.meta.url));
const TIMEOUT_MS = 30000; // per call: generous for slow machines
const SERVICE = "inference.GRPCInferenceService";
const MODELS = ["leaky_relu", "leaky_relu_grad"];
const SIZE = { FP32: 4, FP64: 8 };
if (os.endianness() !== "LE") {
  console.log("1..0 # SKIP the typed-array comparisons assume a little-endian machine");
  process.exit(0);
}

// ---- what is on the wire ---------------------------------------------------
// grpc-js calls http2.connect (the same module object as ours) for each
// connection: wrapped, the streams of the calls made while `tap` is an
// array are recorded there: the request's headers, the flag byte of the
// first message sent (1: compressed), the response's headers and the flag
// byte of the first message received.
let tap = null;
const connect = http2.connect;
http2.connect = function (...args) {
  const session = connect.apply(this, args);
  const request = session.request;
  session.request = function (headers, ...rest) {
    const stream = request.call(this, headers, ...rest);
    if (!tap) return stream;
    const rec = { sent: { ...headers }, sentFlag: undefined, got: undefined, gotFlag: undefined };
    tap.push(rec);
    const write = stream.write;
    stream.write = function (chunk, ...more) {
      if (rec.sentFlag === undefined && chunk && chunk.length) rec.sentFlag = chunk[0];
      return write.call(this, chunk, ...more);
    };
    stream.on("response", (h) => { rec.got = { ...h }; });
    stream.on("data", (c) => { if (rec.gotFlag === undefined && c.length) rec.gotFlag = c[0]; });
    return stream;
  };
  return session;
};

// ---- the messages ------------------------------------------------------------

const LOAD_OPTIONS = { keepCase: true, longs: String, defaults: true, oneofs: true };
const definition = protoLoader.loadSync(["inference.proto", "health.proto", "reflection.proto"],
                                        { ...LOAD_OPTIONS, includeDirs: [root + "proto"] });
const proto = grpc.loadPackageDefinition(definition);
const Inference = proto.inference.GRPCInferenceService;
const Health = proto.grpc.health.v1.Health;
const Reflection = proto.grpc.reflection.v1alpha.ServerReflection;
const inferMethod = definition[SERVICE].ModelInfer; // its serialize/deserialize, for raw HTTP/2

// ---- numbers -------------------------------------------------------------------

// Little-endian bytes of values in the datatype (rounded to it).
function pack(values, datatype) {
  const b = Buffer.alloc(values.length * SIZE[datatype]);
  values.forEach((v, i) => (datatype === "FP32" ? b.writeFloatLE(v, i * 4) : b.writeDoubleLE(v, i * 8)));
  return b;
}

function unpack(buf, datatype) {
  const n = Math.floor(buf.length / SIZE[datatype]);
  const out = [];
  for (let i = 0; i < n; i++) out.push(datatype === "FP32" ? buf.readFloatLE(i * 4) : buf.readDoubleLE(i * 8));
  return out;
}

// [flat values, shape] of a nested array (a number: shape []).
function flat(v) {
  if (!Array.isArray(v)) return [[v], []];
  const shape = [];
  for (let level = v; Array.isArray(level); level = level[0]) shape.push(level.length);
  return [v.flat(Infinity), shape];
}

// Each element's channel (axis 1) for nslopes slopes: PReLU's layout.
function channelOf(shape, count, nslopes) {
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  return Array.from({ length: count }, (_, i) => (nslopes === 1 ? 0 : Math.floor(i / inner) % nslopes));
}

// Where two byte strings of elements differ first, in words.
function firstDifference(got, want, datatype) {
  if (got.length !== want.length) return `${got.length} bytes, want ${want.length}`;
  const size = SIZE[datatype];
  for (let i = 0; i < got.length; i += size) {
    if (got.compare(want, i, i + size, i, i + size) !== 0) {
      const at = (b) => (datatype === "FP32" ? b.readFloatLE(i) : b.readDoubleLE(i));
      return `element ${i / size}: ${at(got)} (${got.subarray(i, i + size).toString("hex")}), ` +
             `want ${at(want)} (${want.subarray(i, i + size).toString("hex")})`;
    }
  }
  return "differ";
}

// ---- requests ----------------------------------------------------------------

// negative_slope: a list goes as JSON text in string_param, a string as it
// is, a BigInt as int64_param, a number as double_param.
function slopeParameter(slope) {
  if (Array.isArray(slope)) return { string_param: JSON.stringify(slope) };
  if (typeof slope === "string") return { string_param: slope };
  if (typeof slope === "bigint") return { int64_param: String(slope) };
  return { double_param: slope };
}

// A ModelInferRequest; inputs: [name, datatype, shape, values], the values
// sent as raw_input_contents, or as typed contents when typed.
function inferRequest(model, inputs, { slope, outputs = [], id = "", typed = false, version = "" } = {}) {
  const req = { model_name: model, model_version: version, id, parameters: {}, inputs: [],
                outputs: outputs.map((name) => ({ name })), raw_input_contents: [] };
  if (slope !== undefined) req.parameters.negative_slope = slopeParameter(slope);
  for (const [name, datatype, shape, values] of inputs) {
    const t = { name, datatype, shape };
    if (typed) t.contents = datatype === "FP32" ? { fp32_contents: values } : { fp64_contents: values };
    else req.raw_input_contents.push(pack(values, datatype));
    req.inputs.push(t);
  }
  return req;
}

// The same request as REST JSON for /v2/models/{m}/infer.
function restBody(inputs, { slope, outputs = [] } = {}) {
  const body = { inputs: inputs.map(([name, datatype, shape, data]) => ({ name, datatype, shape, data })) };
  if (slope !== undefined) body.parameters = { negative_slope: typeof slope === "string" ? JSON.parse(slope) : slope };
  if (outputs.length) body.outputs = outputs.map((name) => ({ name }));
  return body;
}

// A unary call: { err, res, md } (md: the response's initial metadata).
function unary(client, method, req, { metadata = new grpc.Metadata(), deadline } = {}) {
  return new Promise((resolve) => {
    let md;
    const call = client[method](req, metadata, { deadline: deadline ?? Date.now() + TIMEOUT_MS },
                                (err, res) => resolve({ err, res, md }));
    call.on("metadata", (m) => { md = m; });
  });
}

const codeName = (code) => grpc.status[code] ?? String(code);
const status = (err) => (err ? `${codeName(err.code)}: ${JSON.stringify(err.details)}` : "no error");

// '' when res's outputs are want's: [name, datatype, shape, expected],
// expected the exact bytes (a Buffer), or { near: numbers } to match within
// 1e-12 relative (grad_slope against PyTorch's differently ordered sum).
function outputsProblem(res, want) {
  if (res.outputs.length !== want.length || res.raw_output_contents.length !== want.length)
    return `${res.outputs.length} outputs and ${res.raw_output_contents.length} raw_output_contents, ` +
           `want ${want.length} (${want.map((w) => w[0])})`;
  for (let i = 0; i < want.length; i++) {
    const [name, datatype, shape, expected] = want[i];
    const out = res.outputs[i], raw = res.raw_output_contents[i];
    const head = JSON.stringify([out.name, out.datatype, out.shape.map(Number)]);
    const wantHead = JSON.stringify([name, datatype, shape]);
    if (head !== wantHead) return `output ${head}, want ${wantHead}`;
    if (out.contents) return `output ${name} has contents: they go in raw_output_contents`;
    if (Buffer.isBuffer(expected)) {
      if (!raw.equals(expected)) return `output ${name}: ${firstDifference(raw, expected, datatype)}`;
    } else {
      const got = unpack(raw, datatype), near = expected.near;
      if (raw.length !== near.length * SIZE[datatype] ||
          !got.every((g, k) => g === near[k] || Math.abs(g - near[k]) <= 1e-12 * Math.abs(near[k])))
        return `output ${name}: ${JSON.stringify(got)}, want ${JSON.stringify(expected.near)}`;
    }
  }
  return "";
}

// REST on the same server: { code, json }.
function rest(port, method, path, body) {
  return new Promise((resolve) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ host: "127.0.0.1", port, method, path,
                               headers: data ? { "Content-Type": "application/json" } : {} }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        let json;
        try { json = JSON.parse(Buffer.concat(chunks).toString()); } catch { json = null; }
        resolve({ code: res.statusCode, json });
      });
    });
    req.on("error", (e) => resolve({ code: 0, json: { error: String(e) } }));
    req.end(data);
  });
}

// A gRPC call in raw HTTP/2 (node:http2, not grpc-js): body the framed
// messages, sent after delay ms. { head, trailers, messages: [{ flag,
// payload }], code, message } (code and message from grpc-status and
// grpc-message, in the trailers or a trailers-only reply).
function rawCall(port, path, { headers = {}, body = Buffer.alloc(0), delay = 0 } = {}) {
  return new Promise((resolve) => {
    const session = connect(`http://127.0.0.1:${port}`);
    const fail = (e) => { session.destroy(); resolve({ error: String(e), messages: [] }); };
    session.on("error", fail);
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc",
                                     te: "trailers", ...headers }, { endStream: false });
    let head = {}, trailers = {};
    const chunks = [];
    stream.on("response", (h) => { head = h; });
    stream.on("trailers", (t) => { trailers = t; });
    stream.on("data", (c) => chunks.push(c));
    stream.on("error", fail);
    stream.on("close", () => {
      session.close();
      const data = Buffer.concat(chunks), messages = [];
      for (let o = 0; o + 5 <= data.length; ) {
        const len = data.readUInt32BE(o + 1);
        messages.push({ flag: data[o], payload: data.subarray(o + 5, o + 5 + len) });
        o += 5 + len;
      }
      const s = trailers["grpc-status"] ?? head["grpc-status"];
      const m = trailers["grpc-message"] ?? head["grpc-message"] ?? "";
      resolve({ head, trailers, messages, code: s === undefined ? undefined : Number(s), message: decodeURIComponent(m) });
    });
    const send = () => { if (!stream.closed) stream.end(body); };
    if (delay) setTimeout(send, delay); else send();
  });
}

// One gRPC message: the flag byte, the length, the bytes.
function frame(payload, compressed = false) {
  const head = Buffer.alloc(5);
  head[0] = compressed ? 1 : 0;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

// ---- the server ----------------------------------------------------------------

// The binary started with args: { child, line, http, grpc, stderr() }.
async function startServer(args) {
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  process.on("exit", () => child.kill("SIGKILL")); // a no-op once it has exited
  let err = "";
  child.stderr.on("data", (c) => { err = (err + c).slice(-4000); });
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const line = await Promise.race([
    new Promise((resolve) => createInterface({ input: child.stdout }).once("line", resolve)),
    exited.then(() => ""),
    new Promise((resolve) => setTimeout(() => resolve(""), TIMEOUT_MS)),
  ]);
  const h = line.match(/listening on http:\/\/\S*:(\d+)/), g = line.match(/grpc:\/\/\S*:(\d+)/);
  return { child, line, exited, http: h && Number(h[1]), grpc: g && Number(g[1]), stderr: () => err };
}

// SIGTERM, then { code, signal } or null when it did not exit in 15 s.
async function stopServer(s) {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGTERM");
  const r = await Promise.race([s.exited, new Promise((resolve) => setTimeout(() => resolve(null), 15000))]);
  if (!r) s.child.kill("SIGKILL");
  return r;
}

const CHANNEL = { "grpc.max_receive_message_length": -1, "grpc.max_send_message_length": -1 };
const clients = [];
function client(Ctor, port, options = {}) {
  const c = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { ...CHANNEL, ...options });
  clients.push(c);
  return c;
}

// ---- server, model readiness and metadata --------------------------------------

async function checkReady(c) {
  let r = await unary(c, "ServerLive", {});
  ok("ServerLive: live", !r.err && r.res.live === true, status(r.err));
  r = await unary(c, "ServerReady", {});
  ok("ServerReady: ready", !r.err && r.res.ready === true, status(r.err));
  for (const name of MODELS) {
    for (const version of ["", "1"]) {
      r = await unary(c, "ModelReady", { name, version });
      ok(`ModelReady ${name} version "${version}": ready`, !r.err && r.res.ready === true, status(r.err));
    }
  }
  for (const [name, version] of [["relu", ""], ["leaky_relu", "2"]]) {
    r = await unary(c, "ModelReady", { name, version });
    ok(`ModelReady ${name} version "${version}": NOT_FOUND naming the model`,
       r.err?.code === grpc.status.NOT_FOUND && r.err.details.includes(name), status(r.err));
  }
}

async function checkMetadata(c, httpPort) {
  let r = await unary(c, "ServerMetadata", {});
  const server = await rest(httpPort, "GET", "/v2");
  const got = r.err ? status(r.err) : { name: r.res.name, version: r.res.version, extensions: r.res.extensions };
  ok("ServerMetadata equals REST's GET /v2", server.code === 200 && JSON.stringify(got) === JSON.stringify(server.json),
     `gRPC ${JSON.stringify(got)}\nREST ${JSON.stringify(server.json)}`);
  const tensors = (ts) => ts.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(Number) }));
  for (const name of MODELS) {
    for (const version of ["", "1"]) {
      r = await unary(c, "ModelMetadata", { name, version });
      const want = await rest(httpPort, "GET", `/v2/models/${name}`);
      const got = r.err ? status(r.err) : { name: r.res.name, versions: r.res.versions, platform: r.res.platform,
                                            inputs: tensors(r.res.inputs), outputs: tensors(r.res.outputs) };
      ok(`ModelMetadata ${name} version "${version}" equals REST's GET /v2/models/${name}`,
         want.code === 200 && JSON.stringify(got) === JSON.stringify(want.json),
         `gRPC ${JSON.stringify(got)}\nREST ${JSON.stringify(want.json)}`);
    }
  }
  r = await unary(c, "ModelMetadata", { name: "relu", version: "" });
  ok("ModelMetadata relu: NOT_FOUND naming the model",
     r.err?.code === grpc.status.NOT_FOUND && r.err.details.includes("relu"), status(r.err));
}

// ---- ModelInfer against PyTorch ------------------------------------------------------

// [group, label, model, inputs, slope, want] for each PyTorch case.
function torchCases() {
  const cases = [];
  const lines = (file) => readFileSync(root + "tests/data/" + file, "utf8").split("\n").filter(Boolean)
    .map((l) => JSON.parse(l));
  lines("torch_cases.jsonl").forEach((d, k) => {
    const [x, shape] = flat(d.x), [go] = flat(d.grad_output);
    const xin = [["x", "FP64", shape, x]], gin = [...xin, ["grad_output", "FP64", shape, go]];
    const label = `torch_cases line ${k + 1}`;
    for (const [group, model, inputs, name, key] of [
      ["f64 leaky_relu", "leaky_relu", xin, "y", "y"],
      ["f64 leaky_relu_grad", "leaky_relu_grad", xin, "grad", "grad"],
      ["f64 leaky_relu_grad with grad_output", "leaky_relu_grad", gin, "grad", "grad_input"]])
      cases.push([group, label, model, inputs, d.slope, [[name, "FP64", shape, pack(flat(d[key])[0], "FP64")]]]);
  });
  lines("torch_extra.jsonl").forEach((d, k) => {
    const label = `torch_extra line ${k + 1} (${d.kind})`;
    const [x, shape] = flat(d.x), [go] = flat(d.grad_output);
    if (d.kind === "f32") {
      const xin = [["x", "FP32", shape, x]], gin = [...xin, ["grad_output", "FP32", shape, go]];
      const grad = x.map((v) => (v > 0 ? 1 : Math.fround(d.slope)));
      cases.push(["f32 leaky_relu", label, "leaky_relu", xin, d.slope, [["y", "FP32", shape, pack(flat(d.y)[0], "FP32")]]]);
      cases.push(["f32 leaky_relu_grad", label, "leaky_relu_grad", xin, d.slope,
                  [["grad", "FP32", shape, pack(grad, "FP32")]]]);
      cases.push(["f32 leaky_relu_grad with grad_output", label, "leaky_relu_grad", gin, d.slope,
                  [["grad", "FP32", shape, pack(flat(d.grad_input)[0], "FP32")]]]);
    } else if (d.kind === "prelu") {
      const slopes = d.slope;
      const xin = [["x", "FP64", shape, x]], gin = [...xin, ["grad_output", "FP64", shape, go]];
      const ch = channelOf(shape, x.length, slopes.length);
      cases.push(["prelu leaky_relu", label, "leaky_relu", xin, slopes, [["y", "FP64", shape, pack(flat(d.y)[0], "FP64")]]]);
      cases.push(["prelu leaky_relu_grad", label, "leaky_relu_grad", xin, slopes,
                  [["grad", "FP64", shape, pack(x.map((v, i) => (v > 0 ? 1 : slopes[ch[i]])), "FP64")],
                   ["grad_slope", "FP64", [slopes.length],
                    { near: slopes.map((_, c) => x.reduce((s, v, i) => (ch[i] === c && v <= 0 ? s + v : s), 0)) }]]]);
      cases.push(["prelu leaky_relu_grad with grad_output", label, "leaky_relu_grad", gin, slopes,
                  [["grad", "FP64", shape, pack(flat(d.grad_input)[0], "FP64")],
                   ["grad_slope", "FP64", [slopes.length], { near: d.grad_slope }]]]);
    }
  });
  return cases;
}

// Sends each case; a Map group -> [count, first failure or null].
async function runCases(c, cases, typed) {
  const groups = new Map();
  for (const [group, label, model, inputs, slope, want] of cases) {
    if (!groups.has(group)) groups.set(group, [0, null]);
    const g = groups.get(group);
    g[0]++;
    const r = await unary(c, "ModelInfer", inferRequest(model, inputs, { slope, typed, id: label }));
    let problem = r.err ? status(r.err) : outputsProblem(r.res, want);
    if (!problem && (r.res.id !== label || r.res.model_name !== model || r.res.model_version !== "1"))
      problem = `id ${r.res.id}, model ${r.res.model_name} version ${r.res.model_version}`;
    if (problem && !g[1]) g[1] = `${label}, ${model}, slope ${JSON.stringify(slope)}: ${problem}`;
  }
  return groups;
}

async function checkTorch(c, httpPort) {
  const cases = torchCases();
  for (const [group, [count, failure]] of await runCases(c, cases, false))
    ok(`ModelInfer, raw_input_contents: ${count} PyTorch cases ${group}, bit for bit`, !failure, failure);
  const subset = cases.filter((_, i) => i % 5 === 0);
  for (const [group, [count, failure]] of await runCases(c, subset, true))
    ok(`ModelInfer, typed ${group.startsWith("f32") ? "fp32_contents" : "fp64_contents"}: ${count} PyTorch cases ` +
       `${group}, bit for bit`, !failure, failure);
  // grad_slope: PyTorch's within 1e-12 above (its sum is ordered
  // differently); REST's for the same request, bit for bit, here
  let count = 0, failure = null;
  for (const [group, label, model, inputs, slope] of cases) {
    if (group !== "prelu leaky_relu_grad with grad_output") continue;
    count++;
    const r = await unary(c, "ModelInfer", inferRequest(model, inputs, { slope, outputs: ["grad_slope"] }));
    const j = await rest(httpPort, "POST", `/v2/models/${model}/infer`,
                         restBody(inputs, { slope, outputs: ["grad_slope"] }));
    const want = j.code === 200 ? pack(j.json.outputs[0].data, "FP64") : null;
    const got = r.err ? null : r.res.raw_output_contents;
    if (!failure && !(want && got && got.length === 1 && got[0].equals(want)))
      failure = `${label}: gRPC ${r.err ? status(r.err) : JSON.stringify(got.map((b) => unpack(b, "FP64")))}, ` +
                `REST ${j.code} ${JSON.stringify(j.json)}`;
  }
  ok(`ModelInfer grad_slope equals REST's bit for bit (${count} PReLU cases)`, count > 0 && !failure, failure);
}

// ---- parameters ------------------------------------------------------------------------

async function expect(c, name, req, want) {
  const r = await unary(c, "ModelInfer", req);
  const problem = r.err ? status(r.err) : outputsProblem(r.res, want);
  ok(name, !problem, problem);
  return r;
}

async function checkParameters(c) {
  const x = [1.5, -2.0, 0.0, -0.5, -3e-300, 7.0];
  const xin = [["x", "FP64", [6], x]];
  const lrelu = (s) => x.map((v) => (v > 0 ? v : v * s));
  await expect(c, "negative_slope int64_param 2: y = 2x for x <= 0", inferRequest("leaky_relu", xin, { slope: 2n }),
               [["y", "FP64", [6], pack(lrelu(2), "FP64")]]);
  await expect(c, "negative_slope double_param 0.25", inferRequest("leaky_relu", xin, { slope: 0.25 }),
               [["y", "FP64", [6], pack(lrelu(0.25), "FP64")]]);
  await expect(c, "negative_slope string_param \"0.5\"", inferRequest("leaky_relu", xin, { slope: "0.5" }),
               [["y", "FP64", [6], pack(lrelu(0.5), "FP64")]]);
  await expect(c, "negative_slope absent: the default 0.01 (FP64)", inferRequest("leaky_relu", xin),
               [["y", "FP64", [6], pack(lrelu(0.01), "FP64")]]);
  const x32 = [1.5, -2.0, -0.3, -1e-3, 3.0, -1e38].map(Math.fround);
  const s32 = (s) => x32.map((v) => (v > 0 ? v : Math.fround(v * Math.fround(s))));
  await expect(c, "negative_slope absent with FP32: the default 0.01 as float32, float32 products",
               inferRequest("leaky_relu", [["x", "FP32", [2, 3], x32]]), [["y", "FP32", [2, 3], pack(s32(0.01), "FP32")]]);
  await expect(c, "negative_slope double_param 0.1 with FP32: the slope rounded to float32 first",
               inferRequest("leaky_relu", [["x", "FP32", [6], x32]], { slope: 0.1 }),
               [["y", "FP32", [6], pack(s32(0.1), "FP32")]]);
  const mx = [["x", "FP64", [2, 2], [-1, 2, -3, 4]]], mg = [...mx, ["grad_output", "FP64", [2, 2], [1, 1, 2, 2]]];
  await expect(c, "negative_slope string_param \"[0.1, 0.2]\": a slope per channel (axis 1)",
               inferRequest("leaky_relu", mx, { slope: "[0.1, 0.2]" }),
               [["y", "FP64", [2, 2], pack([-1 * 0.1, 2, -3 * 0.1, 4], "FP64")]]);
  await expect(c, "leaky_relu_grad with \"[0.1, 0.2]\" and grad_output: grad and grad_slope",
               inferRequest("leaky_relu_grad", mg, { slope: "[0.1, 0.2]" }),
               [["grad", "FP64", [2, 2], pack([0.1, 1, 0.2, 2], "FP64")],
                ["grad_slope", "FP64", [2], pack([-7, 0], "FP64")]]);
  await expect(c, "outputs [grad_slope, grad]: in the order asked",
               inferRequest("leaky_relu_grad", mg, { slope: [0.1, 0.2], outputs: ["grad_slope", "grad"] }),
               [["grad_slope", "FP64", [2], pack([-7, 0], "FP64")],
                ["grad", "FP64", [2, 2], pack([0.1, 1, 0.2, 2], "FP64")]]);
  await expect(c, "infinities in, infinities out (-inf, inf, -1e308 * 10)",
               inferRequest("leaky_relu", [["x", "FP64", [3], [-Infinity, Infinity, -1e308]]], { slope: 10 }),
               [["y", "FP64", [3], pack([-Infinity, Infinity, -Infinity], "FP64")]]);
  await expect(c, "an empty tensor (shape [0]): an empty output",
               inferRequest("leaky_relu", [["x", "FP64", [0], []]]), [["y", "FP64", [0], Buffer.alloc(0)]]);
  const r = await unary(c, "ModelInfer", inferRequest("leaky_relu", [["x", "FP64", [1], [-1]]], { id: "req-42 \u00e9" }));
  ok("ModelInfer echoes the id; model_name leaky_relu, model_version \"1\"",
     !r.err && r.res.id === "req-42 \u00e9" && r.res.model_name === "leaky_relu" && r.res.model_version === "1",
     r.err ? status(r.err) : JSON.stringify([r.res.id, r.res.model_name, r.res.model_version]));
}

// ---- errors ---------------------------------------------------------------------------------

async function checkErrors(c, httpPort) {
  const { INVALID_ARGUMENT: INVALID, NOT_FOUND, UNIMPLEMENTED } = grpc.status;
  const x2 = ["x", "FP64", [2], [1, -2]];
  const rawReq = (model, inputs, raws) => ({
    model_name: model, raw_input_contents: raws,
    inputs: inputs.map(([name, datatype, shape]) => ({ name, datatype, shape })) });
  // [name, request, code, REST [path, body] whose error message must be the same]
  const cases = [
    ["datatype INT32", rawReq("leaky_relu", [["x", "INT32", [2]]], [Buffer.from([1, 0, 0, 0, 254, 255, 255, 255])]),
     INVALID],
    ["datatype \"\"", rawReq("leaky_relu", [["x", "", [1]]], [pack([1], "FP64")]), INVALID],
    ["raw_input_contents of 16 bytes for shape [3] FP64",
     rawReq("leaky_relu", [["x", "FP64", [3]]], [pack([1, 2], "FP64")]), INVALID],
    ["raw_input_contents of 7 bytes for shape [2] FP32",
     rawReq("leaky_relu", [["x", "FP32", [2]]], [Buffer.alloc(7)]), INVALID],
    ["shape [-1]", rawReq("leaky_relu", [["x", "FP64", [-1]]], [pack([1], "FP64")]), INVALID],
    ["typed fp64_contents of 2 numbers for shape [3]",
     inferRequest("leaky_relu", [["x", "FP64", [3], [1, 2]]], { typed: true }), INVALID],
    ["no inputs at all", { model_name: "leaky_relu" }, INVALID],
    ["unknown input name \"q\"", inferRequest("leaky_relu", [["q", "FP64", [2], [1, -2]]]), INVALID,
     ["/v2/models/leaky_relu/infer", restBody([["q", "FP64", [2], [1, -2]]])]],
    ["grad_output of another shape", inferRequest("leaky_relu_grad", [x2, ["grad_output", "FP64", [1], [1]]]), INVALID],
    ["negative_slope double_param NaN", inferRequest("leaky_relu", [x2], { slope: NaN }), INVALID],
    ["negative_slope string_param \"abc\"", inferRequest("leaky_relu", [x2], { slope: "abc" }), INVALID],
    ["3 slopes for x of 2 channels",
     inferRequest("leaky_relu", [["x", "FP64", [1, 2], [1, -2]]], { slope: "[1, 2, 3]" }), INVALID,
     ["/v2/models/leaky_relu/infer", restBody([["x", "FP64", [1, 2], [1, -2]]], { slope: [1, 2, 3] })]],
    ["unknown output \"grad\" of leaky_relu", inferRequest("leaky_relu", [x2], { outputs: ["grad"] }), INVALID,
     ["/v2/models/leaky_relu/infer", restBody([x2], { outputs: ["grad"] })]],
    ["grad_slope asked for with one slope", inferRequest("leaky_relu_grad", [x2], { outputs: ["grad_slope"] }), INVALID,
     ["/v2/models/leaky_relu_grad/infer", restBody([x2], { outputs: ["grad_slope"] })]],
    ["unknown model \"relu\"", inferRequest("relu", [x2]), NOT_FOUND, ["/v2/models/relu/infer", restBody([x2])]],
    ["model leaky_relu version \"2\"", inferRequest("leaky_relu", [x2], { version: "2" }), NOT_FOUND,
     ["/v2/models/leaky_relu/versions/2/infer", restBody([x2])]],
  ];
  for (const [name, req, code, restCase] of cases) {
    const r = await unary(c, "ModelInfer", req);
    let good = r.err?.code === code && r.err.details.length > 0;
    let detail = status(r.err);
    if (good && restCase) {
      const j = await rest(httpPort, "POST", restCase[0], restCase[1]);
      good = r.err.details === j.json?.error;
      detail += `\nREST's: ${JSON.stringify(j.json?.error)}`;
    }
    ok(`ModelInfer ${name}: ${codeName(code)}${restCase ? " with REST's message" : ", with details"}`, good, detail);
  }
  // a method the server has not: client.makeUnaryRequest on a made-up path
  for (const path of [`/${SERVICE}/RepositoryIndex`, "/no.such.Service/Call"]) {
    const err = await new Promise((resolve) =>
      c.makeUnaryRequest(path, (b) => b, (b) => b, Buffer.alloc(0), new grpc.Metadata(),
                         { deadline: Date.now() + TIMEOUT_MS }, (e) => resolve(e)));
    ok(`${path}: UNIMPLEMENTED, with details`, err?.code === UNIMPLEMENTED && err.details.length > 0, status(err));
  }
}

// ---- streaming ---------------------------------------------------------------------------------

async function checkStream(c) {
  const bad = { model_name: "leaky_relu", id: "c", inputs: [{ name: "x", datatype: "INT32", shape: [1] }],
                raw_input_contents: [Buffer.from([1, 0, 0, 0])] };
  const plan = [ // [request, want outputs, or null for an error]
    [inferRequest("leaky_relu", [["x", "FP64", [2], [1, -2]]], { slope: 0.5, id: "a" }),
     [["y", "FP64", [2], pack([1, -1], "FP64")]]],
    [inferRequest("leaky_relu_grad", [["x", "FP64", [2], [1, -2]]], { slope: 0.5, id: "b" }),
     [["grad", "FP64", [2], pack([1, 0.5], "FP64")]]],
    [bad, null],
    [inferRequest("leaky_relu", [["x", "FP32", [1], [-4]]], { id: "d" }),
     [["y", "FP32", [1], pack([Math.fround(-4 * Math.fround(0.01))], "FP32")]]],
    [inferRequest("leaky_relu_grad", [["x", "FP64", [2], [1, -2]], ["grad_output", "FP64", [2], [3, 4]]],
                  { slope: [0.25], id: "e" }),
     [["grad", "FP64", [2], pack([3, 1], "FP64")], ["grad_slope", "FP64", [1], pack([-8], "FP64")]]],
  ];
  const judge = (replies) => {
    if (replies.length !== plan.length) return `${replies.length} replies to ${plan.length} requests`;
    for (let i = 0; i < plan.length; i++) {
      const [req, want] = plan[i], reply = replies[i];
      if (reply.infer_response?.id !== req.id)
        return `reply ${JSON.stringify(reply.infer_response?.id)} where ${req.id} was due`;
      if (!want) {
        if (!reply.error_message) return `request ${req.id}: no error_message`;
      } else if (reply.error_message) {
        return `request ${req.id}: ${JSON.stringify(reply.error_message)}`;
      } else {
        const problem = outputsProblem(reply.infer_response, want);
        if (problem) return `request ${req.id}: ${problem}`;
      }
    }
    return "";
  };
  // all five written, then the end
  let problem = await new Promise((resolve) => {
    const replies = [];
    const call = c.ModelStreamInfer({ deadline: Date.now() + TIMEOUT_MS });
    call.on("data", (m) => replies.push(m));
    call.on("error", (e) => resolve(status(e)));
    call.on("end", () => resolve(judge(replies)));
    for (const [req] of plan) call.write(req);
    call.end();
  });
  ok("ModelStreamInfer: 5 requests a..e, 5 replies in order with their ids, c's an error_message", !problem, problem);
  // one at a time: each reply comes while the stream is open
  problem = await new Promise((resolve) => {
    const replies = [];
    const call = c.ModelStreamInfer({ deadline: Date.now() + TIMEOUT_MS });
    let ended = false;
    call.on("data", (m) => {
      replies.push(m);
      if (replies.length < plan.length) call.write(plan[replies.length][0]);
      else { ended = true; call.end(); }
    });
    call.on("error", (e) => resolve(status(e)));
    call.on("end", () => resolve(ended ? judge(replies) : `the stream ended after ${replies.length} replies`));
    call.write(plan[0][0]);
  });
  ok("ModelStreamInfer: each reply arrives before the next request is written", !problem, problem);
}

// ---- compression, deadlines, request ids -------------------------------------------------------

async function checkCompression(port) {
  const x = Array.from({ length: 20000 }, (_, i) => ((i % 97) - 48) * 0.25);
  const want = [["y", "FP64", [20000], pack(x.map((v) => (v > 0 ? v : v * 0.3)), "FP64")]];
  const req = inferRequest("leaky_relu", [["x", "FP64", [20000], x]], { slope: 0.3 });
  for (const [algorithm, name] of [[2, "gzip"], [1, "deflate"]]) {
    const c = client(Inference, port, { "grpc.default_compression_algorithm": algorithm });
    tap = [];
    const r = await unary(c, "ModelInfer", req);
    const rec = tap.find((t) => t.sent[":path"] === `/${SERVICE}/ModelInfer`);
    tap = null;
    let problem = r.err ? status(r.err) : outputsProblem(r.res, want);
    if (!problem && !(rec && rec.sent["grpc-encoding"] === name && rec.sentFlag === 1))
      problem = `sent uncompressed? ${JSON.stringify(rec && { encoding: rec.sent["grpc-encoding"], flag: rec.sentFlag })}`;
    ok(`ModelInfer compressed with ${name} (grpc.default_compression_algorithm ${algorithm}): the same bytes`,
       !problem, problem);
    ok(`  ... and the reply came back in ${name}: grpc-encoding ${name}, its message flagged compressed`,
       rec?.got?.["grpc-encoding"] === name && rec?.gotFlag === 1,
       JSON.stringify(rec && { encoding: rec.got?.["grpc-encoding"], flag: rec.gotFlag }));
  }
  // by hand, in raw HTTP/2: a gzip message the server must inflate
  const payload = inferMethod.requestSerialize(req);
  const r = await rawCall(port, `/${SERVICE}/ModelInfer`,
                          { headers: { "grpc-encoding": "gzip" }, body: frame(zlib.gzipSync(payload), true) });
  let problem = r.error ?? (r.code !== 0 ? `grpc-status ${r.code}: ${r.message}` : "");
  if (!problem) {
    const m = r.messages[0];
    const res = m && inferMethod.responseDeserialize(m.flag ? zlib.gunzipSync(m.payload) : m.payload);
    problem = !m ? "no message" : outputsProblem(res, want);
  }
  ok("raw HTTP/2: a gzip request (zlib.gzipSync, flag 1) is answered with the same bytes", !problem, problem);
  const unsupported = await rawCall(port, `/${SERVICE}/ModelInfer`,
                                    { headers: { "grpc-encoding": "br" }, body: frame(Buffer.from([0]), true) });
  ok("raw HTTP/2: grpc-encoding br: UNIMPLEMENTED, naming the codings it has",
     unsupported.code === grpc.status.UNIMPLEMENTED && /gzip/.test(unsupported.message),
     unsupported.error ?? `${unsupported.code}: ${unsupported.message}`);
}

async function checkDeadline(c, port) {
  const one = inferRequest("leaky_relu", [["x", "FP64", [1], [1]]]);
  let r = await unary(c, "ModelInfer", one, { deadline: Date.now() - 1000 });
  ok("a deadline already past: DEADLINE_EXCEEDED", r.err?.code === grpc.status.DEADLINE_EXCEEDED, status(r.err));
  const big = { model_name: "leaky_relu", inputs: [{ name: "x", datatype: "FP32", shape: [4000000] }],
                raw_input_contents: [Buffer.alloc(16000000)] };
  r = await unary(c, "ModelInfer", big, { deadline: Date.now() + 1 });
  ok("1 ms for a 16 MB request: DEADLINE_EXCEEDED", r.err?.code === grpc.status.DEADLINE_EXCEEDED, status(r.err));
  r = await unary(c, "ServerLive", {});
  ok("  ... and the server still answers on the same channel", !r.err && r.res.live, status(r.err));
  // the server's own deadline: grpc-timeout 1 ms, the message sent 100 ms later
  const raw = await rawCall(port, `/${SERVICE}/ModelInfer`, { headers: { "grpc-timeout": "1m" }, delay: 100,
                                                               body: frame(inferMethod.requestSerialize(one)) });
  ok("raw HTTP/2: grpc-timeout 1m and the message 100 ms late: the server's DEADLINE_EXCEEDED, with a message",
     raw.code === grpc.status.DEADLINE_EXCEEDED && raw.message.length > 0 && raw.messages.length === 0,
     raw.error ?? `grpc-status ${raw.code}: ${raw.message}; ${raw.messages.length} messages`);
  // ... and while the client is still sending: the deadline passes (the
  // server's tick, 250 ms) before the message comes at 1.5 s; the status
  // must still arrive, then a reset tells the client to stop sending.
  const late = await rawCall(port, `/${SERVICE}/ModelInfer`, { headers: { "grpc-timeout": "100m" },
                                                                delay: 1500, body: frame(inferMethod.requestSerialize(one)) });
  ok("raw HTTP/2: grpc-timeout 100m while the client still sends: the status DEADLINE_EXCEEDED arrives",
     late.code === grpc.status.DEADLINE_EXCEEDED && late.message.length > 0,
     late.error ?? `grpc-status ${late.code}: ${late.message}`);
}

async function checkRequestId(c) {
  const req = inferRequest("leaky_relu", [["x", "FP64", [1], [-1]]]);
  const md = new grpc.Metadata();
  md.set("x-request-id", "abc-123");
  let r = await unary(c, "ModelInfer", req, { metadata: md });
  ok("x-request-id abc-123 comes back in the initial metadata", !r.err && r.md?.get("x-request-id")[0] === "abc-123",
     r.err ? status(r.err) : JSON.stringify(r.md?.getMap()));
  r = await unary(c, "ModelInfer", req);
  const made = r.md?.get("x-request-id") ?? [];
  ok("without x-request-id, the server makes one", !r.err && made.length === 1 && made[0] !== "",
     r.err ? status(r.err) : JSON.stringify(r.md?.getMap()));
}

// ---- health, reflection --------------------------------------------------------------------------

async function checkHealth(port) {
  const h = client(Health, port);
  for (const service of ["", SERVICE]) {
    const r = await unary(h, "Check", { service });
    ok(`Health/Check "${service}": SERVING`, !r.err && (r.res.status === 1 || r.res.status === "SERVING"),
       r.err ? status(r.err) : JSON.stringify(r.res));
  }
  const r = await unary(h, "Check", { service: "no.such.Service" });
  ok("Health/Check an unknown service: NOT_FOUND", r.err?.code === grpc.status.NOT_FOUND, status(r.err));
}

// FileDescriptorSet bytes of serialized FileDescriptorProtos (its field 1).
function descriptorSet(files) {
  const parts = [];
  for (const f of files) {
    const len = [];
    for (let n = f.length; ; n >>>= 7) {
      if (n < 0x80) { len.push(n); break; }
      len.push((n & 0x7f) | 0x80);
    }
    parts.push(Buffer.from([0x0a, ...len]), f);
  }
  return Buffer.concat(parts);
}

async function checkReflection(port) {
  const rc = client(Reflection, port);
  const asks = [{ list_services: "" }, { file_containing_symbol: SERVICE }, { file_containing_symbol: "no.such.Symbol" }];
  const replies = await new Promise((resolve) => {
    const got = [];
    const call = rc.ServerReflectionInfo({ deadline: Date.now() + TIMEOUT_MS });
    call.on("data", (m) => got.push(m));
    call.on("error", (e) => resolve(status(e)));
    call.on("end", () => resolve(got));
    for (const a of asks) call.write(a);
    call.end();
  });
  if (!Array.isArray(replies) || replies.length !== asks.length) {
    ok("ServerReflectionInfo: one reply per request", false, Array.isArray(replies) ? `${replies.length} replies` : replies);
    return;
  }
  const [services, bySymbol, unknown] = replies;
  const names = services.list_services_response?.service.map((s) => s.name) ?? [];
  const want = [SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"];
  ok("reflection list_services (bidi stream): the inference, health and reflection services",
     services.message_response === "list_services_response" && want.every((n) => names.includes(n)), JSON.stringify(names));
  ok("reflection file_containing_symbol no.such.Symbol: error_code 5 (NOT_FOUND)",
     unknown.message_response === "error_response" && unknown.error_response.error_code === 5, JSON.stringify(unknown));
  // a call made as a generic tool makes it: from the served descriptors only
  try {
    const files = bySymbol.file_descriptor_response?.file_descriptor_proto ?? [];
    const served = grpc.loadPackageDefinition(
      protoLoader.loadFileDescriptorSetFromBuffer(descriptorSet(files), LOAD_OPTIONS));
    const methods = Object.keys(served.inference.GRPCInferenceService.service).sort();
    ok(`reflection file_containing_symbol ${SERVICE}: its 7 methods`,
       JSON.stringify(methods) === JSON.stringify(["ModelInfer", "ModelMetadata", "ModelReady", "ModelStreamInfer",
                                                   "ServerLive", "ServerMetadata", "ServerReady"]), JSON.stringify(methods));
    const dc = client(served.inference.GRPCInferenceService, port);
    // protobuf.js's Root.fromDescriptor (which proto-loader uses) keeps a
    // map field as what it is on the wire, repeated ParametersEntry {key,
    // value} messages, though the served descriptor marks it map_entry
    const req = inferRequest("leaky_relu", [["x", "FP64", [3], [-1, 0.5, -3]]], { id: "dynamic" });
    req.parameters = [{ key: "negative_slope", value: { double_param: 0.25 } }];
    const r = await unary(dc, "ModelInfer", req);
    const problem = r.err ? status(r.err) : r.res.id !== "dynamic" ? `id ${r.res.id}` :
      outputsProblem(r.res, [["y", "FP64", [3], pack([-0.25, 0.5, -0.75], "FP64")]]);
    ok("a ModelInfer with the messages built from reflection's descriptors only", !problem, problem);
  } catch (e) {
    ok("a ModelInfer with the messages built from reflection's descriptors only", false, e.stack);
  }
}

// ---- a 64 MB tensor --------------------------------------------------------------------------

async function checkLarge(c, count) {
  // a pattern of a prime period, so that no misplaced part can look right
  const period = 999983;
  const x = new Float32Array(count);
  for (let i = 0; i < count; i++) x[i] = ((i % period) - (period >> 1)) * 0.5;
  const want = new Float32Array(count);
  const s = Math.fround(0.01);
  for (let i = 0; i < count; i++) want[i] = x[i] > 0 ? x[i] : Math.fround(x[i] * s);
  const req = { model_name: "leaky_relu", id: "large", inputs: [{ name: "x", datatype: "FP32", shape: [count] }],
                raw_input_contents: [Buffer.from(x.buffer)] };
  const started = Date.now();
  const r = await unary(c, "ModelInfer", req);
  const took = (Date.now() - started) / 1000;
  const problem = r.err ? status(r.err) : outputsProblem(r.res, [["y", "FP32", [count], Buffer.from(want.buffer)]]);
  ok(`ModelInfer of ${count} FP32 elements (${(count * 4 / 1e6).toFixed(0)} MB), all compared bit for bit ` +
     `(${took.toFixed(1)} s)`,
     !problem, problem);
}

// ---- main -------------------------------------------------------------------------------------

const started = Date.now();
const server = await startServer(["--port", "0", "--grpc-port", "0", "--max-body", "80M", "--log", "off"]);
const listening = Boolean(server.http && server.grpc);
ok("the server starts and says where it listens (HTTP and gRPC)", listening, server.line || server.stderr());
if (!listening) {
  await stopServer(server);
  done();
}
const c = client(Inference, server.grpc);
try {
  await new Promise((resolve, reject) => c.waitForReady(Date.now() + TIMEOUT_MS, (e) => (e ? reject(e) : resolve())));
  await checkReady(c);
  await checkMetadata(c, server.http);
  await checkTorch(c, server.http);
  await checkParameters(c);
  await checkErrors(c, server.http);
  await checkStream(c);
  await checkCompression(server.grpc);
  await checkDeadline(c, server.grpc);
  await checkRequestId(c);
  await checkHealth(server.grpc);
  await checkReflection(server.grpc);
  await checkLarge(c, 16000000);
} catch (e) {
  ok("the checks ran to the end", false, e.stack);
} finally {
  for (const k of clients) k.close();
}
const exit = await stopServer(server);
ok(`SIGTERM: the server exits 0 (all checks took ${((Date.now() - started) / 1000).toFixed(1)} s)`,
   exit && exit.code === 0, `${JSON.stringify(exit)}\n${server.stderr()}`);
done();
