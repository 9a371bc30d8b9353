/**
 * `npx veilnet gateway` as operators run it, against a Hardhat node over HTTP with the suite deployed and
 * an enclave node's endpoint: its help, a bad setting, the refusal of an unattested enclave (exit 1,
 * the signer named), and a gateway that serves wallets, is killed with SIGKILL, restarts with its users'
 * tokens and bindings intact, and stops cleanly on SIGTERM.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { JsonRpcProvider, Wallet } from "ethers";

import { type L1Node, freePort, startL1Node } from "../../testing/l1-node.js";
import {
  type VeilnetProcess,
  deploymentOf,
  deploymentsDir,
  getHealth,
  opsPort,
  spawnVeilnet,
} from "../../testing/worker-process.js";
import { type Stack, api, joinAndBind, startStack } from "../../testing/gateway-stack.js";

describe("veilnet gateway: the process", function () {
  this.timeout(180_000);

  let node: L1Node;
  let stack: Stack;
  let deployments: string;
  let dir: string;
  const running: VeilnetProcess[] = [];
  const alice = Wallet.createRandom();

  const run = (env: Record<string, string>, args: string[] = ["gateway"]) => {
    const p = spawnVeilnet(args, {
      L1_RPC_URL: node.url,
      VEILNET_DEPLOYMENTS_DIR: deployments,
      METRICS_PORT: "0",
      LOG_LEVEL: "info",
      GATEWAY_POLL_MS: "100",
      ...env,
    });
    running.push(p);
    return p;
  };

  before(async () => {
    node = await startL1Node();
    stack = await startStack(await node.connect());
    deployments = deploymentsDir(await deploymentOf(stack.v));
    dir = mkdtempSync(path.join(tmpdir(), "veilnet-gateway-process-"));
    await stack.fund(alice.address);
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") for (const p of running) console.log(p.describe());
  });

  after(async () => {
    await Promise.all(running.map((p) => p.kill()));
    await stack?.close();
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(deployments, { recursive: true, force: true });
  });

  it("--help lists every setting it reads, and no Redis", async () => {
    const help = run({}, ["gateway", "--help"]);
    expect((await help.waitForExit()).code).to.equal(0);
    for (const name of [
      "GATEWAY_PORT",
      "GATEWAY_HOST",
      "GATEWAY_ENCLAVE_URL",
      "GATEWAY_DATA_DIR",
      "GATEWAY_POLL_MS",
      "L1_RPC_URL",
      "METRICS_PORT",
    ]) {
      expect(help.stdout()).to.include(name);
    }
    expect(help.stdout()).to.not.include("REDIS_URL");
  });

  it("a bad setting stops it with one line naming it (exit 2)", async () => {
    const bad = run({ GATEWAY_PORT: "70000", GATEWAY_ENCLAVE_URL: "ftp://x" });
    expect((await bad.waitForExit()).code).to.equal(2);
    expect(bad.stderr().trim()).to.equal(
      "config: GATEWAY_PORT: Number must be less than or equal to 65535; GATEWAY_ENCLAVE_URL: must start with http:// or https://",
    );
  });

  it("refuses to serve when the enclave's key is signed by an enclave not attested on L1 (exit 1, naming it)", async () => {
    const peer = stack.peerEnclave();
    const endpoint = await stack.serve(peer);
    const gateway = run({
      GATEWAY_PORT: String(await freePort()),
      GATEWAY_ENCLAVE_URL: endpoint.url,
      GATEWAY_DATA_DIR: path.join(dir, "refused"),
    });
    const exit = await gateway.waitForExit(60_000);
    expect(exit.code).to.equal(1);
    expect(gateway.stderr().trim()).to.equal(
      `the RPC key of the enclave at ${endpoint.url} is signed by enclave ${peer.address}, which is not attested on L1 ` +
        `(EnclaveRegistry ${stack.v.addresses.EnclaveRegistry}): refusing to serve`,
    );
    await endpoint.close();
  });

  it("serves wallets, keeps its users across a SIGKILL and a restart, and stops on SIGTERM", async () => {
    const port = await freePort();
    const env = {
      GATEWAY_PORT: String(port),
      GATEWAY_ENCLAVE_URL: stack.node.url,
      GATEWAY_DATA_DIR: path.join(dir, "users"),
    };
    const url = `http://127.0.0.1:${port}`;
    let gateway = run(env);
    const serving = await gateway.waitForLog("gateway: serving", 60_000);
    expect(serving.signer).to.equal(stack.enclave.address);
    const token = await joinAndBind({ url }, [alice]);

    const read = async () => {
      const provider = new JsonRpcProvider(`${url}/v1/?token=${token}`, undefined, { cacheTimeout: -1 });
      try {
        return await provider.getBalance(alice.address);
      } finally {
        provider.destroy();
      }
    };
    expect(await read()).to.equal(await stack.balance(alice.address));
    const ops = await opsPort(gateway);
    expect((await getHealth(ops)).status).to.equal(200);
    const metrics = await (await fetch(`http://127.0.0.1:${ops}/metrics`)).text();
    expect(metrics).to.match(/veilnet_gateway_requests_total\{method="eth_getBalance",outcome="ok"\} 1/);
    expect(metrics).to.match(/veilnet_gateway_users 1/);
    expect(statSync(path.join(env.GATEWAY_DATA_DIR, "users.jsonl")).mode & 0o777).to.equal(0o600);

    gateway.child.kill("SIGKILL");
    await gateway.exited;
    gateway = run(env);
    await gateway.waitForLog("gateway: serving", 60_000);
    expect(await read()).to.equal(await stack.balance(alice.address));
    expect((await api({ url }, `/v1/accounts?token=${token}`)).body).to.deep.equal({ accounts: [alice.address] });

    gateway.child.kill("SIGTERM");
    const exit = await gateway.waitForExit(20_000);
    expect(exit.code).to.equal(0);
  });
});
