/**
 * enclave/committee/registry-view.ts against a real OperatorRegistry on Hardhat's L1: the view a node
 * builds from the registry's events alone matches the contract's own answers (operators, enclaves,
 * committees and their signers, the active committee), including after incremental syncs.
 */
import { expect } from "chai";
import { Wallet, solidityPackedKeccak256 } from "ethers";
import { network } from "hardhat";

import { OperatorRegistryView } from "../../enclave/committee/registry-view.js";
import {
  FeeVault__factory,
  MockEnclaveRegistry__factory,
  OperatorRegistry__factory,
} from "../../types/ethers-contracts/index.js";
import { govern } from "../../testing/governance.js";
import { deployVeilnet } from "../../testing/veilnet.js";

const connection = await network.create();
const GWEI = 10n ** 9n;

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
});
