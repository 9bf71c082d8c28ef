// The deployment files against the Kubernetes schemas and against the
// binary: every manifest in docker/k8s validates (kubernetes-models, the
// OpenAPI schemas of Kubernetes, offline); the pods meet the restricted
// Pod Security Standard; selectors, named ports and the shutdown timings
// agree; and every port, probe path, flag and environment variable that
// docker/k8s, docker/compose.yaml, docker/nginx.conf and the Dockerfile
// name is one the server accepts (it is started with them and asked).
// Usage: node tests/k8s/check.mjs path/to/leakyrelu-server   (prints TAP)
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as http2 from "node:http2";
import { readFileSync, readdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseAllDocuments, parse } from "yaml";
import * as apps from "kubernetes-models/apps/v1";
import * as core from "kubernetes-models/v1";
import * as autoscaling from "kubernetes-models/autoscaling/v2";
import * as policy from "kubernetes-models/policy/v1";
import * as networking from "kubernetes-models/networking.k8s.io/v1";

const server = process.argv[2] || "build/leakyrelu-server";
const root = new URL("../../", import.meta.url).pathname;
let n = 0, failed = 0;
function ok(name, got, want) {
  n++;
  const pass = JSON.stringify(got) === JSON.stringify(want);
  console.log(`${pass ? "ok" : "not ok"} ${n} - ${name}`);
  if (!pass) {
    failed++;
    console.log(`#   want: ${JSON.stringify(want)}\n#   got:  ${JSON.stringify(got)}`);
  }
}

// --- The manifests, validated against the schemas ---------------------
const models = {
  "apps/v1/Deployment": apps.Deployment,
  "v1/Service": core.Service,
  "v1/ServiceAccount": core.ServiceAccount,
  "autoscaling/v2/HorizontalPodAutoscaler": autoscaling.HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": policy.PodDisruptionBudget,
  "networking.k8s.io/v1/NetworkPolicy": networking.NetworkPolicy,
};
const dir = root + "docker/k8s/";
const kustomization = parse(readFileSync(dir + "kustomization.yaml", "utf8"));
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
ok("kustomization.yaml lists every manifest", [...kustomization.resources].sort(), files.sort());
const objects = {};
for (const f of files) {
  for (const doc of parseAllDocuments(readFileSync(dir + f, "utf8"))) {
    const obj = doc.toJS();
    const key = `${obj.apiVersion}/${obj.kind}`;
    let error = "no schema for " + key;
    if (models[key]) {
      try {
        new models[key](obj).validate();
        error = "";
      } catch (e) {
        error = String(e.message || e);
      }
    }
    ok(`${f}: ${obj.kind} ${obj.metadata?.name} is valid`, error, "");
    objects[obj.kind] = obj;
  }
}
const dep = objects.Deployment, pod = dep.spec.template.spec, ctr = pod.containers[0];
const podLabels = dep.spec.template.metadata.labels;
const env = Object.fromEntries((ctr.env || []).map((e) => [e.name, e.value]));

// --- Restricted Pod Security Standard and good practice ----------------
const sc = ctr.securityContext, psc = pod.securityContext;
ok("runAsNonRoot", psc.runAsNonRoot && sc.runAsNonRoot, true);
ok("runs as the image's uid 10001", psc.runAsUser, 10001);
ok("readOnlyRootFilesystem", sc.readOnlyRootFilesystem, true);
ok("allowPrivilegeEscalation false", sc.allowPrivilegeEscalation, false);
ok("capabilities drop ALL", sc.capabilities.drop, ["ALL"]);
ok("seccompProfile RuntimeDefault", [psc.seccompProfile.type, sc.seccompProfile.type],
   ["RuntimeDefault", "RuntimeDefault"]);
ok("no service account token", [objects.ServiceAccount.automountServiceAccountToken,
   pod.automountServiceAccountToken, pod.serviceAccountName],
   [false, false, objects.ServiceAccount.metadata.name]);
ok("requests and limits set", ["cpu", "memory"].map((r) =>
   Boolean(ctr.resources.requests[r] && ctr.resources.limits[r])), [true, true]);
ok("LEAKYRELU_THREADS matches the CPU limit", env.LEAKYRELU_THREADS, String(ctr.resources.limits.cpu));
ok("probes: startup /livez, liveness gRPC health, readiness /readyz, each with a timeout",
   [pod.containers[0].startupProbe?.httpGet?.path, ctr.livenessProbe.grpc ? "/livez" : "none",
    ctr.readinessProbe.httpGet.path,
    [ctr.startupProbe, ctr.livenessProbe, ctr.readinessProbe].every((p) => p.timeoutSeconds > 0 && p.failureThreshold > 0)],
   ["/livez", "/livez", "/readyz", true]);
