// The README's first command, checked as a newcomer runs it: `npm run devnet` in this checkout (CI: a
// fresh clone, before any lint or compile), until it prints that the devnet is up; then every
// process's /healthz and the L1, L2 and gateway JSON-RPC must answer; then SIGINT (Ctrl-C) to the
// whole process group, and every process must be gone. Bounded in time; exit code 1 on any failure.
//
//   node scripts/check-devnet.mjs      (npm run check:devnet)
//
// Settings: CHECK_DEVNET_START_S (default 420: a fresh clone compiles first), CHECK_DEVNET_STOP_S
// (default 60); the devnet's own settings (L1_PORT, L2_RPC_PORT, GATEWAY_PORT, REDIS_URL, …) pass through.
import { spawn } from "node:child_process";
import { connect } from "node:net";

const startSeconds = Number(process.env.CHECK_DEVNET_START_S ?? 420);
const stopSeconds = Number(process.env.CHECK_DEVNET_STOP_S ?? 60);
const say = (line) => process.stdout.write(`check-devnet: ${line}\n`);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether any process of group `pgid` is still alive. */
function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}

/** Whether something accepts TCP connections at `url`'s host and port. */
function listening(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setTimeout(1000);
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
  });
}

async function rpc(url, method) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: [] }),
    signal: AbortSignal.timeout(5000),
  });
  const body = await res.json();
  if (body.result === undefined) throw new Error(`${method} at ${url}: ${JSON.stringify(body.error ?? body)}`);
  return body.result;
}

const output = [];
let upAt;
const started = Date.now();
say(`npm run devnet (up within ${startSeconds} s, stopped within ${stopSeconds} s)`);
const child = spawn("npm", ["run", "devnet"], { detached: true, stdio: ["ignore", "pipe", "pipe"], env: process.env });
const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
let exitInfo;
void exited.then((info) => (exitInfo = info));
for (const stream of [child.stdout, child.stderr]) {
  stream.setEncoding("utf8");
  let partial = "";
  stream.on("data", (chunk) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      output.push(line);
      if (line.startsWith("[")) say(`  ${line}`);
      if (line.includes("Veilnet devnet is up.")) upAt ??= Date.now();
    }
  });
}

const failures = [];
async function finish() {
  if (failures.length > 0) {
    say("last lines of the devnet's output:");
    for (const line of output.slice(-40)) process.stdout.write(`  | ${line}\n`);
    for (const f of failures) say(`FAILED: ${f}`);
    if (groupAlive(child.pid)) process.kill(-child.pid, "SIGKILL");
    process.exit(1);
  }
  say(`passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.exit(0);
}

while (upAt === undefined && exitInfo === undefined && Date.now() - started < startSeconds * 1000) await sleep(250);
if (upAt === undefined) {
  failures.push(
    exitInfo === undefined
      ? `the devnet did not say "Veilnet devnet is up." within ${startSeconds} s`
      : `npm run devnet exited (code ${exitInfo.code}, signal ${exitInfo.signal}) before it was up`,
  );
  await finish();
}
say(`up after ${((upAt - started) / 1000).toFixed(0)} s`);
await sleep(1500); // the summary lines after "is up" (URLs, health) are printed right after it

// URLs from the summary: "L1 JSON-RPC  http://…", "L2 JSON-RPC  http://…", "Wallets  http://…/",
// and the "Health" block: one "<name> http://…/healthz" per process.
const find = (prefix) => output.find((l) => l.startsWith(prefix))?.match(/https?:\/\/\S+/)?.[0];
const l1 = find("L1 JSON-RPC");
const l2 = find("L2 JSON-RPC");
const wallets = find("Wallets");
const health = output
  .map((l) => l.match(/^(?:Health)?\s+(\S+) (http:\/\/\S+\/healthz)$/))
  .filter((m) => m !== null)
  .map((m) => ({ name: m[1], url: m[2] }));
if (l1 === undefined || l2 === undefined || wallets === undefined)
  failures.push("the summary lacks the L1, L2 or wallets URL");
if (health.length < 3)
  failures.push(`expected a /healthz for the workers, the sequencer and the gateway, found ${health.length}`);
for (const { name, url } of health) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) failures.push(`${name} ${url} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    else say(`  ${name} ${url}: 200`);
  } catch (e) {
    failures.push(`${name} ${url}: ${e.message}`);
  }
}
for (const [name, url, method] of [
  ["L1", l1, "eth_chainId"],
  ["L2", l2, "eth_chainId"],
  ["gateway", wallets === undefined ? undefined : new URL("/v1/", wallets).href, "eth_chainId"],
]) {
  if (url === undefined) continue;
  try {
    say(`  ${name} ${method}: ${await rpc(url, method)}`);
  } catch (e) {
    // The gateway wants a token for JSON-RPC; an answer naming that still shows it is up.
    if (name === "gateway" && /token/i.test(e.message)) say(`  gateway answers (${e.message.slice(0, 80)})`);
    else failures.push(`${name}: ${e.message}`);
  }
}

say("SIGINT to the devnet's process group (as Ctrl-C does)");
process.kill(-child.pid, "SIGINT");
const stopBy = Date.now() + stopSeconds * 1000;
while ((exitInfo === undefined || groupAlive(child.pid)) && Date.now() < stopBy) await sleep(250);
if (exitInfo === undefined) failures.push(`npm run devnet still running ${stopSeconds} s after SIGINT`);
else if (exitInfo.code !== 0 && exitInfo.signal !== "SIGINT")
  failures.push(`npm run devnet exited with code ${exitInfo.code} after SIGINT`);
if (groupAlive(child.pid)) failures.push(`processes of the devnet are still alive ${stopSeconds} s after SIGINT`);
for (const [name, url] of [["L1", l1], ["L2", l2], ["gateway", wallets], ...health.map((h) => [h.name, h.url])]) {
  if (url !== undefined && (await listening(url))) failures.push(`${name} still listens at ${url} after the stop`);
}
if (failures.length === 0) say("every process exited and no port is left open");
await finish();
