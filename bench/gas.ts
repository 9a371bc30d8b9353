/**
 * Gas figures of Veilnet's L1 operations: receipt gasUsed (21,000 intrinsic included) on Hardhat's
 * in-process network. Prints a table and writes bench/results/gas.json (the committed gas snapshot).
 *
 *   npm run bench:gas          measure and write the snapshot
 *   npm run bench:gas:check    measure and compare with the snapshot: fails when an operation costs more
 *                              than 1% over it (random hashes move calldata cost by a few dozen gas)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import type { ContractTransactionResponse } from "ethers";
import { Wallet, ZeroHash, hexlify, randomBytes } from "ethers";
import { network } from "hardhat";

import { blobCommitments, kzg, toBlobs } from "../protocol/blobs.js";
import { MessageTree } from "../protocol/messages.js";
import type { CommitteeSignatures, RollupHeader } from "../protocol/rollup.js";
import { secretRequestFields } from "../protocol/secret.js";
import { TestToken__factory } from "../types/ethers-contracts/index.js";
import { thresholdFor } from "../platform/bls/index.js";
import {
  type CommitteeRig,
  dealRigKey,
  deployCommitteeRig,
  nextRigHeader,
  rigKeyRegistration,
  signRigBits,
  thresholdSignRigBits,
} from "../testing/committee.js";
import { at, only } from "../testing/defined.js";
import {
  deployVeilnet,
  initializeGenesis,
  makeEnclave,
  nextRollupHeader,
  passChallengePeriod,
  secretResponse,
  signRollup,
  testEpochKey,
  withdrawalMessages,
  rollupArgs,
} from "../testing/veilnet.js";

interface Row {
  operation: string;
  gas: number;
  target?: number;
  note?: string;
}

const rows: Row[] = [];

async function measure(
  operation: string,
  send: Promise<ContractTransactionResponse>,
  extra: Omit<Row, "operation" | "gas"> = {},
): Promise<bigint> {
  const receipt = await (await send).wait();
  if (receipt === null || receipt.status !== 1) throw new Error(`${operation} failed`);
  rows.push({ operation, gas: Number(receipt.gasUsed), ...extra });
  return receipt.gasUsed;
}

const connection = await network.create();
const v = await deployVeilnet(connection, { baseReward: 10n ** 15n, perBatchReward: 10n ** 14n });
const { ethers } = connection;
const [alice, bob] = v.users;
const genesis = await initializeGenesis(v);
// Fund the reward budget so rewards accrue (and claimRewards has something to pay).
await (await v.admin.sendTransaction({ to: await v.feeVault.getAddress(), value: 10n ** 18n })).wait();

// --- deposits ---------------------------------------------------------------------------------
await (await v.bridge.connect(bob).depositNative(bob.address, { value: 1n })).wait(); // warm the bus nonce
await measure("depositNative", v.bridge.connect(alice).depositNative(alice.address, { value: 10n ** 17n }), {
  target: 45_000,
});
await measure(
  "depositNativeWithMaxFee",
  v.bridge.connect(alice).depositNativeWithMaxFee(alice.address, 0n, { value: 10n ** 17n }),
  { target: 45_000 },
);

const token = await new TestToken__factory(v.admin).deploy("Test Token", "TT", 18);
await (await token.mint(alice.address, 10n ** 24n)).wait();
await measure("registerToken", v.bridge.connect(alice).registerToken(await token.getAddress()), { target: 95_000 });
await (await token.connect(alice).approve(await v.bridge.getAddress(), 2n ** 255n)).wait();
await measure(
  "depositERC20 (first deposit of the token)",
  v.bridge.connect(alice).depositERC20(await token.getAddress(), 10n ** 18n, alice.address),
);
await measure(
  "depositERC20 (later deposit)",
  v.bridge.connect(alice).depositERC20(await token.getAddress(), 10n ** 18n, alice.address),
  { target: 70_000 },
);

// --- rollups ----------------------------------------------------------------------------------
const withdrawals = await withdrawalMessages(
  v,
  Array.from({ length: 1024 }, (_, i) => ({
    to: i % 2 === 0 ? alice.address : bob.address,
    amount: 1000n + BigInt(i),
  })),
);
const tree = new MessageTree(withdrawals);
{
  const payload = hexlify(randomBytes(10_240));
  const { header } = await nextRollupHeader(v, {
    payload,
    messageRoot: tree.root,
    lastBatchSeq: (await v.rollupRegistry.nextBatchSeq()) + 9n,
  });
  const signature = await signRollup(v, genesis, header);
  await measure(
    "addRollup (header + 10 kB calldata payload, 10 batches)",
    v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)),
    {
      note: "10 kB of incompressible calldata is priced at the EIP-7623 floor (10 gas per token)",
    },
  );
}
// The header's own cost: the payload travels in a blob (type-3 transaction), so the transaction's gas is
// the header, its checks and its effects; blob gas is paid separately in the blob fee market.
const blobSender = new Wallet(Wallet.createRandom().privateKey, ethers.provider);
await connection.networkHelpers.setBalance(blobSender.address, 10n ** 20n);
async function addRollupWithBlob(operation: string, messageRoot: string, target?: number): Promise<void> {
  const blobs = toBlobs(randomBytes(10_240));
  const { versionedHash } = only(blobCommitments(blobs), "blob commitment");
  const { header } = await nextRollupHeader(v, { payload: "0x", payloadHash: versionedHash, messageRoot });
  const signature = await signRollup(v, genesis, header);
  const data = v.rollupRegistry.interface.encodeFunctionData("addRollup", rollupArgs(header, "0x", signature));
  const send = blobSender.sendTransaction({
    to: await v.rollupRegistry.getAddress(),
    data,
    type: 3,
    blobs,
    kzg: kzg(),
    maxFeePerBlobGas: 10n ** 10n,
    gasLimit: 300_000n, // Hardhat's gas estimation does not see blobs
  });
  await measure(operation, send as Promise<ContractTransactionResponse>, {
    target,
    note: "payload in one blob (131,072 blob gas, separate fee market)",
  });
}
const headerOnlyTree = new MessageTree(await withdrawalMessages(v, [{ to: alice.address, amount: 1n }], 5000n));
await addRollupWithBlob("addRollup (header alone, with message root)", headerOnlyTree.root, 100_000);
await addRollupWithBlob("addRollup (header alone, no messages)", ZeroHash);

// Committees of n = 3f + 1 signing with their quorum 2f + 1: a RollupRegistry of its own whose
// OperatorRegistry is the test double (testing/committee.ts), rewards funded as above. The second rollup
// of each is measured (the first pays for the first write of lastBatchHash and the epoch's commitment).

/** A committee rig of `size` (quorum 2f + 1) with its FeeVault funded. */
async function fundedRig(size: number): Promise<CommitteeRig> {
  const rig = await deployCommitteeRig(v, size, thresholdFor(size), { base: 10n ** 15n, perBatch: 10n ** 14n });
  await (await v.admin.sendTransaction({ to: await rig.vault.getAddress(), value: 10n ** 18n })).wait();
  return rig;
}

