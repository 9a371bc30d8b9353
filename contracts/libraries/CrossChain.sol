// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title CrossChain
/// @notice Message format shared by the L1 and L2 message buses, the topics Veilnet's own
/// contracts use, and the Merkle leaf encoding of L2→L1 messages.
/// @dev The leaf matches OpenZeppelin's JavaScript StandardMerkleTree over the leaf encoding
/// `["address","uint64","uint64","uint32","bytes","uint8"]`: `keccak256(bytes.concat(keccak256(abi.encode(...))))`.
library CrossChain {
    /// @notice A message published on one layer's MessageBus, to be consumed on the other.
    /// @param sender The contract or account that called `publishMessage`.
    /// @param sequence Position of the message in its bus's global order (0, 1, 2, …).
    /// @param nonce Per-sender counter: of the L2MessageBus for L2→L1 messages; for L1→L2 messages, assigned
    /// by the L2MessageBus at delivery (the sender's earlier L1 messages).
    /// @param topic Application-defined topic; Veilnet's own topics are the constants below.
    /// @param payload Application data.
    /// @param consistencyLevel How final the source block must be before the message is acted on.
    struct Message {
        address sender;
        uint64 sequence;
        uint64 nonce;
        uint32 topic;
        bytes payload;
        uint8 consistencyLevel;
    }

    /// @notice An L1→L2 message as the L1 MessageBus publishes it. L1 stores no per-sender nonce (5,000 gas
    /// a message): the L2MessageBus numbers each sender's messages as it delivers them, in `sequence`
    /// order, and hands receivers the full `Message`.
    struct L1Message {
        address sender;
        uint64 sequence;
        uint32 topic;
        bytes payload;
        uint8 consistencyLevel;
    }

    /// @notice L1→L2: a deposit. Payload `abi.encode(address l1Token, address from, address to, uint256 amount)`,
    /// `l1Token == address(0)` for ETH.
    uint32 internal constant TOPIC_DEPOSIT = 1;
    /// @notice L1→L2: a token was registered. Payload
    /// `abi.encode(address l1Token, string name, string symbol, uint8 decimals)`.
    uint32 internal constant TOPIC_TOKEN_REGISTERED = 2;
    /// @notice L2→L1: a call relayed by the CrossChainMessenger. Payload `abi.encode(address target, bytes data)`.
    uint32 internal constant TOPIC_CALL = 3;

    /// @notice Merkle leaf of a message in a rollup's cross-chain message tree.
    function leafHash(Message calldata m) internal pure returns (bytes32) {
        return
            keccak256(
                bytes.concat(
                    keccak256(abi.encode(m.sender, m.sequence, m.nonce, m.topic, m.payload, m.consistencyLevel))
                )
            );
    }
}
