/**
 * devnet/processes.ts: the supervisor logs each child to `<logDir>/<name>.log`, waits for health with
 * errors that name the log and quote its last lines, reports crashes, and stops children in reverse
 * order (SIGTERM, then SIGKILL after the grace period).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { freePort } from "../../devnet/ports.js";
import { type ExitInfo, type ManagedProcess, ProcessError, Supervisor, lastLinesOf } from "../../devnet/processes.js";
import { at } from "../../testing/defined.js";
import { rejection } from "../../testing/rejection.js";

const node = process.execPath;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A Node.js child running `code`. */
function script(code: string): [string, string[]] {
  return [node, ["-e", code]];
}

/** A child that serves `path` with `status` on `port` and logs SIGTERM to `stopLog` before exiting. */
function server(port: number, status: number, name: string, stopLog: string): [string, string[]] {
  return script(`
    const http = require("node:http");
    const fs = require("node:fs");
    http.createServer((req, res) => {
      if (req.method === "POST") {
        let body = ""; req.on("data", (d) => (body += d));
        req.on("end", () => res.end(JSON.stringify({ jsonrpc: "2.0", id: JSON.parse(body).id, result: "0x1141" })));
        return;
      }
      res.writeHead(req.url === "/healthz" ? ${status} : 404).end("{}");
    }).listen(${port}, "127.0.0.1", () => console.log("listening on ${port}"));
    process.on("SIGTERM", () => { fs.appendFileSync(${JSON.stringify(stopLog)}, "${name}\\n"); process.exit(0); });
  `);
}

