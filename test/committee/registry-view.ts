/**
 * enclave/committee/registry-view.ts against a real OperatorRegistry on Hardhat's L1: the view a node
 * builds from the registry's events alone matches the contract's own answers (operators, enclaves,
 * committees and their signers, the active committee), including after incremental syncs; an L1 reorg
 * takes the abandoned branch's events out of the view and applies the new branch's; the confirmation
 * depth holds events back. And, without a chain, the reducer: compensations of any suffix of events
 * followed by a replacement branch leave the state of the surviving events plus the replacement.
 */
import { expect } from "chai";
import { Wallet, ZeroAddress, solidityPackedKeccak256 } from "ethers";
import fc from "fast-check";
import { network } from "hardhat";

import { type CommitteeView, type OperatorView, OperatorRegistryView } from "../../enclave/committee/registry-view.js";
import type { EventJob, OperatorRegistryEvent } from "../../platform/events.js";
import {
  FeeVault__factory,
  MockEnclaveRegistry__factory,
  type MockEnclaveRegistry,
  type OperatorRegistry,
  OperatorRegistry__factory,
} from "../../types/ethers-contracts/index.js";
import { govern } from "../../testing/governance.js";
import { type Veilnet, deployVeilnet } from "../../testing/veilnet.js";

const connection = await network.create();
const provider = connection.ethers.provider;
const GWEI = 10n ** 9n;

interface Setup {
  v: Veilnet;
  registry: OperatorRegistry;
  enclaves: MockEnclaveRegistry;
  address: string;
  fromBlock: number;
}

/** An OperatorRegistry (admin: the suite's timelock) over a mock EnclaveRegistry. */
async function setup(): Promise<Setup> {
  const v = await deployVeilnet(connection);
  const enclaves = await new MockEnclaveRegistry__factory(v.deployer).deploy();
  const vault = await new FeeVault__factory(v.deployer).deploy(v.admin.address, 0n, v.guardian.address, 0n, 0n, 0);
  const registry = await new OperatorRegistry__factory(v.deployer).deploy(
    await v.timelock.getAddress(),
    0n,
    v.guardian.address,
    v.users[7].address,
    await enclaves.getAddress(),
    await vault.getAddress(),
    10n * GWEI,
  );
  return { v, registry, enclaves, address: await registry.getAddress(), fromBlock: await provider.getBlockNumber() };
}

/** A fresh attested enclave bound to operator `id` (owner `v.users[8]`). */
async function newEnclave(s: Setup, id: number): Promise<string> {
  const owner = s.v.users[8];
  const enclave = Wallet.createRandom().address;
  await (await s.enclaves.grantSequencer(enclave, owner.address)).wait();
  await (await s.registry.connect(owner).setOperatorEnclave(id, enclave)).wait();
  return enclave;
}

/** The view's state, comparable with deep equality. */
function stateOf(view: OperatorRegistryView) {
  const committee = (c: CommitteeView) => ({ ...c, everSigners: [...c.everSigners].sort() });
  return {
    operators: [...view.operators.values()].map((o: OperatorView) => ({ ...o })),
    committees: [...view.committees.values()].map(committee),
    activeId: view.activeId,
  };
}

