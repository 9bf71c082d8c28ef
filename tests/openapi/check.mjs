// `make test`: GET /openapi.json from the real server, validated as
// OpenAPI 3.1 by @seriousme/openapi-schema-validator; every path and
// method in it answered by the server (its reply checked against the
// document's schema); every route the server counts (its /metrics route
// labels) in it; every example in it valid against its schema, each request
// example sent to the server and answered as the response example of the
// same name says, and each GET's example what the server answers; and
// every curl example in README.md and docs/*.md that sends a JSON body
// checked against the request schema, and its reply against the reply's
// (with ajv, JSON Schema 2020-12). TAP output.
// Usage: node tests/openapi/check.mjs SERVER_BINARY
import { readFileSync, readdirSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { ok, done, startServer } from "../tap.mjs";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const server = process.argv[2];
const root = new URL("../../", import.meta.url).pathname;

const { child, base } = await startServer(server);

try {
  const res = await fetch(`${base}/openapi.json`);
  ok("GET /openapi.json is 200 JSON", res.status === 200 && res.headers.get("content-type") === "application/json");
  const doc = await res.json();
  ok("it is the committed src/openapi.json", JSON.stringify(doc) ===
     JSON.stringify(JSON.parse(readFileSync(root + "src/openapi.json", "utf8"))));

  const validator = new Validator();
  const verdict = await validator.validate(doc);
  ok(`a valid OpenAPI ${doc.openapi} document`, verdict.valid && doc.openapi.startsWith("3.1"),
     JSON.stringify(verdict.errors, null, 1));

  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const id = "https://leakyrelu.invalid/openapi.json";
  ajv.addSchema({ ...doc, $id: id });
  const pointer = (...keys) => keys.map((k) => String(k).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
  const schemaAt = (...keys) => ajv.getSchema(`${id}#/${pointer(...keys)}`);
  const check = (validate, value) => (validate(value) ? "" : ajv.errorsText(validate.errors));

  // Every operation answers as documented.
  const bodies = {
    "/forward": "[1, -2]",
    "/gradient": '{"x": [1, -2], "slope": [0.5]}',
    infer: '{"inputs": [{"name": "x", "shape": [2], "datatype": "FP64", "data": [1, -2]}]}',
  };
  const operations = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const model of template.includes("{model}") ? ["leaky_relu", "leaky_relu_grad"] : [null]) {
      const path = template.replace("{model}", model).replace("{version}", "1");
      for (const method of ["get", "post", "options"].filter((m) => item[m])) {
        operations.push(item[method].operationId);
        const body = method !== "post" ? undefined : bodies[template.endsWith("/infer") ? "infer" : template];
        const r = await fetch(base + path, { method: method.toUpperCase(), body,
                                             headers: body ? { "Content-Type": "application/json" } : {} });
        const want = method === "options" ? 204 : 200;
        let problem = r.status === want ? "" : `status ${r.status}: ${await r.text()}`;
        const media = item[method].responses[want].content?.["application/json"];
        if (!problem && media) {
          const validate = schemaAt("paths", template, method, "responses", String(want), "content",
                                    "application/json", "schema");
          problem = check(validate, await r.json());
        }
        ok(`${method.toUpperCase()} ${path} answers ${want} as documented`, !problem, problem);
      }
    }
  }

  // Every route the server counts is documented (its operationId is the
  // route's name, or the name and "_version").
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const routes = [...new Set([...metrics.matchAll(/route="([a-z0-9_]+)"/g)].map((m) => m[1]))]
    .filter((r) => r !== "none");
  ok(`the server's ${routes.length} routes are all documented`,
     routes.length >= 14 && routes.every((r) => operations.includes(r)),
     routes.filter((r) => !operations.includes(r)).join(", "));

  // The document's own examples: each valid against its schema; each
  // request example answered as the response example of the same name
  // (in whichever status has it) says; each GET's 200 example what the
  // server answers, but for the kernel /version names (this CPU's).
  // A response and the keys of where it is (it may be a $ref to components).
  const response = (keys, r) => (r.$ref ? [r.$ref.slice(2).split("/"), doc.components.responses[r.$ref.split("/").pop()]]
                                        : [keys, r]);
  const varies = { version: ["kernel"] };
  let docExamples = 0;
  for (const [template, item] of Object.entries(doc.paths)) {
    const path = template.replace("{model}", "leaky_relu").replace("{version}", "1");
    for (const method of ["get", "post"].filter((m) => item[m])) {
      const op = item[method];
      const responses = Object.entries(op.responses).map(([status, r]) =>
        [status, ...response(["paths", template, method, "responses", status], r)]);
      const media = [];
      for (const [type, m] of Object.entries(op.requestBody?.content ?? {}))
        media.push(["request", ["paths", template, method, "requestBody", "content", type], type, m]);
      for (const [status, keys, r] of responses)
        for (const [type, m] of Object.entries(r.content ?? {})) media.push([status, [...keys, "content", type], type, m]);
      for (const [where, keys, type, m] of media) {
        for (const [name, example] of Object.entries(m.examples ?? {})) {
          docExamples++;
          const problem = check(schemaAt(...keys, "schema"), example.value);
          ok(`${op.operationId} ${where} ${type} example "${name}" fits its schema`, !problem, problem);
        }
      }
      for (const type of ["application/json", "text/plain"]) {
        for (const [name, example] of Object.entries(op.requestBody?.content?.[type]?.examples ?? {})) {
          const answer = responses.find(([, , r]) => r.content?.["application/json"]?.examples?.[name]);
          if (!answer) {
            ok(`${op.operationId} request example "${name}" has a response example`, false);
            continue;
          }
          const [status, , r] = answer;
          const body = type === "text/plain" ? example.value : JSON.stringify(example.value);
          const res = await fetch(base + path, { method: "POST", body, headers: { "Content-Type": type } });
          const got = await res.json();
          const want = r.content["application/json"].examples[name].value;
          ok(`POST ${path} with example "${name}" (${type}) answers ${status} as the document says`,
             String(res.status) === status && isDeepStrictEqual(got, want),
             `${res.status} ${JSON.stringify(got)}\nwant ${status} ${JSON.stringify(want)}`);
        }
      }
      const example = op.responses["200"]?.content?.["application/json"]?.examples?.ok?.value;
      if (method === "get" && example) {
        const got = await (await fetch(base + path)).json();
        for (const key of varies[op.operationId] ?? []) got[key] = example[key];
        ok(`GET ${path} answers its example`, isDeepStrictEqual(got, example),
           `${JSON.stringify(got)}\nwant ${JSON.stringify(example)}`);
      }
    }
  }
  ok("the document has examples", docExamples >= 30, docExamples);

  // The curl examples with a JSON body in the README and the docs: the
  // request and the reply printed under it, against the operation's schemas.
  const pages = ["README.md", ...readdirSync(root + "docs").filter((f) => f.endsWith(".md")).map((f) => "docs/" + f)];
  let examples = 0;
  for (const page of pages) {
  const readme = readFileSync(root + page, "utf8").split("\n");
  for (let i = 0; i < readme.length; i++) {
    const m = readme[i].match(/^\$ curl .*?-d '([^']*)'.*?localhost:8080(\/[^ ?'"]*)/);
    // Not those whose output is not the reply's body: binary, compressed,
    // with the head, written to a file, or piped on.
    if (!m || /octet-stream|Content-Encoding|--compressed|-D -|-i |-o |\| /.test(readme[i])) continue;
    const [, body, path] = m;
    const template = Object.keys(doc.paths).find((t) =>
      new RegExp("^" + t.replace(/\{[a-z]+\}/g, "[^/]+") + "$").test(path));
    const reply = readme[i + 1];
    if (!template || !doc.paths[template].post) {
      ok(`${page} example ${path} names a documented operation`, false, readme[i]);
      continue;
    }
    examples++;
    let parsedBody, parsedReply;
    try { parsedBody = JSON.parse(body); } catch { parsedBody = undefined; }
    try { parsedReply = JSON.parse(reply); } catch { parsedReply = undefined; }
    const isError = parsedReply && typeof parsedReply === "object" && !Array.isArray(parsedReply) &&
                    "error" in parsedReply;
    let problem = parsedReply === undefined ? `the reply is not JSON: ${reply}` : "";
    if (!problem && !isError) { // a success: both sides must fit
      problem = parsedBody === undefined ? "the body is not JSON" :
        check(schemaAt("paths", template, "post", "requestBody", "content", "application/json", "schema"), parsedBody) ||
        check(schemaAt("paths", template, "post", "responses", "200", "content", "application/json", "schema"), parsedReply);
    } else if (!problem) {
      problem = check(schemaAt("components", "schemas", "Error"), parsedReply);
    }
    ok(`${page} line ${i + 1}: ${path} ${isError ? "error" : "example"} fits the schemas`, !problem,
       problem + "\n" + readme[i]);
  }
  }
  ok("the README and docs have JSON examples to check", examples >= 10, examples);
} finally {
  child.kill("SIGTERM");
}
done();
