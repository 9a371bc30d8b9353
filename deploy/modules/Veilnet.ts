/**
 * Hardhat Ignition module deploying Veilnet's L1 suite under a TimelockController.
 * Parameters (all optional on local chains) are listed in `VeilnetParameters` in deploy/parameters.ts.
 *
 * 1. OpenZeppelin's TimelockController(timelockDelay, [governor], [governor], address(0)): the governor
 *    proposes, cancels and executes; the timelock administers itself.
 * 2. The contracts, each with the timelock as `admin` (DEFAULT_ADMIN_ROLE with a two-step transfer
 *    delayed by `adminDelay`, and every power role), the guardian holding the emergency roles and the
 *    initializer EnclaveRegistry's and OperatorRegistry's GENESIS_ROLE (the genesis committee, platform/committee.ts).
 * 3. The one-shot bindings, from the deployer: MessageBus.bindRollupRegistry and FeeVault.bindRewarder.
 * 4. NetworkConfig last, with the address book in its constructor.
 *
 * The deployer keeps no role anywhere (beyond what the parameters give it on local chains).
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { ZeroAddress } from "ethers";

import { DEFAULT_PARAMETERS, VEILNET_MODULE_ID } from "../parameters.js";

export default buildModule(VEILNET_MODULE_ID, (m) => {
  const deployer = m.getAccount(0);
  const account = (name: string) => m.getParameter<string>(name, deployer as unknown as string);

  const d = DEFAULT_PARAMETERS;
  const challengePeriod = m.getParameter("challengePeriod", d.challengePeriod);
  // RollupRegistry's deployment floor of the challenge period: the absolute minimum, 60 s, which the
  // devnet runs at. Not yet a validated parameter of deploy/parameters.ts (a parameters file cannot set it).
  const minChallengePeriod = m.getParameter("minChallengePeriod", 60n);
  const revelationPeriod = m.getParameter("revelationPeriod", d.revelationPeriod);
  // OperatorRegistry's highest operator fee, wei per L1 block (1,000 gwei). Not yet a validated parameter
  // of deploy/parameters.ts either.
  const maxOperatorFee = m.getParameter("maxOperatorFee", 10n ** 12n);
  const secretRequestTimeout = m.getParameter("secretRequestTimeout", d.secretRequestTimeout);
  const messageFee = m.getParameter("messageFee", d.messageFee);
  const baseReward = m.getParameter("baseReward", d.baseReward);
  const perBatchReward = m.getParameter("perBatchReward", d.perBatchReward);
  const treasuryShareBps = m.getParameter("treasuryShareBps", d.treasuryShareBps);
  const attestationService = account("attestationService");
  const measurement = m.getParameter<string>("measurement", d.measurement);
  const l2Bridge = m.getParameter<string>("l2Bridge", d.l2Bridge);
  const permissionlessTokens = m.getParameter("permissionlessTokenRegistration", d.permissionlessTokenRegistration);
  const timelockDelay = m.getParameter("timelockDelay", d.timelockDelay);
  const adminDelay = m.getParameter("adminDelay", d.adminDelay);
  const governor = account("governor");
  const guardian = account("guardian");
  const initializer = account("initializer");

  const timelock = m.contract("TimelockController", [timelockDelay, [governor], [governor], ZeroAddress], {
    id: "Timelock",
  });
  const admin = timelock;

  const verifier = m.contract("SignedReportVerifier", [admin, adminDelay, attestationService, measurement]);
  const enclaveRegistry = m.contract("EnclaveRegistry", [
    admin,
    adminDelay,
    guardian,
    initializer,
    verifier,
    secretRequestTimeout,
  ]);
  const feeVault = m.contract("FeeVault", [admin, adminDelay, guardian, baseReward, perBatchReward, treasuryShareBps]);
  const messageBus = m.contract("MessageBus", [admin, adminDelay, guardian, feeVault, messageFee]);
  // The initializer forms the genesis committee after initializeNetworkSecret and makes it active
  // (initializeActiveCommittee, once; platform/committee.ts); after that only the timelock sets it.
  const operatorRegistry = m.contract("OperatorRegistry", [
    admin,
    adminDelay,
    guardian,
    initializer,
    enclaveRegistry,
    feeVault,
    maxOperatorFee,
  ]);
  const rollupRegistry = m.contract("RollupRegistry", [
    admin,
    adminDelay,
    guardian,
    enclaveRegistry,
    operatorRegistry,
    messageBus,
    feeVault,
    challengePeriod,
    minChallengePeriod,
    revelationPeriod,
  ]);
  const messenger = m.contract("CrossChainMessenger", [admin, adminDelay, guardian, messageBus]);
  const bridge = m.contract("Bridge", [
    admin,
    adminDelay,
    guardian,
    messageBus,
    messenger,
    l2Bridge,
    permissionlessTokens,
  ]);

  // One-shot: only the deployer may call them, once; no role can change them afterwards.
  const bindRegistry = m.call(messageBus, "bindRollupRegistry", [rollupRegistry], { id: "bindRollupRegistry" });
  const bindRewarder = m.call(feeVault, "bindRewarder", [rollupRegistry], { id: "bindRewarder" });

  const book = {
    Timelock: timelock,
    SignedReportVerifier: verifier,
    EnclaveRegistry: enclaveRegistry,
    FeeVault: feeVault,
    MessageBus: messageBus,
    OperatorRegistry: operatorRegistry,
    RollupRegistry: rollupRegistry,
    CrossChainMessenger: messenger,
    Bridge: bridge,
  };
  const networkConfig = m.contract("NetworkConfig", [admin, adminDelay, Object.keys(book), Object.values(book)], {
    after: [bindRegistry, bindRewarder],
  });

  return {
    timelock,
    verifier,
    enclaveRegistry,
    feeVault,
    messageBus,
    operatorRegistry,
    rollupRegistry,
    messenger,
    bridge,
    networkConfig,
  };
});
