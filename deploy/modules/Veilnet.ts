/**
 * Hardhat Ignition module deploying Veilnet's L1 suite and wiring its roles and address book.
 * Parameters (all optional) are listed in `VeilnetParameters` in deploy/parameters.ts.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import { DEFAULT_PARAMETERS, VEILNET_MODULE_ID } from "../parameters.js";

export default buildModule(VEILNET_MODULE_ID, (m) => {
  const admin = m.getAccount(0);

  const d = DEFAULT_PARAMETERS;
  const challengePeriod = m.getParameter("challengePeriod", d.challengePeriod);
  // RollupRegistry's deployment floor of the challenge period (interim: the absolute minimum, 60 s, which
  // the devnet runs at; deploy/parameters.ts does not list it yet, so a parameters file cannot set it).
  const minChallengePeriod = m.getParameter("minChallengePeriod", 60n);
  // Interim until the governance module lands: the deployer is admin and guardian, no admin delay.
  const adminDelay = m.getParameter("adminDelay", 0n);
  const guardian = admin;
  const revelationPeriod = m.getParameter("revelationPeriod", d.revelationPeriod);
  const secretRequestTimeout = m.getParameter("secretRequestTimeout", d.secretRequestTimeout);
  const messageFee = m.getParameter("messageFee", d.messageFee);
  const baseReward = m.getParameter("baseReward", d.baseReward);
  const perBatchReward = m.getParameter("perBatchReward", d.perBatchReward);
  const treasuryShareBps = m.getParameter("treasuryShareBps", d.treasuryShareBps);
  const attestationService = m.getParameter<string>("attestationService", admin as unknown as string);
  const measurement = m.getParameter<string>("measurement", d.measurement);
  const l2Bridge = m.getParameter<string>("l2Bridge", d.l2Bridge);
  const permissionlessTokens = m.getParameter("permissionlessTokenRegistration", d.permissionlessTokenRegistration);

  const networkConfig = m.contract("NetworkConfig", [admin]);
  const verifier = m.contract("SignedReportVerifier", [admin, attestationService, measurement]);
  const enclaveRegistry = m.contract("EnclaveRegistry", [admin, verifier, secretRequestTimeout]);
  const feeVault = m.contract("FeeVault", [admin, adminDelay, guardian, baseReward, perBatchReward, treasuryShareBps]);
  const messageBus = m.contract("MessageBus", [admin, adminDelay, guardian, feeVault, messageFee]);
  const rollupRegistry = m.contract("RollupRegistry", [
    admin,
    adminDelay,
    guardian,
    enclaveRegistry,
    messageBus,
    feeVault,
    challengePeriod,
    minChallengePeriod,
    revelationPeriod,
  ]);
  const messenger = m.contract("CrossChainMessenger", [admin, messageBus]);
  const bridge = m.contract("Bridge", [admin, messageBus, messenger, l2Bridge, permissionlessTokens]);

  // One-shot bindings by the deployer: no role can change them afterwards.
  m.call(messageBus, "bindRollupRegistry", [rollupRegistry], { id: "bindRollupRegistry" });
  m.call(feeVault, "bindRewarder", [rollupRegistry], { id: "bindRewarder" });

  const book = {
    SignedReportVerifier: verifier,
    EnclaveRegistry: enclaveRegistry,
    FeeVault: feeVault,
    MessageBus: messageBus,
    RollupRegistry: rollupRegistry,
    CrossChainMessenger: messenger,
    Bridge: bridge,
  };
  for (const [name, contract] of Object.entries(book)) {
    m.call(networkConfig, "setAddress", [name, contract], { id: `setAddress_${name}` });
  }

  return {
    networkConfig,
    verifier,
    enclaveRegistry,
    feeVault,
    messageBus,
    rollupRegistry,
    messenger,
    bridge,
  };
});