/** Two blob rollups signed by `sign` (the quorum's bits 0…q-1); measures the second as `operation`. */
async function measureRigRollups(
  rig: CommitteeRig,
  sign: (header: RollupHeader, bits: number[]) => Promise<CommitteeSignatures>,
  operation: string,
  extra: Omit<Row, "operation" | "gas">,
): Promise<void> {
  const bits = Array.from({ length: thresholdFor(rig.members.length) }, (_, i) => i);
  for (const measured of [false, true]) {
    const blobs = toBlobs(randomBytes(10_240));
    const { versionedHash } = only(blobCommitments(blobs), "blob commitment");
    const { header } = await nextRigHeader(v, rig, { payload: "0x", payloadHash: versionedHash });
    const signed = await sign(header, bits);
    const send = blobSender.sendTransaction({
      to: await rig.registry.getAddress(),
      data: rig.registry.interface.encodeFunctionData("addRollup", rollupArgs(header, "0x", signed)),
      type: 3,
      blobs,
      kzg: kzg(),
      maxFeePerBlobGas: 10n ** 10n,
      gasLimit: 400_000n,
    });
    if (measured) await measure(operation, send as Promise<ContractTransactionResponse>, extra);
    else await (await send).wait();
  }
}

for (const size of [1, 4, 7, 10, 13]) {
  const rig = await fundedRig(size);
  await measureRigRollups(
    rig,
    (header, bits) => signRigBits(v, rig, header, bits),
    `addRollup (header alone, no messages, committee of ${size})`,
    {
      target: size === 13 ? 150_000 : undefined,
      note: `${thresholdFor(size)} of ${size} signatures; payload in one blob`,
    },
  );
}

// The same committees signing with their threshold BLS12-381 key (DESIGN §9.4): one G1 signature
// recovered from the quorum's shares (and the G2 key, which L1 checks against the hash it registered),
// verified with the EIP-2537 precompiles. The key is registered first (every member's approval and a
// proof of possession).
for (const size of [4, 7, 10, 13]) {
  const rig = await fundedRig(size);
  const key = await dealRigKey(rig);
  await measure(
    `registerCommitteeKey (committee of ${size})`,
    rig.registry.registerCommitteeKey(...(await rigKeyRegistration(v, rig, key))),
    { note: `${size} enclave approvals (ECDSA) and a proof of possession (BLS12-381 pairing)` },
  );
  await measureRigRollups(
    rig,
    (header, bits) => thresholdSignRigBits(v, rig, key, header, bits),
    `addRollup (header alone, no messages, committee of ${size}, threshold signature)`,
    {
      target: size === 13 ? 230_000 : undefined,
      note: `one BLS12-381 signature from ${thresholdFor(size)} of ${size} shares; payload in one blob`,
    },
  );
}

