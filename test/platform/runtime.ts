/**
 * The worker runtime, through the `veilnet` CLI run as a child process: configuration errors, Redis
 * and L1 unreachable at start, /healthz and /metrics, losing Redis or the L1 while running, and
 * graceful shutdown. Services are stand-ins (testing/dummy-services.ts, via TESTING_WORKER_REGISTRY);
 * the L1 is a fake JSON-RPC endpoint the test can take down.
 */
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { hexlify, randomBytes } from "ethers";

import {
  type FakeL1,
  type VeilnetProcess,
  deleteKeys,
  deploymentsDir,
  dummyRegistry,
  fakeDeployment,
  getHealth,
  opsPort,
  spawnVeilnet,
  startFakeL1,
  startRedisServer,
  waitFor,
} from "../../testing/worker-process.js";
import { at, defined } from "../../testing/defined.js";
import { freePort } from "../../testing/l1-node.js";

const REDIS_URL = "redis://127.0.0.1:6379";
const CHAIN_ID = 1_337_001;

describe("workers runtime (veilnet CLI)", function () {
  this.timeout(60_000);

  const prefix = `t-runtime-${hexlify(randomBytes(4)).slice(2)}`;
  let fakeL1: FakeL1;
  let depDir: string;
  const tmpFiles: string[] = [];
  const running: VeilnetProcess[] = [];

  before(async () => {
    fakeL1 = await startFakeL1(CHAIN_ID);
    depDir = deploymentsDir(fakeDeployment(CHAIN_ID));
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") for (const p of running) console.log(p.describe());
    await Promise.all(running.splice(0).map((p) => p.kill()));
    fakeL1.up = true;
  });

  after(async () => {
    await fakeL1.close();
    rmSync(depDir, { recursive: true, force: true });
    for (const f of tmpFiles) rmSync(f, { force: true });
    await deleteKeys(REDIS_URL, prefix);
  });

  /** Environment of a runtime that can start: fake L1, its deployment, shared Redis, any free port. */
  const env = (extra: Record<string, string | undefined> = {}) => ({
    L1_RPC_URL: fakeL1.url,
    REDIS_URL,
    VEILNET_DEPLOYMENTS_DIR: depDir,
    QUEUE_PREFIX: prefix,
    METRICS_PORT: "0",
    METRICS_HOST: "127.0.0.1",
    TESTING_WORKER_REGISTRY: dummyRegistry,
    ...extra,
  });

  const run = (args: string[], e: Record<string, string | undefined>) => {
    const p = spawnVeilnet(args, e);
    running.push(p);
    return p;
  };

  const tmpFile = (name: string, content: string) => {
    const file = path.join(tmpdir(), `veilnet-${hexlify(randomBytes(4)).slice(2)}-${name}`);
    writeFileSync(file, content);
    tmpFiles.push(file);
    return file;
  };

  /** Runs the CLI to its end and returns exit code and the lines of stderr. */
  const runToEnd = async (args: string[], e: Record<string, string | undefined>) => {
    const p = run(args, e);
    const { code } = await p.waitForExit(30_000);
    return { code, lines: p.stderr().trim().split("\n"), stdout: p.stdout() };
  };

  describe("configuration errors: one line naming the field, exit code 2", () => {
    it("L1_RPC_URL missing", async () => {
      const { code, lines } = await runToEnd(["worker", "event-subscriber"], { REDIS_URL });
      expect(code).to.equal(2);
      expect(lines).to.deep.equal(["config: L1_RPC_URL: Required"]);
    });

    it("METRICS_PORT out of range", async () => {
      const { code, lines } = await runToEnd(["worker", "event-subscriber"], {
        L1_RPC_URL: "http://127.0.0.1:8545",
        METRICS_PORT: "70000",
      });
      expect(code).to.equal(2);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^config: METRICS_PORT: /);
    });

    it("every bad field in one line", async () => {
      const { code, lines } = await runToEnd(["worker", "event-subscriber"], {
        L1_RPC_URL: "ftp://example.com",
        JOB_ATTEMPTS: "zero",
      });
      expect(code).to.equal(2);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.contain("L1_RPC_URL: must start with http://");
      expect(lines[0]).to.contain("JOB_ATTEMPTS: Expected number");
    });

    it("a config file that is not JSON", async () => {
      const file = tmpFile("bad.json", "{ not json");
      const { code, lines } = await runToEnd(["worker", "event-subscriber", "--config", file], {});
      expect(code).to.equal(2);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(new RegExp(`^config: file ${file} is not valid: `));
    });

    it("a config file (VEILNET_CONFIG) with a bad field", async () => {
      const file = tmpFile("bad-field.json", JSON.stringify({ L1_RPC_URL: "http://127.0.0.1:1", QUEUE_PREFIX: "a:b" }));
      const { code, lines } = await runToEnd(["worker", "event-subscriber"], { VEILNET_CONFIG: file });
      expect(code).to.equal(2);
      expect(lines).to.deep.equal(["config: QUEUE_PREFIX: letters, digits, _ and - only"]);
    });

    it("a config file that does not exist", async () => {
      const { code, lines } = await runToEnd(["workers", "--config", "/nonexistent/veilnet.json"], {});
      expect(code).to.equal(2);
      expect(lines).to.deep.equal(["config: file /nonexistent/veilnet.json does not exist"]);
    });

    it("an unknown worker name lists the valid ones", async () => {
      const { code, lines } = await runToEnd(["worker", "event-subscribr"], {});
      expect(code).to.equal(2);
      expect(lines).to.deep.equal([
        'error: unknown worker "event-subscribr": valid workers are event-subscriber, secret-responder, withdrawal-processor',
      ]);
    });

    it("an unknown queue lists the valid ones", async () => {
      const { code, lines } = await runToEnd(["redrive", "rollup"], { REDIS_URL });
      expect(code).to.equal(2);
      expect(lines[0]).to.equal(
        'error: unknown queue "rollup": valid queues are secret-requests, rollups, withdrawals',
      );
    });
  });

  describe("unreachable dependencies at start: one clear line, exit code 1", () => {
    it("Redis unreachable", async () => {
      const port = await freePort();
      const { code, lines } = await runToEnd(["worker", "dummy"], env({ REDIS_URL: `redis://127.0.0.1:${port}` }));
      expect(code).to.equal(1);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(new RegExp(`^Redis is unreachable at redis://127.0.0.1:${port}: `));
    });

    it("Redis unreachable for the queue commands", async () => {
      const port = await freePort();
      const { code, lines } = await runToEnd(["dead-letters", "rollups"], { REDIS_URL: `redis://127.0.0.1:${port}` });
      expect(code).to.equal(1);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(new RegExp(`^Redis is unreachable at redis://127.0.0.1:${port}: `));
    });

    it("L1 RPC unreachable", async () => {
      const port = await freePort();
      const { code, lines } = await runToEnd(["worker", "dummy"], env({ L1_RPC_URL: `http://127.0.0.1:${port}` }));
      expect(code).to.equal(1);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(new RegExp(`^L1 RPC is unreachable at http://127.0.0.1:${port}/: `));
    });

    it("no deployment for the chain", async () => {
      const empty = deploymentsDir();
      try {
        const { code, lines } = await runToEnd(["worker", "dummy"], env({ VEILNET_DEPLOYMENTS_DIR: empty }));
        expect(code).to.equal(1);
        expect(lines).to.have.length(1);
        expect(lines[0]).to.equal(
          `No Veilnet deployment for chain ${CHAIN_ID}: ${path.join(empty, `${CHAIN_ID}.json`)} does not exist. ` +
            "Deploy first with `npx hardhat deploy --network <network>`.",
        );
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
    });

    it("a service that fails to start: the ones already started are stopped", async () => {
      const registry = tmpFile(
        "registry.mts",
        `import { workers as all } from ${JSON.stringify(dummyRegistry)};\n` +
          `export const workers = { dummy: all.dummy, "failing-start": all["failing-start"] };\n`,
      );
      const p = run(["workers"], env({ TESTING_WORKER_REGISTRY: registry }));
      const { code } = await p.waitForExit(30_000);
      expect(code).to.equal(1);
      expect(p.stderr()).to.equal("worker failing-start failed to start: the dummy refuses to start\n");
      const msgs = p.logs().map((l) => l.msg);
      expect(msgs.indexOf("dummy: started")).to.be.greaterThan(-1);
      expect(msgs.indexOf("dummy: stopped")).to.be.greaterThan(msgs.indexOf("dummy: started"));
    });
  });

  describe("running", () => {
    it("takes its settings from the --config file, the environment winning over it", async () => {
      const file = tmpFile(
        "settings.json",
        JSON.stringify({
          L1_RPC_URL: fakeL1.url,
          VEILNET_DEPLOYMENTS_DIR: depDir,
          QUEUE_PREFIX: prefix,
          METRICS_PORT: 70000, // invalid, but the environment overrides it
          METRICS_HOST: "127.0.0.1",
          TESTING_WORKER_REGISTRY: dummyRegistry,
        }),
      );
      const p = run(["worker", "dummy", "--config", file], {
        METRICS_PORT: "0",
        TESTING_WORKER_REGISTRY: dummyRegistry,
      });
      const port = await opsPort(p);
      expect((await getHealth(port)).status).to.equal(200);
      const connected = p.logs().find((l) => l.msg === "runtime: connected");
      expect(connected?.chainId).to.equal(CHAIN_ID);
    });

    it("answers /healthz and /metrics", async () => {
      const p = run(["worker", "dummy"], env());
      const port = await opsPort(p);
      const health = await getHealth(port);
      expect(health.status).to.equal(200);
      expect(health.body.status).to.equal("ok");
      expect(health.body.services).to.deep.equal({ dummy: { ok: true } });
      expect(health.body.dependencies.redis).to.deep.equal({ ok: true });
      const l1 = defined(health.body.dependencies.l1, "the l1 dependency in /healthz");
      expect(l1.ok).to.equal(true);
      expect(l1.detail).to.match(/^block \d+$/);

      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).to.equal(200);
      expect(res.headers.get("content-type")).to.contain("text/plain");
      const text = await res.text();
      expect(text).to.contain("# TYPE process_cpu_user_seconds_total counter");
      expect(text).to.match(/^veilnet_dummy_starts_total 1$/m);
      expect(text).to.match(/^veilnet_health\{kind="service",name="dummy"\} 1$/m);
      expect(text).to.match(/^veilnet_health\{kind="dependency",name="redis"\} 1$/m);

      expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).to.equal(404);
    });

    it("answers 503 while a service is unhealthy, and 200 again once it recovers", async () => {
      const flag = tmpFile("unhealthy", "");
      const p = run(["worker", "dummy"], env({ DUMMY_UNHEALTHY_FILE: flag }));
      const port = await opsPort(p);
      const down = await getHealth(port);
      expect(down.status).to.equal(503);
      expect(down.body.status).to.equal("unhealthy");
      expect(down.body.services.dummy).to.deep.equal({ ok: false, detail: "unhealthy file present" });
      rmSync(flag);
      const up = await getHealth(port);
      expect(up.status).to.equal(200);
      expect(up.body.services.dummy).to.deep.equal({ ok: true });
    });

    it("survives losing the L1: 503 while it is down, 200 once it is back", async () => {
      const p = run(["worker", "dummy"], env());
      const port = await opsPort(p);
      expect((await getHealth(port)).status).to.equal(200);
      fakeL1.up = false;
      const down = await getHealth(port);
      expect(down.status).to.equal(503);
      expect(defined(down.body.dependencies.l1, "the l1 dependency in /healthz").ok).to.equal(false);
      expect(defined(down.body.services.dummy, "the dummy service in /healthz").ok).to.equal(true);
      fakeL1.up = true;
      expect((await getHealth(port)).status).to.equal(200);
      expect(p.child.exitCode).to.equal(null);
    });

    it("survives a Redis restart: 503 while it is down, 200 once it is back", async () => {
      const redis = await startRedisServer();
      try {
        const p = run(["worker", "dummy"], env({ REDIS_URL: redis.url }));
        const port = await opsPort(p);
        expect((await getHealth(port)).status).to.equal(200);
        await redis.stop();
        const down = await waitFor("503 while Redis is down", async () => {
          const h = await getHealth(port);
          return h.status === 503 ? h : undefined;
        });
        expect(defined(down.body.dependencies.redis, "the redis dependency in /healthz").ok).to.equal(false);
        await p.waitForLog("redis: connection lost");
        await redis.start();
        await waitFor("200 once Redis is back", async () => (await getHealth(port)).status === 200);
        await p.waitForLog("redis: reconnected");
        expect(p.child.exitCode).to.equal(null);
      } finally {
        await redis.destroy();
      }
    });
  });

  describe("shutdown", () => {
    it("SIGTERM: stops the services (awaiting stop()) and exits 0", async () => {
      const p = run(["worker", "dummy"], env({ DUMMY_STOP_MS: "500" }));
      const port = await opsPort(p);
      await p.waitForLog("runtime: service started");
      p.child.kill("SIGTERM");
      const { code, ms } = await p.waitForExit(10_000);
      expect(code).to.equal(0);
      expect(ms).to.be.lessThan(10_000);
      const msgs = p.logs().map((l) => l.msg);
      const order = ["runtime: shutting down", "dummy: stopped", "runtime: service stopped", "runtime: stopped"];
      const positions = order.map((m) => msgs.indexOf(m));
      expect(
        positions.every((i, k) => i >= 0 && (k === 0 || i > at(positions, k - 1, "the previous log line"))),
        `log order: ${msgs.join(" | ")}`,
      ).to.equal(true);
      await fetch(`http://127.0.0.1:${port}/healthz`).then(
        () => expect.fail("the HTTP server is still up"),
        () => {},
      );
    });

    it("SIGTERM while Redis is down: still exits 0 promptly", async () => {
      const redis = await startRedisServer();
      try {
        const p = run(["worker", "dummy"], env({ REDIS_URL: redis.url }));
        await p.waitForLog("runtime: service started");
        await redis.stop();
        await p.waitForLog("redis: connection lost");
        p.child.kill("SIGTERM");
        const { code, ms } = await p.waitForExit(10_000);
        expect(code).to.equal(0);
        expect(ms).to.be.lessThan(10_000);
      } finally {
        await redis.destroy();
      }
    });

    it("SIGINT also shuts down gracefully", async () => {
      const p = run(["worker", "dummy"], env());
      await p.waitForLog("runtime: service started");
      p.child.kill("SIGINT");
      expect((await p.waitForExit(10_000)).code).to.equal(0);
      expect(p.logs().map((l) => l.msg)).to.include("dummy: stopped");
    });

    it("a stop() that hangs: exits 1 after SHUTDOWN_TIMEOUT_MS", async () => {
      const p = run(["worker", "hanging-stop"], env({ SHUTDOWN_TIMEOUT_MS: "300" }));
      await p.waitForLog("runtime: service started");
      p.child.kill("SIGTERM");
      const { code } = await p.waitForExit(10_000);
      expect(code).to.equal(1);
      expect(p.logs().map((l) => l.msg)).to.include("runtime: shutdown timed out");
    });

    it("a second signal forces the exit", async () => {
      const p = run(["worker", "hanging-stop"], env());
      await p.waitForLog("runtime: service started");
      p.child.kill("SIGTERM");
      await p.waitForLog("runtime: shutting down");
      p.child.kill("SIGTERM");
      const { code } = await p.waitForExit(5_000);
      expect(code).to.equal(143);
      expect(p.logs().map((l) => l.msg)).to.include("runtime: second signal, exiting now");
    });
  });
});
