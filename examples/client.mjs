// A leakyrelu client in Node.js (18 or later) with its built-in fetch:
// JSON, float32, PReLU, binary bodies, and the Open Inference Protocol.
// Usage: node examples/client.mjs [http://127.0.0.1:8080]
const base = process.argv[2] ?? "http://127.0.0.1:8080";

async function post(path, body, headers = { "Content-Type": "application/json" }) {
  let res;
  try {
    res = await fetch(base + path, { method: "POST", body, headers });
  } catch (err) { // fetch throws only when no reply came at all
    console.error(`cannot reach the service at ${base}: is it running? start it with \`make run\``);
    process.exit(1);
  }
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res;
}
const postJson = async (path, obj) => (await post(path, JSON.stringify(obj))).json();

console.log("forward:", JSON.stringify(await postJson("/forward", { x: [[1, -2], [3, -4]], slope: 0.1 })));

// float32: Math.fround(v) of each number printed gives the float32 back
const f32 = await postJson("/forward", { x: [0.1, -0.1], dtype: "float32" });
console.log("float32:", JSON.stringify(f32), f32.y.map(Math.fround));

// PReLU: one slope per channel (axis 1), and the gradient of each
console.log("prelu:", JSON.stringify(await postJson("/gradient", {
  x: [[1, -2], [-3, 4]], slope: [0.25, 0.5] })));

// Binary: little-endian float64 (a Float64Array on every common machine)
const x = new Float64Array([1, -2, Infinity, -Infinity]);
const res = await post("/forward?slope=0.5&shape=2,2", x, { "Content-Type": "application/octet-stream" });
const y = new Float64Array(await res.arrayBuffer());
console.log("binary:", Array.from(y), "shape", res.headers.get("Tensor-Shape"));

// The Open Inference Protocol, JSON
const infer = await postJson("/v2/models/leaky_relu_grad/infer", {
  parameters: { negative_slope: 0.2 },
  inputs: [{ name: "x", shape: [3], datatype: "FP64", data: [-1, 0, 1] },
           { name: "grad_output", shape: [3], datatype: "FP64", data: [10, 10, 10] }] });
console.log("infer:", JSON.stringify(infer.outputs[0].data));
