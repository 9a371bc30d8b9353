/**
 * `npm run demo`: starts a devnet (devnet/index.ts), runs the bridge scenario (devnet/scenario.ts) against
 * it with ethers, printing its "step N: …" lines, then stops the devnet:
 *
 *   alice and bob join the gateway and bind their accounts → deposit ETH and an ERC-20 → L2 balances →
 *   an L2 transfer and an L2 contract deployment → withdraw both → bob, with his own gateway token,
 *   sees neither alice's balance nor her withdrawals → the rollup with the withdrawals lands on L1 →
 *   time travel past the challenge period → the withdrawal-processor relays them (one MessageRelayed
 *   each) → L1 balances right to the wei.
 *
 * On L2, alice and bob act as wallet users do: through the devnet's gateway (`<gateway>/v1/?token=…`),
 * not the sequencer's unfiltered node endpoint.
 *
 * With DEVNET_VALIDATOR=1 a last step checks that the validator re-executed the rollups to the same
 * L2 block hash as the sequencer.
 *
 * The actor is dev account #5 ("alice", not funded on L2 by the devnet), so her balances move only
 * by what the demo does; bob is #6. Exit code 0 when every check holds, 1 otherwise (2 for a bad
 * setting, 130 when interrupted).
 *
 * Options and environment: as `npm run devnet` (`--validator`, `--committee <n>`; L1_RPC_URL, L1_PORT,
 * L2_RPC_PORT, REDIS_URL, DEVNET_VALIDATOR, DEVNET_COMMITTEE, DEVNET_DIR). With `--committee 4` the
 * whole scenario runs on a committee of four operators deciding every batch with QBFT.
 */
import { type Devnet, DevnetAbortedError, startDevnet } from "../devnet/index.js";
import { runBridgeScenario } from "../devnet/scenario.js";
import { DevnetSettingError, parseDevnetSettings } from "../devnet/settings.js";

const out = (line = "") => process.stdout.write(`${line}\n`);
const detail = (line: string) => out(`        ${line}`);

async function main(): Promise<number> {
  let options;
  try {
    ({ options } = parseDevnetSettings(process.argv.slice(2), process.env));
  } catch (e) {
    if (e instanceof DevnetSettingError) {
      process.stderr.write(`demo: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const controller = new AbortController();
  let devnet: Devnet | undefined;
  const onSignal = () => {
    out("\ndemo: stopping");
    controller.abort();
    void devnet?.stop().then(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  out("step 0: starting a devnet");
  try {
    devnet = await startDevnet({
      ...options,
      signal: controller.signal,
      onProgress: (p) => detail(`[${p.step}/${p.total}] ${p.title}`),
    });
  } catch (e) {
    if (e instanceof DevnetAbortedError) return 130;
    process.stderr.write(`demo: the devnet did not start: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  detail(`L1 ${devnet.l1Url} (chain ${devnet.l1.chainId}), L2 ${devnet.l2Url} (chain ${devnet.l2.chainId})`);
  detail(`gateway ${devnet.gatewayUrl} (wallets' JSON-RPC at /v1/?token=…)`);
  try {
    const result = await runBridgeScenario(devnet, { print: out });
    out(`demo: done in ${(result.durationMs / 1000).toFixed(1)} s; every check held`);
    return 0;
  } catch (e) {
    process.stderr.write(`demo: failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.stderr.write(`demo: logs in ${devnet.logDir}\n`);
    return 1;
  } finally {
    await devnet.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
