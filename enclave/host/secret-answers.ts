/**
 * The enclave's side of the secret handover (DESIGN §4): given only a request's id and the transaction
 * that made it, the enclave reads everything else from L1 through the node's own provider (the request's
 * status and commitment, the requester's id and key from the NetworkSecretRequested log, its report from
 * the transaction's input), verifies the report (the on-chain verifier and this enclave's policy), and
 * answers with the secret encrypted to the key L1 names and its signature. The caller chooses nothing
 * the answer depends on, so whoever can call it learns nothing but what respondNetworkSecret publishes.
 */
import { type Provider, type TransactionReceipt, type TypedDataDomain, getAddress } from "ethers";

import {
  EnclaveHostErrorCodes,
  type SecretRefusalCode,
  type SecretRequestAnswer,
  type SecretRequestLocator,
} from "../../protocol/enclave-host.js";
import { RpcError } from "../../protocol/jsonrpc.js";
import { enclaveRegistryDomain } from "../../protocol/secret.js";
import { type EnclaveRegistry, IAttestationVerifier__factory } from "../../types/ethers-contracts/index.js";
import type { Logger } from "../../platform/logger.js";
import type { Enclave, RefusalCode } from "../secret/enclave.js";

/** The part of the Enclave that answers secret requests. */
export type AnsweringEnclave = Pick<
  Enclave,
  "address" | "verifyPeerReport" | "encryptSecretFor" | "signSecretResponse"
>;

/** Every refusal of the enclave is a refusal code of the interface (checked at compile time). */
const _codes: RefusalCode extends SecretRefusalCode ? true : never = true;
void _codes;

export interface SecretAnswersDeps {
  enclave: AnsweringEnclave;
  /** The deployment's EnclaveRegistry, read through the node's own L1 provider. */
  registry: EnclaveRegistry;
  /** The node's L1 provider (transactions, receipts, the verifier's view). */
  provider: Provider;
  chainId: number;
  logger: Logger;
}

/** EnclaveRegistry.RequestStatus. */
const RequestStatus = { None: 0n, Open: 1n, Answered: 2n, Cancelled: 3n } as const;

/** The request as the NetworkSecretRequested log of its transaction gives it. */
interface RequestOnL1 {
  enclaveId: string;
  enclavePubKey: string;
  payer: string;
  bounty: bigint;
  createdAt: bigint;
}

function unknownToL1(message: string): RpcError {
  return new RpcError(EnclaveHostErrorCodes.unknownToL1, message);
}

export class SecretAnswers {
  readonly #deps: SecretAnswersDeps;
  readonly #log: Logger;
  #domain: TypedDataDomain | undefined;

