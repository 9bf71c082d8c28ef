// What the Node.js checks share (tests/openapi, tests/browser): TAP lines,
// and the real server started on a free port.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

let n = 0, failed = 0;

// One TAP line; detail is printed under a failure.
export function ok(name, cond, detail) {
  n++;
  if (!cond) failed++;
  console.log(`${cond ? "ok" : "not ok"} ${n} - ${name}`);
  if (!cond && detail !== undefined) console.log(`#   ${String(detail).split("\n").join("\n#   ")}`);
}

// The plan line, and the exit status: 1 when a check failed.
export function done() {
  console.log(`1..${n}`);
  process.exit(failed ? 1 : 0);
}

// The server binary started with --port 0 --log off: { child, base } once
// it says where it listens.
export async function startServer(binary) {
  const child = spawn(binary, ["--port", "0", "--log", "off"], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise((resolve) => createInterface({ input: child.stdout }).once("line", resolve));
  return { child, base: line.match(/listening on (http:\/\/\S+)/)[1] };
}
