import { expect } from "chai";
import { network } from "hardhat";

import {
  withdrawalMessages,
  deployVeilnet,
  initializeGenesis,
  submitRollup,
  passChallengePeriod,
} from "./helpers/veilnet.js";

describe("smoke", () => {
  it("deploys, initializes, rolls up and withdraws", async () => {
    const connection = await network.create();
    const v = await deployVeilnet(connection);
    const genesis = await initializeGenesis(v);
    const [alice] = v.users;
    await (await v.bridge.connect(alice).depositNative(alice.address, { value: 10n ** 18n })).wait();
    const msgs = await withdrawalMessages(v, [
      { to: alice.address, amount: 10n ** 17n },
      { to: alice.address, amount: 1n },
    ]);
    const { tree } = await submitRollup(v, genesis, msgs);
    await passChallengePeriod(v);
    const tx = await v.messenger.relayMessageWithProof(msgs[0], tree!.proof(0), tree!.root);
    const rc = await tx.wait();
    console.log("relay gas", rc!.gasUsed);
    expect(await v.messenger.isRelayed(0n)).to.equal(true);
  });
});