  constructor(deps: SecretAnswersDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ service: "enclave-host", enclave: deps.enclave.address });
  }

  /**
   * Answers the request `locator` names, or says why not. An L1 that does not know the request or its
   * transaction yet is an RpcError (unknownToL1, retry later); an L1 that fails is thrown as it is.
   */
  async answer(locator: SecretRequestLocator): Promise<SecretRequestAnswer> {
    const { registry } = this.#deps;
    const requestId = BigInt(locator.requestId);
    const status = await registry.requestStatus(requestId);
    if (status === RequestStatus.None) throw unknownToL1(`request ${requestId} is unknown to the L1 node`);
    if (status !== RequestStatus.Open) {
      return {
        outcome: "closed",
        requestId: locator.requestId,
        status: status === RequestStatus.Answered ? "answered" : "cancelled",
      };
    }
    const report = await this.#report(locator.transactionHash);
    if (typeof report !== "string") return this.#refuse(locator, "report-unavailable", report.problem);
    const request = await this.#request(requestId, locator.transactionHash);
    if (request === undefined) {
      return this.#refuse(
        locator,
        "report-unavailable",
        `transaction ${locator.transactionHash} did not make request ${requestId}`,
      );
    }
    const fields = {
      enclaveId: request.enclaveId,
      payer: request.payer,
      bounty: request.bounty,
      createdAt: request.createdAt,
    };
    const [stored, expected] = await Promise.all([
      registry.requestCommitment(requestId),
      registry.hashSecretRequest(requestId, fields),
    ]);
    if (stored !== expected) {
      return this.#refuse(
        locator,
        "requester-mismatch",
        `the request in the transaction is not the one L1 committed to`,
      );
    }

    const verifier = IAttestationVerifier__factory.connect(await registry.attestationVerifier(), this.#deps.provider);
    const verdict = await this.#deps.enclave.verifyPeerReport(report, verifier, request.enclavePubKey);
    if (!verdict.ok) return this.#refuse(locator, verdict.code, verdict.reason);
    if (verdict.enclaveId !== getAddress(request.enclaveId)) {
      return this.#refuse(
        locator,
        "requester-mismatch",
        `the report attests enclave ${verdict.enclaveId}, not the requester ${request.enclaveId}`,
      );
    }

    const encryptedSecret = this.#deps.enclave.encryptSecretFor(request.enclavePubKey);
    const signature = await this.#deps.enclave.signSecretResponse(
      await this.#registryDomain(),
      requestId,
      encryptedSecret,
    );
    this.#log.info({ requestId: locator.requestId, requester: request.enclaveId }, "secret request answered");
    return {
      outcome: "answered",
      requestId: locator.requestId,
      responder: this.#deps.enclave.address,
      encryptedSecret,
      signature,
      request: {
        enclaveId: getAddress(request.enclaveId),
        payer: getAddress(request.payer),
        bounty: request.bounty.toString(),
        createdAt: request.createdAt.toString(),
      },
      report,
    };
  }

  /**
   * The report of the request transaction: events do not carry it, so it is read back from the input of a
   * direct requestNetworkSecret call. A request made through another contract (a multisig, a wrapper)
   * cannot be re-verified here: it is refused.
   */
  async #report(transactionHash: string): Promise<string | { problem: string }> {
    const { registry, provider } = this.#deps;
    const tx = await provider.getTransaction(transactionHash);
    if (tx === null) throw unknownToL1(`request transaction ${transactionHash} is unknown to the L1 node`);
    const registryAddress = await registry.getAddress();
    if (tx.to === null || tx.to.toLowerCase() !== registryAddress.toLowerCase()) {
      return { problem: `the request was made through ${tx.to ?? "a contract creation"}, not a direct call` };
    }
    const call = registry.interface.parseTransaction({ data: tx.data, value: tx.value });
    if (call === null || call.name !== "requestNetworkSecret") {
      return { problem: `transaction ${tx.hash} does not call requestNetworkSecret` };
    }
    return call.args[0] as string;
  }

  /** The NetworkSecretRequested log of request `requestId` in the receipt of `transactionHash`, if any. */
  async #request(requestId: bigint, transactionHash: string): Promise<RequestOnL1 | undefined> {
    const receipt: TransactionReceipt | null = await this.#deps.provider.getTransactionReceipt(transactionHash);
    if (receipt === null) throw unknownToL1(`request transaction ${transactionHash} is not mined on the L1 node`);
    const { registry } = this.#deps;
    const registryAddress = (await registry.getAddress()).toLowerCase();
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== registryAddress) continue;
      const parsed = registry.interface.parseLog(log);
      if (parsed?.name !== "NetworkSecretRequested" || (parsed.args.requestId as bigint) !== requestId) continue;
      return {
        enclaveId: parsed.args.enclaveId as string,
        enclavePubKey: parsed.args.enclavePubKey as string,
        payer: parsed.args.payer as string,
        bounty: parsed.args.bounty as bigint,
        createdAt: parsed.args.createdAt as bigint,
      };
    }
    return undefined;
  }

  #refuse(locator: SecretRequestLocator, code: SecretRefusalCode, reason: string): SecretRequestAnswer {
    this.#log.warn({ requestId: locator.requestId, code, reason }, `secret request refused: ${reason}`);
    return { outcome: "refused", requestId: locator.requestId, code, reason };
  }

  async #registryDomain(): Promise<TypedDataDomain> {
    this.#domain ??= enclaveRegistryDomain(BigInt(this.#deps.chainId), await this.#deps.registry.getAddress());
    return this.#domain;
  }
}
