import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import {
  type BytesLike,
  type ContractTransactionResponse,
  TypedDataEncoder,
  Wallet,
  concat,
  dataSlice,
  getBytes,
  hexlify,
  id,
  keccak256,
  randomBytes,
  recoverAddress,
} from "ethers";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { network } from "hardhat";

import { type EnclaveIdentity, attestationDomain, signAttestationReport } from "../../protocol/attestation.js";
import {
  SECRET_RESPONSE_TYPES,
  decryptSecret,
  enclaveRegistryDomain,
  encryptSecret,
  secretCommitment,
  OPERATOR_BINDING_TYPES,
  signOperatorBinding,
  signSecretResponse,
} from "../../protocol/secret.js";
import { SignedReportVerifier__factory } from "../../types/ethers-contracts/index.js";
import { GENESIS_COMMITTEE_ID } from "../../platform/committee.js";
import {
  MEASUREMENT,
  SECRET_REQUEST_TIMEOUT,
  type Veilnet,
  deployVeilnet,
  initializeGenesis,
  makeEnclave,
  secretResponse,
  submitRollup,
} from "../../testing/veilnet.js";
import { govern } from "../../testing/governance.js";
import { requestFields, requestReport } from "../../testing/secret-requests.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

type Enclave = EnclaveIdentity & { report: string };
type Genesis = Enclave & { secret: string };

const BOUNTY = ethers.parseEther("0.25");

/** RequestStatus enum of the registry. */
const Status = { None: 0n, Open: 1n, Answered: 2n, Cancelled: 3n } as const;

async function deployed(): Promise<Veilnet> {
  return deployVeilnet(connection);
}

async function withGenesis(): Promise<{ v: Veilnet; genesis: Genesis }> {
  const v = await deployVeilnet(connection);
  const genesis = await initializeGenesis(v);
  return { v, genesis };
}

/**
 * Genesis plus a second enclave `member`, attested through the request/response flow (operator
 * users[0]), and an open request (id 2, bounty BOUNTY paid by users[1]) of a third enclave `requester`.
 */
async function withOpenRequest(): Promise<{
  v: Veilnet;
  genesis: Genesis;
  member: Enclave;
  requester: Enclave;
  requestId: bigint;
}> {
  const { v, genesis } = await withGenesis();
  const [memberOperator, requesterOperator] = v.users;
  const member = await makeEnclave(v);
  const memberRequest = await request(v, memberOperator, member, 0n);
  await respond(v, genesis, memberRequest, member, genesis.secret);
  const requester = await makeEnclave(v);
  const requestId = await request(v, requesterOperator, requester, BOUNTY);
  return { v, genesis, member, requester, requestId };
}

/** Sends `requestNetworkSecret` for `enclave` from `payer` and returns the request id. */
async function request(v: Veilnet, payer: HardhatEthersSigner, enclave: Enclave, bounty: bigint): Promise<bigint> {
  await (await v.enclaveRegistry.connect(payer).requestNetworkSecret(enclave.report, { value: bounty })).wait();
  return v.enclaveRegistry.requestCount();
}

/** `responder` answers `requestId` with `secret` encrypted to `requester` (sent by the stranger). */
async function respond(
  v: Veilnet,
  responder: EnclaveIdentity,
  requestId: bigint,
  requester: EnclaveIdentity,
  secret: string,
): Promise<ContractTransactionResponse> {
  const { encryptedSecret, signature } = await secretResponse(v, responder, requestId, requester.publicKey, secret);
  const tx = await v.enclaveRegistry
    .connect(v.stranger)
    .respondNetworkSecret(
      requestId,
      await requestFields(v, requestId),
      await requestReport(v, requestId),
      encryptedSecret,
      signature,
    );
  await tx.wait();
  return tx;
}

/** The address the registry recovers from `signature` over `(requestId, encryptedSecret)`. */
async function recoveredResponder(
  v: Veilnet,
  requestId: bigint,
  encryptedSecret: BytesLike,
  signature: string,
): Promise<string> {
  const domain = enclaveRegistryDomain(v.chainId, await v.enclaveRegistry.getAddress());
  const digest = TypedDataEncoder.hash(domain, SECRET_RESPONSE_TYPES, {
    requestId,
    encryptedSecretHash: keccak256(encryptedSecret),
  });
  expect(await v.enclaveRegistry.secretResponseDigest(requestId, encryptedSecret)).to.equal(digest);
  return recoverAddress(digest, signature);
}

/** `responder`'s signature over arbitrary `encryptedSecret` bytes (no length check, unlike secretResponse). */
async function signResponse(
  v: Veilnet,
  responder: EnclaveIdentity,
  requestId: bigint,
  encryptedSecret: string,
): Promise<string> {
  return signSecretResponse(
    responder.wallet,
    enclaveRegistryDomain(v.chainId, await v.enclaveRegistry.getAddress()),
    requestId,
    encryptedSecret,
  );
}

async function latestTimestamp(): Promise<bigint> {
  return BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
}

