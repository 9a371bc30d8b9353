/**
 * The call formats protocol/ writes down as ABI type lists (it imports no TypeChain output) agree with the
 * compiled contracts: RollupRegistry.addRollup's calldata (protocol/rollup.ts) and the finalizeWithdrawal call
 * of a withdrawal message (protocol/messages.ts).
 */
import { expect } from "chai";
import { Wallet, ZeroAddress, concat, hexlify, randomBytes } from "ethers";

import { FINALIZE_WITHDRAWAL_SELECTOR, encodeFinalizeWithdrawal } from "../../protocol/messages.js";
import {
  ADD_ROLLUP_SELECTOR,
  type RollupHeader,
  committeeSigners,
  decodeAddRollup,
  encodeAddRollup,
  packCommitteeSignatures,
} from "../../protocol/rollup.js";
import { IBridge__factory, RollupRegistry__factory } from "../../types/ethers-contracts/index.js";

const bytes32 = () => hexlify(randomBytes(32));

describe("protocol call formats", () => {
  const registry = RollupRegistry__factory.createInterface();
  const header: RollupHeader = {
    firstBatchSeq: 3n,
    lastBatchSeq: 7n,
    lastBatchHash: bytes32(),
    previousBatchHash: bytes32(),
    l1BlockNumber: 1234n,
    l1BlockHash: bytes32(),
    messageRoot: bytes32(),
    payloadHash: bytes32(),
    revelationEpoch: 0n,
    keyCommitment: bytes32(),
  };

  it("addRollup's selector is RollupRegistry's", () => {
    expect(ADD_ROLLUP_SELECTOR).to.equal(registry.getFunction("addRollup").selector);
  });

  const members = [Wallet.createRandom().address, Wallet.createRandom().address, Wallet.createRandom().address];
  const [sig0, sig2] = [hexlify(randomBytes(65)), hexlify(randomBytes(65))];

  it("decodes the calldata of RollupRegistry.addRollup as the contract's ABI encodes it", () => {
    const committee = { members, signerBitmap: 5n, signatures: concat([sig0, sig2]) };
    const data = registry.encodeFunctionData("addRollup", [header, "0xc0ffee", members, 5n, committee.signatures]);
    expect(decodeAddRollup(data)).to.deep.equal({ header, payload: "0xc0ffee", committee });
    expect(encodeAddRollup(header, "0xc0ffee", committee)).to.equal(data);
  });

  it("packs committee signatures in ascending bit order and reads the signers back from the bitmap", () => {
    const packed = packCommitteeSignatures(
      members,
      new Map([
        [2, sig2],
        [0, sig0],
      ]),
    );
    expect(packed).to.deep.equal({ members, signerBitmap: 5n, signatures: concat([sig0, sig2]) });
    const call = decodeAddRollup(encodeAddRollup(header, "0x", packed))!;
    expect(committeeSigners(call)).to.deep.equal([members[0], members[2]]);
    expect(() => packCommitteeSignatures(members, new Map([[3, sig0]]))).to.throw(/outside the committee/);
    expect(() => packCommitteeSignatures(members, new Map([[1, "0x1234"]]))).to.throw(/not 65 bytes/);
    expect(() => committeeSigners({ ...call, committee: { ...packed, signerBitmap: 9n } })).to.throw(/beyond/);
  });

  it("reads another call of the registry as no rollup, and throws on malformed addRollup calldata", () => {
    expect(decodeAddRollup(registry.encodeFunctionData("rejectRollup", [header]))).to.equal(null);
    expect(decodeAddRollup("0x")).to.equal(null);
    expect(() => decodeAddRollup(`${ADD_ROLLUP_SELECTOR}00`)).to.throw();
  });

  it("encodes finalizeWithdrawal as IBridge's ABI does", () => {
    const bridge = IBridge__factory.createInterface();
    const to = Wallet.createRandom().address;
    expect(FINALIZE_WITHDRAWAL_SELECTOR).to.equal(bridge.getFunction("finalizeWithdrawal").selector);
    expect(encodeFinalizeWithdrawal(ZeroAddress, to, 10n ** 18n)).to.equal(
      bridge.encodeFunctionData("finalizeWithdrawal", [ZeroAddress, to, 10n ** 18n]),
    );
  });
});
