/**
 * enclave/crypto: key derivation (DESIGN §6), the enclave key pair and its EIP-712 signatures, ECIES.
 */
import { expect } from "chai";
import {
  ZeroHash,
  computeAddress,
  concat,
  getBytes,
  hexlify,
  keccak256,
  randomBytes,
  toUtf8Bytes,
  verifyTypedData,
} from "ethers";

import {
  DerivationLabels,
  ENCRYPTED_SECRET_LENGTH,
  EnclaveKey,
  derive,
  deriveBytes,
  enclaveAddressOf,
  encryptSecret,
} from "../../enclave/crypto/index.js";
import { OPERATOR_BINDING_TYPES, SECRET_RESPONSE_TYPES, enclaveRegistryDomain } from "../../protocol/secret.js";

/** derive() as DESIGN §6 writes it, with ethers: keccak256(keccak256(secret) ‖ utf8(label)). */
function expectedDerive(secret: string, label: string): string {
  return keccak256(concat([keccak256(secret), toUtf8Bytes(label)]));
}

describe("enclave/crypto", function () {
  describe("derive", function () {
    it("is keccak256(keccak256(secret) ‖ utf8(label)) (known answer)", function () {
      const secret = "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
      for (const label of ["veilnet/rpc", "veilnet/rollup-epoch/7", "ünïcödé ✓"]) {
        expect(derive(secret, label)).to.equal(expectedDerive(secret, label));
        expect(hexlify(deriveBytes(secret, label))).to.equal(expectedDerive(secret, label));
      }
      // A random secret too, as bytes.
      const random = randomBytes(32);
      expect(derive(random, "x")).to.equal(expectedDerive(hexlify(random), "x"));
    });

    it("gives different keys for different labels and different secrets", function () {
      const a = hexlify(randomBytes(32));
      const b = hexlify(randomBytes(32));
      expect(derive(a, DerivationLabels.rpc)).to.not.equal(derive(a, DerivationLabels.rollupEpoch(0n)));
      expect(derive(a, DerivationLabels.rollupEpoch(0n))).to.not.equal(derive(a, DerivationLabels.rollupEpoch(1n)));
      expect(derive(a, DerivationLabels.rpc)).to.not.equal(derive(b, DerivationLabels.rpc));
    });

    it("spells the labels the same for numbers and bigints", function () {
      expect(DerivationLabels.rollupEpoch(12)).to.equal("veilnet/rollup-epoch/12");
      expect(DerivationLabels.rollupEpoch(12n)).to.equal("veilnet/rollup-epoch/12");
      expect(DerivationLabels.batchEntropy(3n)).to.equal("veilnet/entropy/3");
    });

    it("refuses a secret that is not 32 bytes, and an empty label", function () {
      expect(() => derive(hexlify(randomBytes(31)), "x")).to.throw("the secret must be 32 bytes, got 31");
      expect(() => derive(hexlify(randomBytes(33)), "x")).to.throw("the secret must be 32 bytes, got 33");
      expect(() => derive(ZeroHash, "")).to.throw("the label must not be empty");
    });
  });

  describe("EnclaveKey", function () {
    it("has an uncompressed public key whose address is the enclave id", function () {
      const key = EnclaveKey.generate();
      const pub = getBytes(key.publicKey);
      expect(pub.length).to.equal(65);
      expect(pub[0]).to.equal(0x04);
      expect(key.address).to.equal(computeAddress(key.publicKey));
      expect(enclaveAddressOf(key.publicKey)).to.equal(key.address);
    });

    it("round-trips through its private key and keeps it out of JSON", function () {
      const key = EnclaveKey.generate();
      const again = EnclaveKey.fromPrivateKey(key.exportPrivateKey());
      expect(again.address).to.equal(key.address);
      expect(again.publicKey).to.equal(key.publicKey);
      const json = JSON.stringify(key);
      expect(json).to.not.include(key.exportPrivateKey().slice(2));
      expect(JSON.parse(json)).to.deep.equal({ address: key.address, publicKey: key.publicKey });
    });

    it("signs secret responses and operator bindings the registry recovers to its address", async function () {
      const key = EnclaveKey.generate();
      const domain = enclaveRegistryDomain(31337n, "0x00000000000000000000000000000000000000aa");
      const ciphertext = hexlify(randomBytes(ENCRYPTED_SECRET_LENGTH));
      const response = await key.signSecretResponse(domain, 5n, ciphertext);
      expect(
        verifyTypedData(
          domain,
          SECRET_RESPONSE_TYPES,
          { requestId: 5n, encryptedSecretHash: keccak256(ciphertext) },
          response,
        ),
      ).to.equal(key.address);
      const operator = "0x00000000000000000000000000000000000000bb";
      const binding = await key.signOperatorBinding(domain, operator, 2n);
      expect(
        verifyTypedData(domain, OPERATOR_BINDING_TYPES, { enclaveId: key.address, operator, nonce: 2n }, binding),
      ).to.equal(key.address);
    });

    it("decrypts what was ECIES-encrypted to its public key, and only that", function () {
      const key = EnclaveKey.generate();
      const other = EnclaveKey.generate();
      const secret = hexlify(randomBytes(32));
      const ciphertext = encryptSecret(key.publicKey, secret);
      expect(getBytes(ciphertext).length).to.equal(ENCRYPTED_SECRET_LENGTH);
      expect(key.decrypt(ciphertext)).to.equal(secret);
      expect(() => other.decrypt(ciphertext)).to.throw();
    });

    it("refuses a public key that is not uncompressed secp256k1", function () {
      const key = EnclaveKey.generate();
      const compressed = hexlify(getBytes(key.publicKey).slice(0, 33));
      expect(() => enclaveAddressOf(compressed)).to.throw("not an uncompressed secp256k1 public key");
    });
  });
});
