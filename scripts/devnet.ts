/**
 * `npm run devnet`: a local Veilnet in one command.
 *
 * Today it runs the L1 side: a Hardhat node (Hardhat's in-process EDR chain behind JSON-RPC), the
 * whole contract suite deployed on it, and a summary of URLs, addresses and funded dev accounts. The
 * enclave and the L2 JSON-RPC endpoint are not available yet (they land with the enclave issue), and the
 * workers run separately (`npx veilnet workers`); the summary says so.
 *
 * Environment:
 *   L1_PORT      port of the L1 node to start (default 8545)
 *   L1_RPC_URL   use this L1 instead of starting one (e.g. an already running `npx hardhat node`)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { HDNodeWallet, JsonRpcProvider, Mnemonic, formatEther } from "ethers";

import { CONTRACT_NAMES, readDeployment } from "../deploy/deployment-file.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const hardhatBin = path.join(root, "node_modules", ".bin", "hardhat");
const DEV_MNEMONIC = "test test test test test test test test test test test junk";

const children: ChildProcess[] = [];
let stopping = false;

function step(n: number, total: number, text: string): void {
  console.log(`[${n}/${total}] ${text}`);
}

function fail(message: string): never {
  console.error(`devnet: ${message}`);
  shutdown(1);
  throw new Error(message);
}

function shutdown(code: number): void {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2000).unref();
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
      .once("error", () => resolve(false))
      .once("listening", () => server.close(() => resolve(true)))
      .listen(port, "127.0.0.1");
  });
}

async function waitForRpc(url: string, timeoutMs: number, node?: ChildProcess): Promise<bigint> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (node !== undefined && node.exitCode !== null) fail(`the L1 node exited with code ${node.exitCode}`);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      const body = (await response.json()) as { result?: string };
      if (body.result === undefined) throw new Error("no result");
      return BigInt(body.result);
    } catch {
      if (Date.now() > deadline) fail(`no JSON-RPC answer from ${url} within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(hardhatBin, args, { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] });
    children.push(child);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`hardhat ${args.join(" ")} exited with code ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  process.once("SIGINT", () => {
    console.log("\ndevnet: stopping");
    shutdown(0);
  });
  process.once("SIGTERM", () => shutdown(0));

  const total = 3;
  const external = process.env.L1_RPC_URL;
  const port = Number(process.env.L1_PORT ?? 8545);
  if (!Number.isInteger(port) || port <= 0 || port > 65535)
    fail(`L1_PORT must be a TCP port, got "${process.env.L1_PORT}"`);
  const l1Url = external ?? `http://127.0.0.1:${port}`;

  let node: ChildProcess | undefined;
  if (external === undefined) {
    if (!(await portFree(port))) {
      fail(
        `port ${port} is in use. Stop what runs there, or set L1_PORT to another port, or set L1_RPC_URL to use that node.`,
      );
    }
    step(1, total, `starting the L1 node (Hardhat EDR) at ${l1Url}`);
    node = spawn(hardhatBin, ["node", "--port", String(port)], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
    children.push(node);
    node.once("exit", (code) => {
      if (!stopping) fail(`the L1 node exited unexpectedly with code ${code}`);
    });
  } else {
    step(1, total, `using the L1 at ${l1Url}`);
  }
  const chainId = await waitForRpc(l1Url, 60_000, node);
  if (node !== undefined) {
    // A block every second on top of automine: time moves on an idle chain (challenge periods end) and
    // the workers' confirmation depth is reached without traffic.
    await fetch(l1Url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "evm_setIntervalMining", params: [1000] }),
    });
  }

  step(2, total, `deploying the Veilnet suite to chain ${chainId}`);
  await run(["deploy", "--network", "localhost"], { ...process.env, L1_RPC_URL: l1Url });

  step(3, total, "ready");
  const deployment = readDeployment(chainId);
  const provider = new JsonRpcProvider(l1Url, Number(chainId), { staticNetwork: true });
  console.log(`\nL1 JSON-RPC   ${l1Url}   (chain ${chainId}${node !== undefined ? ", a block every second" : ""})`);
  console.log(`L2 JSON-RPC   not yet available: the enclave, sequencer and gateway land with the enclave issue`);
  console.log("Workers       not started by the devnet yet: run them with `npx veilnet workers` (README, Workers)");
  console.log(`\nContracts (deployments/${chainId}.json, from block ${deployment.deploymentBlock}):`);
  for (const name of CONTRACT_NAMES) console.log(`  ${name.padEnd(20)} ${deployment.addresses[name]}`);
  if (chainId === 31337n) {
    console.log("\nFunded dev accounts (Hardhat's public test mnemonic: never use these keys on a real network):");
    const mnemonic = Mnemonic.fromPhrase(DEV_MNEMONIC);
    for (let i = 0; i < 3; i++) {
      const w = HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`);
      const balance = await provider.getBalance(w.address);
      console.log(`  ${w.address}  ${formatEther(balance)} ETH  key ${w.privateKey}`);
    }
  }
  provider.destroy();
  console.log("\nTry: npx hardhat veil:status --network localhost");
  console.log("     npx hardhat veil:deposit --network localhost --amount 1");
  console.log(external === undefined ? "\nCtrl-C stops the devnet." : "");
  if (external !== undefined) shutdown(0);
}

main().catch((e: unknown) => {
  if (!stopping) console.error(`devnet: ${e instanceof Error ? e.message : String(e)}`);
  shutdown(1);
});