// --- withdrawals ------------------------------------------------------------------------------
await passChallengePeriod(v);
await measure(
  "relay ETH withdrawal, 1,024-leaf tree (first in bitmap word)",
  v.messenger.connect(bob).relayMessageWithProof(at(withdrawals, 0, "withdrawal"), tree.proof(0), tree.root),
);
await measure(
  "relay ETH withdrawal, 1,024-leaf tree",
  v.messenger.connect(bob).relayMessageWithProof(at(withdrawals, 2, "withdrawal"), tree.proof(2), tree.root),
  { target: 75_000 },
);

// --- revelation -------------------------------------------------------------------------------
// The rollups above are in epoch 0 (committing testEpochKey(0)); its key is public from revealableAt(0).
await connection.networkHelpers.mineUpTo(await v.rollupRegistry.revealableAt(0n));
await measure("revealEpochKey", v.rollupRegistry.connect(bob).revealEpochKey(0n, testEpochKey(0n)));

// --- network secret ---------------------------------------------------------------------------
const newcomer = await makeEnclave(v);
const requestTx = v.enclaveRegistry.connect(bob).requestNetworkSecret(newcomer.report, { value: 10n ** 16n });
await measure("requestNetworkSecret", requestTx, { target: 60_000 });
const requested = (await (await requestTx).wait())!.logs
  .map((l) => v.enclaveRegistry.interface.parseLog(l))
  .find((p) => p?.name === "NetworkSecretRequested")!;
const requestId = requested.args.requestId as bigint;
const response = await secretResponse(v, genesis, requestId, newcomer.publicKey, genesis.secret);
await measure(
  "respondNetworkSecret",
  v.enclaveRegistry
    .connect(alice)
    .respondNetworkSecret(
      requestId,
      secretRequestFields(requested.args.toObject() as never),
      newcomer.report,
      response.encryptedSecret,
      response.signature,
    ),
  { target: 80_000 },
);

// --- rewards ----------------------------------------------------------------------------------
// Rewards accrue to the OperatorRegistry; collectRewards claims them into the active committee's balance.
await measure("collectRewards (OperatorRegistry, FeeVault.claimRewards inside)", v.operatorRegistry.collectRewards(), {
  note: "anyone may call it",
});

// --- rejection --------------------------------------------------------------------------------
// The guardian rejects a rollup inside its challenge period (the bench's blob sender posts it).
{
  const rejectTree = new MessageTree(await withdrawalMessages(v, [{ to: alice.address, amount: 2n }], 9000n));
  const { header, payload } = await nextRollupHeader(v, { messageRoot: rejectTree.root });
  const signature = await signRollup(v, genesis, header);
  await (await v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature))).wait();
  await measure("rejectRollup", v.rollupRegistry.connect(v.admin).rejectRollup(header));
}

// --- report -----------------------------------------------------------------------------------
const width = Math.max(...rows.map((r) => r.operation.length));
console.log(`\nVeilnet L1 gas (receipt gasUsed, 21,000 included) — chain ${v.chainId}\n`);
console.log(`${"operation".padEnd(width)}  ${"gas".padStart(8)}  ${"target".padStart(8)}  result`);
for (const r of rows) {
  const result = r.target === undefined ? "" : r.gas <= r.target ? "ok" : "MISSED";
  console.log(
    `${r.operation.padEnd(width)}  ${r.gas.toLocaleString("en-US").padStart(8)}  ${(r.target?.toLocaleString("en-US") ?? "").padStart(8)}  ${result}`,
  );
}
const out = join(dirname(fileURLToPath(import.meta.url)), "results", "gas.json");
if (process.env.GAS_CHECK === "1") {
  if (!existsSync(out)) throw new Error(`no gas snapshot at ${out}: run npm run bench:gas first`);
  const snapshot = (JSON.parse(readFileSync(out, "utf8")) as { rows: Row[] }).rows;
  const before = new Map(snapshot.map((r) => [r.operation, r.gas]));
  const worse: string[] = [];
  console.log("\ncompared with the snapshot:");
  for (const r of rows) {
    const old = before.get(r.operation);
    if (old === undefined) {
      worse.push(`${r.operation}: not in the snapshot (run npm run bench:gas to record it)`);
      continue;
    }
    const delta = r.gas - old;
    console.log(`  ${r.operation.padEnd(width)}  ${delta >= 0 ? "+" : ""}${delta}`);
    if (r.gas > old * 1.01) worse.push(`${r.operation}: ${old} -> ${r.gas}`);
  }
  if (worse.length > 0) {
    console.error(`\ngas regressions over 1%:\n  ${worse.join("\n  ")}`);
    process.exitCode = 1;
  } else {
    console.log("\nno regression over 1%");
  }
} else {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      { measuredAt: new Date().toISOString(), chainId: Number(v.chainId), hardfork: "osaka (EDR default)", rows },
      null,
      2,
    ) + "\n",
  );
  console.log(`\nwritten ${out}`);
}