describe("devnet: process supervisor", function () {
  this.timeout(30_000);

  let dir: string;
  let supervisor: Supervisor;
  let crashes: Array<{ name: string; exit: ExitInfo }>;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "devnet-supervisor-test-"));
    crashes = [];
    supervisor = new Supervisor({
      logDir: path.join(dir, "logs"),
      graceMs: 1000,
      onUnexpectedExit: (p: ManagedProcess, exit) => crashes.push({ name: p.name, exit }),
    });
  });

  afterEach(async () => {
    await supervisor.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes a child's stdout and stderr to <logDir>/<name>.log and echoes lines to onLine", async () => {
    const lines: string[] = [];
    const echoing = new Supervisor({
      logDir: path.join(dir, "echo"),
      onLine: (name, line) => lines.push(`${name}:${line}`),
    });
    const [cmd, args] = script(`console.log("hello out"); console.error("hello err"); setTimeout(() => {}, 60000);`);
    const p = echoing.spawn("talker", cmd, args, { env: process.env });
    expect(p.logFile).to.equal(path.join(dir, "echo", "talker.log"));
    for (let i = 0; i < 100 && lines.length < 2; i++) await sleep(50);
    expect(lines).to.have.members(["talker:hello out", "talker:hello err"]);
    await echoing.stopAll();
    const log = readFileSync(p.logFile, "utf8");
    expect(log).to.include("hello out").and.include("hello err").and.include(`${cmd} -e`);
    expect(p.running()).to.equal(false);
  });

  it("waits until /healthz answers 200 and a JSON-RPC endpoint answers with the expected chain id", async () => {
    const port = await freePort();
    const [cmd, args] = server(port, 200, "srv", path.join(dir, "stops"));
    const p = supervisor.spawn("srv", cmd, args, { env: process.env });
    await supervisor.waitHealthy(p, { kind: "http", url: `http://127.0.0.1:${port}/healthz` }, 10_000);
    await supervisor.waitHealthy(p, { kind: "json-rpc", url: `http://127.0.0.1:${port}`, chainId: 4417n }, 10_000);
    const error = await rejection(
      supervisor.waitHealthy(p, { kind: "json-rpc", url: `http://127.0.0.1:${port}`, chainId: 1n }, 500),
    );
    expect(error).to.be.instanceOf(ProcessError);
    expect(error.message).to.include("srv did not become ready within 0.5 s");
  });

  it("a child that exits before it is healthy: the error names the exit code, the log file and its last lines", async () => {
    const port = await freePort();
    const [cmd, args] = script(
      `console.log("starting up"); console.error("fatal: cannot open the database"); process.exit(3);`,
    );
    const p = supervisor.spawn("broken", cmd, args, { env: process.env });
    const error = await rejection(
      supervisor.waitHealthy(p, { kind: "http", url: `http://127.0.0.1:${port}/healthz` }, 10_000),
    );
    expect(error).to.be.instanceOf(ProcessError);
    const e = error as ProcessError;
    expect(e.processName).to.equal("broken");
    expect(e.logFile).to.equal(path.join(dir, "logs", "broken.log"));
    expect(e.message).to.include("broken exited with code 3 before it became ready");
    expect(e.message).to.include(`log: ${e.logFile}`);
    expect(e.message).to.include("| fatal: cannot open the database");
    expect(e.lastLines).to.deep.equal(["starting up", "fatal: cannot open the database"]);
    // It died by itself: a crash for the supervisor.
    expect(crashes).to.deep.equal([{ name: "broken", exit: { code: 3, signal: null } }]);
  });

  it("a child that stays up but never becomes healthy: timeout error with the log, and stopAll kills it", async () => {
    const port = await freePort();
    const [cmd, args] = server(port, 503, "sick", path.join(dir, "stops"));
    const p = supervisor.spawn("sick", cmd, args, { env: process.env });
    const error = await rejection(
      supervisor.waitHealthy(p, { kind: "http", url: `http://127.0.0.1:${port}/healthz` }, 1500),
    );
    expect(error).to.be.instanceOf(ProcessError);
    expect(error.message).to.include(
      `sick did not become ready within 1.5 s: no HTTP 200 from http://127.0.0.1:${port}/healthz`,
    );
    expect(error.message).to.include(path.join(dir, "logs", "sick.log"));
    expect(error.message).to.include(`| listening on ${port}`);
    expect(p.running()).to.equal(true);
    await supervisor.stopAll();
    expect(p.running()).to.equal(false);
    expect(crashes).to.deep.equal([]);
  });

  it("a command that cannot be started at all is reported as such", async () => {
    const p = supervisor.spawn("ghost", path.join(dir, "no-such-binary"), [], { env: process.env });
    const error = await rejection(
      supervisor.waitHealthy(p, { kind: "probe", what: "anything", probe: async () => true }, 5000),
    );
    expect(error).to.be.instanceOf(ProcessError);
    expect(error.message).to.include("ghost could not be started");
    expect(error.message).to.include("ENOENT");
  });

  it("stopAll stops the children in reverse start order with SIGTERM", async () => {
    const stopLog = path.join(dir, "stops");
    const started: ManagedProcess[] = [];
    for (const name of ["first", "second", "third"]) {
      const port = await freePort();
      const [cmd, args] = server(port, 200, name, stopLog);
      const p = supervisor.spawn(name, cmd, args, { env: process.env });
      await supervisor.waitHealthy(p, { kind: "http", url: `http://127.0.0.1:${port}/healthz` }, 10_000);
      started.push(p);
    }
    const stopping: string[] = [];
    const results = await supervisor.stopAll((name) => stopping.push(name));
    expect(stopping).to.deep.equal(["third", "second", "first"]);
    expect(readFileSync(stopLog, "utf8").trim().split("\n")).to.deep.equal(["third", "second", "first"]);
    expect(results.map((r) => [r.name, r.exit.code, r.killed])).to.deep.equal([
      ["third", 0, false],
      ["second", 0, false],
      ["first", 0, false],
    ]);
    for (const p of started) expect(p.running()).to.equal(false);
    expect(crashes).to.deep.equal([]);
    // Nothing can be started once stopping.
    expect(() => supervisor.spawn("late", node, ["-e", ""], { env: process.env })).to.throw("the devnet is stopping");
  });

  it("stopAll during a start: the running command is stopped first, then the children; run() rejects", async () => {
    const port = await freePort();
    const [srv, srvArgs] = server(port, 200, "l1", path.join(dir, "stops"));
    const l1 = supervisor.spawn("l1", srv, srvArgs, { env: process.env });
    await supervisor.waitHealthy(l1, { kind: "http", url: `http://127.0.0.1:${port}/healthz` }, 10_000);
    const [cmd, args] = script(`console.log("deploying"); setInterval(() => {}, 1000);`);
    const deploying = rejection(supervisor.run("deploy", cmd, args, { env: process.env }));
    for (let i = 0; i < 100 && !lastLinesOf(supervisor.logFileOf("deploy")).includes("deploying"); i++) await sleep(50);
    const order: string[] = [];
    const results = await supervisor.stopAll((name) => order.push(name));
    expect(order).to.deep.equal(["deploy", "l1"]);
    expect(results.every((r) => !r.killed)).to.equal(true);
    expect((await deploying).message).to.include("deploy was stopped: the devnet is stopping");
    expect(crashes).to.deep.equal([]);
  });

  it("a child that ignores SIGTERM is killed with SIGKILL after the grace period", async () => {
    const [cmd, args] = script(
      `process.on("SIGTERM", () => console.log("ignoring SIGTERM")); console.log("up"); setInterval(() => {}, 1000);`,
    );
    const p = supervisor.spawn("stubborn", cmd, args, { env: process.env });
    for (let i = 0; i < 100 && !lastLinesOf(p.logFile).includes("up"); i++) await sleep(50);
    const started = Date.now();
    const result = at(await supervisor.stopAll(), 0, "stopped process");
    expect(result).to.deep.include({ name: "stubborn", killed: true });
    expect(result.exit.signal).to.equal("SIGKILL");
    expect(Date.now() - started).to.be.within(900, 5000);
    expect(readFileSync(p.logFile, "utf8")).to.include("ignoring SIGTERM");
  });

  it("run(): resolves for exit code 0, rejects naming the log and its tail otherwise", async () => {
    const [ok, okArgs] = script(`console.log("all good")`);
    await supervisor.run("ok-step", ok, okArgs, { env: process.env });
    expect(readFileSync(path.join(dir, "logs", "ok-step.log"), "utf8")).to.include("all good");

    const [bad, badArgs] = script(`console.error("Error: deployment reverted: NotAdmin"); process.exit(1)`);
    const error = await rejection(supervisor.run("deploy", bad, badArgs, { env: process.env }));
    expect(error).to.be.instanceOf(ProcessError);
    expect(error.message).to.include("deploy failed: it exited with code 1");
    expect(error.message).to.include(path.join(dir, "logs", "deploy.log"));
    expect(error.message).to.include("| Error: deployment reverted: NotAdmin");
    // run() commands are not crashes.
    expect(crashes).to.deep.equal([]);
  });

  it("run(): a command over its time limit is stopped and reported", async () => {
    const [cmd, args] = script(`console.log("thinking"); setInterval(() => {}, 1000);`);
    const error = await rejection(supervisor.run("slow", cmd, args, { env: process.env, timeoutMs: 700 }));
    expect(error).to.be.instanceOf(ProcessError);
    expect(error.message).to.include("slow did not finish within 0.7 s (stopped)");
    expect(existsSync(path.join(dir, "logs", "slow.log"))).to.equal(true);
  });
});