ok("every object has app.kubernetes.io/name", Object.values(objects).every(
   (o) => o.metadata.labels?.["app.kubernetes.io/name"] === "leakyrelu"), true);
const matches = (sel) => Object.entries(sel).every(([k, v]) => podLabels[k] === v);
ok("selectors select the pods (Deployment, Service, PDB, NetworkPolicy, spread)",
   [dep.spec.selector.matchLabels, objects.Service.spec.selector,
    objects.PodDisruptionBudget.spec.selector.matchLabels,
    objects.NetworkPolicy.spec.podSelector.matchLabels,
    ...pod.topologySpreadConstraints.map((t) => t.labelSelector.matchLabels)].every(matches), true);
ok("spread across nodes", pod.topologySpreadConstraints.some(
   (t) => t.topologyKey === "kubernetes.io/hostname"), true);
const portNames = Object.fromEntries(ctr.ports.map((p) => [p.name, p.containerPort]));
ok("the Service targets named container ports (HTTP, gRPC)",
   objects.Service.spec.ports.map((p) => portNames[p.targetPort]), [portNames.http, portNames.grpc]);
ok("the Service says its gRPC port is HTTP/2 cleartext",
   objects.Service.spec.ports.find((p) => p.name === "grpc")?.appProtocol, "kubernetes.io/h2c");
ok("the NetworkPolicy admits only those ports",
   objects.NetworkPolicy.spec.ingress.flatMap((r) => r.ports.map((p) => portNames[p.port] ?? p.port)),
   [portNames.http, portNames.grpc]);
ok("the HTTP probes use the named HTTP port, the gRPC probe the gRPC port",
   [[ctr.startupProbe, ctr.readinessProbe].every((p) => portNames[p.httpGet.port] === portNames.http),
    ctr.livenessProbe.grpc.port], [true, portNames.grpc]);
ok("the HPA scales the Deployment on CPU",
   [objects.HorizontalPodAutoscaler.spec.scaleTargetRef.name,
    objects.HorizontalPodAutoscaler.spec.metrics[0].resource.name,
    objects.HorizontalPodAutoscaler.spec.minReplicas >= objects.PodDisruptionBudget.spec.minAvailable + 1],
   [dep.metadata.name, "cpu", true]);
const ann = dep.spec.template.metadata.annotations;
ok("scrape annotations name the container port", Number(ann["prometheus.io/port"]), ctr.ports[0].containerPort);
ok("the container port is LEAKYRELU_PORT", String(ctr.ports[0].containerPort), env.LEAKYRELU_PORT);
ok("the gRPC container port is LEAKYRELU_GRPC_PORT", String(portNames.grpc), env.LEAKYRELU_GRPC_PORT);
const preStop = ctr.lifecycle.preStop.exec.command;
const sleep = preStop[0].endsWith("sleep") ? Number(preStop[1]) : NaN;
ok("terminationGracePeriodSeconds > preStop sleep + LEAKYRELU_GRACE",
   [sleep > 0, pod.terminationGracePeriodSeconds > sleep + Number(env.LEAKYRELU_GRACE)], [true, true]);

// --- The compose file, nginx and the Dockerfile -------------------------
const compose = parse(readFileSync(root + "docker/compose.yaml", "utf8"));
const svc = compose.services.leakyrelu, lb = compose.services.lb;
const dockerfile = readFileSync(root + "Dockerfile", "utf8").replace(/\\\n/g, " ");
const imageEnv = {};
for (const m of dockerfile.matchAll(/^ENV (.*)$/gm))
  for (const kv of m[1].trim().split(/\s+/)) imageEnv[kv.split("=")[0]] = kv.split("=")[1];
const composeEnv = { ...imageEnv, ...svc.environment };
const seconds = (s) => Number(String(s).replace(/s$/, ""));
ok("compose: stop_grace_period > LEAKYRELU_GRACE", seconds(svc.stop_grace_period) > Number(composeEnv.LEAKYRELU_GRACE), true);
ok("Dockerfile: LEAKYRELU_GRACE < docker stop's 10 s", Number(imageEnv.LEAKYRELU_GRACE) < 10, true);
ok("Dockerfile: EXPOSE is LEAKYRELU_PORT and LEAKYRELU_GRPC_PORT",
   dockerfile.match(/^EXPOSE (.*)$/m)[1].trim().split(/\s+/),
   [imageEnv.LEAKYRELU_PORT, imageEnv.LEAKYRELU_GRPC_PORT]);
