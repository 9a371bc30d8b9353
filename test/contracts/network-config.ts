import { expect } from "chai";
import { Wallet, hexlify, toUtf8Bytes } from "ethers";
import { network } from "hardhat";

import { type Veilnet, deployVeilnet } from "../helpers/veilnet.js";

const connection = await network.create();
const { networkHelpers } = connection;

async function fixture(): Promise<Veilnet> {
  return deployVeilnet(connection);
}

/** The names the deployment module books (the order among them is Ignition's choice). */
const DEPLOYED_NAMES = [
  "SignedReportVerifier",
  "EnclaveRegistry",
  "FeeVault",
  "MessageBus",
  "RollupRegistry",
  "CrossChainMessenger",
  "Bridge",
];

describe("NetworkConfig", () => {
  describe("deployment", () => {
    it("books every deployed contract under its name", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const getAddress = v.networkConfig.getFunction("getAddress");
      expect(await getAddress("Bridge")).to.equal(await v.bridge.getAddress());
      expect(await getAddress("EnclaveRegistry")).to.equal(await v.enclaveRegistry.getAddress());
      expect(await getAddress("SignedReportVerifier")).to.equal(await v.verifier.getAddress());
      expect(await getAddress("RollupRegistry")).to.equal(await v.rollupRegistry.getAddress());
      expect([...(await v.networkConfig.names())].sort()).to.deep.equal([...DEPLOYED_NAMES].sort());
    });

    it("gives the admin DEFAULT_ADMIN_ROLE and CONFIG_ADMIN_ROLE, and nobody else", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const configAdmin = await v.networkConfig.CONFIG_ADMIN_ROLE();
      const defaultAdmin = await v.networkConfig.DEFAULT_ADMIN_ROLE();
      expect(await v.networkConfig.hasRole(configAdmin, v.admin.address)).to.equal(true);
      expect(await v.networkConfig.hasRole(defaultAdmin, v.admin.address)).to.equal(true);
      expect(await v.networkConfig.hasRole(configAdmin, v.stranger.address)).to.equal(false);
    });
  });

  describe("setAddress / getAddress", () => {
    it("round-trips an address and emits NetworkAddressSet", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const addr = Wallet.createRandom().address;
      await expect(v.networkConfig.setAddress("Sequencer", addr))
        .to.emit(v.networkConfig, "NetworkAddressSet")
        .withArgs("Sequencer", addr);
      expect(await v.networkConfig.getFunction("getAddress")("Sequencer")).to.equal(addr);
    });

    it("overwrites an existing name", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const addr = Wallet.createRandom().address;
      await expect(v.networkConfig.setAddress("Bridge", addr))
        .to.emit(v.networkConfig, "NetworkAddressSet")
        .withArgs("Bridge", addr);
      expect(await v.networkConfig.getFunction("getAddress")("Bridge")).to.equal(addr);
    });

    it("names are case- and byte-exact", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      await expect(v.networkConfig.getFunction("getAddress")("bridge"))
        .to.be.revertedWithCustomError(v.networkConfig, "AddressNotSet")
        .withArgs("bridge");
      await expect(v.networkConfig.getFunction("getAddress")("Bridge "))
        .to.be.revertedWithCustomError(v.networkConfig, "AddressNotSet")
        .withArgs("Bridge ");
    });

    it("reverts AddressNotSet for an unknown name", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      await expect(v.networkConfig.getFunction("getAddress")("Nope"))
        .to.be.revertedWithCustomError(v.networkConfig, "AddressNotSet")
        .withArgs("Nope");
    });

    it("clears a name with the zero address: getAddress reverts again, the name stays listed", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const before = await v.networkConfig.names();
      await expect(v.networkConfig.setAddress("Bridge", "0x0000000000000000000000000000000000000000"))
        .to.emit(v.networkConfig, "NetworkAddressSet")
        .withArgs("Bridge", "0x0000000000000000000000000000000000000000");
      await expect(v.networkConfig.getFunction("getAddress")("Bridge"))
        .to.be.revertedWithCustomError(v.networkConfig, "AddressNotSet")
        .withArgs("Bridge");
      expect(await v.networkConfig.names()).to.deep.equal(before);
    });

    it("reverts EmptyName for an empty name", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      await expect(v.networkConfig.setAddress("", Wallet.createRandom().address)).to.be.revertedWithCustomError(
        v.networkConfig,
        "EmptyName",
      );
    });

    it("rejects a caller without CONFIG_ADMIN_ROLE", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const role = await v.networkConfig.CONFIG_ADMIN_ROLE();
      await expect(v.networkConfig.connect(v.stranger).setAddress("Bridge", v.stranger.address))
        .to.be.revertedWithCustomError(v.networkConfig, "AccessControlUnauthorizedAccount")
        .withArgs(v.stranger.address, role);
      expect(await v.networkConfig.getFunction("getAddress")("Bridge")).to.equal(await v.bridge.getAddress());
    });

    it("accepts a caller once CONFIG_ADMIN_ROLE is granted", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const role = await v.networkConfig.CONFIG_ADMIN_ROLE();
      await (await v.networkConfig.grantRole(role, v.stranger.address)).wait();
      await expect(v.networkConfig.connect(v.stranger).setAddress("Gateway", v.stranger.address))
        .to.emit(v.networkConfig, "NetworkAddressSet")
        .withArgs("Gateway", v.stranger.address);
      expect(await v.networkConfig.getFunction("getAddress")("Gateway")).to.equal(v.stranger.address);
    });
  });

  describe("names", () => {
    it("lists each name once, in first-set order, even when set twice", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const before = await v.networkConfig.names();
      const [a, b, c] = [Wallet.createRandom().address, Wallet.createRandom().address, Wallet.createRandom().address];
      await (await v.networkConfig.setAddress("Alpha", a)).wait();
      await (await v.networkConfig.setAddress("Beta", b)).wait();
      await (await v.networkConfig.setAddress("Alpha", c)).wait();
      await (await v.networkConfig.setAddress("Bridge", c)).wait();
      expect(await v.networkConfig.names()).to.deep.equal([...before, "Alpha", "Beta"]);
      expect(await v.networkConfig.getFunction("getAddress")("Alpha")).to.equal(c);
      expect(await v.networkConfig.getFunction("getAddress")("Beta")).to.equal(b);
    });
  });

  describe("upgradeFeature", () => {
    it("emits FeatureUpgraded(name, data)", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const data = hexlify(toUtf8Bytes('{"version":2}'));
      await expect(v.networkConfig.upgradeFeature("rollup-format", data))
        .to.emit(v.networkConfig, "FeatureUpgraded")
        .withArgs("rollup-format", data);
    });

    it("accepts empty data", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      await expect(v.networkConfig.upgradeFeature("gas-token", "0x"))
        .to.emit(v.networkConfig, "FeatureUpgraded")
        .withArgs("gas-token", "0x");
    });

    it("reverts EmptyName for an empty name", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      await expect(v.networkConfig.upgradeFeature("", "0x01")).to.be.revertedWithCustomError(
        v.networkConfig,
        "EmptyName",
      );
    });

    it("rejects a caller without CONFIG_ADMIN_ROLE", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const role = await v.networkConfig.CONFIG_ADMIN_ROLE();
      await expect(v.networkConfig.connect(v.stranger).upgradeFeature("rollup-format", "0x01"))
        .to.be.revertedWithCustomError(v.networkConfig, "AccessControlUnauthorizedAccount")
        .withArgs(v.stranger.address, role);
    });
  });
});
