// `make test`: the playground (GET /) driven in Debian's headless Chromium
// through playwright-core (pinned in package-lock.json) against the real
// server, by keyboard only: the slider moved and the plot redrawn, arrays
// typed and the service's numbers shown, float32 switched, bad JSON and a
// bad slope shown as the service words them, the curl command run and
// compared, the copy button; nothing loaded from elsewhere and no console
// error; a phone-width layout with no sideways scrolling. Screenshots
// (desktop, phone) go to OUTDIR. TAP output. The browser: $CHROMIUM, else
// /usr/bin/chromium or /usr/bin/chromium-browser.
// Usage: node tests/browser/check.mjs SERVER_BINARY OUTDIR
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { ok, done, startServer } from "../tap.mjs";
import { chromium } from "playwright-core";

const [server, outdir = "build"] = process.argv.slice(2);
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const { child, base } = await startServer(server);
mkdirSync(outdir, { recursive: true });
for (const shot of ["desktop", "phone"]) rmSync(`${outdir}/playground-${shot}.png`, { force: true });

// What the service itself answers, to compare the page with.
async function service(path, query, body) {
  const r = await fetch(`${base}/${path}?${query}`, { method: "POST", body });
  const text = await r.text();
  return r.ok ? text : JSON.parse(text).error;
}

// Everything the page does is watched: requests beyond the service, and
// console errors (a Content-Security-Policy violation is one).
function watch(page, problems) {
  page.on("request", (req) => {
    const url = req.url();
    if (!url.startsWith(base + "/") && !url.startsWith("blob:") && !url.startsWith("data:"))
      problems.push(`request to ${url}`);
  });
  // (the 400s and 422s asked for below are logged by Chromium too: not problems)
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/status of (400|422) /.test(msg.text()))
      problems.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
}

const plotLoaded = (page) => page.waitForFunction(() => {
  const img = document.getElementById("plot");
  return img.dataset.query && img.complete && img.naturalWidth > 0;
});

// Tab until the element with this id (or matching this selector) has the focus.
async function tabTo(page, target, limit = 40) {
  for (let i = 0; i < limit; i++) {
    const here = await page.evaluate((t) => {
      const el = document.activeElement;
      return el && (el.id === t || el.matches(t));
    }, target);
    if (here) return true;
    await page.keyboard.press("Tab");
  }
  return false;
}

async function typeInto(page, id, text) {
  const reached = await tabTo(page, `#${id}`);
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.type(text);
  return reached;
}

const textOf = (page, id) => page.evaluate((i) => document.getElementById(i).textContent, id);
async function waitText(page, id, want) {
  try {
    await page.waitForFunction(([i, w]) => document.getElementById(i).textContent === w, [id, want],
                               { timeout: 5000 });
    return true;
  } catch { return false; }
}

// Debian's chromium (Ubuntu's chromium-browser), or $CHROMIUM.
const executablePath = process.env.CHROMIUM ||
  ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p)) || "/usr/bin/chromium";
