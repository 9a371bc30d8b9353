/**
 * devnet/redis.ts: a Redis that answers is used as is; on a free port with `redis-server` on the PATH
 * one is started (and stopped with the devnet); without the binary the error says what to install.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { type Server, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { hexlify, randomBytes } from "ethers";
import { Redis } from "ioredis";

import { Supervisor } from "../../devnet/processes.js";
import {
  RedisSetupError,
  checkRedis,
  deleteRedisKeys,
  ensureRedis,
  findExecutable,
  pingRedis,
} from "../../devnet/redis.js";
import { freePort } from "../../devnet/ports.js";
import { at } from "../../testing/defined.js";

const SHARED_REDIS = "redis://127.0.0.1:6379";

describe("devnet: ensureRedis", function () {
  this.timeout(30_000);

  let logDir: string;
  let supervisor: Supervisor;

  beforeEach(() => {
    logDir = mkdtempSync(path.join(tmpdir(), "devnet-redis-test-"));
    supervisor = new Supervisor({ logDir, graceMs: 3000 });
  });

  afterEach(async () => {
    await supervisor.stopAll();
    rmSync(logDir, { recursive: true, force: true });
  });

  it("uses a Redis that answers and starts nothing", async () => {
    const redis = await ensureRedis({ url: SHARED_REDIS, supervisor });
    expect(redis).to.deep.equal({ url: SHARED_REDIS, started: false });
    expect(supervisor.processes).to.have.length(0);
  });

  it("starts redis-server on a free local port, and stopping the supervisor stops it", async function () {
    if (findExecutable("redis-server") === undefined) this.skip();
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    expect(await pingRedis(url)).to.equal(false);

    await checkRedis({ url }); // possible: local, free port, binary on the PATH
    expect(supervisor.processes).to.have.length(0);
    const redis = await ensureRedis({ url, supervisor, dir: logDir });
    expect(redis.started).to.equal(true);
    expect(redis.process?.logFile).to.equal(path.join(logDir, "redis.log"));
    const client = new Redis(url, { maxRetriesPerRequest: 1 });
    try {
      await client.set("devnet-test", "1");
      expect(await client.get("devnet-test")).to.equal("1");
      // In memory: no persistence configured.
      expect(await client.config("GET", "save")).to.deep.equal(["save", ""]);
      expect(await client.config("GET", "appendonly")).to.deep.equal(["appendonly", "no"]);
    } finally {
      client.disconnect();
    }

    const results = await supervisor.stopAll();
    expect(results.map((r) => r.name)).to.deep.equal(["redis"]);
    expect(at(results, 0, "stopped process").killed).to.equal(false);
    expect(await pingRedis(url)).to.equal(false);
  });

  it("says exactly what to install when no Redis answers and redis-server is not on the PATH", async () => {
    const port = await freePort();
    const error = await ensureRedis({
      url: `redis://127.0.0.1:${port}`,
      supervisor,
      searchPath: path.join(logDir, "empty-bin"),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(RedisSetupError);
    const message = (error as Error).message;
    expect(message).to.include(`Redis does not answer at redis://127.0.0.1:${port}`);
    expect(message).to.include("no `redis-server` is on the PATH");
    expect(message).to.include("apt-get install redis-server");
    expect(message).to.include("brew install redis");
    expect(message).to.include("set REDIS_URL");
    expect(supervisor.processes).to.have.length(0);
    // The pre-flight check (run before the L1 starts) fails the same way, and starts nothing either.
    const early = await checkRedis({
      url: `redis://127.0.0.1:${port}`,
      searchPath: path.join(logDir, "empty-bin"),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(early).to.be.instanceOf(RedisSetupError);
    expect((early as Error).message).to.equal(message);
  });

  it("refuses to start one when the port is held by something that is not Redis", async () => {
    const server: Server = createServer((socket) => socket.on("data", () => {})); // accepts, never answers
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const error = await ensureRedis({ url: `redis://127.0.0.1:${port}`, supervisor }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(RedisSetupError);
      expect((error as Error).message).to.include(`something listens on 127.0.0.1:${port}`);
      expect(supervisor.processes).to.have.length(0);
    } finally {
      server.close();
    }
  });

  it("does not try to start a Redis for a remote REDIS_URL", async () => {
    const error = await ensureRedis({ url: "redis://192.0.2.1:6379", supervisor }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(RedisSetupError);
    expect((error as Error).message).to.include("starts a redis-server only on this machine");
  });

  it("rejects a REDIS_URL that is not redis://", async () => {
    const error = await ensureRedis({ url: "http://127.0.0.1:6379", supervisor }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(RedisSetupError);
    expect((error as Error).message).to.include("must start with redis://");
  });

  it("deleteRedisKeys removes the keys of one prefix only", async () => {
    const prefix = `t-devnet-${hexlify(randomBytes(4)).slice(2)}`;
    const other = `${prefix}x`;
    const client = new Redis(SHARED_REDIS, { maxRetriesPerRequest: 1 });
    try {
      await client.set(`${prefix}:a`, "1");
      await client.set(`${prefix}:queue:b`, "2");
      await client.set(`${other}:c`, "3");
      expect(await deleteRedisKeys(SHARED_REDIS, prefix)).to.equal(2);
      expect(await client.exists(`${prefix}:a`, `${prefix}:queue:b`)).to.equal(0);
      expect(await client.get(`${other}:c`)).to.equal("3");
    } finally {
      await client.del(`${prefix}:a`, `${prefix}:queue:b`, `${other}:c`);
      client.disconnect();
    }
  });
});