describe("the operator registry view (from events)", function () {
  it("matches the contract: operators, enclaves, committees, signers, the active committee", async () => {
    const v = await deployVeilnet(connection);
    const [initializer, owner] = [v.users[7], v.users[8]];
    const enclaves = await new MockEnclaveRegistry__factory(v.deployer).deploy();
    const vault = await new FeeVault__factory(v.deployer).deploy(v.admin.address, 0n, v.guardian.address, 0n, 0n, 0);
    const registry = await new OperatorRegistry__factory(v.deployer).deploy(
      await v.timelock.getAddress(),
      0n,
      v.guardian.address,
      initializer.address,
      await enclaves.getAddress(),
      await vault.getAddress(),
      10n * GWEI,
    );
    const provider = connection.ethers.provider;
    const fromBlock = await provider.getBlockNumber();
    const view = new OperatorRegistryView({ provider, address: await registry.getAddress(), fromBlock });

    const ids: number[] = [];
    const enclaveOf = new Map<number, string>();
    for (let i = 0; i < 4; i++) {
      const key = Wallet.createRandom().signingKey.compressedPublicKey;
      await (await registry.connect(owner).registerOperator(key, GWEI)).wait();
      const id = Number(await registry.operatorIdOf(key));
      const enclave = Wallet.createRandom().address;
      await (await enclaves.grantSequencer(enclave, owner.address)).wait();
      await (await registry.connect(owner).setOperatorEnclave(id, enclave)).wait();
      ids.push(id);
      enclaveOf.set(id, enclave);
    }
    await view.sync();
    expect([...view.operators.keys()]).to.deep.equal(ids);
    expect(view.operators.get(ids[0]!)?.enclave).to.equal(enclaveOf.get(ids[0]!));
    expect(view.active()).to.equal(undefined);

    await (await registry.connect(owner).createCommittee(ids, { value: 10n ** 18n })).wait();
    await (await registry.connect(initializer).initializeActiveCommittee(1)).wait();
    await view.sync();
    const active = view.active();
    expect(active?.operatorIds).to.deep.equal(ids);
    expect(active?.quorum).to.equal(3);
    expect(view.activeMembers()).to.deep.equal(new Map(ids.map((id) => [id, enclaveOf.get(id)!])));
    const onChain = await registry.committee(1);
    expect(solidityPackedKeccak256(["address[]"], [active?.signers ?? []])).to.equal(onChain.signersHash);

    // A committee of one, made active through the timelock; then a new enclave for operator 1.
    await (await registry.connect(owner).createCommittee([ids[0]!], { value: 10n ** 18n })).wait();
    await (await govern(v, registry, "setActiveCommittee", [2])).wait();
    const replacement = Wallet.createRandom().address;
    await (await enclaves.grantSequencer(replacement, owner.address)).wait();
    await (await registry.connect(owner).setOperatorEnclave(ids[0]!, replacement)).wait();
    await (await registry.refreshCommitteeSigners(2)).wait();
    await view.sync();
    expect(view.activeId).to.equal(2);
    expect(view.activeMembers()).to.deep.equal(new Map([[ids[0]!, replacement]]));
    expect(view.committees.get(1)?.signers[0]).to.equal(enclaveOf.get(ids[0]!)); // not refreshed
    expect(await view.sync()).to.equal(0);
  });

  it("undoes a reorg: the abandoned branch's active-committee change and signers leave the view, the new branch's apply", async () => {
    const s = await setup();
    const { v, registry } = s;
    const owner = v.users[8];
    const view = new OperatorRegistryView({ provider, address: s.address, fromBlock: s.fromBlock });
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) {
      await (
        await registry.connect(owner).registerOperator(Wallet.createRandom().signingKey.compressedPublicKey, GWEI)
      ).wait();
      ids.push(Number(await registry.operatorCount()));
      await newEnclave(s, ids[i]!);
    }
    await (await registry.connect(owner).createCommittee(ids, { value: 10n ** 18n })).wait();
    await (await registry.connect(owner).createCommittee([ids[0]!], { value: 10n ** 18n })).wait();
    await (await registry.connect(v.users[7]).initializeActiveCommittee(1)).wait();
    await view.sync();
    expect(view.activeId).to.equal(1);
    const before = stateOf(view);

    // Branch A: committee 2 becomes active (through the timelock), operator 1 gets enclave X, committee 1 refreshed.
    const snapshot = (await provider.send("evm_snapshot", [])) as string;
    await (await govern(v, registry, "setActiveCommittee", [2])).wait();
    const x = await newEnclave(s, ids[0]!);
    await (await registry.refreshCommitteeSigners(1)).wait();
    const headA = await provider.getBlockNumber();
    await view.sync();
    expect(view.activeId).to.equal(2);
    expect(view.committees.get(1)?.signers[0]).to.equal(x);
    expect(view.committees.get(1)?.everSigners.has(x.toLowerCase())).to.equal(true);

    // Branch B, longer than A: operator 1 gets enclave Y instead, committee 1 refreshed; committee 1 stays active.
    expect(await provider.send("evm_revert", [snapshot])).to.equal(true);
    const y = await newEnclave(s, ids[0]!);
    await (await registry.refreshCommitteeSigners(1)).wait();
    await connection.networkHelpers.mine(headA + 2 - (await provider.getBlockNumber()));
    expect(await provider.getBlockNumber()).to.equal(headA + 2);
    await view.sync();
    expect(view.activeId).to.equal(1);
    const c1 = view.committees.get(1)!;
    expect(c1.signers[0]).to.equal(y);
    expect(c1.everSigners.has(x.toLowerCase())).to.equal(false);
    expect(c1.everSigners.has(y.toLowerCase())).to.equal(true);
    expect(view.operators.get(ids[0]!)?.enclave).to.equal(y);
    expect(solidityPackedKeccak256(["address[]"], [c1.signers])).to.equal((await registry.committee(1)).signersHash);
    expect(view.activeMembers()).to.deep.equal(
      new Map(ids.map((id, i) => [id, i === 0 ? y : before.committees[0]!.signers[i]!])),
    );
    // The same state as a view that never saw branch A.
    const fresh = new OperatorRegistryView({ provider, address: s.address, fromBlock: s.fromBlock });
    await fresh.sync();
    expect(stateOf(view)).to.deep.equal(stateOf(fresh));
    expect(view.eventCount).to.equal(fresh.eventCount);

    // A shorter replacement branch (one block where B had several) is undone too.
    const again = (await provider.send("evm_snapshot", [])) as string;
    await (await registry.connect(owner).removeOperator(ids[3]!)).wait();
    await view.sync();
    expect(view.operators.get(ids[3]!)).to.include({ removed: true, fee: 0n, enclave: undefined });
    expect(await provider.send("evm_revert", [again])).to.equal(true);
    await view.sync();
    expect(view.operators.get(ids[3]!)?.removed).to.equal(false);
    expect(stateOf(view)).to.deep.equal(stateOf(fresh));

    // With a confirmation depth, an event counts once it has that many blocks on top of it.
    const deep = new OperatorRegistryView({ provider, address: s.address, fromBlock: s.fromBlock, confirmations: 2 });
    await deep.sync();
    expect(stateOf(deep)).to.deep.equal(stateOf(fresh));
    await (await registry.connect(owner).reduceOperatorFee(ids[1]!, 1n)).wait();
    expect(await deep.sync()).to.equal(0);
    expect(deep.operators.get(ids[1]!)?.fee).to.equal(GWEI);
    await connection.networkHelpers.mine(1);
    expect(await deep.sync()).to.equal(0);
    await connection.networkHelpers.mine(1);
    expect(await deep.sync()).to.equal(1);
    expect(deep.operators.get(ids[1]!)?.fee).to.equal(1n);
  });
});

