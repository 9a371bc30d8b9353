/**
 * The EIP-712 payload a wallet signs (`eth_signTypedData_v4`) to bind an account to a user's viewing
 * key: domain PRIVATE_RPC_DOMAIN, primary type `ViewingKey { account, viewingKey }`.
 */
import { getBigInt } from "ethers";

import { PRIVATE_RPC_DOMAIN, VIEWING_KEY_TYPES, viewingKeyMessage } from "../../protocol/private-rpc.js";

export interface TypedDataField {
  name: string;
  type: string;
}

/** The JSON object `eth_signTypedData_v4` takes (as its second parameter, stringified). */
export interface ViewingKeyTypedData {
  types: { EIP712Domain: TypedDataField[]; ViewingKey: TypedDataField[] };
  primaryType: "ViewingKey";
  domain: { name: string; version: string; chainId: number };
  message: { account: string; viewingKey: string };
}

/** The payload binding `account` to `viewingKey` (compressed secp256k1 public key, hex). */
export function viewingKeyTypedData(account: string, viewingKey: string): ViewingKeyTypedData {
  const domain = {
    name: String(PRIVATE_RPC_DOMAIN.name),
    version: String(PRIVATE_RPC_DOMAIN.version),
    // A number, as wallets compare it with their active chain.
    chainId: Number(getBigInt(PRIVATE_RPC_DOMAIN.chainId ?? 0)),
  };
  return {
    types: {
      EIP712Domain: [
        { name: "name", type: "string" },
        { name: "version", type: "string" },
        { name: "chainId", type: "uint256" },
      ],
      ViewingKey: VIEWING_KEY_TYPES.ViewingKey.map((f) => ({ ...f })),
    },
    primaryType: "ViewingKey",
    domain,
    message: viewingKeyMessage(account, viewingKey),
  };
}
