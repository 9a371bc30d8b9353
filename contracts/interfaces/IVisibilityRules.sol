// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IVisibilityRules
/// @notice What a Veilnet L2 contract may declare about who sees its events and state. The shape (and so the
///         selector and return encoding) is that of TEN's `ContractTransparencyConfig`, so a contract written
///         for TEN works unchanged.
/// @dev The enclave reads `visibilityRules()` once per contract, with an `eth_call` at the first block it
///      needs it, and caches the answer for good: return constants (the function is `pure`). A contract that
///      does not implement it, or whose answer does not decode, gets the default rules:
///      - an event is visible to the accounts named in its topics 1-3 (a topic of 12 zero bytes then 20 is an
///        address);
///      - an event naming no account is visible to nobody;
///      - the contract's balance, nonce and storage are not readable through `eth_getBalance`,
///        `eth_getTransactionCount` and `eth_getStorageAt`.
///      docs/privacy.md describes every rule and its reason.
interface IVisibilityRules {
    /// @notice Who an event is visible to.
    enum Field {
        /// @dev The account in topic 1 (the first indexed parameter), if that topic is an address.
        TOPIC1,
        /// @dev The account in topic 2, if that topic is an address.
        TOPIC2,
        /// @dev The account in topic 3, if that topic is an address.
        TOPIC3,
        /// @dev The sender of the transaction that emitted the event (`tx.origin`).
        SENDER,
        /// @dev Everyone, anonymous callers included: the event is public.
        EVERYONE
    }

    /// @notice What the contract as a whole reveals.
    enum ContractCfg {
        /// @dev Everything public: every event, the balance, the nonce and `eth_getStorageAt`.
        TRANSPARENT,
        /// @dev State hidden; each event visible as `eventLogConfigs` says, or by the default rules.
        PRIVATE
    }

    /// @notice The audience of one event type of a PRIVATE contract.
    struct EventLogConfig {
        /// @dev Topic 0 of the event: keccak256 of its signature,
        ///      e.g. `keccak256("Transfer(address,address,uint256)")`.
        bytes32 eventSignature;
        /// @dev Who sees it; the union of the fields listed. An empty list: nobody.
        Field[] visibleTo;
    }

    /// @notice The contract's declaration.
    struct VisibilityConfig {
        ContractCfg contractCfg;
        /// @dev Ignored for a TRANSPARENT contract. Events not listed follow the default rules. At most one entry
        ///      per event signature (a declaration listing one twice is refused as a whole: default rules).
        EventLogConfig[] eventLogConfigs;
    }

    /// @notice The contract's visibility declaration (read by the enclave, not by other contracts).
    function visibilityRules() external pure returns (VisibilityConfig memory);
}