describe("the operator registry view's reducer (compensations)", () => {
  const ADDRESSES = [1, 2, 3].map((i) => `0x${String(i).repeat(40)}`);
  const id = fc.integer({ min: 1, max: 3 }).map(String);
  const event: fc.Arbitrary<OperatorRegistryEvent> = fc.oneof(
    fc.record({
      type: fc.constant("OperatorRegistered" as const),
      operatorId: id,
      owner: fc.constantFrom(...ADDRESSES),
      publicKey: fc.constant("0x02"),
      fee: fc.bigInt({ min: 0n, max: 10n }).map(String),
    }),
    fc.record({
      type: fc.constant("OperatorEnclaveSet" as const),
      operatorId: id,
      enclave: fc.constantFrom(...ADDRESSES),
    }),
    fc.record({ type: fc.constant("OperatorRemoved" as const), operatorId: id }),
    fc.record({
      type: fc.constant("OperatorFeeExecuted" as const),
      operatorId: id,
      fee: fc.bigInt({ min: 0n, max: 10n }).map(String),
    }),
    fc.record({
      type: fc.constant("CommitteeCreated" as const),
      committeeId: id,
      owner: fc.constantFrom(...ADDRESSES),
      operatorIds: fc.array(id, { minLength: 1, maxLength: 3 }),
      quorum: fc.constantFrom(1, 3),
      balance: fc.constant("1"),
    }),
    fc.record({
      type: fc.constant("CommitteeSignersUpdated" as const),
      committeeId: id,
      signers: fc.array(fc.constantFrom(...ADDRESSES), { minLength: 1, maxLength: 3 }),
      generation: fc.constant("0"),
    }),
    fc.record({
      type: fc.constant("CommitteeLiquidated" as const),
      committeeId: id,
      liquidator: fc.constant(ZeroAddress),
      amount: fc.constant("0"),
    }),
    fc.record({
      type: fc.constant("CommitteeReactivated" as const),
      committeeId: id,
      amount: fc.constant("0"),
      balance: fc.constant("0"),
    }),
    fc.record({
      type: fc.constant("ActiveCommitteeChanged" as const),
      previous: fc.constant("0"),
      next: fc.integer({ min: 0, max: 3 }).map(String),
    }),
    fc.record({
      type: fc.constant("CommitteeDeposited" as const),
      committeeId: id,
      from: fc.constant(ZeroAddress),
      amount: fc.constant("1"),
      balance: fc.constant("1"),
    }),
  );
  /** Jobs of `events`, two per block from block `from`, on branch `branch` (its block hashes). */
  const jobsOf = (events: OperatorRegistryEvent[], from: number, branch: string): EventJob[] =>
    events.map((e, i) => {
      const blockNumber = from + Math.floor(i / 2);
      return {
        ref: {
          chainId: 31337,
          blockNumber,
          blockHash: `0x${branch}${blockNumber.toString(16).padStart(63, "0")}`,
          transactionHash: "0x",
          logIndex: i % 2,
          address: ZeroAddress,
        },
        event: e,
        removed: false,
      };
    });

  it("after compensations of a suffix (newest first) and a new branch, equals the surviving events plus the branch", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(event, { maxLength: 30 }),
        fc.array(event, { maxLength: 12 }),
        fc.nat(),
        fc.boolean(),
        async (events, replacement, cut, redeliver) => {
          const kept = events.length === 0 ? 0 : cut % (events.length + 1);
          const keepBlocks = Math.ceil(kept / 2);
          const original = jobsOf(events, 1, "a");
          const survivors = original.filter((j) => j.ref.blockNumber <= keepBlocks);
          const abandoned = original.filter((j) => j.ref.blockNumber > keepBlocks);
          const branch = jobsOf(replacement, keepBlocks + 1, "b");

          const view = new OperatorRegistryView();
          await view.deliver(original);
          if (redeliver) await view.deliver(original); // idempotent
          await view.deliver([...abandoned].reverse().map((j) => ({ ...j, removed: true })));
          await view.deliver(branch);

          const expected = new OperatorRegistryView();
          await expected.deliver([...survivors, ...branch]);
          expect(stateOf(view)).to.deep.equal(stateOf(expected));
          expect(view.eventCount).to.equal(survivors.length + branch.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("ignores a compensation of an event it does not hold, and an event delivered twice", async () => {
    const [a, b] = jobsOf(
      [
        {
          type: "CommitteeCreated",
          committeeId: "1",
          owner: ADDRESSES[0]!,
          operatorIds: ["1"],
          quorum: 1,
          balance: "0",
        },
        { type: "ActiveCommitteeChanged", previous: "0", next: "1" },
      ],
      5,
      "c",
    ) as [EventJob, EventJob];
    const view = new OperatorRegistryView();
    await view.deliver([a, b, b]);
    expect(view.eventCount).to.equal(2);
    await view.deliver([{ ...b, ref: { ...b.ref, blockHash: `0x${"d".repeat(64)}` }, removed: true }]);
    expect(view.activeId).to.equal(1);
    await view.deliver([{ ...b, removed: true }]);
    expect(view.activeId).to.equal(undefined);
    expect(view.committees.get(1)?.operatorIds).to.deep.equal([1]);
    await expect(view.sync()).to.be.rejectedWith(/no L1 source/);
  });
});
