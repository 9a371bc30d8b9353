/**
 * End to end, the recovery of issue 10 §4 F5: a guardian rejection no longer loses honest withdrawals.
 * On a whole devnet (L1 node, deployment, workers, sequencer and validator nodes, own ports, directory
 * and queue prefix):
 *
 * 1. a user withdraws ETH on L2 (L2Bridge.withdrawNative) to a fresh L1 address;
 * 2. the sequencer node's rollup-producer posts the rollup carrying it;
 * 3. the guardian (dev account #0) rejects that rollup on L1 inside its challenge period;
 * 4. the producer notices the reopened sequence (RollupRegistry.nextBatchSeq went back) and posts the
 *    batches again: a new rollup at the same first batch, carrying the same message root;
 * 5. after the challenge period (L1 time travel) the withdrawal-processor relays the withdrawal and the
 *    L1 address is credited exactly the amount;
 * 6. the validator rewound to the reopened batch, re-executed the re-posted rollup and stays healthy.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { JsonRpcProvider, Wallet, ZeroHash, parseEther } from "ethers";

import { type Devnet, devAccounts, startDevnet } from "../../devnet/index.js";
import { freePort } from "../../devnet/ports.js";
import { jsonRpc } from "../../devnet/processes.js";
import { L2Predeploys } from "../../protocol/predeploys.js";
import { type RollupHeader, decodeAddRollup } from "../../protocol/rollup.js";
import {
  CrossChainMessenger__factory,
  L2Bridge__factory,
  MessageBus__factory,
  RollupRegistry__factory,
} from "../../types/ethers-contracts/index.js";
import { take } from "../../testing/defined.js";

const REDIS_URL = "redis://127.0.0.1:6379";
const CHALLENGE_PERIOD = 60;
const AMOUNT = parseEther("1.5");

interface PostedRollup {
  hash: string;
  header: RollupHeader;
  blockNumber: number;
}

async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("e2e: a rejected rollup's honest withdrawal is relayed after the re-post", function () {
  this.timeout(300_000);

  let dir: string;
  let devnet: Devnet | undefined;
  let l1: JsonRpcProvider | undefined;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "veilnet-e2e-rejection-"));
    const [l1Port, l2RpcPort, validatorL2RpcPort] = await freePorts(3);
    devnet = await startDevnet({
      dir,
      deploymentsDir: path.join(dir, "deployments"),
      l1Port,
      l2RpcPort,
      validatorL2RpcPort,
      gatewayPort: 0,
      redisUrl: REDIS_URL,
      validator: true,
      challengePeriod: CHALLENGE_PERIOD,
      fundAccounts: 5,
    });
    l1 = new JsonRpcProvider(devnet.l1Url, undefined, { staticNetwork: true });
  });

  after(async function () {
    l1?.destroy();
    try {
      await devnet?.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("withdraw → rollup → reject → re-post (same root) → challenge period → relayed and credited", async () => {
    if (devnet === undefined || l1 === undefined) throw new Error("the devnet did not start");
    const { addresses } = devnet;
    const [guardianKey, , , , userKey] = take(devAccounts(5), 5, "dev accounts #0 to #4");
    const guardian = new Wallet(guardianKey.privateKey, l1);
    const registry = RollupRegistry__factory.connect(addresses.RollupRegistry, guardian);
    const bus = MessageBus__factory.connect(addresses.MessageBus, l1);
    const messenger = CrossChainMessenger__factory.connect(addresses.CrossChainMessenger, l1);
    const recipient = Wallet.createRandom().address;
    expect(await l1.getBalance(recipient)).to.equal(0n);

    // 1. The L2 withdrawal (the devnet funded dev account #4 on L2).
    const l2 = new JsonRpcProvider(devnet.l2Url, undefined, { staticNetwork: true });
    let sequence: bigint;
    try {
      const user = new Wallet(userKey.privateKey, l2);
      const l2Bridge = L2Bridge__factory.connect(L2Predeploys.bridge, user);
      const tx = await l2Bridge.getFunction("withdrawNative").send(recipient, { value: AMOUNT });
      const receipt = await waitFor(
        "the L2 withdrawal's receipt",
        60_000,
        async () => (await l2.getTransactionReceipt(tx.hash)) ?? undefined,
      );
      expect(receipt.status).to.equal(1);
      const initiated = receipt.logs
        .map((log) => l2Bridge.interface.parseLog(log))
        .find((e) => e?.name === "WithdrawalInitiated");
      sequence = initiated!.args.sequence as bigint;
    } finally {
      l2.destroy();
    }

    // 2. The rollup carrying it, posted by the sequencer node's producer.
    const rollupsWithRoot = async (fromBlock: number): Promise<PostedRollup[]> => {
      const logs = await registry.queryFilter(registry.filters.RollupAdded(), fromBlock);
      const out: PostedRollup[] = [];
      for (const log of logs) {
        if (!("args" in log) || log.args.messageRoot === ZeroHash) continue;
        const call = decodeAddRollup((await l1!.getTransaction(log.transactionHash))!.data);
        out.push({ hash: log.args.rollupHash as string, header: call!.header, blockNumber: log.blockNumber });
      }
      return out;
    };
    const first = await waitFor("the rollup with the withdrawal", 90_000, async () => (await rollupsWithRoot(0))[0]);
    const root = first.header.messageRoot;
    expect((await bus.messageRoot(root)).rejected).to.equal(false);
    // The validator replays it before the rejection (so that the rejection makes it rewind).
    const metricsUrl = devnet.health.validator!.replace(/\/healthz$/, "/metrics");
    const validatorVerified = async (): Promise<number> =>
      Number(/^veilnet_validator_rollups_verified (\d+)/m.exec(await (await fetch(metricsUrl)).text())?.[1] ?? 0);
    const upToFirst = (await registry.queryFilter(registry.filters.RollupAdded(), 0, first.blockNumber)).length;
    await waitFor("the validator to verify the rollup", 90_000, async () =>
      (await validatorVerified()) >= upToFirst ? true : undefined,
    );

    // 3. The guardian rejects it inside its challenge period: the sequence reopens at its first batch.
    const rejection = await (await registry.getFunction("rejectRollup").send(first.header)).wait();
    expect(rejection!.status).to.equal(1);
    const reopened = rejection!.logs
      .map((log) => registry.interface.parseLog(log))
      .find((e) => e?.name === "BatchSequenceReopened");
    expect(reopened!.args.nextBatchSeq).to.equal(first.header.firstBatchSeq);
    expect((await bus.messageRoot(root)).rejected).to.equal(true);
    expect(await messenger.isRelayed(sequence)).to.equal(false);

    // 4. The producer posts those batches again: same first batch, same message root, a new rollup.
    const again = await waitFor("the re-posted rollup", 90_000, async () =>
      (await rollupsWithRoot(rejection!.blockNumber)).find((r) => r.header.messageRoot === root),
    );
    expect(again.hash).to.not.equal(first.hash);
    expect(again.header.firstBatchSeq).to.equal(first.header.firstBatchSeq);
    const registration = await bus.messageRoot(root);
    expect(registration.rejected).to.equal(false);
    expect(registration.generation).to.equal(1n);

    // 5. Past its challenge period, the withdrawal-processor relays it: the L1 address gets the amount.
    await jsonRpc(devnet.l1Url, "evm_increaseTime", [CHALLENGE_PERIOD + 5]);
    await jsonRpc(devnet.l1Url, "evm_mine", []);
    await waitFor("the relay", 120_000, async () => ((await messenger.isRelayed(sequence)) ? true : undefined));
    expect(await l1.getBalance(recipient)).to.equal(AMOUNT);

    // 6. The validator followed the rejection and the re-post (it would have refused the re-post
    // otherwise: it starts at a batch the validator had already replayed).
    // Every rollup on L1 up to the re-post was verified (the rejected one before its rejection), which
    // the validator can only do by rewinding to the reopened batch: the re-post starts at a batch it had
    // replayed already.
    const posted = (await registry.queryFilter(registry.filters.RollupAdded(), 0, again.blockNumber)).length;
    await waitFor("the validator to verify the re-posted rollup", 90_000, async () =>
      (await validatorVerified()) >= posted ? true : undefined,
    );
    const health = await fetch(devnet.health.validator!);
    expect(health.status, await health.text()).to.equal(200);
    expect(devnet.crashes).to.deep.equal([]);
  });
});
