/**
 * startDevnet's early failures: what it refuses before starting anything (taken ports, a Redis it
 * cannot have, a directory another devnet uses), leaving no process, no log and no lock behind.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { DevnetBusyError, PortInUseError, RedisSetupError, startDevnet } from "../../devnet/index.js";
import { freePort } from "../../devnet/ports.js";
import { rejection } from "../../testing/rejection.js";

async function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as { port: number }).port };
}

describe("devnet: startDevnet refuses early", function () {
  this.timeout(30_000);

  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "devnet-start-test-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Nothing was started: no log, no data, and the directory lock was released. */
  function expectNothingStarted(): void {
    expect(existsSync(path.join(dir, "logs", "l1.log"))).to.equal(false);
    expect(existsSync(path.join(dir, "run"))).to.equal(false);
    expect(existsSync(path.join(dir, "devnet.pid"))).to.equal(false);
  }

  it("a taken L2 JSON-RPC port, naming L2_RPC_PORT", async () => {
    const { server, port } = await listen();
    try {
      const progress: string[] = [];
      const error = await rejection(
        startDevnet({
          dir,
          l1Port: await freePort(),
          l2RpcPort: port,
          gatewayPort: 0,
          onProgress: (p) => progress.push(p.title),
        }),
      );
      expect(error).to.be.instanceOf(PortInUseError);
      expect(error.message).to.equal(
        `port ${port} (the L2 JSON-RPC) is in use: stop what runs there, or set L2_RPC_PORT to another port`,
      );
      expect(progress).to.deep.equal([]);
      expectNothingStarted();
    } finally {
      server.close();
    }
  });

  it("a taken L1 port, naming L1_PORT", async () => {
    const { server, port } = await listen();
    try {
      const error = await rejection(startDevnet({ dir, l1Port: port, l2RpcPort: await freePort(), gatewayPort: 0 }));
      expect(error).to.be.instanceOf(PortInUseError);
      expect(error.message).to.include("set L1_PORT to another port");
      expectNothingStarted();
    } finally {
      server.close();
    }
  });

  it("a Redis it can neither reach nor start, before the L1 starts", async () => {
    const error = await rejection(
      startDevnet({
        dir,
        l1Port: await freePort(),
        l2RpcPort: await freePort(),
        gatewayPort: 0,
        redisUrl: "redis://192.0.2.1:6379",
      }),
    );
    expect(error).to.be.instanceOf(RedisSetupError);
    expectNothingStarted();
  });

  it("a directory another live devnet uses", async () => {
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, "devnet.pid"), `${other.pid}\n`);
      const error = await rejection(
        startDevnet({ dir, l1Port: await freePort(), l2RpcPort: await freePort(), gatewayPort: 0 }),
      );
      expect(error).to.be.instanceOf(DevnetBusyError);
      expect(error.message).to.include(`another devnet (pid ${other.pid})`);
      expect(existsSync(path.join(dir, "logs", "l1.log"))).to.equal(false);
    } finally {
      other.kill("SIGKILL");
    }
  });
});
