import { expect } from "chai";
import { Wallet, hexlify, toUtf8Bytes } from "ethers";
import { network } from "hardhat";

import { take } from "../../testing/defined.js";
import { govern } from "../../testing/governance.js";
import { type Veilnet, deployVeilnet } from "../../testing/veilnet.js";

const connection = await network.create();
const { networkHelpers, ethers } = connection;

async function fixture(): Promise<Veilnet> {
  return deployVeilnet(connection);
}

/** The names the deployment module books, in this order (NetworkConfig is deployed last, with the book). */
const DEPLOYED_NAMES = [
  "Timelock",
  "SignedReportVerifier",
  "EnclaveRegistry",
  "FeeVault",
  "MessageBus",
  "OperatorRegistry",
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
      expect(await getAddress("OperatorRegistry")).to.equal(await v.operatorRegistry.getAddress());
      expect(await getAddress("Timelock")).to.equal(await v.timelock.getAddress());
      expect(await v.networkConfig.names()).to.deep.equal(DEPLOYED_NAMES);
    });

    it("gives the timelock DEFAULT_ADMIN_ROLE and CONFIG_ADMIN_ROLE, and nobody else", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const configAdmin = await v.networkConfig.CONFIG_ADMIN_ROLE();
      const defaultAdmin = await v.networkConfig.DEFAULT_ADMIN_ROLE();
      const timelock = await v.timelock.getAddress();
      expect(await v.networkConfig.hasRole(configAdmin, timelock)).to.equal(true);
      expect(await v.networkConfig.hasRole(defaultAdmin, timelock)).to.equal(true);
      expect(await v.networkConfig.defaultAdmin()).to.equal(timelock);
      for (const who of [v.admin.address, v.stranger.address]) {
        expect(await v.networkConfig.hasRole(configAdmin, who)).to.equal(false);
        expect(await v.networkConfig.hasRole(defaultAdmin, who)).to.equal(false);
      }
    });
  });

  describe("constructor", () => {
    it("books the names and addresses given, in order, with a NetworkAddressSet each", async () => {
      const [admin] = take(await ethers.getSigners(), 1, "signers");
      const [a, b] = [Wallet.createRandom().address, Wallet.createRandom().address];
      const config = await ethers.deployContract("NetworkConfig", [admin.address, 3600, ["Alpha", "Beta"], [a, b]]);
      const receipt = await config.deploymentTransaction()!.wait();
      const events = receipt!.logs
        .map((log) => config.interface.parseLog(log))
        .filter((e) => e?.name === "NetworkAddressSet")
        .map((e) => [e!.args[0], e!.args[1]]);
      expect(events).to.deep.equal([
        ["Alpha", a],
        ["Beta", b],
      ]);
      expect(await config.names()).to.deep.equal(["Alpha", "Beta"]);
      expect(await config.getFunction("getAddress")("Beta")).to.equal(b);
      expect(await config.defaultAdminDelay()).to.equal(3600n);
    });

    it("reverts LengthMismatch when names and addresses differ in length", async () => {
      const [admin] = take(await ethers.getSigners(), 1, "signers");
      const factory = await ethers.getContractFactory("NetworkConfig");
      await expect(factory.deploy(admin.address, 0, ["Alpha", "Beta"], [admin.address]))
        .to.be.revertedWithCustomError(factory, "LengthMismatch")
        .withArgs(2, 1);
    });

    it("reverts EmptyName for an empty name", async () => {
      const [admin] = take(await ethers.getSigners(), 1, "signers");
      const factory = await ethers.getContractFactory("NetworkConfig");
      await expect(factory.deploy(admin.address, 0, [""], [admin.address])).to.be.revertedWithCustomError(
        factory,
        "EmptyName",
      );
    });

    it("refuses the zero admin", async () => {
      const factory = await ethers.getContractFactory("NetworkConfig");
      await expect(factory.deploy(ethers.ZeroAddress, 0, [], []))
        .to.be.revertedWithCustomError(factory, "AccessControlInvalidDefaultAdmin")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("setAddress / getAddress", () => {
    it("round-trips an address and emits NetworkAddressSet", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const addr = Wallet.createRandom().address;
      await expect(govern(v, v.networkConfig, "setAddress", ["Sequencer", addr]))
        .to.emit(v.networkConfig, "NetworkAddressSet")
        .withArgs("Sequencer", addr);
      expect(await v.networkConfig.getFunction("getAddress")("Sequencer")).to.equal(addr);
    });

    it("overwrites an existing name", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const addr = Wallet.createRandom().address;
      await expect(govern(v, v.networkConfig, "setAddress", ["Bridge", addr]))
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
      await expect(govern(v, v.networkConfig, "setAddress", ["Bridge", "0x0000000000000000000000000000000000000000"]))
        .to.emit(v.networkConfig, "NetworkAddressSet")
        .withArgs("Bridge", "0x0000000000000000000000000000000000000000");
      await expect(v.networkConfig.getFunction("getAddress")("Bridge"))
        .to.be.revertedWithCustomError(v.networkConfig, "AddressNotSet")
        .withArgs("Bridge");
      expect(await v.networkConfig.names()).to.deep.equal(before);
    });

    it("reverts EmptyName for an empty name", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      await expect(
        govern(v, v.networkConfig, "setAddress", ["", Wallet.createRandom().address]),
      ).to.be.revertedWithCustomError(v.networkConfig, "EmptyName");
    });

    it("rejects a caller without CONFIG_ADMIN_ROLE", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const role = await v.networkConfig.CONFIG_ADMIN_ROLE();
      await expect(v.networkConfig.connect(v.stranger).setAddress("Bridge", v.stranger.address))
        .to.be.revertedWithCustomError(v.networkConfig, "AccessControlUnauthorizedAccount")
        .withArgs(v.stranger.address, role);
      expect(await v.networkConfig.getFunction("getAddress")("Bridge")).to.equal(await v.bridge.getAddress());
    });

    it("rejects the governor calling directly: only the timelock holds CONFIG_ADMIN_ROLE", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const role = await v.networkConfig.CONFIG_ADMIN_ROLE();
      await expect(v.networkConfig.connect(v.admin).setAddress("Bridge", v.admin.address))
        .to.be.revertedWithCustomError(v.networkConfig, "AccessControlUnauthorizedAccount")
        .withArgs(v.admin.address, role);
    });

    it("accepts a caller once the timelock grants it CONFIG_ADMIN_ROLE", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const role = await v.networkConfig.CONFIG_ADMIN_ROLE();
      await (await govern(v, v.networkConfig, "grantRole", [role, v.stranger.address])).wait();
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
      await (await govern(v, v.networkConfig, "setAddress", ["Alpha", a])).wait();
      await (await govern(v, v.networkConfig, "setAddress", ["Beta", b])).wait();
      await (await govern(v, v.networkConfig, "setAddress", ["Alpha", c])).wait();
      await (await govern(v, v.networkConfig, "setAddress", ["Bridge", c])).wait();
      expect(await v.networkConfig.names()).to.deep.equal([...before, "Alpha", "Beta"]);
      expect(await v.networkConfig.getFunction("getAddress")("Alpha")).to.equal(c);
      expect(await v.networkConfig.getFunction("getAddress")("Beta")).to.equal(b);
    });
  });

  describe("upgradeFeature", () => {
    it("emits FeatureUpgraded(name, data)", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const data = hexlify(toUtf8Bytes('{"version":2}'));
      await expect(govern(v, v.networkConfig, "upgradeFeature", ["rollup-format", data]))
        .to.emit(v.networkConfig, "FeatureUpgraded")
        .withArgs("rollup-format", data);
    });

    it("accepts empty data", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      await expect(govern(v, v.networkConfig, "upgradeFeature", ["gas-token", "0x"]))
        .to.emit(v.networkConfig, "FeatureUpgraded")
        .withArgs("gas-token", "0x");
    });

    it("reverts EmptyName for an empty name", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      await expect(govern(v, v.networkConfig, "upgradeFeature", ["", "0x01"])).to.be.revertedWithCustomError(
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