const browser = await chromium.launch({ executablePath, args: FLAGS });
try {
  // Desktop.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = await context.newPage();
  const problems = [];
  watch(page, problems);
  const res = await page.goto(base + "/");
  ok("GET / is a page", res.status() === 200 && res.headers()["content-type"] === "text/html; charset=utf-8");
  await plotLoaded(page);
  ok("the plot is drawn on arrival", true);
  const about = await textOf(page, "about");
  ok("three sentences explain the function",
     (about.match(/[.)]\s/g) || []).length + 1 >= 3 && /f\(x\) = x if x > 0, else a·x/.test(about), about);
  const docs = await page.evaluate(async () => {
    const a = document.querySelector('a[href="openapi.json"]');
    return a ? (await fetch(a.href)).status : 0;
  });
  ok("it links /openapi.json, which answers", docs === 200, docs);

  // Every control is reached with Tab, in order.
  await page.keyboard.press("Tab");
  const order = [];
  for (let i = 0; i < 30; i++) {
    order.push(await page.evaluate(() => {
      const el = document.activeElement;
      return el.id || (el.name ? `${el.name}=${el.value}` : el.getAttribute("href")) || el.tagName;
    }));
    await page.keyboard.press("Tab");
  }
  const wanted = ["openapi.json", "slope-range", "slope", "what=both", "dtype=float64", "xmin", "xmax",
                  "x", "run", "copy"];
  ok("the keyboard reaches every control", wanted.every((w) => order.includes(w)), order.join(" "));

  // The slider, by keyboard: the plot is redrawn for the new slope.
  const before = await page.evaluate(() => document.getElementById("plot").dataset.query);
  const svgBefore = await page.evaluate(async () => (await fetch(document.getElementById("plot").dataset.query)).text());
  ok("Tab reaches the slider", await tabTo(page, "#slope-range"));
  for (let i = 0; i < 5; i++) await page.keyboard.press("ArrowRight");
  await page.waitForFunction(() => /slope=0\.15&/.test(document.getElementById("plot").dataset.query));
  await plotLoaded(page);
  const after = await page.evaluate(() => document.getElementById("plot").dataset.query);
  const svgAfter = await page.evaluate(async () => (await fetch(document.getElementById("plot").dataset.query)).text());
  ok("moving the slider redraws the plot", before !== after && svgAfter !== svgBefore &&
     svgAfter.includes("<title>Leaky ReLU, a = 0.15, float64</title>"), `${before} -> ${after}`);
  ok("the slope field follows the slider", await page.inputValue("#slope") === "0.15");
  const start = await page.inputValue("#x");
  ok("the results follow the slope",
     await waitText(page, "forward-out", await service("forward", "slope=0.15&dtype=float64", start)),
     await textOf(page, "forward-out"));

  // An array typed in (nested), computed with Ctrl+Enter.
  const x = "[[0.1, -0.1], [-3, 4]]";
  ok("Tab reaches the array box", await typeInto(page, "x", x));
  await page.keyboard.press("Control+Enter");
  const want64 = await service("forward", "slope=0.15&dtype=float64", x);
  const grad64 = await service("gradient", "slope=0.15&dtype=float64", x);
  ok("the forward result is the service's", await waitText(page, "forward-out", want64),
     `${await textOf(page, "forward-out")} != ${want64}`);
  ok("the gradient result is the service's", await waitText(page, "gradient-out", grad64),
     `${await textOf(page, "gradient-out")} != ${grad64}`);

  // float32, by keyboard: the radio group's arrow keys.
  ok("Tab reaches the dtype switch", await tabTo(page, 'input[name="dtype"][value="float64"]'));
  await page.keyboard.press("ArrowRight");
  const want32 = await service("forward", "slope=0.15&dtype=float32", x);
  ok("float32 gives float32's numbers", want32 !== want64 && await waitText(page, "forward-out", want32),
     `${await textOf(page, "forward-out")} (float64 ${want64}, float32 ${want32})`);
  await page.waitForFunction(() => /dtype=float32/.test(document.getElementById("plot").dataset.query));
  await plotLoaded(page);
  ok("and the plot is redrawn in float32", (await page.evaluate(async () =>
    (await fetch(document.getElementById("plot").dataset.query)).text())).includes("a = 0.15, float32"));

  // The curl command, run: it prints what the page shows.
  const commands = (await textOf(page, "curl")).split("\n");
  const ran = commands.map((c) => execFileSync("bash", ["-c", c], { encoding: "utf8" }));
  ok("the curl commands print what the page shows",
     ran[0] === await textOf(page, "forward-out") && ran[1] === await textOf(page, "gradient-out"),
     `${commands.join("\n")}\n-> ${ran.join(" | ")}`);
  ok("Tab reaches the copy button", await tabTo(page, "#copy"));
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.getElementById("copy-status").textContent !== "");
  const clip = await page.evaluate(() => navigator.clipboard.readText().catch(() => ""));
  ok("the copy button copies the commands", clip === commands.join("\n"), clip);

  // Bad JSON: the service's own words.
  const bad = "[1, 2";
  ok("Tab reaches the array box again", await typeInto(page, "x", bad));
  await page.keyboard.press("Control+Enter");
  const why = await service("forward", "slope=0.15&dtype=float32", bad);
  ok("bad JSON shows the service's error", await waitText(page, "forward-out", why) &&
     await page.evaluate(() => document.getElementById("forward-out").classList.contains("error")) &&
     /invalid_json/.test(await textOf(page, "forward-status")),
     `${await textOf(page, "forward-out")} / ${await textOf(page, "forward-status")} (want ${why})`);

  // A bad slope: the plot's error, as the service words it.
  ok("Tab reaches the slope field", await typeInto(page, "slope", "abc"));
  await page.waitForFunction(() => !document.getElementById("plot-error").hidden);
  const plotWhy = await textOf(page, "plot-error");
  ok("a bad slope shows the plot's error", /slope/.test(plotWhy) && /invalid_slope/.test(plotWhy), plotWhy);
  await typeInto(page, "slope", "0.1, 0.3");
  await typeInto(page, "x", "[[-1, 2], [-3, 4]]");
  await page.keyboard.press("Control+Enter");
  await page.waitForFunction(() => document.getElementById("plot-error").hidden &&
                             /slope=0\.1,0\.3&/.test(document.getElementById("plot").dataset.query));
  await plotLoaded(page);
  ok("a list of slopes draws one curve each (PReLU)", (await page.evaluate(async () =>
    (await fetch(document.getElementById("plot").dataset.query)).text())).includes("a = 0.1, 0.3 (PReLU)"));
  await waitText(page, "gradient-out", await service("gradient", "slope=0.1,0.3&dtype=float32", "[[-1, 2], [-3, 4]]"));
  await page.screenshot({ path: `${outdir}/playground-desktop.png`, fullPage: true });
  ok(`nothing loaded from elsewhere, no console errors`, problems.length === 0, problems.join("\n"));
  await context.close();

  // A phone: the layout fits its width, the panels one above the other.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2,
                                           isMobile: true, hasTouch: true });
  const small = await phone.newPage();
  const phoneProblems = [];
  watch(small, phoneProblems);
  await small.goto(base + "/");
  await plotLoaded(small);
  await waitText(small, "forward-out", await service("forward", "slope=0.1&dtype=float64", start));
  const fit = await small.evaluate(() => ({ page: document.documentElement.scrollWidth, view: innerWidth,
    query: document.getElementById("plot").dataset.query }));
  const [, w, h] = fit.query.match(/width=(\d+)&height=(\d+)/) || [];
  ok("a phone needs no sideways scrolling", fit.page <= fit.view, JSON.stringify(fit));
  ok("a phone gets a narrow plot, panels stacked", Number(w) <= 390 && Number(h) > Number(w), fit.query);
  await small.screenshot({ path: `${outdir}/playground-phone.png`, fullPage: true });
  ok("phone: nothing loaded from elsewhere, no console errors", phoneProblems.length === 0, phoneProblems.join("\n"));
  await phone.close();
} catch (err) {
  ok("the page is driven to the end", false, err.stack);
} finally {
  await browser.close();
  child.kill("SIGTERM");
}
for (const shot of ["desktop", "phone"]) {
  const path = `${outdir}/playground-${shot}.png`;
  const head = existsSync(path) ? readFileSync(path).subarray(0, 8).toString("hex") : "";
  ok(`the ${shot} screenshot is saved: ${path}`, head === "89504e470d0a1a0a", head);
}
done();
