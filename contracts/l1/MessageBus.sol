// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {IMessageBusErrors} from "../interfaces/IMessageBusErrors.sol";
import {IMessageBus} from "../interfaces/IMessageBus.sol";
import {CrossChain} from "../libraries/CrossChain.sol";

/// @title MessageBus (L1)
/// @notice L1→L2: anyone publishes messages (paying `messageFee`, forwarded to the FeeVault); the enclave
/// applies them in `sequence` order. L2→L1: the RollupRegistry (bound once at deployment, no role can
/// change it) registers each accepted rollup's message root with an activation time at the end of its
/// challenge period; messages proven against an active root that is still valid are authentic L2
/// messages.
/// @dev Storage is laid out so that the pause flag, the sequence counter and the fee share one slot.
///
/// Rejections invalidate a suffix of the rollup chain in O(1), like Optimism's
/// `L2OutputOracle.deleteL2Outputs`: rollups after a rejected one were built on its state, so they fall
/// with it. Each root records the batch sequence number its rollup starts at and the *generation* it was
/// registered in (a new generation starts with every rejection). A rejection at batch `k` of generation
/// `g` cuts generation `g` at `k` (its roots from `k` on become invalid) and invalidates every later
/// generation whole; a root is valid while its generation's cut is above its first batch. Verification
/// reads the root's slot and its generation's cut: two slots, whatever the history. A rejection writes
/// one cut per generation it invalidates: one, unless the guardian rejects a rollup older than its own
/// previous rejections (then one more per such rejection).
contract MessageBus is
    IMessageBus,
    IMessageBusErrors,
    AccessControlDefaultAdminRules,
    ReentrancyGuardTransient,
    Pausable
{
    /// @notice May pause and unpause publishing.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice May set the message fee and the fee vault.
    bytes32 public constant FEE_ADMIN_ROLE = keccak256("FEE_ADMIN_ROLE");

    /// @notice A registered L2→L1 message root, one storage slot.
    /// @param activatesAt Unix time from which messages under the root may be consumed.
    /// @param firstBatchSeq First batch of the rollup that carried the root (its place in the chain).
    /// @param generation The rejection generation the root was registered in.
    /// @param rollupTag First 12 bytes of the hash of the rollup that carried the root.
    struct MessageRoot {
        uint64 activatesAt;
        uint64 firstBatchSeq;
        uint32 generation;
        bytes12 rollupTag;
    }

    /// @notice A registration as `messageRoot` reports it.
    /// @param activatesAt Unix time from which messages under the root may be consumed (0: unknown root).
    /// @param rejected Whether the root is invalid: its rollup, or an earlier one, was rejected.
    /// @param rollupTag First 12 bytes of the hash of the rollup that carried the root.
    /// @param firstBatchSeq First batch of that rollup.
    /// @param generation The rejection generation the root was registered in.
    struct MessageRootInfo {
        uint64 activatesAt;
        bool rejected;
        bytes12 rollupTag;
        uint64 firstBatchSeq;
        uint32 generation;
    }

    /// @notice Emitted when a rollup's message root is registered.
    event MessageRootAdded(bytes32 indexed root, bytes32 indexed rollupHash, uint64 activatesAt);
    /// @notice Emitted when a message root is rejected.
    event MessageRootRejected(bytes32 indexed root);
    /// @notice Emitted with every rejection: the roots of generation `generation` from batch
    /// `fromBatchSeq` on, and those of every later generation, are invalid; `newGeneration` starts.
    event MessageRootsInvalidated(uint32 indexed generation, uint64 fromBatchSeq, uint32 newGeneration);
    /// @notice Emitted once, when the deployer binds the RollupRegistry.
    event RollupRegistryBound(address indexed registry);
    /// @notice Emitted when the message fee changes.
    event MessageFeeSet(uint256 fee);
    /// @notice Emitted when the fee vault changes.
    event FeeVaultSet(address indexed feeVault);

    // Packs with Pausable's flag: one slot read per publish.
    uint64 private _nextSequence;
    uint128 private _messageFee;

    /// @notice Where message fees go.
    address payable public feeVault;

    mapping(bytes32 root => MessageRoot) private _roots;

    /// @notice The only account that registers and rejects message roots (zero until bound).
    address public rollupRegistry;
    /// @notice The current rejection generation (incremented by every rejection).
    uint32 public generation;
    /// @dev Per generation, 1 + the first batch from which its roots are invalid (0: not cut).
    mapping(uint32 generation => uint64 cutPlusOne) private _cuts;

    /// @dev The account that deployed the bus: the only one that may bind the RollupRegistry.
    address private immutable _deployer;

    /// @param admin Receives DEFAULT_ADMIN_ROLE and FEE_ADMIN_ROLE (the timelock in a deployment).
    /// @param adminDelay Delay of a DEFAULT_ADMIN_ROLE transfer, seconds.
    /// @param guardian Receives PAUSER_ROLE.
    /// @param feeVault_ Where message fees go.
    /// @param fee Initial message fee in wei.
    constructor(
        address admin,
        uint48 adminDelay,
        address guardian,
        address payable feeVault_,
        uint256 fee
    ) AccessControlDefaultAdminRules(adminDelay, _nonZero(admin)) {
        if (guardian == address(0) || feeVault_ == address(0)) revert ZeroAddress();
        _grantRole(FEE_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, guardian);
        _deployer = msg.sender;
        feeVault = feeVault_;
        emit FeeVaultSet(feeVault_);
        _setMessageFee(fee);
    }

    // ----------------------------------------------------------------------------------------------
    // L1 → L2

    /// @inheritdoc IMessageBus
    function publishMessage(
        uint32 topic,
        bytes calldata payload,
        uint8 consistencyLevel
    ) external payable whenNotPaused returns (uint64 sequence) {
        // Checks-effects-interactions: the only external call (to the trusted fee vault) comes last.
        uint256 fee = _messageFee;
        if (msg.value != fee) revert IncorrectMessageFee(msg.value, fee);
        sequence = _nextSequence++;
        emit MessagePublished(msg.sender, sequence, topic, payload, consistencyLevel);
        if (fee != 0) Address.sendValue(feeVault, fee);
    }

    /// @inheritdoc IMessageBus
    function messageFee() external view returns (uint256) {
        return _messageFee;
    }

    /// @notice The sequence number the next published message gets (= messages published so far).
    function nextSequence() external view returns (uint64) {
        return _nextSequence;
    }

    // ----------------------------------------------------------------------------------------------
    // L2 → L1

    /// @notice Binds the RollupRegistry, the only account that registers and rejects message roots. Once,
    /// by the deployer, at deployment (before any root exists); no role can change it afterwards.
    function bindRollupRegistry(address registry) external {
        if (msg.sender != _deployer) revert NotDeployer(msg.sender);
        if (rollupRegistry != address(0)) revert RollupRegistryAlreadyBound(rollupRegistry);
        if (registry == address(0)) revert ZeroAddress();
        rollupRegistry = registry;
        emit RollupRegistryBound(registry);
    }

    /// @notice Registers the message root of an accepted rollup starting at batch `firstBatchSeq`, in the
    /// current generation. A root that is invalid (rejected, or after a rejected rollup) may be registered
    /// again: a corrected rollup may carry the same withdrawals. Only the RollupRegistry.
    function addMessageRoot(
        bytes32 root,
        bytes32 rollupHash,
        uint64 activatesAt,
        uint64 firstBatchSeq
    ) external {
        if (msg.sender != rollupRegistry) revert NotRollupRegistry(msg.sender);
        if (root == bytes32(0)) revert InvalidMessageRoot(root);
        MessageRoot storage existing = _roots[root];
        if (existing.activatesAt != 0 && !_isInvalid(existing.generation, existing.firstBatchSeq)) {
            revert InvalidMessageRoot(root);
        }
        _roots[root] = MessageRoot({
            activatesAt: activatesAt,
            firstBatchSeq: firstBatchSeq,
            generation: generation,
            rollupTag: bytes12(rollupHash)
        });
        emit MessageRootAdded(root, rollupHash, activatesAt);
    }

    /// @notice Rejects `root` and every root registered after it in the chain of rollups: those of its
    /// generation from its first batch on, and those of every later generation. A new generation starts.
    /// Only the RollupRegistry (on the guardian's behalf, which checks the challenge period).
    function rejectMessageRoot(bytes32 root) external {
        if (msg.sender != rollupRegistry) revert NotRollupRegistry(msg.sender);
        MessageRoot memory r = _roots[root];
        if (r.activatesAt == 0) revert UnknownMessageRoot(root);
        if (_isInvalid(r.generation, r.firstBatchSeq)) revert MessageRootAlreadyRejected(root);
        uint32 current = generation;
        _cuts[r.generation] = r.firstBatchSeq + 1;
        // Later generations hold only rollups after this one: invalid whole (a cut at batch 0).
        for (uint32 g = r.generation + 1; g <= current; ++g) {
            _cuts[g] = 1;
        }
        uint32 next = current + 1;
        generation = next;
        emit MessageRootRejected(root);
        emit MessageRootsInvalidated(r.generation, r.firstBatchSeq, next);
    }

    /// @inheritdoc IMessageBus
    function verifyMessageInclusion(
        CrossChain.Message calldata message,
        bytes32[] calldata proof,
        bytes32 root
    ) external view returns (bytes32 leaf) {
        // One read of the root's slot (the relay path is gas-bound): the `MessageRoot` fields, lowest first.
        uint256 raw;
        uint256 cut;
        assembly ("memory-safe") {
            mstore(0x00, root)
            mstore(0x20, _roots.slot)
            raw := sload(keccak256(0x00, 0x40))
            // _cuts[generation]: 1 + the generation's first invalid batch, 0 when not cut.
            mstore(0x00, and(shr(128, raw), 0xffffffff))
            mstore(0x20, _cuts.slot)
            cut := and(sload(keccak256(0x00, 0x40)), 0xffffffffffffffff)
        }
        uint64 activatesAt = uint64(raw);
        if (activatesAt == 0) revert UnknownMessageRoot(root);
        if (cut != 0 && uint64(raw >> 64) >= cut - 1) revert MessageRootIsRejected(root);
        // slither-disable-next-line timestamp
        if (block.timestamp < activatesAt) revert MessageRootNotActive(root, activatesAt);
        leaf = CrossChain.leafHash(message);
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert InvalidMerkleProof(root);
    }

    /// @notice The registration of `root` (all zero when unknown), with whether it is invalid.
    function messageRoot(bytes32 root) external view returns (MessageRootInfo memory) {
        MessageRoot memory r = _roots[root];
        return
            MessageRootInfo({
                activatesAt: r.activatesAt,
                rejected: r.activatesAt != 0 && _isInvalid(r.generation, r.firstBatchSeq),
                rollupTag: r.rollupTag,
                firstBatchSeq: r.firstBatchSeq,
                generation: r.generation
            });
    }

    // ----------------------------------------------------------------------------------------------
    // Administration

    /// @notice Sets the fee every published message must carry.
    function setMessageFee(uint256 fee) external onlyRole(FEE_ADMIN_ROLE) {
        _setMessageFee(fee);
    }

    /// @notice Sets where message fees go.
    function setFeeVault(address payable feeVault_) external onlyRole(FEE_ADMIN_ROLE) {
        if (feeVault_ == address(0)) revert ZeroAddress();
        feeVault = feeVault_;
        emit FeeVaultSet(feeVault_);
    }

    /// @notice Stops publishing.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes publishing.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// @dev Whether a registered root was cut: rejected itself, or after a rejected rollup.
    function _isInvalid(uint32 generation_, uint64 firstBatchSeq) private view returns (bool) {
        uint64 cut = _cuts[generation_];
        // `cut` is 1 + the first invalid batch; 0 means not cut.
        unchecked {
            return cut != 0 && firstBatchSeq >= cut - 1;
        }
    }

    /// @dev `admin`, or a revert with ZeroAddress (before AccessControlDefaultAdminRules' own check).
    function _nonZero(address admin) private pure returns (address) {
        if (admin == address(0)) revert ZeroAddress();
        return admin;
    }

    function _setMessageFee(uint256 fee) private {
        if (fee > type(uint128).max) revert FeeTooLarge(fee);
        _messageFee = uint128(fee);
        emit MessageFeeSet(fee);
    }
}
