// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IOperatorRegistryErrors
/// @notice The custom errors of OperatorRegistry, the operator and committee registry. Declared apart from the
/// contract, which inherits them, so that callers decode its reverts from this interface alone.
interface IOperatorRegistryErrors {
    /// @notice A zero address or a zero value where one is required.
    error ZeroValue();
    /// @notice The public key is not a 33-byte compressed or 65-byte uncompressed secp256k1 key.
    error InvalidPublicKey(uint256 length);
    /// @notice The public key is registered already, by operator `operatorId`.
    error PublicKeyAlreadyRegistered(uint64 operatorId);
    /// @notice The whitelist is enabled and `account` is not on it.
    error NotWhitelisted(address account);
    /// @notice No operator has id `operatorId`.
    error UnknownOperator(uint64 operatorId);
    /// @notice Operator `operatorId` is removed.
    error OperatorIsRemoved(uint64 operatorId);
    /// @notice `caller` does not own operator `operatorId`.
    error NotOperatorOwner(uint64 operatorId, address caller);
    /// @notice `enclave` is not an attested sequencer in the EnclaveRegistry.
    error NotSequencer(address enclave);
    /// @notice `enclave` belongs to operator `operatorId` already.
    error EnclaveInUse(address enclave, uint64 operatorId);
    /// @notice Operator `operatorId` (a committee member) has no enclave.
    error MissingEnclave(uint64 operatorId);
    /// @notice A committee of `size` members (only 1, 4, 7, 10 and 13 are allowed).
    error InvalidCommitteeSize(uint256 size);
    /// @notice The operator ids are not strictly ascending at `index` (unsorted or duplicated).
    error OperatorIdsNotAscending(uint256 index);
    /// @notice The same operator set is committee `committeeId` already.
    error CommitteeExists(uint64 committeeId);
    /// @notice No committee has id `committeeId`.
    error UnknownCommittee(uint64 committeeId);
    /// @notice `caller` does not own committee `committeeId`.
    error NotCommitteeOwner(uint64 committeeId, address caller);
    /// @notice Committee `committeeId` is liquidated.
    error CommitteeIsLiquidated(uint64 committeeId);
    /// @notice Committee `committeeId` is not liquidated.
    error CommitteeNotLiquidated(uint64 committeeId);
    /// @notice Committee `committeeId` would be (or is) liquidatable: its balance does not cover the minimum.
    error CommitteeBalanceTooLow(uint64 committeeId, uint256 balance);
    /// @notice Committee `committeeId` is not liquidatable.
    error CommitteeNotLiquidatable(uint64 committeeId);
    /// @notice Committee `committeeId` is the active committee already.
    error AlreadyActive(uint64 committeeId);
    /// @notice No active committee is set.
    error NoActiveCommittee();
    /// @notice The active committee was initialized already.
    error ActiveCommitteeAlreadyInitialized();
    /// @notice A fee above `maxOperatorFee`.
    error FeeTooHigh(uint256 fee, uint256 maxFee);
    /// @notice A declared fee above the current fee plus `maxFeeIncreaseBps`.
    error FeeExceedsIncreaseLimit(uint256 fee, uint256 maxAllowed);
    /// @notice `reduceOperatorFee` with a fee not below the current one, or a declaration not above it.
    error FeeNotChanged(uint256 fee, uint256 currentFee);
    /// @notice Operator `operatorId` has no fee declared.
    error NoFeeDeclared(uint64 operatorId);
    /// @notice The declared fee may be executed only from `from` to `until` (Unix time, inclusive).
    error OutsideExecutionWindow(uint256 from, uint256 until);
    /// @notice Asked for `requested` when only `available` is there.
    error InsufficientFunds(uint256 requested, uint256 available);
    /// @notice ETH from `sender`, which is not the FeeVault.
    error UnexpectedSender(address sender);
    /// @notice The registry is paused (registration, committee creation, deposits, reactivation).
    error EnforcedPause();
    /// @notice Basis points above the allowed maximum.
    error InvalidBps(uint256 bps);
}