ok("compose: three replicas, each with a healthcheck", [svc.deploy.replicas, svc.healthcheck.test.length > 1], [3, true]);
const nginx = readFileSync(root + "docker/nginx.conf", "utf8");
ok("nginx: the upstream is the replicas' port", nginx.match(/server leakyrelu:(\d+)/)[1], composeEnv.LEAKYRELU_PORT);
ok("nginx: listens on the port compose publishes", nginx.match(/listen (\d+);/)[1],
   String(lb.ports[0]).split(":").pop());
ok("nginx: the gRPC upstream is the replicas' gRPC port, published by compose",
   [nginx.match(/upstream leakyrelu_grpc \{\s*server leakyrelu:(\d+)/)?.[1],
    lb.ports.some((p) => String(p).endsWith(":" + (nginx.match(/listen (\d+) http2;/)?.[1])))],
   [composeEnv.LEAKYRELU_GRPC_PORT, true]);
ok("nginx: passive health checks and retries on connection errors",
   [/max_fails=\d+/.test(nginx), /proxy_next_upstream error timeout/.test(nginx)], [true, true]);

// --- What the binary accepts --------------------------------------------
const help = execFileSync(server, ["--help"], { encoding: "utf8" });
const allEnv = [["docker/k8s", env], ["docker/compose.yaml", composeEnv], ["Dockerfile", imageEnv]];
for (const [where, e] of allEnv) {
  const unknown = Object.keys(e).filter((k) => k.startsWith("LEAKYRELU_") && !help.includes(k));
  ok(`${where}: every LEAKYRELU_ variable is one the server documents`, unknown, []);
  // The server reads the environment before it reads --help: a bad value exits 2.
  const r = spawnSync(server, ["--help"], { env: { ...e }, encoding: "utf8" });
  ok(`${where}: the server accepts every value`, [r.status, r.stderr.trim()], [0, ""]);
}
const flags = [svc.healthcheck.test.slice(2), dockerfile.match(/HEALTHCHECK.*CMD \[(.*)\]/)[1]
  .split(",").slice(1).map((s) => JSON.parse(s.trim()))].flat().filter((a) => a.startsWith("--"));
ok("healthcheck flags are the server's", flags.filter((f) => !help.includes(f)), []);

// Start the server with the Deployment's environment (on a free port) and
// ask it for every path the manifests name.
const paths = [ctr.startupProbe, ctr.livenessProbe, ctr.readinessProbe].filter((p) => p.httpGet)
  .map((p) => p.httpGet.path)
  .concat([ann["prometheus.io/path"]]);
const child = spawn(server, [], {
  env: { ...env, LEAKYRELU_PORT: "0", LEAKYRELU_GRPC_PORT: "0", LEAKYRELU_BIND: "127.0.0.1",
         LEAKYRELU_LOG: "off" },
  stdio: ["ignore", "pipe", "inherit"],
});
const line = await new Promise((resolve) => {
  const rl = createInterface({ input: child.stdout });
  rl.once("line", resolve);
  child.once("exit", () => resolve(""));
});
const port = (line.match(/http:\/\/[^ ]*:(\d+)/) || [])[1];
const grpcPort = (line.match(/grpc:\/\/[^ ]*:(\d+)/) || [])[1];
ok("the server starts with the Deployment's environment, gRPC on", [Boolean(port), Boolean(grpcPort)],
   [true, true]);
for (const p of port ? paths : []) {
  const r = await fetch(`http://127.0.0.1:${port}${p}`);
  ok(`GET ${p} answers 200`, r.status, 200);
}
// The liveness probe as the kubelet makes it: grpc.health.v1.Health/Check
// with an empty request ("" service), over HTTP/2 cleartext; SERVING is
// the message 08 01, with grpc-status 0.
if (grpcPort) {
  const reply = await new Promise((resolve) => {
    const session = http2.connect(`http://127.0.0.1:${grpcPort}`);
    session.on("error", (e) => resolve({ error: String(e) }));
    const req = session.request({ ":method": "POST", ":path": "/grpc.health.v1.Health/Check",
                                  "content-type": "application/grpc", te: "trailers" });
    const chunks = [];
    let status;
    req.on("data", (c) => chunks.push(c));
    req.on("trailers", (t) => { status = t["grpc-status"]; });
    req.on("end", () => { session.close(); resolve({ status, body: Buffer.concat(chunks).toString("hex") }); });
    req.end(Buffer.alloc(5));
  });
  ok("the liveness probe's gRPC health check answers SERVING", reply,
     { status: "0", body: "000000000208" + "01" });
}
child.kill("SIGTERM");
const code = await new Promise((resolve) => child.once("exit", (c) => resolve(c)));
ok("and stops with exit 0 on SIGTERM", code, 0);
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
