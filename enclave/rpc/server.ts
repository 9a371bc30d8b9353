/**
 * The node's L2 JSON-RPC endpoint (HTTP, L2_RPC_PORT). Its method table:
 * - `veil_rpcKey` and `veil_private`: the gateway's encrypted channel (private.ts), through which every
 *   wallet method is answered under the privacy rules for the accounts bound to the caller's viewing key;
 * - in plain, for anyone, the public methods (PUBLIC_METHODS): chain id, fees, block numbers, code,
 *   blocks redacted exactly as for an anonymous viewer, and a rollup's L2→L1 messages (withdrawals.ts);
 * - everything else in plain only with `unfiltered` (the node setting L2_RPC_UNFILTERED): the chain's
 *   whole method set as it is (chain-methods.ts), for operators and debugging. It breaks privacy.
 * The transport is http.ts, the rules are applied by the privacy filter (filter.ts, enclave/privacy).
 */
import { CHAIN_INFO_METHODS, PRIVATE_RPC_METHOD, RPC_KEY_METHOD, WALLET_METHODS } from "../../protocol/private-rpc.js";
import { ContractRules } from "../privacy/contract-rules.js";
import { Viewer } from "../privacy/viewer.js";
import { ChainMethods, type ChainMethodsDeps } from "./chain-methods.js";
import { ROLLUP_MESSAGES_METHOD, WITHDRAWAL_PROOF_METHOD } from "../../protocol/withdrawals.js";
import type { RollupIndex } from "./rollup-index.js";
import { type BatchMessages, WithdrawalMethods } from "./withdrawals.js";
import { PrivacyFilter, type PrivacyFilterOptions } from "./filter.js";
import { JsonRpcHttpServer } from "./http.js";
import { type JsonRpcRequest, type JsonRpcResponse, RpcError, RpcErrorCode, answer } from "./jsonrpc.js";
import { type PrivateChannelOptions, PrivateChannel, type RpcKeyHolder } from "./private.js";

/** Methods served in plain to anyone (answered as for an anonymous viewer), besides the channel's two. */
export const PUBLIC_METHODS: ReadonlySet<string> = new Set([
  ...CHAIN_INFO_METHODS,
  "eth_getCode",
  "eth_getBlockByNumber",
  "eth_getBlockByHash",
  ROLLUP_MESSAGES_METHOD,
]);

export interface L2RpcDeps extends ChainMethodsDeps {
  /** The enclave whose derived RPC key serves `veil_private` / `veil_rpcKey` (without it they are not served). */
  enclave?: RpcKeyHolder;
  /** Serve every method unfiltered in plain (L2_RPC_UNFILTERED): operators and debugging only, breaks privacy. */
  unfiltered?: boolean;
  filter?: PrivacyFilterOptions;
  channel?: PrivateChannelOptions;
  /** The rollups on L1: with them the node serves veil_getRollupMessages and veil_getWithdrawalProof. */
  rollups?: RollupIndex;
  /** Where the rollups' messages are read (default: this chain's logs). */
  batchMessages?: BatchMessages;
}

export class L2RpcServer {
  readonly chain: ChainMethods;
  readonly filter: PrivacyFilter;
  readonly channel: PrivateChannel | undefined;
  readonly withdrawals: WithdrawalMethods | undefined;
  private readonly unfiltered: boolean;
  private readonly http = new JsonRpcHttpServer((request) => this.handle(request));

  constructor(deps: L2RpcDeps) {
    this.chain = new ChainMethods(deps);
    this.withdrawals =
      deps.rollups === undefined
        ? undefined
        : new WithdrawalMethods({ provider: deps.provider, rollups: deps.rollups, batches: deps.batchMessages });
    this.filter = new PrivacyFilter(this.chain, new ContractRules(deps.provider), {
      ...deps.filter,
      withdrawals: this.withdrawals,
    });
    this.channel = deps.enclave === undefined ? undefined : new PrivateChannel(deps.enclave, this.filter, deps.channel);
    this.unfiltered = deps.unfiltered ?? false;
  }

  /** Listens on `host:port` (0: any free port) and returns the URL. */
  listen(port: number, host = "127.0.0.1"): Promise<string> {
    return this.http.listen(port, host);
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /** Answers one JSON-RPC request object, as the HTTP endpoint does. */
  handle(request: JsonRpcRequest): Promise<JsonRpcResponse> {
    return answer(request, (method, params) => this.dispatch(method, params));
  }

  private async dispatch(method: string, params: unknown[]): Promise<unknown> {
    if (method === PRIVATE_RPC_METHOD || method === RPC_KEY_METHOD) {
      if (this.channel === undefined) {
        throw new RpcError(
          RpcErrorCode.methodNotFound,
          `method ${method} is not available: this endpoint has no RPC key`,
        );
      }
      return method === RPC_KEY_METHOD ? this.channel.announcement() : this.channel.handle(params);
    }
    if (this.unfiltered) {
      // Unfiltered: any transaction's withdrawal proof, to anyone (operators and debugging only).
      if (method === WITHDRAWAL_PROOF_METHOD && this.withdrawals !== undefined) {
        return this.withdrawals.withdrawalProofJson(params, () => true);
      }
      if (method === ROLLUP_MESSAGES_METHOD) return this.filter.call(Viewer.anonymous, method, params);
      return this.chain.call(method, params);
    }
    if (PUBLIC_METHODS.has(method)) return this.filter.call(Viewer.anonymous, method, params);
    if (WALLET_METHODS.has(method)) {
      throw new RpcError(
        RpcErrorCode.methodNotFound,
        `method ${method} is not served in plain: it is answered under the privacy rules through a Veilnet gateway (${PRIVATE_RPC_METHOD})`,
      );
    }
    throw new RpcError(RpcErrorCode.methodNotFound, `method ${method} is not available on this endpoint`);
  }
}
