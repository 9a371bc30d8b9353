/**
 * Revert decoding (platform/revert.ts) from the error interfaces alone: every custom error in the full ABI
 * of every L1 contract decodes by name, with its arguments, so moving declarations into interfaces lost none.
 */
import { expect } from "chai";
import { AbiCoder, ErrorFragment, type Interface, ZeroAddress, concat, id } from "ethers";

import { decodeRevert, veilnetErrorInterfaces } from "../../platform/revert.js";
import {
  Bridge__factory,
  CrossChainMessenger__factory,
  EnclaveRegistry__factory,
  FeeVault__factory,
  MessageBus__factory,
  NetworkConfig__factory,
  RollupRegistry__factory,
  SignedReportVerifier__factory,
} from "../../types/ethers-contracts/index.js";

const L1_CONTRACTS: Record<string, Interface> = {
  Bridge: Bridge__factory.createInterface(),
  CrossChainMessenger: CrossChainMessenger__factory.createInterface(),
  EnclaveRegistry: EnclaveRegistry__factory.createInterface(),
  FeeVault: FeeVault__factory.createInterface(),
  MessageBus: MessageBus__factory.createInterface(),
  NetworkConfig: NetworkConfig__factory.createInterface(),
  RollupRegistry: RollupRegistry__factory.createInterface(),
  SignedReportVerifier: SignedReportVerifier__factory.createInterface(),
};

/** A zero value of a (non-tuple, non-array) ABI `type`: what Veilnet's errors take. */
function zeroOf(type: string): unknown {
  if (type === "string" || type === "bytes") return type === "string" ? "" : "0x";
  if (type === "address") return ZeroAddress;
  if (type === "bool") return false;
  const fixed = /^bytes(\d+)$/.exec(type);
  if (fixed !== null) return "0x" + "00".repeat(Number(fixed[1]));
  if (/^u?int\d*$/.test(type)) return 0;
  throw new Error(`no zero value for ABI type ${type}`);
}

/** Revert data for `error` with zero-valued arguments. */
function revertDataOf(iface: Interface, error: ErrorFragment): string {
  return iface.encodeErrorResult(
    error,
    error.inputs.map((input) => zeroOf(input.type)),
  );
}

describe("revert decoding", () => {
  const interfaces = veilnetErrorInterfaces();

  for (const [name, iface] of Object.entries(L1_CONTRACTS)) {
    it(`decodes every custom error of ${name}`, () => {
      const errors: ErrorFragment[] = [];
      iface.forEachError((e) => errors.push(e));
      expect(errors.length).to.be.greaterThan(0);
      for (const error of errors) {
        const decoded = decodeRevert(revertDataOf(iface, error), interfaces);
        expect(decoded.name, error.format()).to.equal(error.name);
      }
    });
  }

  it("decodes an error with its arguments", () => {
    const iface = L1_CONTRACTS.MessageBus!;
    const data = iface.encodeErrorResult("IncorrectMessageFee", [1n, 2n]);
    expect(decodeRevert(data, interfaces).reason).to.equal("IncorrectMessageFee(1, 2)");
  });

  it("decodes Error(string) and Panic(uint256) with or without interfaces", () => {
    const coder = AbiCoder.defaultAbiCoder();
    const error = concat([id("Error(string)").slice(0, 10), coder.encode(["string"], ["no"])]);
    const panic = concat([id("Panic(uint256)").slice(0, 10), coder.encode(["uint256"], [0x11])]);
    for (const list of [interfaces, []]) {
      expect(decodeRevert(error, list).reason).to.equal('Error("no")');
      expect(decodeRevert(panic, list).reason).to.equal("Panic(17)");
    }
  });

  it("names no error for unknown data", () => {
    const decoded = decodeRevert("0xdeadbeef", interfaces);
    expect(decoded.name).to.equal(undefined);
    expect(decoded.reason).to.equal("unknown error 0xdeadbeef");
  });
});
