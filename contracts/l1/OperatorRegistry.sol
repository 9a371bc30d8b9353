// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IEnclaveRegistry} from "../interfaces/IEnclaveRegistry.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IOperatorRegistryErrors} from "../interfaces/IOperatorRegistryErrors.sol";
import {FeeVault} from "./FeeVault.sol";

/// @title OperatorRegistry
/// @notice The operator network's registry (DESIGN §9.1), in the shape of SSV Network's contracts. Operators
/// register a signing key and a fee (wei per L1 block) and bind their attested sequencer enclave; committees
/// (SSV's clusters) are sets of 1, 4, 7, 10 or 13 operators with a balance. One committee at a time is the
/// active committee, whose rollups L1 accepts: it is set once by the genesis initializer, then only by the
/// admin (the timelock).
///
/// Fees: only the active committee pays and only its members earn. Each L1 block it is charged the sum of
/// its members' fees plus the network fee; the members earn their fees, the network fee accrues to the
/// network's earnings (`accounting()`), which the admin withdraws to a treasury. Fee increases are declared,
/// then executed inside a window (`declarePeriod`, `executePeriod`), by at most `maxFeeIncreaseBps`;
/// reductions apply at once. Sequencing rewards, credited in the FeeVault to this contract's address, are
/// collected into the active committee's balance. The guardian may pause registration, committee creation,
/// deposits and reactivation, never withdrawals of what is owed.
///
/// Liquidation (SSV's rule): a committee whose balance is below `minimumLiquidationCollateral`, or below
/// `minimumBlocksBeforeLiquidation` blocks of its burn rate, may be liquidated by anyone, who collects its
/// balance. A liquidated committee pays and earns nothing, and while it is the active committee
/// `activeCommittee().liquidated` is true (the RollupRegistry refuses its rollups) until its owner (its
/// creator) calls `reactivate`.
///
/// @dev Accounting, SSV's per-block index adapted to one paying committee: a network clock counts the
/// blocks the active committee has paid for (it stops when the balance cannot cover another block, so
/// nothing is ever owed that is not held). Each operator keeps a snapshot (clock, index, earnings): its index
/// grows by `fee × clock blocks` (SSV's operator index), its earnings by the same while it is a member of the
/// paying active committee. Every change of a fee, of the network fee, of the active committee or of its
/// liquidation first brings the clock and the affected snapshots up to date. Totals are kept alongside, so
/// that `accounting()` checks the invariant in O(1):
/// `address(this).balance == sum(committee balances) + sum(operator earnings) + network earnings`
/// (plus any ETH forced in, unallocated). Nodes rebuild the operator and committee view from events alone.
contract OperatorRegistry is
    IOperatorRegistry,
    IOperatorRegistryErrors,
    AccessControlDefaultAdminRules,
    ReentrancyGuardTransient
{
    using SafeCast for uint256;

    /// @notice An operator: three storage slots.
    /// @param owner The account that registered it: sets its enclave and fee, collects its earnings.
    /// @param fee Wei per L1 block it earns while a member of the paying active committee.
    /// @param removed True once its owner removed it (its fee is zero, it has no enclave).
    /// @param earning True while it is a member of the active committee and that committee is not liquidated.
    /// @param enclave The attested sequencer enclave that signs rollups for it (zero: none).
    /// @param snapshotClock The network clock when `index` and `earnings` were last brought up to date.
    /// @param index Cumulative fee per committee membership over the clock (SSV's operator index), wei.
    /// @param earnings Earned and not withdrawn, wei, as of `snapshotClock`.
    struct Operator {
        address owner;
        uint64 fee;
        bool removed;
        bool earning;
        address enclave;
        uint32 snapshotClock;
        uint128 index;
        uint128 earnings;
    }

    /// @notice A declared fee increase.
    /// @param fee The declared fee, wei per block (zero: nothing declared).
    /// @param executableFrom First Unix time `executeOperatorFee` may apply it.
    /// @param executableUntil Last Unix time `executeOperatorFee` may apply it.
    struct FeeDeclaration {
        uint64 fee;
        uint64 executableFrom;
        uint64 executableUntil;
    }

    /// @notice A committee (SSV's cluster).
    /// @param owner Its creator: may withdraw from its balance and reactivate it.
    /// @param signersGeneration The EnclaveRegistry's `revocationGeneration()` when the signers were recorded.
    /// @param size Number of members.
    /// @param quorum Signatures a rollup needs: 2f+1 with size = 3f+1.
    /// @param liquidated True from `liquidate` until `reactivate`.
    /// @param signersHash keccak256(abi.encodePacked(address[] signers)), the members' enclaves in member order.
    /// @param balance Wei held for its fees, as of the last settlement (views give it as of now).
    /// @param operatorIds Its members, strictly ascending.
    struct Committee {
        address owner;
        uint64 signersGeneration;
        uint8 size;
        uint8 quorum;
        bool liquidated;
        bytes32 signersHash;
        uint256 balance;
        uint64[] operatorIds;
    }

    /// @notice What `activeCommittee()` returns besides the signers hash: one storage slot.
    struct ActiveCommittee {
        uint64 id;
        uint64 signersGeneration;
        uint8 size;
        uint8 quorum;
        bool liquidated;
    }

    /// @notice The fee clock: one storage slot.
    /// @param lastBlock The L1 block the clock was last brought up to.
    /// @param clock Blocks the active committee has paid for since deployment.
    /// @param networkFee Wei per block the paying committee pays the network.
    /// @param activeFees Sum of the fees of the paying committee's members (zero when none pays).
    struct Accrual {
        uint32 lastBlock;
        uint32 clock;
        uint64 networkFee;
        uint96 activeFees;
    }

    /// @notice The network's parameters: two storage slots.
    /// @param maxOperatorFee The highest fee an operator may register with or move to, wei per block.
    /// @param declarePeriod Seconds after a declaration before its fee may be executed.
    /// @param executePeriod Seconds after `declarePeriod` during which a declared fee may be executed.
    /// @param maxFeeIncreaseBps The largest increase a declaration may make, basis points of the current fee.
    /// @param whitelistEnabled When true, only whitelisted accounts may register operators.
    /// @param paused When true, registration, committee creation, deposits and reactivation are stopped
    /// (never withdrawals, liquidations or removals).
    /// @param minimumBlocksBeforeLiquidation A committee is liquidatable when its balance covers fewer blocks.
    /// @param minimumLiquidationCollateral A committee is liquidatable when its balance is below this, wei.
    struct Parameters {
        uint64 maxOperatorFee;
        uint64 declarePeriod;
        uint64 executePeriod;
        uint16 maxFeeIncreaseBps;
        bool whitelistEnabled;
        bool paused;
        uint64 minimumBlocksBeforeLiquidation;
        uint128 minimumLiquidationCollateral;
    }

    /// @notice Sums kept for the accounting invariant, wei, as of the last settlement.
    struct Totals {
        uint256 committeeBalances;
        uint256 operatorEarnings;
        uint256 networkEarnings;
    }

    /// @notice May pause and unpause registration, committee creation, deposits and reactivation.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice May set the first active committee, once; renounced by that call.
    bytes32 public constant GENESIS_ROLE = keccak256("GENESIS_ROLE");
    /// @notice 100% in basis points.
    uint16 public constant BPS = 10_000;
    /// @notice The largest committee.
    uint256 public constant MAX_COMMITTEE_SIZE = 13;

    /// @notice The EnclaveRegistry: which enclaves are attested sequencers, and its revocation generation.
    IEnclaveRegistry public immutable enclaveRegistry;
    /// @notice The FeeVault that holds the sequencing rewards credited to this contract.
    FeeVault public immutable feeVault;

    /// @notice Emitted when `owner` registers operator `operatorId` with signing key `publicKey` and `fee`.
    event OperatorRegistered(uint64 indexed operatorId, address indexed owner, bytes publicKey, uint256 fee);
    /// @notice Emitted when operator `operatorId`'s enclave becomes `enclave` (zero: none, on removal).
    event OperatorEnclaveSet(uint64 indexed operatorId, address indexed enclave);
    /// @notice Emitted when operator `operatorId` is removed (its fee is zero and its enclave unset from now).
    event OperatorRemoved(uint64 indexed operatorId);
    /// @notice Emitted when the guardian pauses or unpauses.
    event PausedSet(bool paused);
    /// @notice Emitted when the whitelist is enabled or disabled.
    event WhitelistEnabledSet(bool enabled);
    /// @notice Emitted when `account` is added to or removed from the operator whitelist.
    event OperatorWhitelistUpdated(address indexed account, bool whitelisted);
    /// @notice Emitted when operator `operatorId` declares a fee increase to `fee`, executable in
    /// [`executableFrom`, `executableUntil`] (Unix time).
    event OperatorFeeDeclared(uint64 indexed operatorId, uint256 fee, uint64 executableFrom, uint64 executableUntil);
    /// @notice Emitted when operator `operatorId` cancels its declared fee.
    event OperatorFeeDeclarationCancelled(uint64 indexed operatorId);
    /// @notice Emitted when operator `operatorId`'s fee becomes `fee` (executed declaration or reduction).
    event OperatorFeeExecuted(uint64 indexed operatorId, uint256 fee);
    /// @notice Emitted when `amount` of operator `operatorId`'s earnings is paid to its owner `to`.
    event OperatorWithdrawn(uint64 indexed operatorId, address indexed to, uint256 amount);
    /// @notice Emitted when `owner` creates committee `committeeId` of `operatorIds` with `balance`.
    event CommitteeCreated(
        uint64 indexed committeeId,
        address indexed owner,
        uint64[] operatorIds,
        uint8 quorum,
        uint256 balance
    );
    /// @notice Emitted when committee `committeeId`'s signers are recorded: its members' enclaves in member
    /// order, checked at EnclaveRegistry revocation generation `generation`.
    event CommitteeSignersUpdated(uint64 indexed committeeId, address[] signers, uint64 generation);
    /// @notice Emitted when the active committee changes from `previous` (zero: none) to `next`.
    event ActiveCommitteeChanged(uint64 indexed previous, uint64 indexed next);
    /// @notice Emitted when `from` deposits `amount` into committee `committeeId`; `balance` is its new balance.
    event CommitteeDeposited(uint64 indexed committeeId, address indexed from, uint256 amount, uint256 balance);
    /// @notice Emitted when the owner withdraws `amount` from committee `committeeId`; `balance` remains.
    event CommitteeWithdrawn(uint64 indexed committeeId, address indexed owner, uint256 amount, uint256 balance);
    /// @notice Emitted when `liquidator` liquidates committee `committeeId` and collects `amount`.
    event CommitteeLiquidated(uint64 indexed committeeId, address indexed liquidator, uint256 amount);
    /// @notice Emitted when committee `committeeId` is reactivated with `amount`; `balance` is its new balance.
    event CommitteeReactivated(uint64 indexed committeeId, uint256 amount, uint256 balance);
    /// @notice Emitted when `amount` of sequencing rewards from the FeeVault is added to committee `committeeId`.
    event RewardsCollected(uint64 indexed committeeId, uint256 amount);
    /// @notice Emitted when `amount` of the network's earnings is withdrawn to `to`.
    event NetworkEarningsWithdrawn(address indexed to, uint256 amount);
    /// @notice Emitted when the fee rules change: the highest operator fee, the declaration period and execution
    /// window (seconds), the largest declared increase (basis points).
    event FeeParametersSet(uint256 maxOperatorFee, uint64 declarePeriod, uint64 executePeriod, uint16 maxIncreaseBps);
    /// @notice Emitted when the network fee changes.
    event NetworkFeeSet(uint256 fee);
    /// @notice Emitted when the liquidation thresholds change.
    event LiquidationThresholdsSet(uint64 minimumBlocks, uint256 minimumCollateral);

    // Read by `activeCommittee()`, on every rollup: two slots.
    ActiveCommittee private _active;
    bytes32 private _activeSignersHash;

    Accrual private _accrual;

    /// @notice Number of operators registered; ids are 1..operatorCount.
    uint64 public operatorCount;
    /// @notice Number of committees created; ids are 1..committeeCount.
    uint64 public committeeCount;
    /// @notice The network's parameters, set by the admin (SSV's protocol storage); `paused` by the guardian.
    Parameters public parameters;
    // Totals as of the last settlement (`accounting()` adds what accrued since).
    Totals private _totals;

    /// @notice Operator `operatorId` as stored: `index` and `earnings` as of `snapshotClock`
    /// (`operatorEarnings` gives the earnings as of now).
    mapping(uint64 operatorId => Operator) public operators;
    /// @notice Operator `operatorId`'s declared fee increase (fee zero: none).
    mapping(uint64 operatorId => FeeDeclaration) public declaredFees;
    mapping(bytes32 publicKeyHash => uint64 operatorId) private _operatorIdOfKey;
    mapping(address enclave => uint64 operatorId) private _operatorIdOfEnclave;
    mapping(uint64 committeeId => Committee) private _committees;
    mapping(bytes32 operatorIdsHash => uint64 committeeId) private _committeeIdOf;

    /// @notice Whether `account` may register operators while the whitelist is enabled.
    mapping(address account => bool) public isWhitelisted;

    /// @dev Only the owner of operator `operatorId`.
    modifier onlyOperatorOwner(uint64 operatorId) {
        _checkOperatorOwner(operatorId);
        _;
    }

    /// @param admin Receives DEFAULT_ADMIN_ROLE (transferred in two delayed steps): the timelock.
    /// @param adminDelay Delay of a DEFAULT_ADMIN_ROLE transfer, in seconds.
    /// @param guardian Receives PAUSER_ROLE.
    /// @param initializer Receives GENESIS_ROLE: may call `initializeActiveCommittee`, once.
    /// @param enclaveRegistry_ The EnclaveRegistry.
    /// @param feeVault_ The FeeVault whose rewards fund the active committee.
    /// @param maxOperatorFee_ The highest operator fee, wei per block.
    /// @dev Defaults, as ssv-network's: fee declarations execute from 3 days after until 7 days after, by at
    /// most 10%; liquidation below 214,800 blocks (about 30 days) of fees; no network fee, no minimum
    /// collateral, no whitelist.
    constructor(
        address admin,
        uint48 adminDelay,
        address guardian,
        address initializer,
        IEnclaveRegistry enclaveRegistry_,
        FeeVault feeVault_,
        uint256 maxOperatorFee_
    ) AccessControlDefaultAdminRules(adminDelay, _nonZero(admin)) {
        if (
            guardian == address(0) ||
            initializer == address(0) ||
            address(enclaveRegistry_) == address(0) ||
            address(feeVault_) == address(0)
        ) revert ZeroValue();
        enclaveRegistry = enclaveRegistry_;
        feeVault = feeVault_;
        _grantRole(PAUSER_ROLE, guardian);
        // Only its holder could hand GENESIS_ROLE on: the admin can neither initialize nor grant itself the role.
        _setRoleAdmin(GENESIS_ROLE, GENESIS_ROLE);
        _grantRole(GENESIS_ROLE, initializer);
        _accrual.lastBlock = block.number.toUint32();
        _setFeeParameters(maxOperatorFee_, 3 days, 4 days, 1_000);
        _setLiquidationThresholds(214_800, 0);
        emit NetworkFeeSet(0);
    }

    /// @notice Accepts ETH from the FeeVault only (rewards claimed by `collectRewards`).
    receive() external payable {
        if (msg.sender != address(feeVault)) revert UnexpectedSender(msg.sender);
    }

    // ----------------------------------------------------------------------------------------------
    // Operators

    /// @notice Registers an operator owned by the caller. Only whitelisted accounts while the whitelist is on.
    /// @param publicKey The operator's secp256k1 signing key: 33 bytes compressed or 65 bytes uncompressed.
    /// @param fee Wei per L1 block, at most `maxOperatorFee`.
    /// @return operatorId The new operator's id (from 1).
    function registerOperator(
        bytes calldata publicKey,
        uint256 fee
    ) external returns (uint64 operatorId) {
        _requireNotPaused();
        if (parameters.whitelistEnabled && !isWhitelisted[msg.sender]) revert NotWhitelisted(msg.sender);
        _checkPublicKey(publicKey);
        bytes32 keyHash = keccak256(publicKey);
        uint64 existing = _operatorIdOfKey[keyHash];
        if (existing != 0) revert PublicKeyAlreadyRegistered(existing);
        _checkFee(fee);
        uint32 clock = _accrue();
        operatorId = ++operatorCount;
        _operatorIdOfKey[keyHash] = operatorId;
        Operator storage op = operators[operatorId];
        op.owner = msg.sender;
        op.fee = uint64(fee);
        op.snapshotClock = clock;
        emit OperatorRegistered(operatorId, msg.sender, publicKey, fee);
    }

    /// @notice Binds `enclave`, an attested sequencer enclave no other operator holds, to operator
    /// `operatorId` (its owner only). Committees holding the operator sign with it after
    /// `refreshCommitteeSigners`.
    function setOperatorEnclave(uint64 operatorId, address enclave) external {
        Operator storage op = _ownOperator(operatorId);
        if (enclave == address(0)) revert ZeroValue();
        _checkSequencer(enclave);
        uint64 holder = _operatorIdOfEnclave[enclave];
        if (holder != 0 && holder != operatorId) revert EnclaveInUse(enclave, holder);
        address previous = op.enclave;
        if (previous != address(0)) delete _operatorIdOfEnclave[previous];
        op.enclave = enclave;
        _operatorIdOfEnclave[enclave] = operatorId;
        emit OperatorEnclaveSet(operatorId, enclave);
    }

    /// @notice Removes operator `operatorId` (its owner only): its earnings are settled (still withdrawable),
    /// its fee becomes zero, its enclave and any declared fee are dropped. It cannot join new committees;
    /// committees holding it keep it, but their signers can no longer be refreshed.
    function removeOperator(uint64 operatorId) external {
        Operator storage op = _ownOperator(operatorId);
        _setFee(operatorId, 0);
        op.removed = true;
        delete declaredFees[operatorId];
        address enclave = op.enclave;
        if (enclave != address(0)) {
            delete _operatorIdOfEnclave[enclave];
            op.enclave = address(0);
        }
        emit OperatorRemoved(operatorId);
    }

    /// @notice Declares a fee increase for operator `operatorId` (its owner only), executable from
    /// `declarePeriod` to `declarePeriod + executePeriod` from now. Replaces an earlier declaration.
    /// @param fee Above the current fee, at most `maxFeeIncreaseBps` above it and at most `maxOperatorFee`.
    function declareOperatorFee(uint64 operatorId, uint256 fee) external {
        Operator storage op = _ownOperator(operatorId);
        uint256 current = op.fee;
        if (fee <= current) revert FeeNotChanged(fee, current);
        _checkFee(fee);
        uint256 maxAllowed = (current * (BPS + parameters.maxFeeIncreaseBps)) / BPS;
        if (fee > maxAllowed) revert FeeExceedsIncreaseLimit(fee, maxAllowed);
        uint64 from = uint64(block.timestamp) + parameters.declarePeriod;
        uint64 until = from + parameters.executePeriod;
        declaredFees[operatorId] = FeeDeclaration({fee: uint64(fee), executableFrom: from, executableUntil: until});
        emit OperatorFeeDeclared(operatorId, fee, from, until);
    }

    /// @notice Applies operator `operatorId`'s declared fee (its owner only), inside the execution window.
    function executeOperatorFee(uint64 operatorId) external onlyOperatorOwner(operatorId) {
        FeeDeclaration memory d = declaredFees[operatorId];
        if (d.fee == 0) revert NoFeeDeclared(operatorId);
        // slither-disable-next-line timestamp
        if (block.timestamp < d.executableFrom || block.timestamp > d.executableUntil) {
            revert OutsideExecutionWindow(d.executableFrom, d.executableUntil);
        }
        _checkFee(d.fee);
        delete declaredFees[operatorId];
        _setFee(operatorId, d.fee);
        emit OperatorFeeExecuted(operatorId, d.fee);
    }

    /// @notice Drops operator `operatorId`'s declared fee (its owner only).
    function cancelDeclaredOperatorFee(uint64 operatorId) external onlyOperatorOwner(operatorId) {
        if (declaredFees[operatorId].fee == 0) revert NoFeeDeclared(operatorId);
        delete declaredFees[operatorId];
        emit OperatorFeeDeclarationCancelled(operatorId);
    }

    /// @notice Lowers operator `operatorId`'s fee to `fee` at once (its owner only); drops a declared fee.
    function reduceOperatorFee(uint64 operatorId, uint256 fee) external {
        Operator storage op = _ownOperator(operatorId);
        if (fee >= op.fee) revert FeeNotChanged(fee, op.fee);
        if (declaredFees[operatorId].fee != 0) {
            delete declaredFees[operatorId];
            emit OperatorFeeDeclarationCancelled(operatorId);
        }
        _setFee(operatorId, fee);
        emit OperatorFeeExecuted(operatorId, fee);
    }

    /// @notice Pays `amount` of operator `operatorId`'s earnings to its owner (the caller), removed or not.
    function operatorWithdraw(uint64 operatorId, uint256 amount) external onlyOperatorOwner(operatorId) nonReentrant {
        Operator storage op = _settleOperator(operatorId, _accrue());
        op.earnings = uint128(_remaining(op.earnings, amount));
        _totals.operatorEarnings -= amount;
        emit OperatorWithdrawn(operatorId, msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    // ----------------------------------------------------------------------------------------------
    // Committees

    /// @notice Creates a committee of `operatorIds` owned by the caller, with `msg.value` as its balance, and
    /// records its signers (every member must have an attested sequencer enclave).
    /// @param operatorIds 1, 4, 7, 10 or 13 existing, not removed operators, strictly ascending; a set that is
    /// not a committee yet.
    /// @return committeeId The new committee's id (from 1).
    function createCommittee(
        uint64[] calldata operatorIds
    ) external payable returns (uint64 committeeId) {
        _requireNotPaused();
        uint256 n = operatorIds.length;
        if (n == 0 || n > MAX_COMMITTEE_SIZE || (n - 1) % 3 != 0) revert InvalidCommitteeSize(n);
        for (uint256 i; i < n; ++i) {
            uint64 id = operatorIds[i];
            if (i != 0 && id <= operatorIds[i - 1]) revert OperatorIdsNotAscending(i);
            Operator storage op = operators[id];
            if (op.owner == address(0)) revert UnknownOperator(id);
            if (op.removed) revert OperatorIsRemoved(id);
        }
        bytes32 key = keccak256(abi.encodePacked(operatorIds));
        uint64 existing = _committeeIdOf[key];
        if (existing != 0) revert CommitteeExists(existing);
        committeeId = ++committeeCount;
        _committeeIdOf[key] = committeeId;
        Committee storage c = _committees[committeeId];
        uint8 quorum = uint8(2 * ((n - 1) / 3) + 1);
        c.owner = msg.sender;
        c.size = uint8(n);
        c.quorum = quorum;
        c.operatorIds = operatorIds;
        c.balance = msg.value;
        _totals.committeeBalances += msg.value;
        _requireHealthy(committeeId, c, msg.value);
        emit CommitteeCreated(committeeId, msg.sender, operatorIds, quorum, msg.value);
        _refreshSigners(committeeId, c);
    }

    /// @notice Records committee `committeeId`'s signers (its members' enclaves, each checked to be an attested
    /// sequencer) at the EnclaveRegistry's current revocation generation. Anyone may call it; needed after a
    /// revocation (the RollupRegistry refuses a stale generation) or a member's enclave change.
    function refreshCommitteeSigners(uint64 committeeId) external {
        _refreshSigners(committeeId, _committee(committeeId));
    }

    /// @notice Adds `msg.value` to committee `committeeId`'s balance (anyone; a liquidated committee too).
    function deposit(uint64 committeeId) external payable {
        _requireNotPaused();
        if (msg.value == 0) revert ZeroValue();
        Committee storage c = _committee(committeeId);
        _accrue();
        uint256 balance = c.balance + msg.value;
        c.balance = balance;
        _totals.committeeBalances += msg.value;
        emit CommitteeDeposited(committeeId, msg.sender, msg.value, balance);
    }

    /// @notice Pays `amount` of committee `committeeId`'s balance to its owner (the caller); reverts when the
    /// committee would be liquidatable afterwards, or is liquidated.
    function withdraw(uint64 committeeId, uint256 amount) external nonReentrant {
        Committee storage c = _ownCommittee(committeeId);
        if (c.liquidated) revert CommitteeIsLiquidated(committeeId);
        _accrue();
        uint256 balance = _remaining(c.balance, amount);
        _requireHealthy(committeeId, c, balance);
        c.balance = balance;
        _totals.committeeBalances -= amount;
        emit CommitteeWithdrawn(committeeId, msg.sender, amount, balance);
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @notice Liquidates committee `committeeId` (anyone, when it is liquidatable): the caller collects its
    /// balance; it stops paying and its members stop earning until `reactivate`.
    function liquidate(uint64 committeeId) external nonReentrant {
        Committee storage c = _committee(committeeId);
        if (c.liquidated) revert CommitteeIsLiquidated(committeeId);
        uint32 clock = _accrue();
        uint256 balance = c.balance;
        if (!_isLiquidatable(c, balance)) revert CommitteeNotLiquidatable(committeeId);
        if (_active.id == committeeId) {
            _stopEarning(c, clock);
            _active.liquidated = true;
        }
        c.liquidated = true;
        c.balance = 0;
        _totals.committeeBalances -= balance;
        emit CommitteeLiquidated(committeeId, msg.sender, balance);
        if (balance != 0) Address.sendValue(payable(msg.sender), balance);
    }

    /// @notice Reactivates liquidated committee `committeeId` (its owner only) with `msg.value` added to its
    /// balance, which must not be liquidatable afterwards.
    function reactivate(uint64 committeeId) external payable {
        _requireNotPaused();
        Committee storage c = _ownCommittee(committeeId);
        if (!c.liquidated) revert CommitteeNotLiquidated(committeeId);
        uint32 clock = _accrue();
        uint256 balance = c.balance + msg.value;
        _requireHealthy(committeeId, c, balance);
        c.balance = balance;
        _totals.committeeBalances += msg.value;
        c.liquidated = false;
        if (_active.id == committeeId) {
            _active.liquidated = false;
            _startEarning(c, clock);
        }
        emit CommitteeReactivated(committeeId, msg.value, balance);
    }

    /// @notice Claims this contract's vested sequencing rewards from the FeeVault and adds them to the active
    /// committee's balance. Anyone may call it.
    /// @return amount The rewards collected.
    function collectRewards() external nonReentrant returns (uint256 amount) {
        uint64 committeeId = _active.id;
        if (committeeId == 0) revert NoActiveCommittee();
        _accrue();
        amount = feeVault.claimRewards();
        Committee storage c = _committees[committeeId];
        c.balance += amount;
        _totals.committeeBalances += amount;
        emit RewardsCollected(committeeId, amount);
    }

    // ----------------------------------------------------------------------------------------------
    // The active committee

    /// @notice Sets the first active committee. Once, by the GENESIS_ROLE holder, which renounces the role.
    function initializeActiveCommittee(uint64 committeeId) external onlyRole(GENESIS_ROLE) {
        if (_active.id != 0) revert ActiveCommitteeAlreadyInitialized();
        _setActive(committeeId);
        _revokeRole(GENESIS_ROLE, msg.sender);
    }

    /// @notice Makes committee `committeeId` (not liquidated) the active committee. Admin (timelock) only.
    function setActiveCommittee(uint64 committeeId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setActive(committeeId);
    }

    /// @inheritdoc IOperatorRegistry
    function activeCommittee()
        external
        view
        returns (uint64 id, bytes32 signersHash, uint64 signersGeneration, uint8 size, uint8 quorum, bool liquidated)
    {
        ActiveCommittee memory a = _active;
        return (a.id, _activeSignersHash, a.signersGeneration, a.size, a.quorum, a.liquidated);
    }

    // ----------------------------------------------------------------------------------------------
    // Admin

    /// @notice Sets the fee rules: the highest operator fee (wei per block; existing fees above it stay until
    /// changed), the declaration period and execution window (seconds), the largest declared increase (bps).
    function setFeeParameters(
        uint256 maxFee,
        uint64 declarePeriod_,
        uint64 executePeriod_,
        uint16 maxIncreaseBps
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setFeeParameters(maxFee, declarePeriod_, executePeriod_, maxIncreaseBps);
    }

    /// @notice Sets the network fee, wei per block paid by the active committee (from this block on).
    function setNetworkFee(uint256 fee) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _accrue();
        _accrual.networkFee = fee.toUint64();
        emit NetworkFeeSet(fee);
    }

    /// @notice Sets the liquidation thresholds: blocks of fees and wei a committee's balance must cover.
    function setLiquidationThresholds(
        uint64 minimumBlocks,
        uint256 minimumCollateral
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setLiquidationThresholds(minimumBlocks, minimumCollateral);
    }

    /// @notice Enables or disables the operator whitelist.
    function setWhitelistEnabled(bool enabled) external onlyRole(DEFAULT_ADMIN_ROLE) {
        parameters.whitelistEnabled = enabled;
        emit WhitelistEnabledSet(enabled);
    }

    /// @notice Adds `account` to (or removes it from) the operator whitelist.
    function setOperatorWhitelist(address account, bool whitelisted) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account == address(0)) revert ZeroValue();
        isWhitelisted[account] = whitelisted;
        emit OperatorWhitelistUpdated(account, whitelisted);
    }

    /// @notice Sends `amount` of the network's earnings to `to` (the treasury).
    function withdrawNetworkEarnings(
        address payable to,
        uint256 amount
    ) external onlyRole(DEFAULT_ADMIN_ROLE) nonReentrant {
        if (to == address(0)) revert ZeroValue();
        _accrue();
        _totals.networkEarnings = _remaining(_totals.networkEarnings, amount);
        emit NetworkEarningsWithdrawn(to, amount);
        Address.sendValue(to, amount);
    }

    /// @notice Stops (true) or resumes (false) registration, committee creation, deposits and reactivation.
    /// Withdrawals of what is owed, liquidations and removals are never paused. Guardian only.
    function setPaused(bool paused_) external onlyRole(PAUSER_ROLE) {
        parameters.paused = paused_;
        emit PausedSet(paused_);
    }

    // ----------------------------------------------------------------------------------------------
    // Views

    /// @notice Operator `operatorId`'s unwithdrawn earnings as of now, wei.
    function operatorEarnings(uint64 operatorId) external view returns (uint256) {
        Operator storage op = operators[operatorId];
        if (!op.earning) return op.earnings;
        (uint32 clock, , ) = _accrued();
        return op.earnings + uint256(op.fee) * (clock - op.snapshotClock);
    }

    /// @notice The operator registered with `publicKey` (zero: none).
    function operatorIdOf(bytes calldata publicKey) external view returns (uint64) {
        return _operatorIdOfKey[keccak256(publicKey)];
    }

    /// @notice The operator whose enclave is `enclave` (zero: none).
    function operatorIdOfEnclave(address enclave) external view returns (uint64) {
        return _operatorIdOfEnclave[enclave];
    }

    /// @notice Committee `committeeId`: its members, owner, signers and its balance as of now.
    function committee(uint64 committeeId) external view returns (Committee memory c) {
        c = _committee(committeeId);
        c.balance = _balanceNow(committeeId, c.balance);
    }

    /// @notice Committee `committeeId`'s balance as of now, wei.
    function committeeBalance(uint64 committeeId) external view returns (uint256) {
        return _balanceNow(committeeId, _committee(committeeId).balance);
    }

    /// @notice Wei per block committee `committeeId` pays while active: its members' fees plus the network fee.
    function burnRate(uint64 committeeId) external view returns (uint256) {
        return _burnRate(_committee(committeeId));
    }

    /// @notice Whether `liquidate(committeeId)` would succeed now.
    function isLiquidatable(uint64 committeeId) external view returns (bool) {
        Committee storage c = _committee(committeeId);
        return !c.liquidated && _isLiquidatable(c, _balanceNow(committeeId, c.balance));
    }

    /// @notice Both sides of the accounting invariant, as of now: `held == committeeBalances +
    /// operatorBalances + network + unallocated`, where `unallocated` (ETH forced in) is never negative.
    /// @return held This contract's ETH balance.
    /// @return committeeBalances Sum of every committee's balance.
    /// @return operatorBalances Sum of every operator's unwithdrawn earnings.
    /// @return network The network's earnings.
    function accounting()
        external
        view
        returns (uint256 held, uint256 committeeBalances, uint256 operatorBalances, uint256 network)
    {
        (, uint256 cost, uint256 toNetwork) = _accrued();
        held = address(this).balance;
        committeeBalances = _totals.committeeBalances - cost;
        operatorBalances = _totals.operatorEarnings + cost - toNetwork;
        network = _totals.networkEarnings + toNetwork;
    }

    /// @notice The current network fee, wei per block.
    function networkFee() external view returns (uint256) {
        return _accrual.networkFee;
    }

    // ----------------------------------------------------------------------------------------------
    // Internals

    /// @dev The fee clock brought up to this block, what the active committee pays for it (`cost`, at most
    /// whole blocks its balance covers) and the network's part of that. Not written back.
    function _accrued() private view returns (uint32 clock, uint256 cost, uint256 toNetwork) {
        Accrual memory a = _accrual;
        ActiveCommittee memory active = _active;
        clock = a.clock;
        if (active.id == 0 || active.liquidated) return (clock, 0, 0);
        uint256 blocks = block.number - a.lastBlock;
        uint256 rate = uint256(a.activeFees) + a.networkFee;
        if (rate != 0) {
            uint256 affordable = _committees[active.id].balance / rate;
            if (blocks > affordable) blocks = affordable;
            cost = blocks * rate;
            toNetwork = blocks * a.networkFee;
        }
        clock = (clock + blocks).toUint32();
    }

    /// @dev Brings the fee clock up to this block: charges the active committee, credits the network.
    /// Operators' earnings follow from the clock (`_settleOperator`).
    /// @return clock The clock now.
    function _accrue() private returns (uint32 clock) {
        uint256 cost;
        uint256 toNetwork;
        (clock, cost, toNetwork) = _accrued();
        (_accrual.lastBlock, _accrual.clock) = (block.number.toUint32(), clock);
        if (cost != 0) {
            _committees[_active.id].balance -= cost;
            _totals.committeeBalances -= cost;
            _totals.networkEarnings += toNetwork;
            _totals.operatorEarnings += cost - toNetwork;
        }
    }

    /// @dev Brings operator `operatorId`'s snapshot up to `clock` (the clock now).
    function _settleOperator(uint64 operatorId, uint32 clock) private returns (Operator storage op) {
        op = operators[operatorId];
        uint256 delta = uint256(op.fee) * (clock - op.snapshotClock);
        if (delta != 0) {
            op.index = (op.index + delta).toUint128();
            if (op.earning) op.earnings = (op.earnings + delta).toUint128();
        }
        op.snapshotClock = clock;
    }

    /// @dev Sets operator `operatorId`'s fee from now on, keeping the paying committee's fee sum in step.
    function _setFee(uint64 operatorId, uint256 fee) private {
        Operator storage op = _settleOperator(operatorId, _accrue());
        if (op.earning) _accrual.activeFees = (uint256(_accrual.activeFees) - op.fee + fee).toUint96();
        op.fee = uint64(fee);
    }

    /// @dev Members of `c` (the active committee, now paying) start earning at `clock`.
    function _startEarning(Committee storage c, uint32 clock) private {
        uint256 fees;
        uint256 n = c.operatorIds.length;
        for (uint256 i; i < n; ++i) {
            Operator storage op = _settleOperator(c.operatorIds[i], clock);
            op.earning = true;
            fees += op.fee;
        }
        _accrual.activeFees = fees.toUint96();
    }

    /// @dev Members of `c` (the active committee, no longer paying) stop earning at `clock`.
    function _stopEarning(Committee storage c, uint32 clock) private {
        uint256 n = c.operatorIds.length;
        for (uint256 i; i < n; ++i) {
            _settleOperator(c.operatorIds[i], clock).earning = false;
        }
        _accrual.activeFees = 0;
    }

    /// @dev Makes `committeeId` the active committee: the previous one stops paying, this one starts.
    function _setActive(uint64 committeeId) private {
        Committee storage next = _committee(committeeId);
        if (next.liquidated) revert CommitteeIsLiquidated(committeeId);
        (uint64 previous, bool previousLiquidated) = (_active.id, _active.liquidated);
        if (previous == committeeId) revert AlreadyActive(committeeId);
        uint32 clock = _accrue();
        if (previous != 0 && !previousLiquidated) _stopEarning(_committees[previous], clock);
        _active = ActiveCommittee({
            id: committeeId,
            signersGeneration: next.signersGeneration,
            size: next.size,
            quorum: next.quorum,
            liquidated: false
        });
        _activeSignersHash = next.signersHash;
        _startEarning(next, clock);
        emit ActiveCommitteeChanged(previous, committeeId);
    }

    /// @dev Records `c`'s signers (see `refreshCommitteeSigners`).
    function _refreshSigners(uint64 committeeId, Committee storage c) private {
        uint256 n = c.operatorIds.length;
        address[] memory signers = new address[](n);
        for (uint256 i; i < n; ++i) {
            uint64 operatorId = c.operatorIds[i];
            address enclave = operators[operatorId].enclave;
            if (enclave == address(0)) revert MissingEnclave(operatorId);
            _checkSequencer(enclave);
            signers[i] = enclave;
        }
        // keccak256(abi.encodePacked(signers)): the packed encoding of an address[] is its 32-byte words.
        bytes32 signersHash;
        assembly ("memory-safe") {
            signersHash := keccak256(add(signers, 0x20), shl(5, n))
        }
        uint64 generation = enclaveRegistry.revocationGeneration();
        c.signersHash = signersHash;
        c.signersGeneration = generation;
        if (_active.id == committeeId) {
            _active.signersGeneration = generation;
            _activeSignersHash = signersHash;
        }
        emit CommitteeSignersUpdated(committeeId, signers, generation);
    }

    /// @dev Committee `committeeId`'s balance as of now, given its stored `balance`.
    function _balanceNow(uint64 committeeId, uint256 balance) private view returns (uint256) {
        if (committeeId != _active.id) return balance;
        (, uint256 cost, ) = _accrued();
        return balance - cost;
    }

    /// @dev SSV's rule: below the minimum collateral, or below the minimum number of blocks of its burn rate.
    function _isLiquidatable(Committee storage c, uint256 balance) private view returns (bool) {
        Parameters storage p = parameters;
        return
            balance < p.minimumLiquidationCollateral ||
            balance < uint256(p.minimumBlocksBeforeLiquidation) * _burnRate(c);
    }

    /// @dev Reverts unless `c` (committee `committeeId`) with `balance` is not liquidatable.
    function _requireHealthy(uint64 committeeId, Committee storage c, uint256 balance) private view {
        if (_isLiquidatable(c, balance)) revert CommitteeBalanceTooLow(committeeId, balance);
    }

    function _burnRate(Committee storage c) private view returns (uint256 rate) {
        rate = _accrual.networkFee;
        uint256 n = c.operatorIds.length;
        for (uint256 i; i < n; ++i) rate += operators[c.operatorIds[i]].fee;
    }

    function _checkSequencer(address enclave) private view {
        if (!enclaveRegistry.isSequencer(enclave)) revert NotSequencer(enclave);
    }

    /// @dev `available - amount`, for a withdrawal of `amount` (non-zero, at most `available`).
    function _remaining(uint256 available, uint256 amount) private pure returns (uint256) {
        if (amount == 0) revert ZeroValue();
        if (amount > available) revert InsufficientFunds(amount, available);
        return available - amount;
    }

    function _requireNotPaused() private view {
        if (parameters.paused) revert EnforcedPause();
    }

    function _committee(uint64 committeeId) private view returns (Committee storage c) {
        c = _committees[committeeId];
        if (c.owner == address(0)) revert UnknownCommittee(committeeId);
    }

    /// @dev Operator `operatorId`, which the caller owns and which is not removed.
    function _ownOperator(uint64 operatorId) private view returns (Operator storage op) {
        _checkOperatorOwner(operatorId);
        op = operators[operatorId];
        if (op.removed) revert OperatorIsRemoved(operatorId);
    }

    function _checkOperatorOwner(uint64 operatorId) private view {
        address owner = operators[operatorId].owner;
        if (owner == address(0)) revert UnknownOperator(operatorId);
        if (owner != msg.sender) revert NotOperatorOwner(operatorId, msg.sender);
    }

    /// @dev Committee `committeeId`, which the caller owns.
    function _ownCommittee(uint64 committeeId) private view returns (Committee storage c) {
        c = _committees[committeeId];
        if (c.owner == address(0)) revert UnknownCommittee(committeeId);
        if (c.owner != msg.sender) revert NotCommitteeOwner(committeeId, msg.sender);
    }

    function _checkFee(uint256 fee) private view {
        if (fee > parameters.maxOperatorFee) revert FeeTooHigh(fee, parameters.maxOperatorFee);
    }

    /// @dev A 33-byte compressed (0x02/0x03 prefix) or 65-byte uncompressed (0x04 prefix) secp256k1 key.
    function _checkPublicKey(bytes calldata publicKey) private pure {
        uint256 length = publicKey.length;
        uint256 prefix = length == 0 ? 0 : uint8(publicKey[0]);
        if (length == 33 ? prefix | 1 != 3 : length != 65 || prefix != 4) revert InvalidPublicKey(length);
    }

    function _setFeeParameters(uint256 maxFee, uint64 declarePeriod_, uint64 executePeriod_, uint16 bps) private {
        if (executePeriod_ == 0) revert ZeroValue();
        if (bps > BPS) revert InvalidBps(bps);
        parameters.maxOperatorFee = maxFee.toUint64();
        parameters.declarePeriod = declarePeriod_;
        parameters.executePeriod = executePeriod_;
        parameters.maxFeeIncreaseBps = bps;
        emit FeeParametersSet(maxFee, declarePeriod_, executePeriod_, bps);
    }

    function _setLiquidationThresholds(uint64 minimumBlocks, uint256 minimumCollateral) private {
        parameters.minimumBlocksBeforeLiquidation = minimumBlocks;
        parameters.minimumLiquidationCollateral = minimumCollateral.toUint128();
        emit LiquidationThresholdsSet(minimumBlocks, minimumCollateral);
    }

    /// @dev `admin`, or a revert with ZeroValue (before AccessControlDefaultAdminRules' own check).
    function _nonZero(address admin) private pure returns (address) {
        if (admin == address(0)) revert ZeroValue();
        return admin;
    }
}
