/**
 * platform/l1-events against a real OperatorRegistry on Hardhat's L1: every event of the registry decodes
 * to its typed domain event with the right fields, by the fast decoder and by ethers' (the reference)
 * alike; the in-process follower with an in-memory checkpoint delivers exactly those events; a decoder
 * follows only its sources. And the in-memory checkpoint store keeps and forgets what the Redis one does.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { type ContractTransactionResponse, type TransactionReceipt, Wallet, ZeroAddress, toQuantity } from "ethers";
import { network } from "hardhat";

import type { DomainEvent, EventJob, OperatorRegistryEvent } from "../../platform/events.js";
import { MemoryCheckpointStore } from "../../platform/l1-events/checkpoint.js";
import { EVENT_SOURCES, LogDecoder, type RawLog, eventTypesOf } from "../../platform/l1-events/decode.js";
import { L1EventFollower } from "../../platform/l1-events/follower.js";
import { silentLogger } from "../../platform/logger.js";
import {
  FeeVault__factory,
  MockEnclaveRegistry__factory,
  type OperatorRegistry,
  OperatorRegistry__factory,
} from "../../types/ethers-contracts/index.js";
import { at } from "../../testing/defined.js";
import { govern } from "../../testing/governance.js";
import { deployVeilnet } from "../../testing/veilnet.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const GWEI = 10n ** 9n;
const ONE_ETH = 10n ** 18n;
const DAY = 86_400n;

const rawOf = (log: TransactionReceipt["logs"][number]): RawLog => ({
  address: log.address,
  topics: [...log.topics],
  data: log.data,
  blockNumber: toQuantity(log.blockNumber),
  blockHash: log.blockHash,
  transactionHash: log.transactionHash,
  logIndex: toQuantity(log.index),
});

type Of<T extends OperatorRegistryEvent["type"]> = Extract<OperatorRegistryEvent, { type: T }>;

describe("L1 events: the OperatorRegistry's domain events", function () {
  it("decodes every OperatorRegistry event with its fields (fast and reference), and the follower delivers them", async () => {
    const v = await deployVeilnet(connection);
    const [rewarder, initializer, owner, creator] = [v.users[6], v.users[7], v.users[8], v.users[9]];
    const enclaves = await new MockEnclaveRegistry__factory(v.deployer).deploy();
    const vault = await new FeeVault__factory(v.deployer).deploy(
      v.admin.address,
      0n,
      v.guardian.address,
      GWEI,
      GWEI,
      0,
    );
    await (await vault.bindRewarder(rewarder.address)).wait();
    const startBlock = (await ethers.provider.getBlockNumber()) + 1;
    const deployed = await new OperatorRegistry__factory(v.deployer).deploy(
      await v.timelock.getAddress(),
      0n,
      v.guardian.address,
      initializer.address,
      await enclaves.getAddress(),
      await vault.getAddress(),
      10n * GWEI,
    );
    const registry: OperatorRegistry = deployed;
    const address = await registry.getAddress();
    const receipts: TransactionReceipt[] = [(await deployed.deploymentTransaction()!.wait())!];
    const keep = async (tx: Promise<ContractTransactionResponse>) => {
      const r = (await (await tx).wait())!;
      receipts.push(r);
      return r;
    };
    const keys: string[] = [];
    const enclaveOf: string[] = [];
    const addOperator = async (fee: bigint, by: HardhatEthersSigner = owner) => {
      const key = Wallet.createRandom().signingKey.compressedPublicKey;
      await keep(registry.connect(by).registerOperator(key, fee));
      const id = await registry.operatorCount();
      const enclave = Wallet.createRandom().address;
      await (await enclaves.grantSequencer(enclave, by.address)).wait();
      await keep(registry.connect(by).setOperatorEnclave(id, enclave));
      keys[Number(id)] = key;
      enclaveOf[Number(id)] = enclave;
      return id;
    };

    await keep(govern(v, registry, "setWhitelistEnabled", [true]));
    await keep(govern(v, registry, "setOperatorWhitelist", [owner.address, true]));
    const spare = await addOperator(0n);
    await keep(registry.connect(creator).createCommittee([spare], { value: GWEI }));
    const standby = await registry.committeeCount();
    await keep(govern(v, registry, "setNetworkFee", [GWEI]));
    const ops = [await addOperator(GWEI), await addOperator(GWEI), await addOperator(GWEI), await addOperator(GWEI)];
    const [op0, op1, , op3] = ops as [bigint, bigint, bigint, bigint];
    await keep(registry.connect(creator).createCommittee(ops, { value: ONE_ETH }));
    const main = await registry.committeeCount();
    await keep(registry.connect(initializer).initializeActiveCommittee(main));

    const raised = (GWEI * 11n) / 10n;
    const declarations: { executableFrom: bigint; executableUntil: bigint }[] = [];
    await keep(registry.connect(owner).declareOperatorFee(op0, raised));
    declarations.push(await registry.declaredFees(op0));
    await keep(registry.connect(owner).cancelDeclaredOperatorFee(op0));
    await keep(registry.connect(owner).declareOperatorFee(op0, raised));
    declarations.push(await registry.declaredFees(op0));
    await networkHelpers.time.increase(3n * DAY + 1n);
    await keep(registry.connect(owner).executeOperatorFee(op0));
    await keep(registry.connect(owner).reduceOperatorFee(op1, GWEI / 2n));

    await networkHelpers.mine(3);
    await keep(registry.connect(v.stranger).deposit(main, { value: 1234n }));
    await keep(registry.connect(creator).withdraw(main, GWEI));
    await keep(registry.connect(owner).operatorWithdraw(op0, GWEI));
    await keep(govern(v, registry, "withdrawNetworkEarnings", [v.users[5].address, GWEI]));
    await (await v.admin.sendTransaction({ to: await vault.getAddress(), value: ONE_ETH })).wait();
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    await (await vault.connect(rewarder).rewardSequencer(address, 0n, now)).wait();
    await keep(registry.collectRewards());

    await keep(govern(v, registry, "setLiquidationThresholds", [0n, 2n * GWEI]));
    await keep(registry.connect(v.stranger).liquidate(standby));
    await keep(registry.connect(creator).reactivate(standby, { value: ONE_ETH }));
    await keep(govern(v, registry, "setFeeParameters", [20n * GWEI, 2n * DAY, 5n * DAY, 500]));
    await keep(registry.connect(v.guardian).setPaused(true));
    await keep(registry.connect(v.guardian).setPaused(false));
    await keep(registry.refreshCommitteeSigners(main));
    await keep(govern(v, registry, "setActiveCommittee", [standby]));
    await keep(registry.connect(owner).removeOperator(op3));

    // Both decoders agree on every log; only OperatorRegistry logs are domain events here.
    const fast = new LogDecoder(Number(v.chainId), { OperatorRegistry: address }, { sources: ["OperatorRegistry"] });
    const reference = new LogDecoder(
      Number(v.chainId),
      { OperatorRegistry: address },
      { sources: ["OperatorRegistry"], fast: false },
    );
    const expected: EventJob[] = [];
    let others = 0;
    for (const r of receipts) {
      for (const log of r.logs) {
        const job = fast.decode(rawOf(log));
        expect(job, `log ${log.index} of ${log.transactionHash}`).to.deep.equal(reference.decode(rawOf(log)));
        if (job === undefined) others++;
        else expected.push(job);
      }
    }
    expect(others).to.be.greaterThan(0); // RoleGranted, the timelock's CallScheduled/CallExecuted...
    const types = eventTypesOf(["OperatorRegistry"]);
    expect(types).to.have.length(22);
    expect(new Set(expected.map((j) => j.event.type))).to.deep.equal(new Set(types));
    expect(expected.every((j) => j.ref.address === address && j.ref.chainId === Number(v.chainId))).to.equal(true);
    // JSON-safe: a round trip through JSON changes nothing.
    expect(JSON.parse(JSON.stringify(expected))).to.deep.equal(expected);

    // The fields, against the inputs.
    const all = <T extends OperatorRegistryEvent["type"]>(type: T): Of<T>[] =>
      expected.filter((j) => j.event.type === type).map((j) => j.event as Of<T>);
    const first = <T extends OperatorRegistryEvent["type"]>(type: T): Of<T> => at(all(type), 0, type);
    const balanceAt = async (type: "CommitteeDeposited" | "CommitteeWithdrawn" | "CommitteeReactivated") => {
      const job = expected.find((j) => j.event.type === type)!;
      const id = (job.event as Of<typeof type>).committeeId;
      return (await registry.committeeBalance(id, { blockTag: job.ref.blockNumber })).toString();
    };
    const s = String;
    expect(first("FeeParametersSet")).to.deep.equal({
      type: "FeeParametersSet",
      maxOperatorFee: s(10n * GWEI),
      declarePeriod: s(3n * DAY),
      executePeriod: s(4n * DAY),
      maxIncreaseBps: 1000,
    });
    expect(all("FeeParametersSet")[1]).to.deep.equal({
      type: "FeeParametersSet",
      maxOperatorFee: s(20n * GWEI),
      declarePeriod: s(2n * DAY),
      executePeriod: s(5n * DAY),
      maxIncreaseBps: 500,
    });
    expect(first("LiquidationThresholdsSet")).to.deep.equal({
      type: "LiquidationThresholdsSet",
      minimumBlocks: "214800",
      minimumCollateral: "0",
    });
    expect(all("LiquidationThresholdsSet")[1]).to.include({ minimumBlocks: "0", minimumCollateral: s(2n * GWEI) });
    expect(all("NetworkFeeSet").map((e) => e.fee)).to.deep.equal(["0", s(GWEI)]);
    expect(first("WhitelistEnabledSet")).to.deep.equal({ type: "WhitelistEnabledSet", enabled: true });
    expect(first("OperatorWhitelistUpdated")).to.deep.equal({
      type: "OperatorWhitelistUpdated",
      account: owner.address,
      whitelisted: true,
    });
    expect(all("OperatorRegistered")).to.deep.equal(
      [spare, ...ops].map((id) => ({
        type: "OperatorRegistered",
        operatorId: s(id),
        owner: owner.address,
        publicKey: keys[Number(id)],
        fee: id === spare ? "0" : s(GWEI),
      })),
    );
    expect(all("OperatorEnclaveSet").slice(0, 5)).to.deep.equal(
      [spare, ...ops].map((id) => ({ type: "OperatorEnclaveSet", operatorId: s(id), enclave: enclaveOf[Number(id)] })),
    );
    expect(all("CommitteeCreated")).to.deep.equal([
      {
        type: "CommitteeCreated",
        committeeId: s(standby),
        owner: creator.address,
        operatorIds: [s(spare)],
        quorum: 1,
        balance: s(GWEI),
      },
      {
        type: "CommitteeCreated",
        committeeId: s(main),
        owner: creator.address,
        operatorIds: ops.map(s),
        quorum: 3,
        balance: s(ONE_ETH),
      },
    ]);
    const generation = s((await registry.committee(main)).signersGeneration);
    expect(all("CommitteeSignersUpdated")).to.deep.equal([
      { type: "CommitteeSignersUpdated", committeeId: s(standby), signers: [enclaveOf[Number(spare)]], generation },
      ...[0, 1].map(() => ({
        type: "CommitteeSignersUpdated",
        committeeId: s(main),
        signers: ops.map((id) => enclaveOf[Number(id)]),
        generation,
      })),
    ]);
    expect(all("ActiveCommitteeChanged")).to.deep.equal([
      { type: "ActiveCommitteeChanged", previous: "0", next: s(main) },
      { type: "ActiveCommitteeChanged", previous: s(main), next: s(standby) },
    ]);
    expect(all("OperatorFeeDeclared")).to.deep.equal(
      declarations.map((d) => ({
        type: "OperatorFeeDeclared",
        operatorId: s(op0),
        fee: s(raised),
        executableFrom: s(d.executableFrom),
        executableUntil: s(d.executableUntil),
      })),
    );
    expect(first("OperatorFeeDeclarationCancelled")).to.deep.equal({
      type: "OperatorFeeDeclarationCancelled",
      operatorId: s(op0),
    });
    expect(all("OperatorFeeExecuted")).to.deep.equal([
      { type: "OperatorFeeExecuted", operatorId: s(op0), fee: s(raised) },
      { type: "OperatorFeeExecuted", operatorId: s(op1), fee: s(GWEI / 2n) },
    ]);
    expect(first("CommitteeDeposited")).to.deep.equal({
      type: "CommitteeDeposited",
      committeeId: s(main),
      from: v.stranger.address,
      amount: "1234",
      balance: await balanceAt("CommitteeDeposited"),
    });
    expect(first("CommitteeWithdrawn")).to.deep.equal({
      type: "CommitteeWithdrawn",
      committeeId: s(main),
      owner: creator.address,
      amount: s(GWEI),
      balance: await balanceAt("CommitteeWithdrawn"),
    });
    expect(first("OperatorWithdrawn")).to.deep.equal({
      type: "OperatorWithdrawn",
      operatorId: s(op0),
      to: owner.address,
      amount: s(GWEI),
    });
    expect(first("NetworkEarningsWithdrawn")).to.deep.equal({
      type: "NetworkEarningsWithdrawn",
      to: v.users[5].address,
      amount: s(GWEI),
    });
    expect(first("RewardsCollected")).to.deep.equal({
      type: "RewardsCollected",
      committeeId: s(main),
      amount: s(GWEI),
    });
    expect(first("CommitteeLiquidated")).to.deep.equal({
      type: "CommitteeLiquidated",
      committeeId: s(standby),
      liquidator: v.stranger.address,
      amount: s(GWEI),
    });
    expect(first("CommitteeReactivated")).to.deep.equal({
      type: "CommitteeReactivated",
      committeeId: s(standby),
      amount: s(ONE_ETH),
      balance: await balanceAt("CommitteeReactivated"),
    });
    expect(all("PausedSet").map((e) => e.paused)).to.deep.equal([true, false]);
    expect(first("OperatorRemoved")).to.deep.equal({ type: "OperatorRemoved", operatorId: s(op3) });
    expect(all("OperatorEnclaveSet")).to.have.length(5); // removal drops the enclave without an event
    expect(expected.at(-1)?.event).to.deep.equal(first("OperatorRemoved"));

    // The in-process follower (memory checkpoint) over the same blocks delivers exactly these, in order.
    const delivered: EventJob[] = [];
    const follower = new L1EventFollower({
      provider: ethers.provider,
      decoder: fast,
      store: new MemoryCheckpointStore(),
      sink: { deliver: async (jobs) => void delivered.push(...jobs) },
      startBlock,
      logger: silentLogger(),
      options: { confirmations: 0, blockRange: 7 },
    });
    const head = await ethers.provider.getBlockNumber();
    expect(await follower.pollOnce()).to.deep.equal({
      from: startBlock,
      to: head,
      events: expected.length,
      reorged: false,
    });
    expect(delivered).to.deep.equal(expected);
    expect(await follower.pollOnce()).to.deep.equal({ from: head + 1, to: head, events: 0, reorged: false });
    // hardhat_mine's reserved blocks report a zero parent hash: the follower reads through them.
    await networkHelpers.mine(300);
    const paused = await keep(registry.connect(v.guardian).setPaused(true));
    expect(await follower.pollOnce()).to.deep.include({ to: paused.blockNumber, events: 1, reorged: false });
    expect(delivered.at(-1)?.event).to.deep.equal({ type: "PausedSet", paused: true });

    // A decoder follows its sources only: the registry's logs are not the Bridge's events.
    const bridgeOnly = new LogDecoder(Number(v.chainId), v.addresses, { sources: ["Bridge"] });
    expect(receipts.flatMap((r) => r.logs).map((l) => bridgeOnly.decode(rawOf(l)))).to.satisfy((list: unknown[]) =>
      list.every((x) => x === undefined),
    );
    expect(() => new LogDecoder(1, { Bridge: address })).to.throw(/no address for EnclaveRegistry/);
    expect(EVENT_SOURCES).to.include("OperatorRegistry");
  });
});

describe("L1EventFollower on a chain whose blocks stop linking", () => {
  it("gives up a poll after a bounded number of reorgs instead of looping", async () => {
    const hash = (n: number, salt = "a") => `0x${salt}${n.toString(16).padStart(63, "0")}`;
    let head = 10;
    let broken = false;
    let calls = 0;
    const provider = {
      async send(method: string, params: unknown[]): Promise<unknown> {
        calls++;
        if (method === "eth_blockNumber") return toQuantity(head);
        if (method === "eth_getLogs") return [];
        const n = Number(params[0]);
        // Once broken, every block names a parent that is not the block below it.
        return { number: toQuantity(n), hash: hash(n), parentHash: broken ? hash(n, "f") : hash(n - 1) };
      },
    };
    const follower = new L1EventFollower({
      provider,
      decoder: new LogDecoder(1, { OperatorRegistry: ZeroAddress }, { sources: ["OperatorRegistry"] }),
      store: new MemoryCheckpointStore(),
      sink: { deliver: async () => undefined },
      startBlock: 1,
      logger: silentLogger(),
      options: { confirmations: 0 },
    });
    expect(await follower.pollOnce()).to.deep.equal({ from: 1, to: 10, events: 0, reorged: false });
    broken = true;
    head = 11;
    calls = 0;
    await expect(follower.pollOnce()).to.be.rejectedWith(/keeps reorganizing/);
    expect(calls).to.be.below(200);
    expect((await follower.checkpoint())?.number).to.equal(10);
  });
});

describe("MemoryCheckpointStore", () => {
  const job = (blockNumber: number, logIndex: number): EventJob => ({
    ref: {
      chainId: 1,
      blockNumber,
      blockHash: `0x${blockNumber}`,
      transactionHash: "0x",
      logIndex,
      address: ZeroAddress,
    },
    event: { type: "OperatorRemoved", operatorId: String(blockNumber) } satisfies DomainEvent,
    removed: false,
  });

  it("keeps the hashes and events above keepAbove, and forgets the blocks above a rewind", async () => {
    const store = new MemoryCheckpointStore();
    expect(await store.load()).to.equal(null);
    const hashes = new Map([1, 2, 3, 4].map((n) => [n, `0xh${n}`]));
    await store.advance(
      { number: 4, hash: "0xh4" },
      hashes,
      new Map([
        [2, [job(2, 0)]],
        [4, [job(4, 0), job(4, 1)]],
      ]),
      1,
    );
    expect(await store.load()).to.deep.equal({ number: 4, hash: "0xh4" });
    expect([...(await store.recentHashes()).keys()].sort()).to.deep.equal([2, 3, 4]);
    expect([...(await store.eventsOf([1, 2, 3, 4])).keys()]).to.deep.equal([2, 4]);

    await store.advance(
      { number: 6, hash: "0xh6" },
      new Map([
        [5, "0xh5"],
        [6, "0xh6"],
      ]),
      new Map(),
      3,
    );
    expect([...(await store.recentHashes()).keys()].sort()).to.deep.equal([4, 5, 6]);
    expect([...(await store.eventsOf([2, 4])).keys()]).to.deep.equal([4]);

    await store.rewind({ number: 4, hash: "0xh4" });
    expect(await store.load()).to.deep.equal({ number: 4, hash: "0xh4" });
    expect([...(await store.recentHashes()).keys()]).to.deep.equal([4]);
    expect((await store.eventsOf([4])).get(4)).to.deep.equal([job(4, 0), job(4, 1)]);
    await store.rewind({ number: 2, hash: null });
    expect(await store.load()).to.deep.equal({ number: 2, hash: null });
    expect((await store.recentHashes()).size).to.equal(0);
  });
});
