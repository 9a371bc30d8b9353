// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {IMessageBus} from "../interfaces/IMessageBus.sol";
import {CrossChain} from "../libraries/CrossChain.sol";

/// @title MessageBus (L1)
/// @notice L1→L2: anyone publishes messages (paying `messageFee`, forwarded to the FeeVault); the enclave
/// applies them in `sequence` order. L2→L1: the RollupRegistry registers each accepted rollup's
/// message root with an activation time at the end of the challenge period; messages proven against
/// an active, unrejected root are authentic L2 messages.
/// @dev Storage is laid out so that the pause flag, the sequence counter and the fee share one slot.
contract MessageBus is IMessageBus, AccessControlDefaultAdminRules, ReentrancyGuardTransient, Pausable {
    /// @notice May pause and unpause publishing.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice May set the message fee and the fee vault.
    bytes32 public constant FEE_ADMIN_ROLE = keccak256("FEE_ADMIN_ROLE");

    /// @notice A registered L2→L1 message root, one storage slot.
    /// @param activatesAt Unix time from which messages under the root may be consumed.
    /// @param rejected Set by the guardian through the RollupRegistry; a rejected root never activates.
    /// @param rollupTag First 23 bytes of the hash of the rollup that carried the root.
    struct MessageRoot {
        uint64 activatesAt;
        bool rejected;
        bytes23 rollupTag;
    }

    /// @notice Emitted when a rollup's message root is registered.
    event MessageRootAdded(bytes32 indexed root, bytes32 indexed rollupHash, uint64 activatesAt);
    /// @notice Emitted when a message root is rejected.
    event MessageRootRejected(bytes32 indexed root);
    /// @notice Emitted when the message fee changes.
    event MessageFeeSet(uint256 fee);
    /// @notice Emitted when the fee vault changes.
    event FeeVaultSet(address indexed feeVault);
    /// @notice Emitted when the RollupRegistry is bound (once).
    event RollupRegistryBound(address registry);

    /// @notice `msg.value` is not the message fee.
    error IncorrectMessageFee(uint256 sent, uint256 required);
    /// @notice `root` is zero or registered already.
    error InvalidMessageRoot(bytes32 root);
    /// @notice `root` was never registered.
    error UnknownMessageRoot(bytes32 root);
    /// @notice `root` becomes active only at `activatesAt`.
    error MessageRootNotActive(bytes32 root, uint64 activatesAt);
    /// @notice `root` was rejected by the guardian.
    error MessageRootIsRejected(bytes32 root);
    /// @notice The Merkle proof does not lead from the message to `root`.
    error InvalidMerkleProof(bytes32 root);
    /// @notice The fee does not fit in 128 bits.
    error FeeTooLarge(uint256 fee);
    /// @notice A zero address where one is required.
    error ZeroAddress();
    /// @notice Only the account that deployed this contract may bind the RollupRegistry.
    error NotDeployer(address caller);
    /// @notice The RollupRegistry is bound already.
    error AlreadyBound();
    /// @notice Only the bound RollupRegistry may register and reject message roots.
    error NotRollupRegistry(address caller);

    // Packs with Pausable's flag: one slot read per publish.
    uint64 private _nextSequence;
    uint128 private _messageFee;

    /// @notice Where message fees go.
    address payable public feeVault;
    /// @notice The only account that may register and reject message roots, bound once at deployment.
    address public rollupRegistry;
    /// @notice The account that deployed this contract (may bind the RollupRegistry, once).
    address private immutable _deployer;

    mapping(address sender => uint64) private _nonces;
    mapping(bytes32 root => MessageRoot) private _roots;

    /// @param admin Receives DEFAULT_ADMIN_ROLE and FEE_ADMIN_ROLE (in a deployment: the timelock).
    /// @param adminDelay Seconds a DEFAULT_ADMIN_ROLE transfer waits before it can be accepted.
    /// @param guardian Receives PAUSER_ROLE.
    /// @param feeVault_ Where message fees go.
    /// @param fee Initial message fee in wei.
    constructor(
        address admin,
        uint48 adminDelay,
        address guardian,
        address payable feeVault_,
        uint256 fee
    ) AccessControlDefaultAdminRules(adminDelay, admin) {
        if (guardian == address(0) || feeVault_ == address(0)) revert ZeroAddress();
        _deployer = msg.sender;
        _grantRole(FEE_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, guardian);
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
        uint64 nonce = _nonces[msg.sender]++;
        emit MessagePublished(msg.sender, sequence, nonce, topic, payload, consistencyLevel);
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

    /// @notice The nonce `sender`'s next message gets.
    function nonceOf(address sender) external view returns (uint64) {
        return _nonces[sender];
    }

    // ----------------------------------------------------------------------------------------------
    // L2 → L1

    /// @notice Binds the RollupRegistry, the only account that may register and reject message roots:
    /// once, by the deployer (before any root exists, since only the registry can add one).
    function bindRollupRegistry(address registry) external {
        if (msg.sender != _deployer) revert NotDeployer(msg.sender);
        if (rollupRegistry != address(0)) revert AlreadyBound();
        if (registry == address(0)) revert ZeroAddress();
        rollupRegistry = registry;
        emit RollupRegistryBound(registry);
    }

    /// @notice Registers the message root of an accepted rollup. Only the RollupRegistry.
    function addMessageRoot(bytes32 root, bytes32 rollupHash, uint64 activatesAt) external {
        if (msg.sender != rollupRegistry) revert NotRollupRegistry(msg.sender);
        if (root == bytes32(0) || _roots[root].activatesAt != 0) revert InvalidMessageRoot(root);
        _roots[root] = MessageRoot({activatesAt: activatesAt, rejected: false, rollupTag: bytes23(rollupHash)});
        emit MessageRootAdded(root, rollupHash, activatesAt);
    }

    /// @notice Rejects `root` for good. Only the RollupRegistry (on the guardian's behalf).
    function rejectMessageRoot(bytes32 root) external {
        if (msg.sender != rollupRegistry) revert NotRollupRegistry(msg.sender);
        MessageRoot storage r = _roots[root];
        if (r.activatesAt == 0) revert UnknownMessageRoot(root);
        r.rejected = true;
        emit MessageRootRejected(root);
    }

    /// @inheritdoc IMessageBus
    function verifyMessageInclusion(
        CrossChain.Message calldata message,
        bytes32[] calldata proof,
        bytes32 root
    ) external view returns (bytes32 leaf) {
        MessageRoot memory r = _roots[root];
        if (r.activatesAt == 0) revert UnknownMessageRoot(root);
        if (r.rejected) revert MessageRootIsRejected(root);
        // slither-disable-next-line timestamp
        if (block.timestamp < r.activatesAt) revert MessageRootNotActive(root, r.activatesAt);
        leaf = CrossChain.leafHash(message);
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert InvalidMerkleProof(root);
    }

    /// @notice The registration of `root` (all zero when unknown).
    function messageRoot(bytes32 root) external view returns (MessageRoot memory) {
        return _roots[root];
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

    function _setMessageFee(uint256 fee) private {
        if (fee > type(uint128).max) revert FeeTooLarge(fee);
        _messageFee = uint128(fee);
        emit MessageFeeSet(fee);
    }
}
