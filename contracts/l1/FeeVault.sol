// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IFeeVaultErrors} from "../interfaces/IFeeVaultErrors.sol";
import {IFeeVault} from "../interfaces/IFeeVault.sol";

/// @title FeeVault
/// @notice Collects Veilnet's fees (L1 message fees, L2 fee revenue bridged back) and pays sequencer
/// rewards. Incoming value is split: `treasuryShareBps` to the treasury, the rest unallocated. Each
/// accepted rollup moves `baseReward + perBatchReward × batches` (capped by what is unallocated, rounded
/// down to a gwei) from unallocated to the sequencer operator's rewards.
///
/// Rewards vest when the rollup's challenge period ends (`vestsAt`, given by the RollupRegistry). Until
/// then they are not claimable, and a guardian rejection forfeits them: every reward not vested at the
/// moment of a rejection, whoever earned it, goes back to the reward budget (the rollups it paid for may
/// be invalid: a rejection invalidates the rejected rollup and every later one). Each operator has two
/// vesting buckets (the older one vests at its last rollup's end of challenge, new rewards go to the
/// younger one), so a steady stream of rollups still vests, between one and two challenge periods late.
/// @dev Storage is packed for the reward path (one call per accepted rollup): slot A holds the pause
/// flag, the rewarder and the treasury balance; slot B the reward schedule, the unclaimed total and the
/// forfeit epoch; each operator's account is one slot (amounts in gwei). A rejection is O(1): it starts a
/// new forfeit epoch, and an account credited in an earlier epoch is settled (vested or forfeited
/// against the time that epoch ended) the next time it is touched, or by anyone with `settleRewards`.
/// Accounting invariant: `address(this).balance == totalUnclaimed + treasuryBalance + unallocated()`,
/// with `unallocated()` never negative (value only leaves through claims and treasury withdrawals).
contract FeeVault is IFeeVault, IFeeVaultErrors, AccessControlDefaultAdminRules, ReentrancyGuardTransient, Pausable {
    /// @notice An operator's rewards, in gwei: one storage slot.
    /// @param vested Claimable.
    /// @param locked The older unvested bucket, vesting at `lockedUntil`.
    /// @param next The younger unvested bucket, vesting at `lockedUntil + nextDelay`.
    /// @param lockedUntil When `locked` vests (Unix time).
    /// @param nextDelay Seconds after `lockedUntil` when `next` vests.
    /// @param epoch The forfeit epoch of the unvested buckets.
    struct Account {
        uint56 vested;
        uint56 locked;
        uint56 next;
        uint40 lockedUntil;
        uint24 nextDelay;
        uint24 epoch;
    }

    /// @notice May withdraw the treasury's share.
    bytes32 public constant TREASURER_ROLE = keccak256("TREASURER_ROLE");
    /// @notice May set rewards and the treasury share.
    bytes32 public constant FEE_ADMIN_ROLE = keccak256("FEE_ADMIN_ROLE");
    /// @notice May pause and unpause.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice 100% in basis points.
    uint16 public constant BPS = 10_000;
    /// @notice Rewards are accounted in gwei.
    uint256 public constant REWARD_UNIT = 1 gwei;

    /// @notice Emitted when fees arrive; `toTreasury` of `amount` went to the treasury.
    event FeesReceived(address indexed from, uint256 amount, uint256 toTreasury);
    /// @notice Emitted when `operator` is credited `reward` for a rollup of `batchCount` batches (it vests
    /// when the rollup's challenge period ends).
    event RewardAccrued(address indexed operator, uint256 reward, uint256 batchCount);
    /// @notice Emitted when unvested rewards of `operator` are found forfeited and return to the budget.
    event RewardsForfeited(address indexed operator, uint256 amount);
    /// @notice Emitted when a rejection forfeits every unvested reward: forfeit epoch `epoch` ended.
    event UnvestedRewardsForfeited(uint24 indexed epoch);
    /// @notice Emitted when `operator` claims `amount`.
    event RewardsClaimed(address indexed operator, uint256 amount);
    /// @notice Emitted when `amount` of the treasury goes to `to`.
    event TreasuryWithdrawn(address indexed to, uint256 amount);
    /// @notice Emitted when the reward schedule changes.
    event RewardsSet(uint256 baseReward, uint256 perBatchReward);
    /// @notice Emitted when the treasury share changes.
    event TreasuryShareSet(uint16 bps);
    /// @notice Emitted once, when the deployer binds the rewarder (the RollupRegistry).
    event RewarderSet(address indexed rewarder);

    // Slot A (shares Pausable's flag).
    /// @notice The only account that may credit rewards (the RollupRegistry), bound once at deployment.
    address public rewarder;
    /// @notice The treasury's share, not yet withdrawn.
    uint88 public treasuryBalance;

    // Slot B.
    /// @notice Reward per accepted rollup, in wei.
    uint64 public baseReward;
    /// @notice Additional reward per batch, in wei.
    uint64 public perBatchReward;
    /// @notice Rewards credited and not yet claimed (vested or not), all operators together, in wei.
    uint88 public totalUnclaimed;
    /// @notice Share of incoming fees kept for the treasury, in basis points.
    uint16 public treasuryShareBps;
    /// @notice The current forfeit epoch: incremented by every rejection.
    uint24 public forfeitEpoch;

    /// @dev Each operator's `Account`, packed by hand (the reward path reads and writes it as one word).
    mapping(address operator => uint256 packed) private _accounts;
    /// @dev When each forfeit epoch ended (the time of the rejection that ended it).
    mapping(uint24 epoch => uint40 endedAt) private _epochEndedAt;

    // Bit offsets and masks of the packed `Account` (the struct's field order, lowest bits first).
    uint256 private constant _LOCKED = 56;
    uint256 private constant _NEXT = 112;
    uint256 private constant _LOCKED_UNTIL = 168;
    uint256 private constant _NEXT_DELAY = 208;
    uint256 private constant _EPOCH = 232;
    uint256 private constant _MASK24 = type(uint24).max;
    uint256 private constant _MASK40 = type(uint40).max;
    uint256 private constant _MASK56 = type(uint56).max;

    /// @dev The account that deployed the vault: the only one that may bind the rewarder.
    address private immutable _deployer;

    /// @param admin Receives DEFAULT_ADMIN_ROLE, FEE_ADMIN_ROLE and TREASURER_ROLE (the timelock).
    /// @param adminDelay Delay of a DEFAULT_ADMIN_ROLE transfer, seconds.
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
    ) AccessControlDefaultAdminRules(adminDelay, _nonZero(admin)) {
        if (guardian == address(0)) revert ZeroAddress();
        _grantRole(FEE_ADMIN_ROLE, admin);
        _grantRole(TREASURER_ROLE, admin);
        _grantRole(PAUSER_ROLE, guardian);
        _deployer = msg.sender;
        _setRewards(base, perBatch);
        _setTreasuryShare(treasuryBps);
    }

    /// @notice Receives fees from anyone (message fees, L2 fee revenue, top-ups).
    receive() external payable {
        uint256 toTreasury = (msg.value * treasuryShareBps) / BPS;
        treasuryBalance += SafeCast.toUint88(toTreasury);
        emit FeesReceived(msg.sender, msg.value, toTreasury);
    }

    /// @notice Binds the rewarder (the RollupRegistry). Once, by the deployer, at deployment; no role can
    /// change it afterwards.
    function bindRewarder(address rewarder_) external {
        if (msg.sender != _deployer) revert NotDeployer(msg.sender);
        if (rewarder != address(0)) revert RewarderAlreadyBound(rewarder);
        if (rewarder_ == address(0)) revert ZeroAddress();
        rewarder = rewarder_;
        emit RewarderSet(rewarder_);
    }

    /// @inheritdoc IFeeVault
    function rewardSequencer(
        address operator,
        uint256 batchCount,
        uint64 vestsAt
    ) external returns (uint256 reward) {
        if (msg.sender != rewarder) revert NotRewarder(msg.sender);
        reward = uint256(baseReward) + uint256(perBatchReward) * batchCount;
        uint256 free = unallocated();
        if (reward > free) reward = free;
        uint256 units = reward / REWARD_UNIT;
        if (units == 0) return 0;
        reward = units * REWARD_UNIT;
        _credit(operator, units, vestsAt);
        totalUnclaimed += uint88(reward);
        emit RewardAccrued(operator, reward, batchCount);
    }

    /// @inheritdoc IFeeVault
    function forfeitUnvestedRewards() external {
        if (msg.sender != rewarder) revert NotRewarder(msg.sender);
        uint24 epoch = forfeitEpoch;
        _epochEndedAt[epoch] = uint40(block.timestamp);
        forfeitEpoch = epoch + 1;
        emit UnvestedRewardsForfeited(epoch);
    }

    /// @notice Settles `operator`'s account: vests what is due and returns forfeited rewards to the
    /// reward budget. Anyone may call it; claims and new rewards do it too.
    function settleRewards(address operator) external {
        _accounts[operator] = _pack(_settle(operator));
    }

    /// @notice Pays the caller all its vested rewards.
    function claimRewards() external whenNotPaused nonReentrant returns (uint256 amount) {
        Account memory a = _settle(msg.sender);
        amount = uint256(a.vested) * REWARD_UNIT;
        if (amount == 0) revert NothingToClaim();
        a.vested = 0;
        _accounts[msg.sender] = _pack(a);
        totalUnclaimed -= uint88(amount);
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

    /// @notice Sets the reward per rollup and per batch.
    function setRewards(uint256 base, uint256 perBatch) external onlyRole(FEE_ADMIN_ROLE) {
        _setRewards(base, perBatch);
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

    /// @notice Value held that is neither owed to operators nor the treasury's: the reward budget.
    function unallocated() public view returns (uint256) {
        return address(this).balance - totalUnclaimed - treasuryBalance;
    }

    /// @notice `operator`'s rewards claimable now, in wei.
    function rewardsOf(address operator) external view returns (uint256) {
        (Account memory a, ) = _settled(_unpack(_accounts[operator]));
        return uint256(a.vested) * REWARD_UNIT;
    }

    /// @notice `operator`'s rewards not vested yet, in wei, and when the last of them vests.
    function unvestedRewardsOf(address operator) external view returns (uint256 amount, uint64 vestsAt) {
        (Account memory a, ) = _settled(_unpack(_accounts[operator]));
        amount = (uint256(a.locked) + a.next) * REWARD_UNIT;
        if (amount != 0) vestsAt = uint64(a.lockedUntil) + a.nextDelay;
    }

    /// @dev `operator`'s account settled now; forfeited rewards leave the unclaimed total. Not written back.
    function _settle(address operator) private returns (Account memory a) {
        uint256 forfeited;
        (a, forfeited) = _settled(_unpack(_accounts[operator]));
        if (forfeited != 0) {
            totalUnclaimed -= uint88(forfeited);
            emit RewardsForfeited(operator, forfeited);
        }
    }

    /// @dev The account as of now: buckets of an ended forfeit epoch vested if due before it ended and are
    /// forfeited otherwise; buckets of the current epoch vested if due.
    function _settled(Account memory a) private view returns (Account memory, uint256 forfeited) {
        uint24 epoch = forfeitEpoch;
        if (a.epoch != epoch) {
            uint40 endedAt = _epochEndedAt[a.epoch];
            if (a.lockedUntil <= endedAt) a.vested += a.locked;
            else forfeited += a.locked;
            if (uint256(a.lockedUntil) + a.nextDelay <= endedAt) a.vested += a.next;
            else forfeited += a.next;
            (a.locked, a.next, a.lockedUntil, a.nextDelay, a.epoch) = (0, 0, 0, 0, epoch);
            return (a, forfeited * REWARD_UNIT);
        }
        // slither-disable-next-line timestamp
        if (a.locked != 0 && a.lockedUntil <= block.timestamp) {
            a.vested += a.locked;
            // The younger bucket becomes the older one (an empty bucket keeps no vesting time).
            (a.locked, a.lockedUntil, a.next, a.nextDelay) = (
                a.next,
                a.next == 0 ? 0 : a.lockedUntil + a.nextDelay,
                0,
                0
            );
            // slither-disable-next-line timestamp
            if (a.locked != 0 && a.lockedUntil <= block.timestamp) {
                a.vested += a.locked;
                (a.locked, a.lockedUntil) = (0, 0);
            }
        }
        return (a, 0);
    }

    /// @dev Adds `units` gwei vesting at `vestsAt` to `operator`'s account: to the older bucket when it is
    /// empty, to the younger one otherwise. The account is settled first only when due (rarely).
    function _credit(address operator, uint256 units, uint64 vestsAt) private {
        uint256 epoch = forfeitEpoch;
        bytes32 slot;
        uint256 packed;
        assembly ("memory-safe") {
            mstore(0x00, operator)
            mstore(0x20, _accounts.slot)
            slot := keccak256(0x00, 0x40)
            packed := sload(slot)
        }
        // slither-disable-next-line timestamp
        if (packed >> _EPOCH != epoch || _lockedDue(packed)) packed = _pack(_settle(operator));
        unchecked {
            // No overflow below: every field is at most 56 bits before the checks.
            uint256 lockedUntil = (packed >> _LOCKED_UNTIL) & _MASK40;
            if ((packed >> _LOCKED) & _MASK56 == 0) {
                // Settled, so both buckets are empty.
                if (units > _MASK56 || vestsAt > _MASK40) revert RewardTooLarge(units);
                packed =
                    (packed & ~((_MASK56 << _LOCKED) | (_MASK40 << _LOCKED_UNTIL))) |
                    (units << _LOCKED) |
                    (uint256(vestsAt) << _LOCKED_UNTIL);
            } else {
                uint256 nextUntil = lockedUntil + ((packed >> _NEXT_DELAY) & _MASK24);
                if (vestsAt > nextUntil) nextUntil = vestsAt;
                uint256 next = ((packed >> _NEXT) & _MASK56) + units;
                uint256 delay = nextUntil - lockedUntil;
                if (next > _MASK56 || delay > _MASK24) revert RewardTooLarge(next);
                packed =
                    (packed & ~((_MASK56 << _NEXT) | (_MASK24 << _NEXT_DELAY))) |
                    (next << _NEXT) |
                    (delay << _NEXT_DELAY);
            }
        }
        assembly ("memory-safe") {
            sstore(slot, packed)
        }
    }

    /// @dev Whether the older bucket of a packed account is due (non-empty and vested by time).
    function _lockedDue(uint256 packed) private view returns (bool) {
        // slither-disable-next-line timestamp
        return (packed >> _LOCKED) & _MASK56 != 0 && (packed >> _LOCKED_UNTIL) & _MASK40 <= block.timestamp;
    }

    function _unpack(uint256 packed) private pure returns (Account memory a) {
        a.vested = uint56(packed);
        a.locked = uint56(packed >> _LOCKED);
        a.next = uint56(packed >> _NEXT);
        a.lockedUntil = uint40(packed >> _LOCKED_UNTIL);
        a.nextDelay = uint24(packed >> _NEXT_DELAY);
        a.epoch = uint24(packed >> _EPOCH);
    }

    function _pack(Account memory a) private pure returns (uint256) {
        return
            uint256(a.vested) |
            (uint256(a.locked) << _LOCKED) |
            (uint256(a.next) << _NEXT) |
            (uint256(a.lockedUntil) << _LOCKED_UNTIL) |
            (uint256(a.nextDelay) << _NEXT_DELAY) |
            (uint256(a.epoch) << _EPOCH);
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

    /// @dev `admin`, or a revert with ZeroAddress (before AccessControlDefaultAdminRules' own check).
    function _nonZero(address admin) private pure returns (address) {
        if (admin == address(0)) revert ZeroAddress();
        return admin;
    }
}
