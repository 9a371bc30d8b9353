/**
 * `npm run devnet`: a whole local Veilnet in one command (see devnet/index.ts for the sequence and
 * `npm run devnet -- --help` for the settings). Prints numbered progress while starting, then a
 * summary (URLs, contracts, dev accounts and their L1/L2 balances, logs), and stays up; Ctrl-C
 * (SIGINT) or SIGTERM stops every process in reverse order and exits 0.
 *
 * Exit codes: 0 after a clean stop (or --help), 1 when the start fails or a process dies, 2 for a bad setting.
 */
import path from "node:path";

import { JsonRpcProvider, formatEther } from "ethers";

import { CONTRACT_NAMES } from "../deploy/deployment-file.js";
import {
  type Devnet,
  DevnetAbortedError,
  type DevnetCrash,
  l2Balance,
  roleAccount,
  startDevnet,
} from "../devnet/index.js";
import { DEVNET_HELP, DevnetSettingError, parseDevnetSettings } from "../devnet/settings.js";
import { committeeStatus } from "../devnet/steps/committee.js";

const out = (line = "") => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

function relative(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith("..") ? file : rel;
}

function ether(wei: bigint): string {
  const text = formatEther(wei);
  return `${text.endsWith(".0") ? text.slice(0, -2) : text} ETH`;
}

async function printSummary(devnet: Devnet): Promise<void> {
  const { l1, l2, deployment } = devnet;
  out();
  out("Veilnet devnet is up.");
  out();
  out(
    `L1 JSON-RPC  ${l1.url}   chain ${l1.chainId}` +
      (l1.external
        ? " (L1_RPC_URL, not started by the devnet)"
        : `, Hardhat node, a block every ${(l1.blockIntervalMs ?? 0) / 1000} s`),
  );
  const committee = devnet.committee;
  out(
    `L2 JSON-RPC  ${l2.url}   chain ${l2.chainId}, ` +
      (committee === undefined ? "sequencer" : `operator 1 of the committee of ${committee.length}`),
  );
  if (l2.validatorUrl !== undefined) out(`             ${l2.validatorUrl}   validator (read-only)`);
  out(`Wallets      ${devnet.gateway.url}/   the gateway: join there, then use the RPC URL with your token`);
  out(`Redis        ${devnet.redis.url}${devnet.redis.started ? " (started by the devnet, in memory)" : ""}`);
  out(`Queues       QUEUE_PREFIX=${devnet.queuePrefix}`);
  out(`Health       workers ${devnet.health.workers}`);
  out(`             sequencer ${devnet.health.sequencer}`);
  out(`             gateway ${devnet.health.gateway}`);
  if (devnet.health.validator !== undefined) out(`             validator ${devnet.health.validator}`);
  if (committee !== undefined) {
    out();
    out(`Committee of ${committee.length} (QBFT over libp2p on loopback; each operator's L2 JSON-RPC and /healthz):`);
    for (const line of await committeeStatus(committee)) out(line);
    for (const m of committee) out(`  operator ${m.operatorId}  ${m.l2Url}  ${m.healthUrl}  ${m.p2p}`);
    if (devnet.exporter !== undefined)
      out(`  exporter    ${devnet.exporter.url}/v1/status  ${devnet.exporter.healthUrl}`);
  }
  out();
  out(
    `Contracts on L1 (challenge period ${deployment.parameters.challengePeriod} s, deployed in block ${deployment.deploymentBlock}):`,
  );
  for (const name of CONTRACT_NAMES) out(`  ${name.padEnd(20)} ${deployment.addresses[name]}`);
  out(`Sequencer enclave      ${devnet.sequencerEnclave}`);
  out();
  out("Dev accounts (Hardhat's public test mnemonic: never use these keys on a real network):");
  const l1Provider = new JsonRpcProvider(l1.url, undefined, { staticNetwork: true });
  try {
    for (const account of devnet.accounts) {
      const [onL1, onL2] = await Promise.all([
        l1Provider.getBalance(account.address),
        l2Balance(l2.url, account.address),
      ]);
      out(`  #${account.index} ${account.address}   L1 ${ether(onL1)}   L2 ${ether(onL2)}`);
      out(`     key ${account.privateKey}`);
      out(`     ${account.role}`);
    }
  } finally {
    l1Provider.destroy();
  }
  out();
  out(
    `Logs         ${relative(devnet.logDir)}/<name>.log  (l1, deploy, enclave-init, workers, sequencer, gateway${l2.validatorUrl !== undefined ? ", validator" : ""}${devnet.redis.started ? ", redis" : ""})`,
  );
  out(`Data         ${relative(devnet.dataDir)}  (devnet.json describes this devnet)`);
  out();
  const l1Env = l1.url === "http://127.0.0.1:8545" ? "" : `L1_RPC_URL=${l1.url} `;
  out("Try:");
  out(`  ${l1Env}npx hardhat veil:status --network localhost`);
  out(`  ${l1Env}npx hardhat veil:deposit --network localhost --amount 1`);
  out(
    `  curl -s -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["${roleAccount(devnet.accounts, "user").address}","latest"]}' ${l2.url}`,
  );
  out();
  out("Ctrl-C stops the devnet.");
}

function printCrash(crash: DevnetCrash): void {
  const how = crash.exit.signal !== null ? `was killed by ${crash.exit.signal}` : `exited with code ${crash.exit.code}`;
  err(`\ndevnet: ${crash.name} ${how}; stopping the devnet.`);
  err(`  log: ${crash.logFile}`);
  for (const line of crash.lastLines) err(`    | ${line}`);
}

async function main(): Promise<number> {
  let settings;
  try {
    settings = parseDevnetSettings(process.argv.slice(2));
  } catch (e) {
    if (e instanceof DevnetSettingError) {
      err(`devnet: ${e.message}`);
      return 2;
    }
    throw e;
  }
  if (settings.help) {
    out(DEVNET_HELP);
    return 0;
  }

  const controller = new AbortController();
  let devnet: Devnet | undefined;
  let exitCode = 0;
  let resolveDone: (code: number) => void = () => {};
  const done = new Promise<number>((r) => (resolveDone = r));
  let stopping = false;

  const shutdown = (code: number, why: string) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    out(`\ndevnet: ${why}`);
    if (devnet === undefined) {
      controller.abort();
      return;
    }
    void devnet.stop().then(() => resolveDone(exitCode));
  };
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts += 1;
    if (interrupts >= 2) {
      err("devnet: second signal: killing every process now");
      process.exit(130); // the supervisor's exit hook SIGKILLs the children
    }
    shutdown(0, `${signal}: stopping (a second Ctrl-C kills everything at once)`);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    devnet = await startDevnet({
      ...settings.options,
      signal: controller.signal,
      onProgress: (p) => out(`[${p.step}/${p.total}] ${p.title}`),
      onLog: (line) => out(`      ${line}`),
      onOutput: settings.verbose ? (name, line) => out(`  ${name.padEnd(10)}| ${line}`) : undefined,
      onCrash: (crash) => {
        printCrash(crash);
        shutdown(1, "a process died");
      },
    });
  } catch (e) {
    if (e instanceof DevnetAbortedError) {
      out("devnet: stopped before it was up");
      return exitCode;
    }
    err(`\ndevnet: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  if (stopping) {
    // A signal arrived while the last step finished.
    await devnet.stop();
    return exitCode;
  }
  try {
    await printSummary(devnet);
  } catch (e) {
    if (!stopping) err(`devnet: could not print the summary: ${e instanceof Error ? e.message : String(e)}`);
  }
  const code = await done;
  out("devnet: stopped");
  return code;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    err(`devnet: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
