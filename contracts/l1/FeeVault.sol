// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IFeeVault} from "../interfaces/IFeeVault.sol";

/// @title FeeVault
/// @notice Collects Veilnet's fees (L1 message fees, L2 fee revenue bridged back) and pays sequencer
/// rewards. Incoming value is split: `treasuryShareBps` to the treasury, the rest unallocated. Each
/// accepted rollup moves `baseReward + perBatchReward × batches` (capped by what is unallocated) from
/// unallocated to the sequencer operator's unclaimed rewards.
/// @dev Storage is packed for the reward path (one call per accepted rollup): slot A holds the pause
/// flag, the rewarder and the treasury balance; slot B the reward schedule and the unclaimed total.
/// Accounting invariant: `address(this).balance == totalUnclaimed + treasuryBalance + unallocated()`,
/// with `unallocated()` never negative (value only leaves through claims and treasury withdrawals).
contract FeeVault is IFeeVault, AccessControlDefaultAdminRules, ReentrancyGuardTransient, Pausable {
    /// @notice May withdraw the treasury's share.
    bytes32 public constant TREASURER_ROLE = keccak256("TREASURER_ROLE");
    /// @notice May set rewards and the treasury share.
    bytes32 public constant FEE_ADMIN_ROLE = keccak256("FEE_ADMIN_ROLE");
    /// @notice May pause and unpause.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice 100% in basis points.
    uint16 public constant BPS = 10_000;

    /// @notice Emitted when fees arrive; `toTreasury` of `amount` went to the treasury.
    event FeesReceived(address indexed from, uint256 amount, uint256 toTreasury);
    /// @notice Emitted when `operator` is credited `reward` for a rollup of `batchCount` batches.
    event RewardAccrued(address indexed operator, uint256 reward, uint256 batchCount);
    /// @notice Emitted when `operator` claims `amount`.
    event RewardsClaimed(address indexed operator, uint256 amount);
    /// @notice Emitted when `amount` of the treasury goes to `to`.
    event TreasuryWithdrawn(address indexed to, uint256 amount);
    /// @notice Emitted when the reward schedule changes.
    event RewardsSet(uint256 baseReward, uint256 perBatchReward);
    /// @notice Emitted when the treasury share changes.
    event TreasuryShareSet(uint16 bps);
    /// @notice Emitted when the rewarder (the RollupRegistry) changes.
    event RewarderSet(address indexed rewarder);

    /// @notice The caller has no rewards to claim.
    error NothingToClaim();
    /// @notice The treasury holds only `available`.
    error InsufficientTreasury(uint256 requested, uint256 available);
    /// @notice Basis points above 10,000.
    error InvalidBps(uint256 bps);
    /// @notice The caller is not the rewarder.
    error NotRewarder(address caller);
    /// @notice A reward does not fit in 64 bits.
    error RewardTooLarge(uint256 reward);
    /// @notice A zero address where one is required.
    error ZeroAddress();
    /// @notice Only the account that deployed this contract may bind the rewarder.
    error NotDeployer(address caller);
    /// @notice The rewarder is bound already.
    error AlreadyBound();

    /// @notice The account that deployed this contract (may bind the rewarder, once).
    address private immutable _deployer;

    // Slot A (shares Pausable's flag).
    /// @notice The only account that may credit rewards (the RollupRegistry).
    address public rewarder;
    /// @notice The treasury's share, not yet withdrawn.
    uint88 public treasuryBalance;

    // Slot B.
    /// @notice Reward per accepted rollup, in wei.
    uint64 public baseReward;
    /// @notice Additional reward per batch, in wei.
    uint64 public perBatchReward;
    /// @notice Rewards credited and not yet claimed, all operators together.
    uint112 public totalUnclaimed;
    /// @notice Share of incoming fees kept for the treasury, in basis points.
    uint16 public treasuryShareBps;

    mapping(address operator => uint256) public rewardsOf;

    /// @param admin Receives DEFAULT_ADMIN_ROLE, FEE_ADMIN_ROLE and TREASURER_ROLE (in a deployment: the timelock).
    /// @param adminDelay Seconds a DEFAULT_ADMIN_ROLE transfer waits before it can be accepted.
    /// @param guardian Receives PAUSER_ROLE.
    /// @param base Reward per accepted rollup.
    /// @param perBatch Additional reward per batch in the rollup.
    /// @param treasuryBps Share of incoming fees kept for the treasury, in basis points.
    constructor(
        address admin,
        uint48 adminDelay,
        address guardian,
        uint256 base,
        uint256 perBatch,
        uint16 treasuryBps
    ) AccessControlDefaultAdminRules(adminDelay, admin) {
        if (guardian == address(0)) revert ZeroAddress();
        _deployer = msg.sender;
        _grantRole(FEE_ADMIN_ROLE, admin);
        _grantRole(TREASURER_ROLE, admin);
        _grantRole(PAUSER_ROLE, guardian);
        _setRewards(base, perBatch);
        _setTreasuryShare(treasuryBps);
    }

    /// @notice Receives fees from anyone (message fees, L2 fee revenue, top-ups).
    receive() external payable {
        uint256 toTreasury = (msg.value * treasuryShareBps) / BPS;
        treasuryBalance += SafeCast.toUint88(toTreasury);
        emit FeesReceived(msg.sender, msg.value, toTreasury);
    }

    /// @inheritdoc IFeeVault
    function rewardSequencer(
        address operator,
        uint256 batchCount
    ) external returns (uint256 reward) {
        if (msg.sender != rewarder) revert NotRewarder(msg.sender);
        reward = uint256(baseReward) + uint256(perBatchReward) * batchCount;
        uint256 free = unallocated();
        if (reward > free) reward = free;
        if (reward == 0) return 0;
        rewardsOf[operator] += reward;
        totalUnclaimed += uint112(reward);
        emit RewardAccrued(operator, reward, batchCount);
    }

    /// @notice Pays the caller all its unclaimed rewards.
    function claimRewards() external whenNotPaused nonReentrant returns (uint256 amount) {
        amount = rewardsOf[msg.sender];
        if (amount == 0) revert NothingToClaim();
        rewardsOf[msg.sender] = 0;
        totalUnclaimed -= uint112(amount);
        emit RewardsClaimed(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @notice Sends `amount` of the treasury's share to `to`.
    function withdrawTreasury(
        address payable to,
        uint256 amount
    ) external onlyRole(TREASURER_ROLE) whenNotPaused nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        if (amount > treasuryBalance) revert InsufficientTreasury(amount, treasuryBalance);
        treasuryBalance -= uint88(amount);
        emit TreasuryWithdrawn(to, amount);
        Address.sendValue(to, amount);
    }

    /// @notice Value held that is neither owed to operators nor the treasury's: the reward budget.
    function unallocated() public view returns (uint256) {
        return address(this).balance - totalUnclaimed - treasuryBalance;
    }

    /// @notice Sets the reward per rollup and per batch.
    function setRewards(uint256 base, uint256 perBatch) external onlyRole(FEE_ADMIN_ROLE) {
        _setRewards(base, perBatch);
    }

    /// @notice Binds the account allowed to credit rewards (the RollupRegistry): once, by the deployer.
    function bindRewarder(address rewarder_) external {
        if (msg.sender != _deployer) revert NotDeployer(msg.sender);
        if (rewarder != address(0)) revert AlreadyBound();
        if (rewarder_ == address(0)) revert ZeroAddress();
        rewarder = rewarder_;
        emit RewarderSet(rewarder_);
    }

    /// @notice Sets the share of incoming fees kept for the treasury.
    function setTreasuryShare(uint16 bps) external onlyRole(FEE_ADMIN_ROLE) {
        _setTreasuryShare(bps);
    }

    /// @notice Stops claims and treasury withdrawals.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes claims and treasury withdrawals.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    function _setRewards(uint256 base, uint256 perBatch) private {
        if (base > type(uint64).max) revert RewardTooLarge(base);
        if (perBatch > type(uint64).max) revert RewardTooLarge(perBatch);
        baseReward = uint64(base);
        perBatchReward = uint64(perBatch);
        emit RewardsSet(base, perBatch);
    }

    function _setTreasuryShare(uint16 bps) private {
        if (bps > BPS) revert InvalidBps(bps);
        treasuryShareBps = bps;
        emit TreasuryShareSet(bps);
    }
}
