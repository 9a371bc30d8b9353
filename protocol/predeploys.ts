/** Fixed addresses of the system contracts in the L2 genesis. */
export const L2Predeploys = {
  messageBus: "0x7e11000000000000000000000000000000000001",
  bridge: "0x7e11000000000000000000000000000000000002",
  feeCollector: "0x7e11000000000000000000000000000000000003",
} as const;