describe("EnclaveRegistry", () => {
  describe("deployment", () => {
    it("is wired to the verifier with the fixture's timeout, roles for the admin only", async () => {
      const v = await networkHelpers.loadFixture(deployed);
      const r = v.enclaveRegistry;
      expect(await r.attestationVerifier()).to.equal(await v.verifier.getAddress());
      expect(await r.secretRequestTimeout()).to.equal(SECRET_REQUEST_TIMEOUT);
      expect(await r.secretCommitment()).to.equal(ethers.ZeroHash);
      expect(await r.requestCount()).to.equal(0n);
      expect(await r.ENCRYPTED_SECRET_LENGTH()).to.equal(129n);
      const timelock = await v.timelock.getAddress();
      for (const role of [await r.DEFAULT_ADMIN_ROLE(), await r.ENCLAVE_ADMIN_ROLE()]) {
        expect(await r.hasRole(role, timelock)).to.equal(true);
        expect(await r.hasRole(role, v.stranger.address)).to.equal(false);
      }
      // the guardian (account 0 in the fixture) pauses
      for (const role of [await r.PAUSER_ROLE()]) {
        expect(await r.hasRole(role, v.admin.address)).to.equal(true);
        expect(await r.hasRole(role, v.stranger.address)).to.equal(false);
      }
    });
  });

  describe("initializeNetworkSecret", () => {
    it("makes the genesis enclave attested and sequencer, operated by the caller", async () => {
      const v = await networkHelpers.loadFixture(deployed);
      const genesis = await makeEnclave(v);
      const secret = hexlify(randomBytes(32));
      const commitment = secretCommitment(secret);
      const tx = v.enclaveRegistry.initializeNetworkSecret(genesis.report, commitment);
      await expect(tx).to.emit(v.enclaveRegistry, "NetworkSecretInitialized").withArgs(genesis.address, commitment);
      await expect(tx).to.emit(v.enclaveRegistry, "EnclaveAttested").withArgs(genesis.address, v.admin.address);
      await expect(tx).to.emit(v.enclaveRegistry, "SequencerGranted").withArgs(genesis.address);
      expect(await v.enclaveRegistry.secretCommitment()).to.equal(commitment);
      expect(await v.enclaveRegistry.isAttested(genesis.address)).to.equal(true);
      expect(await v.enclaveRegistry.isSequencer(genesis.address)).to.equal(true);
      expect(await v.enclaveRegistry.sequencerOperator(genesis.address)).to.equal(v.admin.address);
      const record = await v.enclaveRegistry.enclave(genesis.address);
      expect(record.operator).to.equal(v.admin.address);
      expect(record.revoked).to.equal(false);
      expect(record.attestedAt).to.equal(await latestTimestamp());
    });

    it("is the initializer's alone, once: the call renounces GENESIS_ROLE and the admin cannot grant it", async () => {
      const v = await networkHelpers.loadFixture(deployed);
      const [otherAdmin] = v.users;
      const role = await v.enclaveRegistry.GENESIS_ROLE();
      expect(await v.enclaveRegistry.hasRole(role, v.admin.address)).to.equal(true);
      expect(await v.enclaveRegistry.getRoleAdmin(role)).to.equal(role);
      const genesis = await makeEnclave(v);
      await expect(v.enclaveRegistry.initializeNetworkSecret(genesis.report, id("s")))
        .to.emit(v.enclaveRegistry, "RoleRevoked")
        .withArgs(role, v.admin.address, v.admin.address)
        .and.to.emit(v.enclaveRegistry, "EnclaveOperatorSet")
        .withArgs(genesis.address, v.admin.address);
      expect(await v.enclaveRegistry.hasRole(role, v.admin.address)).to.equal(false);
      // DEFAULT_ADMIN_ROLE cannot hand the role out again (it is its own admin)
      await expect(govern(v, v.enclaveRegistry, "grantRole", [role, otherAdmin.address]))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "AccessControlUnauthorizedAccount")
        .withArgs(await v.timelock.getAddress(), role);
    });

    it("can be done only once", async () => {
      const { v, genesis } = await networkHelpers.loadFixture(withGenesis);
      const commitment = await v.enclaveRegistry.secretCommitment();
      const other = await makeEnclave(v);
      // the initializer renounced GENESIS_ROLE: nobody holds it any more
      await expect(
        v.enclaveRegistry.initializeNetworkSecret(other.report, id("another secret")),
      ).to.be.revertedWithCustomError(v.enclaveRegistry, "AccessControlUnauthorizedAccount");
      await expect(v.enclaveRegistry.initializeNetworkSecret(genesis.report, commitment)).to.be.revertedWithCustomError(
        v.enclaveRegistry,
        "AccessControlUnauthorizedAccount",
      );
      expect(await v.enclaveRegistry.secretCommitment()).to.equal(commitment);
      expect(await v.enclaveRegistry.isAttested(other.address)).to.equal(false);
    });

    it("rejects a caller without GENESIS_ROLE", async () => {
      const v = await networkHelpers.loadFixture(deployed);
      const genesis = await makeEnclave(v);
      await expect(v.enclaveRegistry.connect(v.stranger).initializeNetworkSecret(genesis.report, id("s")))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "AccessControlUnauthorizedAccount")
        .withArgs(v.stranger.address, await v.enclaveRegistry.GENESIS_ROLE());
      expect(await v.enclaveRegistry.secretCommitment()).to.equal(ethers.ZeroHash);
    });

    it("rejects a zero commitment and an invalid report", async () => {
      const v = await networkHelpers.loadFixture(deployed);
      const genesis = await makeEnclave(v);
      await expect(
        v.enclaveRegistry.initializeNetworkSecret(genesis.report, ethers.ZeroHash),
      ).to.be.revertedWithCustomError(v.enclaveRegistry, "ZeroValue");
      const rogue = Wallet.createRandom();
      const forged = await makeEnclave(v, { signer: rogue });
      await expect(v.enclaveRegistry.initializeNetworkSecret(forged.report, id("s")))
        .to.be.revertedWithCustomError(v.verifier, "UnknownAttestationService")
        .withArgs(rogue.address);
    });

    it("rejects a revoked genesis enclave", async () => {
      const v = await networkHelpers.loadFixture(deployed);
      const genesis = await makeEnclave(v);
      await (await govern(v, v.enclaveRegistry, "revokeEnclave", [genesis.address])).wait();
      await expect(v.enclaveRegistry.initializeNetworkSecret(genesis.report, id("s")))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "EnclaveIsRevoked")
        .withArgs(genesis.address);
    });
  });

  describe("requestNetworkSecret", () => {
    it("holds the bounty and records the request", async () => {
      const { v } = await networkHelpers.loadFixture(withGenesis);
      const [payer] = v.users;
      const enclave = await makeEnclave(v);
      const registry = await v.enclaveRegistry.getAddress();
      const tx = v.enclaveRegistry.connect(payer).requestNetworkSecret(enclave.report, { value: BOUNTY });
      await expect(tx).to.changeEtherBalances(ethers, [payer, registry], [-BOUNTY, BOUNTY]);
      await expect(tx)
        .to.emit(v.enclaveRegistry, "NetworkSecretRequested")
        .withArgs(1n, enclave.address, enclave.publicKey, BOUNTY, anyValue, anyValue);
      expect(await v.enclaveRegistry.requestCount()).to.equal(1n);
      const stored = { ...(await requestFields(v, 1n)), status: await v.enclaveRegistry.requestStatus(1n) };
      expect(stored.enclaveId).to.equal(enclave.address);
      expect(stored.bounty).to.equal(BOUNTY);
      expect(stored.payer).to.equal(payer.address);
      expect(stored.createdAt).to.equal(await latestTimestamp());
      expect(stored.status).to.equal(Status.Open);
      // only a hash of the fields is stored
      expect(await v.enclaveRegistry.requestCommitment(1n)).to.equal(
        await v.enclaveRegistry.hashSecretRequest(1n, await requestFields(v, 1n)),
      );
      // the operator is assigned when a request is answered (EnclaveOperatorSet then)
      expect((await v.enclaveRegistry.enclave(enclave.address)).operator).to.equal(ethers.ZeroAddress);
      expect(await v.enclaveRegistry.isAttested(enclave.address)).to.equal(false);
    });

    it("numbers requests 1, 2, 3; the payer of the answered one becomes the operator", async () => {
      const { v } = await networkHelpers.loadFixture(withGenesis);
      const [first, second] = v.users;
      const a = await makeEnclave(v);
      const b = await makeEnclave(v);
      expect(await request(v, first, a, 1n)).to.equal(1n);
      expect(await request(v, second, b, 0n)).to.equal(2n);
      await expect(v.enclaveRegistry.connect(second).requestNetworkSecret(a.report, { value: 5n }))
        .to.emit(v.enclaveRegistry, "NetworkSecretRequested")
        .withArgs(3n, a.address, a.publicKey, 5n, anyValue, anyValue);
      expect((await requestFields(v, 3n)).payer).to.equal(second.address);
      expect((await v.enclaveRegistry.enclave(a.address)).operator).to.equal(ethers.ZeroAddress);
    });

    it("is refused before the secret is initialized", async () => {
      const v = await networkHelpers.loadFixture(deployed);
      const enclave = await makeEnclave(v);
      await expect(
        v.enclaveRegistry.requestNetworkSecret(enclave.report, { value: BOUNTY }),
      ).to.be.revertedWithCustomError(v.enclaveRegistry, "NetworkSecretNotInitialized");
    });

    it("is accepted for an attested or revoked enclave, but cannot be answered", async () => {
      const { v, genesis } = await networkHelpers.loadFixture(withGenesis);
      const revoked = await makeEnclave(v);
      await (await govern(v, v.enclaveRegistry, "revokeEnclave", [revoked.address])).wait();
      for (const [enclave, error] of [
        [genesis, "EnclaveAlreadyAttested"],
        [revoked, "EnclaveIsRevoked"],
      ] as const) {
        const requestId = await request(v, v.users[0], enclave, 0n);
        const r = await secretResponse(v, genesis, requestId, enclave.publicKey, genesis.secret);
        await expect(
          v.enclaveRegistry.respondNetworkSecret(
            requestId,
            await requestFields(v, requestId),
            await requestReport(v, requestId),
            r.encryptedSecret,
            r.signature,
          ),
        )
          .to.be.revertedWithCustomError(v.enclaveRegistry, error)
          .withArgs(enclave.address);
      }
    });

    it("refuses reports it cannot read the enclave key of", async () => {
      const { v } = await networkHelpers.loadFixture(withGenesis);
      const r = v.enclaveRegistry;
      await expect(r.requestNetworkSecret("0x1234", { value: BOUNTY })).to.be.revertedWithCustomError(
        r,
        "MalformedReport",
      );
      const now = await latestTimestamp();
      const compressed = await signAttestationReport(
        v.attestationService,
        attestationDomain(v.chainId, await v.verifier.getAddress()),
        {
          enclavePubKey: Wallet.createRandom().signingKey.compressedPublicKey,
          measurement: MEASUREMENT,
          issuedAt: now,
          expiresAt: now + 3600n,
        },
      );
      await expect(r.requestNetworkSecret(compressed, { value: BOUNTY })).to.be.revertedWithCustomError(
        r,
        "InvalidEnclavePubKey",
      );
      expect(await r.requestCount()).to.equal(0n);
    });

    it("accepts an unverified report, never answers it, and refunds the bounty on cancel", async () => {
      const { v, genesis } = await networkHelpers.loadFixture(withGenesis);
      const rogue = Wallet.createRandom();
      const measurement = id("not allowed");
      const cases: { enclave: Enclave; error: string; arg: string | bigint }[] = [
        { enclave: await makeEnclave(v, { signer: rogue }), error: "UnknownAttestationService", arg: rogue.address },
        { enclave: await makeEnclave(v, { measurement }), error: "MeasurementNotAllowed", arg: measurement },
      ];
      const expiresAt = (await latestTimestamp()) - 1n;
      cases.push({ enclave: await makeEnclave(v, { expiresAt }), error: "ReportExpired", arg: expiresAt });
      const ids: bigint[] = [];
      for (const { enclave, error, arg } of cases) {
        const requestId = await request(v, v.users[1], enclave, 7n);
        ids.push(requestId);
        const r = await secretResponse(v, genesis, requestId, enclave.publicKey, genesis.secret);
        await expect(
          v.enclaveRegistry.respondNetworkSecret(
            requestId,
            await requestFields(v, requestId),
            await requestReport(v, requestId),
            r.encryptedSecret,
            r.signature,
          ),
        )
          .to.be.revertedWithCustomError(v.verifier, error)
          .withArgs(arg);
        expect(await v.enclaveRegistry.isAttested(enclave.address)).to.equal(false);
      }
      await networkHelpers.time.increase(SECRET_REQUEST_TIMEOUT);
      for (const requestId of ids) {
        await expect(
          v.enclaveRegistry.connect(v.stranger).cancelSecretRequest(requestId, await requestFields(v, requestId)),
        ).to.changeEtherBalances(ethers, [v.users[1]], [7n]);
      }
    });
  });

  describe("respondNetworkSecret", () => {
    it("pays the bounty once to the responder's operator and attests the requester", async () => {
      const { v, genesis, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const registry = await v.enclaveRegistry.getAddress();
      const { encryptedSecret, signature } = await secretResponse(
        v,
        genesis,
        requestId,
        requester.publicKey,
        genesis.secret,
      );
      const tx = v.enclaveRegistry
        .connect(v.stranger)
        .respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          encryptedSecret,
          signature,
        );
      // genesis is operated by the admin; the stranger only sends the transaction
      await expect(tx).to.changeEtherBalances(
        ethers,
        [v.admin, registry, v.stranger, v.users[1]],
        [BOUNTY, -BOUNTY, 0n, 0n],
      );
      await expect(tx)
        .to.emit(v.enclaveRegistry, "NetworkSecretResponded")
        .withArgs(requestId, genesis.address, requester.address, encryptedSecret);
      await expect(tx).to.emit(v.enclaveRegistry, "EnclaveAttested").withArgs(requester.address, v.users[1].address);
      expect(await v.enclaveRegistry.isAttested(requester.address)).to.equal(true);
      expect(await v.enclaveRegistry.isSequencer(requester.address)).to.equal(false);
      expect((await v.enclaveRegistry.enclave(requester.address)).attestedAt).to.equal(await latestTimestamp());
      expect(await v.enclaveRegistry.requestStatus(requestId)).to.equal(Status.Answered);
      await expect(v.enclaveRegistry.sequencerOperator(requester.address))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "NotSequencer")
        .withArgs(requester.address);
    });

    it("lets the requester decrypt exactly the committed network secret from the event", async () => {
      const { v, genesis, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const { encryptedSecret, signature } = await secretResponse(
        v,
        genesis,
        requestId,
        requester.publicKey,
        genesis.secret,
      );
      const receipt = await (
        await v.enclaveRegistry
          .connect(v.stranger)
          .respondNetworkSecret(
            requestId,
            await requestFields(v, requestId),
            await requestReport(v, requestId),
            encryptedSecret,
            signature,
          )
      ).wait();
      const events = receipt!.logs
        .map((log) => v.enclaveRegistry.interface.parseLog(log))
        .filter((parsed) => parsed?.name === "NetworkSecretResponded");
      expect(events).to.have.length(1);
      const fromEvent = events[0]!.args.encryptedSecret as string;
      expect(getBytes(fromEvent).length).to.equal(129);
      const secret = decryptSecret(requester.wallet.privateKey, fromEvent);
      expect(secret).to.equal(genesis.secret);
      expect(keccak256(secret)).to.equal(await v.enclaveRegistry.secretCommitment());
      // another enclave's key cannot decrypt it
      const outsider = Wallet.createRandom();
      expect(() => decryptSecret(outsider.privateKey, fromEvent)).to.throw();
    });

    it("the second responder gets RequestNotOpen and no second payment", async () => {
      const { v, genesis, member, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const registry = await v.enclaveRegistry.getAddress();
      await expect(() => respond(v, genesis, requestId, requester, genesis.secret)).to.changeEtherBalances(
        ethers,
        [v.admin, registry],
        [BOUNTY, -BOUNTY],
      );
      const late = await secretResponse(v, member, requestId, requester.publicKey, genesis.secret);
      const balances = async () =>
        Promise.all([registry, v.admin.address, v.users[0].address].map((a) => ethers.provider.getBalance(a)));
      const before = await balances();
      await expect(
        v.enclaveRegistry
          .connect(v.stranger)
          .respondNetworkSecret(
            requestId,
            await requestFields(v, requestId),
            await requestReport(v, requestId),
            late.encryptedSecret,
            late.signature,
          ),
      )
        .to.be.revertedWithCustomError(v.enclaveRegistry, "RequestNotOpen")
        .withArgs(requestId);
      // the first responder cannot be paid twice either
      const again = await secretResponse(v, genesis, requestId, requester.publicKey, genesis.secret);
      await expect(
        v.enclaveRegistry
          .connect(v.stranger)
          .respondNetworkSecret(
            requestId,
            await requestFields(v, requestId),
            await requestReport(v, requestId),
            again.encryptedSecret,
            again.signature,
          ),
      )
        .to.be.revertedWithCustomError(v.enclaveRegistry, "RequestNotOpen")
        .withArgs(requestId);
      expect(await balances()).to.deep.equal(before);
    });

    it("any attested enclave may answer, not only the sequencer", async () => {
      const { v, genesis, member, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      expect(await v.enclaveRegistry.isAttested(member.address)).to.equal(true);
      expect(await v.enclaveRegistry.isSequencer(member.address)).to.equal(false);
      const [memberOperator] = v.users;
      const { encryptedSecret, signature } = await secretResponse(
        v,
        member,
        requestId,
        requester.publicKey,
        genesis.secret,
      );
      const tx = v.enclaveRegistry
        .connect(v.stranger)
        .respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          encryptedSecret,
          signature,
        );
      await expect(tx).to.changeEtherBalances(
        ethers,
        [memberOperator, await v.enclaveRegistry.getAddress(), v.admin],
        [BOUNTY, -BOUNTY, 0n],
      );
      await expect(tx)
        .to.emit(v.enclaveRegistry, "NetworkSecretResponded")
        .withArgs(requestId, member.address, requester.address, encryptedSecret);
      expect(await v.enclaveRegistry.isAttested(requester.address)).to.equal(true);
    });

    it("a newly attested enclave can in turn answer with the secret it decrypted", async () => {
      const { v, genesis, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const receipt = await (await respond(v, genesis, requestId, requester, genesis.secret)).wait();
      const [answered] = await v.enclaveRegistry.queryFilter(
        v.enclaveRegistry.filters.NetworkSecretResponded(requestId),
        receipt!.blockNumber,
        receipt!.blockNumber,
      );
      const learned = decryptSecret(requester.wallet.privateKey, answered!.args.encryptedSecret);
      const newcomer = await makeEnclave(v);
      const newcomerRequest = await request(v, v.users[2], newcomer, 7n);
      // the requester's operator (users[1]) earns the bounty
      await expect(() => respond(v, requester, newcomerRequest, newcomer, learned)).to.changeEtherBalances(
        ethers,
        [v.users[1], v.admin],
        [7n, 0n],
      );
      expect(await v.enclaveRegistry.isAttested(newcomer.address)).to.equal(true);
    });

    it("works without a bounty", async () => {
      const { v, genesis } = await networkHelpers.loadFixture(withGenesis);
      const enclave = await makeEnclave(v);
      const requestId = await request(v, v.users[0], enclave, 0n);
      const { encryptedSecret, signature } = await secretResponse(
        v,
        genesis,
        requestId,
        enclave.publicKey,
        genesis.secret,
      );
      await expect(
        v.enclaveRegistry.respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          encryptedSecret,
          signature,
        ),
      ).to.changeEtherBalances(ethers, [v.admin, await v.enclaveRegistry.getAddress()], [0n, 0n]);
      expect(await v.enclaveRegistry.isAttested(enclave.address)).to.equal(true);
    });

    it("pays the operator set by setEnclaveOperator", async () => {
      const { v, genesis, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const payee = Wallet.createRandom().address;
      await (await govern(v, v.enclaveRegistry, "setEnclaveOperator", [genesis.address, payee])).wait();
      await expect(() => respond(v, genesis, requestId, requester, genesis.secret)).to.changeEtherBalances(
        ethers,
        [payee, v.admin],
        [BOUNTY, 0n],
      );
    });

    it("rejects a response signed by an unattested key (another requester)", async () => {
      const { v, genesis, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const other = await makeEnclave(v);
      await request(v, v.users[2], other, BOUNTY);
      const forged = await secretResponse(v, other, requestId, requester.publicKey, genesis.secret);
      await expect(
        v.enclaveRegistry.respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          forged.encryptedSecret,
          forged.signature,
        ),
      )
        .to.be.revertedWithCustomError(v.enclaveRegistry, "EnclaveNotAttested")
        .withArgs(other.address);
      // the requester cannot answer its own request either
      const own = await secretResponse(v, requester, requestId, requester.publicKey, genesis.secret);
      await expect(
        v.enclaveRegistry.respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          own.encryptedSecret,
          own.signature,
        ),
      )
        .to.be.revertedWithCustomError(v.enclaveRegistry, "EnclaveNotAttested")
        .withArgs(requester.address);
      expect(await v.enclaveRegistry.isAttested(requester.address)).to.equal(false);
    });

    it("rejects a signature by a random key", async () => {
      const { v, genesis, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const random = Wallet.createRandom();
      const encryptedSecret = encryptSecret(requester.publicKey, genesis.secret);
      const signature = await signSecretResponse(
        random,
        enclaveRegistryDomain(v.chainId, await v.enclaveRegistry.getAddress()),
        requestId,
        encryptedSecret,
      );
      await expect(
        v.enclaveRegistry.respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          encryptedSecret,
          signature,
        ),
      )
        .to.be.revertedWithCustomError(v.enclaveRegistry, "EnclaveNotAttested")
        .withArgs(random.address);
    });

    it("rejects a valid signature over different encryptedSecret bytes", async () => {
      const { v, genesis, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const signed = await secretResponse(v, genesis, requestId, requester.publicKey, genesis.secret);
      const substitutes = [
        encryptSecret(requester.publicKey, genesis.secret), // a fresh encryption of the same secret
        encryptSecret(requester.publicKey, hexlify(randomBytes(32))), // another secret
        hexlify(randomBytes(129)), // junk of the right length
      ];
      for (const substitute of substitutes) {
        const recovered = await recoveredResponder(v, requestId, substitute, signed.signature);
        expect(recovered).to.not.equal(genesis.address);
        await expect(
          v.enclaveRegistry.respondNetworkSecret(
            requestId,
            await requestFields(v, requestId),
            await requestReport(v, requestId),
            substitute,
            signed.signature,
          ),
        )
          .to.be.revertedWithCustomError(v.enclaveRegistry, "EnclaveNotAttested")
          .withArgs(recovered);
      }
      expect(await v.enclaveRegistry.requestStatus(requestId)).to.equal(Status.Open);
    });

    it("rejects a valid signature made for a different request id", async () => {
      const { v, genesis, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const other = await makeEnclave(v);
      const otherId = await request(v, v.users[2], other, BOUNTY);
      // genesis signs an answer to request `otherId`, which is replayed against `requestId`
      const signed = await secretResponse(v, genesis, otherId, requester.publicKey, genesis.secret);
      const recovered = await recoveredResponder(v, requestId, signed.encryptedSecret, signed.signature);
      expect(recovered).to.not.equal(genesis.address);
      await expect(
        v.enclaveRegistry.respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          signed.encryptedSecret,
          signed.signature,
        ),
      )
        .to.be.revertedWithCustomError(v.enclaveRegistry, "EnclaveNotAttested")
        .withArgs(recovered);
    });

    it("rejects a signature made for another registry (EIP-712 domain)", async () => {
      const { v, genesis, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const encryptedSecret = encryptSecret(requester.publicKey, genesis.secret);
      const signature = await signSecretResponse(
        genesis.wallet,
        enclaveRegistryDomain(v.chainId, Wallet.createRandom().address),
        requestId,
        encryptedSecret,
      );
      const recovered = await recoveredResponder(v, requestId, encryptedSecret, signature);
      expect(recovered).to.not.equal(genesis.address);
      await expect(
        v.enclaveRegistry.respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          encryptedSecret,
          signature,
        ),
      )
        .to.be.revertedWithCustomError(v.enclaveRegistry, "EnclaveNotAttested")
        .withArgs(recovered);
    });

    it("rejects malformed signature bytes with InvalidSignature", async () => {
      const { v, genesis, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const { encryptedSecret, signature } = await secretResponse(
        v,
        genesis,
        requestId,
        requester.publicKey,
        genesis.secret,
      );
      // high-s twin of the valid signature (malleability): s' = n - s, v flipped
      const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      const s = BigInt(dataSlice(signature, 32, 64));
      const vByte = getBytes(signature)[64]!;
      const highS = concat([
        dataSlice(signature, 0, 32),
        ethers.toBeHex(n - s, 32),
        ethers.toBeHex(vByte === 27 ? 28 : 27, 1),
      ]);
      const malformed = [
        "0x1234",
        "0x",
        dataSlice(signature, 0, 64), // 64 bytes (ERC-2098 short form is not accepted)
        concat([signature, "0x00"]), // 66 bytes
        concat([dataSlice(signature, 0, 64), "0x05"]), // bad v
        hexlify(new Uint8Array(65)), // all zero
        highS,
      ];
      for (const bad of malformed) {
        await expect(
          v.enclaveRegistry.respondNetworkSecret(
            requestId,
            await requestFields(v, requestId),
            await requestReport(v, requestId),
            encryptedSecret,
            bad,
          ),
          bad,
        ).to.be.revertedWithCustomError(v.enclaveRegistry, "InvalidSignature");
      }
      // the untouched signature still works
      await (
        await v.enclaveRegistry.respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          encryptedSecret,
          signature,
        )
      ).wait();
      expect(await v.enclaveRegistry.isAttested(requester.address)).to.equal(true);
    });

    it("rejects encrypted secrets of the wrong length", async () => {
      const { v, genesis, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const good = encryptSecret(requester.publicKey, genesis.secret);
      const wrong = [
        dataSlice(good, 0, 128),
        concat([good, "0x00"]),
        hexlify(randomBytes(128)),
        hexlify(randomBytes(130)),
        "0x",
      ];
      for (const bad of wrong) {
        // signed by the attested genesis enclave: only the length is wrong
        const signature = await signResponse(v, genesis, requestId, bad);
        await expect(
          v.enclaveRegistry.respondNetworkSecret(
            requestId,
            await requestFields(v, requestId),
            await requestReport(v, requestId),
            bad,
            signature,
          ),
          bad,
        )
          .to.be.revertedWithCustomError(v.enclaveRegistry, "InvalidEncryptedSecretLength")
          .withArgs(BigInt(getBytes(bad).length));
      }
      expect(await v.enclaveRegistry.requestStatus(requestId)).to.equal(Status.Open);
    });

    it("rejects an unknown request id", async () => {
      const { v, genesis, requester } = await networkHelpers.loadFixture(withOpenRequest);
      for (const unknown of [0n, 3n, 999n]) {
        const response = await secretResponse(v, genesis, unknown, requester.publicKey, genesis.secret);
        await expect(
          v.enclaveRegistry.respondNetworkSecret(
            unknown,
            await requestFields(v, unknown),
            await requestReport(v, unknown),
            response.encryptedSecret,
            response.signature,
          ),
        )
          .to.be.revertedWithCustomError(v.enclaveRegistry, "UnknownRequest")
          .withArgs(unknown);
      }
    });

    it("rejects answering a second open request of an enclave that got attested meanwhile", async () => {
      const { v, genesis, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const duplicate = await request(v, v.users[3], requester, BOUNTY);
      await respond(v, genesis, requestId, requester, genesis.secret);
      const response = await secretResponse(v, genesis, duplicate, requester.publicKey, genesis.secret);
      await expect(
        v.enclaveRegistry.respondNetworkSecret(
          duplicate,
          await requestFields(v, duplicate),
          await requestReport(v, duplicate),
          response.encryptedSecret,
          response.signature,
        ),
      )
        .to.be.revertedWithCustomError(v.enclaveRegistry, "EnclaveAlreadyAttested")
        .withArgs(requester.address);
      // its payer gets the bounty back after the timeout
      await networkHelpers.time.increase(SECRET_REQUEST_TIMEOUT);
      await expect(
        v.enclaveRegistry.connect(v.stranger).cancelSecretRequest(duplicate, await requestFields(v, duplicate)),
      ).to.changeEtherBalances(ethers, [v.users[3], await v.enclaveRegistry.getAddress()], [BOUNTY, -BOUNTY]);
    });
  });

  describe("cancelSecretRequest", () => {
    it("reverts RequestNotExpired(requestId, cancellableAt) before the timeout", async () => {
      const { v, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const cancellableAt = (await requestFields(v, requestId)).createdAt + SECRET_REQUEST_TIMEOUT;
      await expect(
        v.enclaveRegistry.connect(v.stranger).cancelSecretRequest(requestId, await requestFields(v, requestId)),
      )
        .to.be.revertedWithCustomError(v.enclaveRegistry, "RequestNotExpired")
        .withArgs(requestId, cancellableAt);
      await networkHelpers.time.setNextBlockTimestamp(cancellableAt - 1n);
      await expect(
        v.enclaveRegistry.connect(v.stranger).cancelSecretRequest(requestId, await requestFields(v, requestId)),
      )
        .to.be.revertedWithCustomError(v.enclaveRegistry, "RequestNotExpired")
        .withArgs(requestId, cancellableAt);
      expect(await v.enclaveRegistry.requestStatus(requestId)).to.equal(Status.Open);
    });

    it("after the timeout anyone may cancel; the payer gets exactly the bounty back", async () => {
      const { v, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const payer = v.users[1];
      const cancellableAt = (await requestFields(v, requestId)).createdAt + SECRET_REQUEST_TIMEOUT;
      await networkHelpers.time.setNextBlockTimestamp(cancellableAt);
      const tx = v.enclaveRegistry
        .connect(v.stranger)
        .cancelSecretRequest(requestId, await requestFields(v, requestId));
      await expect(tx).to.changeEtherBalances(
        ethers,
        [payer, await v.enclaveRegistry.getAddress(), v.stranger],
        [BOUNTY, -BOUNTY, 0n],
      );
      await expect(tx).to.emit(v.enclaveRegistry, "SecretRequestCancelled").withArgs(requestId, BOUNTY);
      expect(await v.enclaveRegistry.requestStatus(requestId)).to.equal(Status.Cancelled);
    });

    it("a cancelled request can neither be answered nor cancelled again", async () => {
      const { v, genesis, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      await networkHelpers.time.increase(SECRET_REQUEST_TIMEOUT);
      // the payer may cancel too
      await expect(
        v.enclaveRegistry.connect(v.users[1]).cancelSecretRequest(requestId, await requestFields(v, requestId)),
      ).to.changeEtherBalances(ethers, [v.users[1], await v.enclaveRegistry.getAddress()], [BOUNTY, -BOUNTY]);
      const response = await secretResponse(v, genesis, requestId, requester.publicKey, genesis.secret);
      await expect(
        v.enclaveRegistry
          .connect(v.stranger)
          .respondNetworkSecret(
            requestId,
            await requestFields(v, requestId),
            await requestReport(v, requestId),
            response.encryptedSecret,
            response.signature,
          ),
      )
        .to.be.revertedWithCustomError(v.enclaveRegistry, "RequestNotOpen")
        .withArgs(requestId);
      await expect(
        v.enclaveRegistry.connect(v.stranger).cancelSecretRequest(requestId, await requestFields(v, requestId)),
      )
        .to.be.revertedWithCustomError(v.enclaveRegistry, "RequestNotOpen")
        .withArgs(requestId);
      expect(await v.enclaveRegistry.isAttested(requester.address)).to.equal(false);
      // the enclave may ask again
      expect(await request(v, v.users[1], requester, 1n)).to.equal(requestId + 1n);
    });

    it("an answered request cannot be cancelled", async () => {
      const { v, genesis, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      await respond(v, genesis, requestId, requester, genesis.secret);
      await networkHelpers.time.increase(SECRET_REQUEST_TIMEOUT);
      await expect(v.enclaveRegistry.cancelSecretRequest(requestId, await requestFields(v, requestId)))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "RequestNotOpen")
        .withArgs(requestId);
    });

    it("rejects an unknown request id", async () => {
      const { v } = await networkHelpers.loadFixture(withOpenRequest);
      await expect(v.enclaveRegistry.cancelSecretRequest(42n, await requestFields(v, 42n)))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "UnknownRequest")
        .withArgs(42n);
    });
  });

  describe("administration", () => {
    it("every admin function rejects a caller without the role", async () => {
      const { v, genesis, member } = await networkHelpers.loadFixture(withOpenRequest);
      const r = v.enclaveRegistry.connect(v.stranger);
      const enclaveAdmin = await r.ENCLAVE_ADMIN_ROLE();
      const defaultAdmin = await r.DEFAULT_ADMIN_ROLE();
      const pauser = await r.PAUSER_ROLE();
      const calls: [string, () => Promise<unknown>, string][] = [
        ["grantSequencer", () => r.grantSequencer(member.address), enclaveAdmin],
        ["revokeSequencer", () => r.revokeSequencer(genesis.address), enclaveAdmin],
        ["revokeEnclave", () => r.revokeEnclave(member.address), enclaveAdmin],
        ["setEnclaveOperator", () => r.setEnclaveOperator(genesis.address, v.stranger.address), enclaveAdmin],
        ["setAttestationVerifier", () => r.setAttestationVerifier(v.stranger.address), defaultAdmin],
        ["setSecretRequestTimeout", () => r.setSecretRequestTimeout(1n), defaultAdmin],
        ["pause", () => r.pause(), pauser],
        ["unpause", () => r.unpause(), pauser],
      ];
      for (const [name, call, role] of calls) {
        await expect(call(), name)
          .to.be.revertedWithCustomError(v.enclaveRegistry, "AccessControlUnauthorizedAccount")
          .withArgs(v.stranger.address, role);
      }
      expect(await v.enclaveRegistry.isSequencer(member.address)).to.equal(false);
      expect(await v.enclaveRegistry.isSequencer(genesis.address)).to.equal(true);
      expect(await v.enclaveRegistry.isAttested(member.address)).to.equal(true);
      expect(await v.enclaveRegistry.sequencerOperator(genesis.address)).to.equal(v.admin.address);
      expect(await v.enclaveRegistry.attestationVerifier()).to.equal(await v.verifier.getAddress());
      expect(await v.enclaveRegistry.secretRequestTimeout()).to.equal(SECRET_REQUEST_TIMEOUT);
      expect(await v.enclaveRegistry.paused()).to.equal(false);
    });

    it("ENCLAVE_ADMIN_ROLE alone does not allow the DEFAULT_ADMIN_ROLE functions", async () => {
      const { v, member } = await networkHelpers.loadFixture(withOpenRequest);
      const [enclaveAdmin] = v.users;
      await (
        await govern(v, v.enclaveRegistry, "grantRole", [
          await v.enclaveRegistry.ENCLAVE_ADMIN_ROLE(),
          enclaveAdmin.address,
        ])
      ).wait();
      await expect(v.enclaveRegistry.connect(enclaveAdmin).grantSequencer(member.address))
        .to.emit(v.enclaveRegistry, "SequencerGranted")
        .withArgs(member.address);
      await expect(v.enclaveRegistry.connect(enclaveAdmin).setSecretRequestTimeout(1n))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "AccessControlUnauthorizedAccount")
        .withArgs(enclaveAdmin.address, await v.enclaveRegistry.DEFAULT_ADMIN_ROLE());
    });

    it("grantSequencer makes an attested enclave a sequencer", async () => {
      const { v, member } = await networkHelpers.loadFixture(withOpenRequest);
      await expect(govern(v, v.enclaveRegistry, "grantSequencer", [member.address]))
        .to.emit(v.enclaveRegistry, "SequencerGranted")
        .withArgs(member.address);
      expect(await v.enclaveRegistry.isSequencer(member.address)).to.equal(true);
      expect(await v.enclaveRegistry.sequencerOperator(member.address)).to.equal(v.users[0].address);
    });

    it("grantSequencer refuses an unattested or revoked enclave", async () => {
      const { v, member, requester } = await networkHelpers.loadFixture(withOpenRequest);
      await expect(govern(v, v.enclaveRegistry, "grantSequencer", [requester.address]))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "EnclaveNotAttested")
        .withArgs(requester.address);
      await (await govern(v, v.enclaveRegistry, "revokeEnclave", [member.address])).wait();
      await expect(govern(v, v.enclaveRegistry, "grantSequencer", [member.address]))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "EnclaveNotAttested")
        .withArgs(member.address);
    });

    it("revokeSequencer keeps the enclave attested; sequencerOperator then reverts NotSequencer", async () => {
      const { v, genesis, member } = await networkHelpers.loadFixture(withOpenRequest);
      await expect(govern(v, v.enclaveRegistry, "revokeSequencer", [genesis.address]))
        .to.emit(v.enclaveRegistry, "SequencerRevoked")
        .withArgs(genesis.address);
      expect(await v.enclaveRegistry.isSequencer(genesis.address)).to.equal(false);
      expect(await v.enclaveRegistry.isAttested(genesis.address)).to.equal(true);
      await expect(v.enclaveRegistry.sequencerOperator(genesis.address))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "NotSequencer")
        .withArgs(genesis.address);
      await expect(govern(v, v.enclaveRegistry, "revokeSequencer", [genesis.address]))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "NotSequencer")
        .withArgs(genesis.address);
      await expect(govern(v, v.enclaveRegistry, "revokeSequencer", [member.address]))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "NotSequencer")
        .withArgs(member.address);
    });

    it("revokeEnclave: not attested, can't respond, can't be re-requested, never again", async () => {
      const { v, genesis, member, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      await expect(govern(v, v.enclaveRegistry, "revokeEnclave", [member.address]))
        .to.emit(v.enclaveRegistry, "EnclaveRevoked")
        .withArgs(member.address);
      expect(await v.enclaveRegistry.isAttested(member.address)).to.equal(false);
      expect(await v.enclaveRegistry.isSequencer(member.address)).to.equal(false);
      expect((await v.enclaveRegistry.enclave(member.address)).revoked).to.equal(true);
      const response = await secretResponse(v, member, requestId, requester.publicKey, genesis.secret);
      await expect(
        v.enclaveRegistry.respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          response.encryptedSecret,
          response.signature,
        ),
      )
        .to.be.revertedWithCustomError(v.enclaveRegistry, "EnclaveNotAttested")
        .withArgs(member.address);
      // A new request for it is accepted (requests check nothing) but can never be answered.
      const again = await request(v, v.users[3], member, 0n);
      const answer = await secretResponse(v, genesis, again, member.publicKey, genesis.secret);
      await expect(
        v.enclaveRegistry.respondNetworkSecret(
          again,
          await requestFields(v, again),
          await requestReport(v, again),
          answer.encryptedSecret,
          answer.signature,
        ),
      )
        .to.be.revertedWithCustomError(v.enclaveRegistry, "EnclaveIsRevoked")
        .withArgs(member.address);
      await expect(govern(v, v.enclaveRegistry, "revokeEnclave", [member.address]))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "EnclaveIsRevoked")
        .withArgs(member.address);
    });

    it("revoking a sequencer enclave also revokes the sequencer role", async () => {
      const { v, genesis } = await networkHelpers.loadFixture(withOpenRequest);
      const tx = govern(v, v.enclaveRegistry, "revokeEnclave", [genesis.address]);
      await expect(tx).to.emit(v.enclaveRegistry, "SequencerRevoked").withArgs(genesis.address);
      await expect(tx).to.emit(v.enclaveRegistry, "EnclaveRevoked").withArgs(genesis.address);
      expect(await v.enclaveRegistry.isAttested(genesis.address)).to.equal(false);
      expect(await v.enclaveRegistry.isSequencer(genesis.address)).to.equal(false);
      await expect(v.enclaveRegistry.sequencerOperator(genesis.address))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "NotSequencer")
        .withArgs(genesis.address);
    });

    it("a revoked requester cannot be answered; its payer can cancel after the timeout", async () => {
      const { v, genesis, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      await (await govern(v, v.enclaveRegistry, "revokeEnclave", [requester.address])).wait();
      const response = await secretResponse(v, genesis, requestId, requester.publicKey, genesis.secret);
      await expect(
        v.enclaveRegistry.respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          response.encryptedSecret,
          response.signature,
        ),
      )
        .to.be.revertedWithCustomError(v.enclaveRegistry, "EnclaveIsRevoked")
        .withArgs(requester.address);
      await networkHelpers.time.increase(SECRET_REQUEST_TIMEOUT);
      await expect(
        v.enclaveRegistry.cancelSecretRequest(requestId, await requestFields(v, requestId)),
      ).to.changeEtherBalances(ethers, [v.users[1]], [BOUNTY]);
    });

    it("setEnclaveOperator reassigns the operator", async () => {
      const { v, genesis } = await networkHelpers.loadFixture(withOpenRequest);
      const operator = v.users[4];
      await expect(govern(v, v.enclaveRegistry, "setEnclaveOperator", [genesis.address, operator.address]))
        .to.emit(v.enclaveRegistry, "EnclaveOperatorSet")
        .withArgs(genesis.address, operator.address);
      expect(await v.enclaveRegistry.sequencerOperator(genesis.address)).to.equal(operator.address);
      await expect(
        govern(v, v.enclaveRegistry, "setEnclaveOperator", [genesis.address, ethers.ZeroAddress]),
      ).to.be.revertedWithCustomError(v.enclaveRegistry, "ZeroValue");
    });

    it("setAttestationVerifier switches the verifier requests are checked with", async () => {
      const { v, genesis } = await networkHelpers.loadFixture(withGenesis);
      const newService = Wallet.createRandom();
      const newVerifier = await new SignedReportVerifier__factory(v.admin).deploy(
        v.admin.address,
        0n,
        newService.address,
        MEASUREMENT,
      );
      await newVerifier.waitForDeployment();
      const newVerifierAddress = await newVerifier.getAddress();
      const oldReport = await makeEnclave(v);
      await expect(govern(v, v.enclaveRegistry, "setAttestationVerifier", [newVerifierAddress]))
        .to.emit(v.enclaveRegistry, "AttestationVerifierSet")
        .withArgs(newVerifierAddress);
      expect(await v.enclaveRegistry.attestationVerifier()).to.equal(newVerifierAddress);
      // reports for the old verifier are refused now (when answered: requests do not verify)
      const oldId = await request(v, v.users[0], oldReport, 0n);
      const answer = await secretResponse(v, genesis, oldId, oldReport.publicKey, genesis.secret);
      await expect(
        v.enclaveRegistry.respondNetworkSecret(
          oldId,
          await requestFields(v, oldId),
          await requestReport(v, oldId),
          answer.encryptedSecret,
          answer.signature,
        ),
      ).to.be.revertedWithCustomError(newVerifier, "UnknownAttestationService");
      // reports the new service signed for the new verifier are accepted
      const enclave = Wallet.createRandom();
      const now = await latestTimestamp();
      const report = await signAttestationReport(newService, attestationDomain(v.chainId, newVerifierAddress), {
        enclavePubKey: enclave.signingKey.publicKey,
        measurement: MEASUREMENT,
        issuedAt: now,
        expiresAt: now + 3600n,
      });
      await expect(v.enclaveRegistry.requestNetworkSecret(report))
        .to.emit(v.enclaveRegistry, "NetworkSecretRequested")
        .withArgs(2n, enclave.address, enclave.signingKey.publicKey, 0n, anyValue, anyValue);
      await expect(
        govern(v, v.enclaveRegistry, "setAttestationVerifier", [ethers.ZeroAddress]),
      ).to.be.revertedWithCustomError(v.enclaveRegistry, "ZeroValue");
    });

    it("setSecretRequestTimeout changes when requests become cancellable", async () => {
      const { v, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const timeout = 60n;
      await expect(govern(v, v.enclaveRegistry, "setSecretRequestTimeout", [timeout]))
        .to.emit(v.enclaveRegistry, "SecretRequestTimeoutSet")
        .withArgs(timeout);
      expect(await v.enclaveRegistry.secretRequestTimeout()).to.equal(timeout);
      const cancellableAt = (await requestFields(v, requestId)).createdAt + timeout;
      await expect(v.enclaveRegistry.cancelSecretRequest(requestId, await requestFields(v, requestId)))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "RequestNotExpired")
        .withArgs(requestId, cancellableAt);
      await networkHelpers.time.setNextBlockTimestamp(cancellableAt);
      await expect(v.enclaveRegistry.cancelSecretRequest(requestId, await requestFields(v, requestId)))
        .to.emit(v.enclaveRegistry, "SecretRequestCancelled")
        .withArgs(requestId, BOUNTY);
      await expect(govern(v, v.enclaveRegistry, "setSecretRequestTimeout", [0n])).to.be.revertedWithCustomError(
        v.enclaveRegistry,
        "ZeroValue",
      );
    });
  });

  describe("bindEnclaveOperator", () => {
    async function binding(v: Veilnet, enclave: EnclaveIdentity, operator: string): Promise<string> {
      const domain = enclaveRegistryDomain(v.chainId, await v.enclaveRegistry.getAddress());
      return signOperatorBinding(enclave.wallet, domain, operator, await v.enclaveRegistry.nonces(enclave.address));
    }

    it("lets the enclave take its operator back from whoever copied its report first", async () => {
      const { v, genesis } = await networkHelpers.loadFixture(withGenesis);
      const [frontRunner, realOperator, bountyPayer] = v.users;
      const enclave = await makeEnclave(v);
      // Someone copies the report from the mempool and requests first: they become the operator.
      const first = await request(v, frontRunner, enclave, 0n);
      await respond(v, genesis, first, enclave, genesis.secret);
      expect((await v.enclaveRegistry.enclave(enclave.address)).operator).to.equal(frontRunner.address);

      // The enclave names its real operator; anyone may submit the signature.
      const signature = await binding(v, enclave, realOperator.address);
      await expect(
        v.enclaveRegistry.connect(v.stranger).bindEnclaveOperator(enclave.address, realOperator.address, signature),
      )
        .to.emit(v.enclaveRegistry, "EnclaveOperatorSet")
        .withArgs(enclave.address, realOperator.address);
      expect(await v.enclaveRegistry.nonces(enclave.address)).to.equal(1n);

      // Bounties the enclave wins now go to the real operator.
      const newcomer = await makeEnclave(v);
      const requestId = await request(v, bountyPayer, newcomer, BOUNTY);
      const { encryptedSecret, signature: answer } = await secretResponse(
        v,
        enclave,
        requestId,
        newcomer.publicKey,
        genesis.secret,
      );
      await expect(
        v.enclaveRegistry
          .connect(v.stranger)
          .respondNetworkSecret(
            requestId,
            await requestFields(v, requestId),
            await requestReport(v, requestId),
            encryptedSecret,
            answer,
          ),
      ).to.changeEtherBalances(ethers, [realOperator, frontRunner], [BOUNTY, 0n]);
    });

    it("refuses a binding not signed by the enclave, a replayed one, a zero operator and a revoked enclave", async () => {
      const { v, genesis } = await networkHelpers.loadFixture(withGenesis);
      const operator = v.users[0].address;
      const impostor = await makeEnclave(v);
      // The impostor signs a binding for the genesis enclave with its own key.
      const forged = await impostor.wallet.signTypedData(
        enclaveRegistryDomain(v.chainId, await v.enclaveRegistry.getAddress()),
        OPERATOR_BINDING_TYPES,
        { enclaveId: genesis.address, operator, nonce: 0n },
      );
      await expect(v.enclaveRegistry.bindEnclaveOperator(genesis.address, operator, forged))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "NotSignedByEnclave")
        .withArgs(genesis.address, impostor.address);

      const signature = await binding(v, genesis, operator);
      await (await v.enclaveRegistry.bindEnclaveOperator(genesis.address, operator, signature)).wait();
      // The nonce moved on, so the same signature now recovers to another address.
      await expect(
        v.enclaveRegistry.bindEnclaveOperator(genesis.address, operator, signature),
      ).to.be.revertedWithCustomError(v.enclaveRegistry, "NotSignedByEnclave");

      await expect(
        v.enclaveRegistry.bindEnclaveOperator(genesis.address, ethers.ZeroAddress, await binding(v, genesis, operator)),
      ).to.be.revertedWithCustomError(v.enclaveRegistry, "ZeroValue");

      await (await govern(v, v.enclaveRegistry, "revokeEnclave", [genesis.address])).wait();
      await expect(
        v.enclaveRegistry.bindEnclaveOperator(genesis.address, operator, await binding(v, genesis, operator)),
      )
        .to.be.revertedWithCustomError(v.enclaveRegistry, "EnclaveIsRevoked")
        .withArgs(genesis.address);
    });
  });

  describe("pause", () => {
    it("pause / unpause by the pauser emit Paused / Unpaused", async () => {
      const { v } = await networkHelpers.loadFixture(withGenesis);
      await expect(v.enclaveRegistry.pause()).to.emit(v.enclaveRegistry, "Paused").withArgs(v.admin.address);
      expect(await v.enclaveRegistry.paused()).to.equal(true);
      await expect(v.enclaveRegistry.unpause()).to.emit(v.enclaveRegistry, "Unpaused").withArgs(v.admin.address);
      expect(await v.enclaveRegistry.paused()).to.equal(false);
    });

    it("stops initializeNetworkSecret until unpaused", async () => {
      const v = await networkHelpers.loadFixture(deployed);
      const genesis = await makeEnclave(v);
      await (await v.enclaveRegistry.pause()).wait();
      await expect(v.enclaveRegistry.initializeNetworkSecret(genesis.report, id("s"))).to.be.revertedWithCustomError(
        v.enclaveRegistry,
        "EnforcedPause",
      );
      await (await v.enclaveRegistry.unpause()).wait();
      await expect(v.enclaveRegistry.initializeNetworkSecret(genesis.report, id("s")))
        .to.emit(v.enclaveRegistry, "NetworkSecretInitialized")
        .withArgs(genesis.address, id("s"));
    });

    it("stops request and respond until unpaused, never cancel", async () => {
      const { v, genesis, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const registry = await v.enclaveRegistry.getAddress();
      const expiring = await makeEnclave(v);
      const expiringId = await request(v, v.users[2], expiring, 3n);
      await networkHelpers.time.increase(SECRET_REQUEST_TIMEOUT);
      const newcomer = await makeEnclave(v);
      const response = await secretResponse(v, genesis, requestId, requester.publicKey, genesis.secret);

      await (await v.enclaveRegistry.pause()).wait();
      const balanceWhilePaused = await ethers.provider.getBalance(registry);
      await expect(
        v.enclaveRegistry.requestNetworkSecret(newcomer.report, { value: BOUNTY }),
      ).to.be.revertedWithCustomError(v.enclaveRegistry, "EnforcedPause");
      await expect(
        v.enclaveRegistry.respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          response.encryptedSecret,
          response.signature,
        ),
      ).to.be.revertedWithCustomError(v.enclaveRegistry, "EnforcedPause");
      expect(await ethers.provider.getBalance(registry)).to.equal(balanceWhilePaused);
      // refunds cannot be frozen: cancelling works while paused
      await expect(
        v.enclaveRegistry.connect(v.stranger).cancelSecretRequest(expiringId, await requestFields(v, expiringId)),
      ).to.changeEtherBalances(ethers, [v.users[2]], [3n]);

      await (await v.enclaveRegistry.unpause()).wait();
      await expect(v.enclaveRegistry.requestNetworkSecret(newcomer.report, { value: BOUNTY }))
        .to.emit(v.enclaveRegistry, "NetworkSecretRequested")
        .withArgs(expiringId + 1n, newcomer.address, newcomer.publicKey, BOUNTY, anyValue, anyValue);
      await expect(
        v.enclaveRegistry
          .connect(v.stranger)
          .respondNetworkSecret(
            requestId,
            await requestFields(v, requestId),
            await requestReport(v, requestId),
            response.encryptedSecret,
            response.signature,
          ),
      ).to.changeEtherBalances(ethers, [v.admin], [BOUNTY]);
    });
  });
  describe("issue 10 (F3): attestation is checked again at respond, and measurements revoke", () => {
    it("refuses a response once the requester's report expired (it was valid at request)", async () => {
      const { v, genesis } = await networkHelpers.loadFixture(withGenesis);
      const expiresAt = (await latestTimestamp()) + 100n;
      const shortLived = await makeEnclave(v, { expiresAt });
      const requestId = await request(v, v.users[0], shortLived, 0n);
      await networkHelpers.time.increase(200);
      const r = await secretResponse(v, genesis, requestId, shortLived.publicKey, genesis.secret);
      await expect(
        v.enclaveRegistry.respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          r.encryptedSecret,
          r.signature,
        ),
      )
        .to.be.revertedWithCustomError(v.verifier, "ReportExpired")
        .withArgs(expiresAt);
      expect(await v.enclaveRegistry.isAttested(shortLived.address)).to.equal(false);
    });

    it("refuses a response once the requester's measurement was removed", async () => {
      const { v, genesis } = await networkHelpers.loadFixture(withGenesis);
      const other = id("veilnet-enclave-v2");
      await (await govern(v, v.verifier, "setMeasurement", [other, true])).wait();
      const newcomer = await makeEnclave(v, { measurement: other });
      const requestId = await request(v, v.users[0], newcomer, 0n);
      await (await govern(v, v.verifier, "setMeasurement", [other, false])).wait();
      const r = await secretResponse(v, genesis, requestId, newcomer.publicKey, genesis.secret);
      await expect(
        v.enclaveRegistry.respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          r.encryptedSecret,
          r.signature,
        ),
      )
        .to.be.revertedWithCustomError(v.verifier, "MeasurementNotAllowed")
        .withArgs(other);
      expect(await v.enclaveRegistry.isAttested(newcomer.address)).to.equal(false);
    });

    it("refuses a response for a measurement the registry revoked, until it is synced again", async () => {
      const { v, genesis, member } = await networkHelpers.loadFixture(withOpenRequest);
      await (await govern(v, v.verifier, "setMeasurement", [MEASUREMENT, false])).wait();
      await (await v.enclaveRegistry.connect(v.stranger).syncMeasurement(MEASUREMENT)).wait();
      // The verifier allows it again, but nobody synced: the registry still counts it as revoked.
      await (await govern(v, v.verifier, "setMeasurement", [MEASUREMENT, true])).wait();
      expect(await v.enclaveRegistry.isMeasurementRevoked(MEASUREMENT)).to.equal(true);
      const newcomer = await makeEnclave(v);
      const requestId = await request(v, v.users[0], newcomer, 0n);
      const r = await secretResponse(v, genesis, requestId, newcomer.publicKey, genesis.secret);
      const respond = async () =>
        v.enclaveRegistry.respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          r.encryptedSecret,
          r.signature,
        );
      await expect(respond())
        .to.be.revertedWithCustomError(v.enclaveRegistry, "MeasurementNotAllowed")
        .withArgs(MEASUREMENT);
      expect(await v.enclaveRegistry.isAttested(member.address)).to.equal(false);
      await expect(v.enclaveRegistry.syncMeasurement(MEASUREMENT))
        .to.emit(v.enclaveRegistry, "MeasurementSynced")
        .withArgs(MEASUREMENT, 1n, true);
      await expect(respond()).to.emit(v.enclaveRegistry, "EnclaveAttested");
    });

    it("removing a measurement revokes the enclaves and sequencers attested under it; restoring it restores them", async () => {
      const { v, genesis, member } = await networkHelpers.loadFixture(withOpenRequest);
      expect(await v.enclaveRegistry.enclaveMeasurement(member.address)).to.equal(MEASUREMENT);
      await (await govern(v, v.verifier, "setMeasurement", [MEASUREMENT, false])).wait();
      // The registry follows the verifier once the measurement is synced (anyone may call it).
      expect(await v.enclaveRegistry.isAttested(member.address)).to.equal(true);
      await expect(v.enclaveRegistry.connect(v.stranger).syncMeasurement(MEASUREMENT))
        .to.emit(v.enclaveRegistry, "MeasurementSynced")
        .withArgs(MEASUREMENT, 1n, false);
      expect(await v.enclaveRegistry.isMeasurementRevoked(MEASUREMENT)).to.equal(true);
      expect(await v.enclaveRegistry.isAttested(member.address)).to.equal(false);
      expect(await v.enclaveRegistry.isAttested(genesis.address)).to.equal(false);
      expect(await v.enclaveRegistry.isSequencer(genesis.address)).to.equal(false);
      await expect(v.enclaveRegistry.sequencerOperator(genesis.address))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "NotSequencer")
        .withArgs(genesis.address);
      await expect(govern(v, v.enclaveRegistry, "grantSequencer", [member.address]))
        .to.be.revertedWithCustomError(v.enclaveRegistry, "EnclaveNotAttested")
        .withArgs(member.address);
      await (await govern(v, v.verifier, "setMeasurement", [MEASUREMENT, true])).wait();
      await (await v.enclaveRegistry.syncMeasurement(MEASUREMENT)).wait();
      expect(await v.enclaveRegistry.isAttested(member.address)).to.equal(true);
      expect(await v.enclaveRegistry.sequencerOperator(genesis.address)).to.equal(v.admin.address);
    });

    it("after removal + sync the enclaves can neither sign a rollup nor answer a request", async () => {
      const { v, genesis } = await networkHelpers.loadFixture(withGenesis);
      const other = id("veilnet-enclave-v2");
      await (await govern(v, v.verifier, "setMeasurement", [other, true])).wait();
      // The requester runs another (allowed) measurement, so only the responder's revocation is in the way.
      const requester = await makeEnclave(v, { measurement: other });
      const requestId = await request(v, v.users[0], requester, 0n);
      await submitRollup(v, genesis); // signs fine before
      await (await govern(v, v.verifier, "setMeasurement", [MEASUREMENT, false])).wait();
      await (await v.enclaveRegistry.connect(v.stranger).syncMeasurement(MEASUREMENT)).wait();
      // The sync revoked the genesis enclave: the committee's signer set is stale (RollupRegistry).
      const generation = await v.enclaveRegistry.revocationGeneration();
      await expect(submitRollup(v, genesis))
        .to.be.revertedWithCustomError(v.rollupRegistry, "StaleCommitteeSigners")
        .withArgs(GENESIS_COMMITTEE_ID, generation - 1n, generation);
      const r = await secretResponse(v, genesis, requestId, requester.publicKey, genesis.secret);
      await expect(
        v.enclaveRegistry.respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          r.encryptedSecret,
          r.signature,
        ),
      )
        .to.be.revertedWithCustomError(v.enclaveRegistry, "EnclaveNotAttested")
        .withArgs(genesis.address);
    });

    it("replacing the verifier syncs every known measurement", async () => {
      const { v, member } = await networkHelpers.loadFixture(withOpenRequest);
      const replacement = await new SignedReportVerifier__factory(v.admin).deploy(
        v.admin.address,
        0,
        v.attestationService.address,
        id("another measurement"),
      );
      await expect(govern(v, v.enclaveRegistry, "setAttestationVerifier", [await replacement.getAddress()]))
        .to.emit(v.enclaveRegistry, "MeasurementSynced")
        .withArgs(MEASUREMENT, 1n, false);
      expect(await v.enclaveRegistry.isAttested(member.address)).to.equal(false);
      // syncing an unknown measurement does nothing
      await expect(v.enclaveRegistry.syncMeasurement(id("never seen"))).not.to.emit(
        v.enclaveRegistry,
        "MeasurementSynced",
      );
    });

    it("refuses request fields that are not the request's (RequestMismatch)", async () => {
      const { v, genesis, requester, requestId } = await networkHelpers.loadFixture(withOpenRequest);
      const fields = await requestFields(v, requestId);
      const r = await secretResponse(v, genesis, requestId, requester.publicKey, genesis.secret);
      for (const forged of [
        { ...fields, bounty: fields.bounty * 2n },
        { ...fields, payer: v.stranger.address },
        { ...fields, createdAt: fields.createdAt + 1n },
      ]) {
        const report = await requestReport(v, requestId);
        await expect(v.enclaveRegistry.respondNetworkSecret(requestId, forged, report, r.encryptedSecret, r.signature))
          .to.be.revertedWithCustomError(v.enclaveRegistry, "RequestMismatch")
          .withArgs(requestId);
        await networkHelpers.time.increase(SECRET_REQUEST_TIMEOUT);
        await expect(v.enclaveRegistry.cancelSecretRequest(requestId, forged))
          .to.be.revertedWithCustomError(v.enclaveRegistry, "RequestMismatch")
          .withArgs(requestId);
      }
    });

    it("the first operator assignment emits EnclaveOperatorSet (when the request is answered)", async () => {
      const { v, genesis } = await networkHelpers.loadFixture(withGenesis);
      const newcomer = await makeEnclave(v);
      const requestId = await request(v, v.users[1], newcomer, 0n);
      const r = await secretResponse(v, genesis, requestId, newcomer.publicKey, genesis.secret);
      await expect(
        v.enclaveRegistry.respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          r.encryptedSecret,
          r.signature,
        ),
      )
        .to.emit(v.enclaveRegistry, "EnclaveOperatorSet")
        .withArgs(newcomer.address, v.users[1].address);
      expect((await v.enclaveRegistry.enclave(newcomer.address)).operator).to.equal(v.users[1].address);
    });
  });
});
