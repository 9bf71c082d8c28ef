// A leakyrelu client over gRPC in Node.js (18 or later): the Open Inference
// Protocol's ModelInfer with a small FP32 tensor sent as raw little-endian
// bytes and a negative_slope, then ModelStreamInfer with two requests on
// one stream. The messages come from proto/inference.proto, loaded when it
// starts (no generated code).
//
// It needs @grpc/grpc-js and @grpc/proto-loader. In this repository they are
// those pinned by tests/grpc_node/package-lock.json, installed by
//   npm ci --prefix tests/grpc_node
// and found from tests/grpc_node/ below. In a project of your own,
// `npm install @grpc/grpc-js @grpc/proto-loader` and import them as usual.
//
// Usage: node examples/grpc_client.mjs [HOST:PORT]
//        (default localhost:8001, the gRPC port of `make run`)
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(new URL("../tests/grpc_node/package.json", import.meta.url));
let grpc, protoLoader;
try {
  grpc = require("@grpc/grpc-js");
  protoLoader = require("@grpc/proto-loader");
} catch (err) {
  console.error(`${err.message.split("\n")[0]}: run \`npm ci --prefix tests/grpc_node\` first`);
  process.exit(1);
}

const target = process.argv[2] ?? "localhost:8001";
const definition = protoLoader.loadSync("inference.proto", {
  includeDirs: [fileURLToPath(new URL("../proto/", import.meta.url))],
  keepCase: true, longs: String, defaults: true, oneofs: true,
});
const { GRPCInferenceService } = grpc.loadPackageDefinition(definition).inference;
const client = new GRPCInferenceService(target, grpc.credentials.createInsecure());

// raw_input_contents and raw_output_contents hold little-endian numbers, a
// typed array's own layout on every common machine. A reply's Buffer may
// start at any offset of a larger one: copied first, it is aligned.
const bytes = (typed) => Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
const numbers = (tensor, raw) => Array.from(
  tensor.datatype === "FP32" ? new Float32Array(new Uint8Array(raw).buffer)
                             : new Float64Array(new Uint8Array(raw).buffer));

function show(what, reply) {
  reply.outputs.forEach((tensor, i) => {
    console.log(`${what} ${reply.id}: ${tensor.name} = ${JSON.stringify(numbers(tensor, reply.raw_output_contents[i]))} ` +
                `(${tensor.datatype}, shape [${tensor.shape.join(", ")}])`);
  });
}

// ModelInfer: y = x where x > 0, else negative_slope * x, in float32. The
// slope is a double_param here; an int64_param, or a string_param with a
// number or a JSON list of one slope per channel ("[0.1, 0.2]"), work too.
const reply = await new Promise((resolve) => {
  client.ModelInfer({
    model_name: "leaky_relu", id: "example",
    parameters: { negative_slope: { double_param: 0.25 } },
    inputs: [{ name: "x", datatype: "FP32", shape: [3] }],
    raw_input_contents: [bytes(new Float32Array([-1, 0.5, 2]))],
  }, { deadline: Date.now() + 10000 }, (err, res) => {
    if (!err) return resolve(res);
    // errors are status codes: INVALID_ARGUMENT (a bad request), NOT_FOUND
    // (an unknown model), UNAVAILABLE (no server), with a message
    if (err.code === grpc.status.UNAVAILABLE)
      console.error(`cannot reach the gRPC service at ${target}: is it running? start it with \`make run\``);
    else
      console.error(`ModelInfer: ${grpc.status[err.code]}: ${err.details}`);
    process.exit(1);
  });
});
show("ModelInfer", reply);

// ModelStreamInfer: requests and replies on one stream, one reply per
// request, in order. A request that fails does not end the stream: its
// reply has an error_message instead.
const stream = client.ModelStreamInfer({ deadline: Date.now() + 10000 });
const ended = new Promise((resolve, reject) => {
  stream.on("data", (r) => {
    if (r.error_message) console.log(`ModelStreamInfer ${r.infer_response.id}: error: ${r.error_message}`);
    else show("ModelStreamInfer", r.infer_response);
  });
  stream.on("end", resolve);
  stream.on("error", reject);
});
stream.write({
  model_name: "leaky_relu", id: "first",
  parameters: { negative_slope: { double_param: 0.5 } },
  inputs: [{ name: "x", datatype: "FP64", shape: [2] }],
  raw_input_contents: [bytes(new Float64Array([-4, 4]))],
});
// the gradient, times grad_output (the chain rule's upstream gradient)
stream.write({
  model_name: "leaky_relu_grad", id: "second",
  parameters: { negative_slope: { double_param: 0.25 } },
  inputs: [{ name: "x", datatype: "FP64", shape: [2] }, { name: "grad_output", datatype: "FP64", shape: [2] }],
  raw_input_contents: [bytes(new Float64Array([-1, 2])), bytes(new Float64Array([3, 3]))],
});
stream.end();
await ended;
client.close();
