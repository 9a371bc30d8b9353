/** The JSON-RPC methods the gateway answers itself (the rest go to the enclave node). */

/** Methods answered by the gateway itself. */
export const GATEWAY_METHODS = [
  "eth_chainId",
  "net_version",
  "eth_accounts",
  "eth_subscribe",
  "eth_unsubscribe",
  "eth_newFilter",
  "eth_newBlockFilter",
  "eth_getFilterChanges",
  "eth_getFilterLogs",
  "eth_uninstallFilter",
  "eth_newPendingTransactionFilter",
] as const;
