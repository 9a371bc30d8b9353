// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IBridge} from "../interfaces/IBridge.sol";
import {IL1MessageReceiver} from "../interfaces/IL1MessageReceiver.sol";
import {IL2BridgeErrors} from "../interfaces/IL2BridgeErrors.sol";
import {CrossChain} from "../libraries/CrossChain.sol";
import {L2MessageBus} from "./L2MessageBus.sol";
import {WrappedERC20} from "./WrappedERC20.sol";

/// @title L2Bridge
/// @notice The L2 side of the bridge, a predeploy of the L2 genesis. It receives the L1 bridge's
/// messages (token registrations and deposits) from the L2 MessageBus, creates wrapped tokens, mints
/// them and pays out ETH; withdrawals burn (or lock ETH) and publish an L2→L1 call to the L1 bridge's
/// `finalizeWithdrawal`.
/// @dev Native ETH on L2: the genesis gives this contract the L2's whole ETH supply; deposits pay out
/// of it and withdrawals return to it, so L2 ETH in circulation equals ETH locked in the L1 bridge.
contract L2Bridge is IL1MessageReceiver, IL2BridgeErrors, ReentrancyGuardTransient {
    /// @notice Emitted when the wrapped token for `l1Token` is created.
    event WrappedTokenCreated(address indexed l1Token, address indexed wrapped, string name, string symbol);
    /// @notice Emitted when a deposit is credited on L2.
    event DepositFinalized(address indexed l1Token, address indexed from, address indexed to, uint256 amount);
    /// @notice Emitted when a withdrawal starts; `sequence` is its L2→L1 message.
    event WithdrawalInitiated(
        address indexed l1Token,
        address indexed from,
        address indexed to,
        uint256 amount,
        uint64 sequence
    );

    L2MessageBus public immutable messageBus;
    /// @notice The L1 bridge.
    address public immutable l1Bridge;

    mapping(address l1Token => address wrapped) public wrappedOf;
    mapping(address wrapped => address l1Token) public l1TokenOf;

    /// @param bus The L2 MessageBus.
    /// @param l1Bridge_ The L1 bridge.
    constructor(L2MessageBus bus, address l1Bridge_) payable {
        if (address(bus) == address(0) || l1Bridge_ == address(0)) revert ZeroAddress();
        messageBus = bus;
        l1Bridge = l1Bridge_;
    }

    /// @inheritdoc IL1MessageReceiver
    function onL1Message(CrossChain.Message calldata message) external nonReentrant {
        if (msg.sender != address(messageBus)) revert NotMessageBus(msg.sender);
        if (message.sender != l1Bridge) revert NotFromL1Bridge(message.sender);
        if (message.topic == CrossChain.TOPIC_DEPOSIT) {
            (address l1Token, address from, address to, uint256 amount) = abi.decode(
                message.payload,
                (address, address, address, uint256)
            );
            if (l1Token == address(0)) {
                Address.sendValue(payable(to), amount);
            } else {
                address wrapped = wrappedOf[l1Token];
                if (wrapped == address(0)) revert UnknownL1Token(l1Token);
                WrappedERC20(wrapped).mint(to, amount);
            }
            emit DepositFinalized(l1Token, from, to, amount);
        } else if (message.topic == CrossChain.TOPIC_TOKEN_REGISTERED) {
            (address l1Token, string memory name, string memory symbol, uint8 decimals) = abi.decode(
                message.payload,
                (address, string, string, uint8)
            );
            if (wrappedOf[l1Token] != address(0)) revert TokenAlreadyCreated(l1Token);
            address wrapped = address(
                new WrappedERC20{salt: bytes32(uint256(uint160(l1Token)))}(name, symbol, decimals, l1Token)
            );
            wrappedOf[l1Token] = wrapped;
            l1TokenOf[wrapped] = l1Token;
            emit WrappedTokenCreated(l1Token, wrapped, name, symbol);
        } else {
            revert UnknownTopic(message.topic);
        }
    }

    /// @notice Withdraws `msg.value` ETH to `l1Recipient` on L1.
    function withdrawNative(address l1Recipient) external payable nonReentrant returns (uint64 sequence) {
        if (msg.value == 0) revert ZeroAmount();
        sequence = _withdraw(address(0), l1Recipient, msg.value);
    }

    /// @notice Burns `amount` of wrapped `token` and withdraws the L1 token to `l1Recipient`.
    function withdrawERC20(
        address token,
        uint256 amount,
        address l1Recipient
    ) external nonReentrant returns (uint64 sequence) {
        address l1Token = l1TokenOf[token];
        if (l1Token == address(0)) revert UnknownWrappedToken(token);
        if (amount == 0) revert ZeroAmount();
        WrappedERC20(token).burn(msg.sender, amount);
        sequence = _withdraw(l1Token, l1Recipient, amount);
    }

    /// @notice Accepts the genesis ETH supply and top-ups.
    receive() external payable {}

    function _withdraw(address l1Token, address to, uint256 amount) private returns (uint64 sequence) {
        if (to == address(0)) revert ZeroAddress();
        bytes memory call = abi.encodeCall(IBridge.finalizeWithdrawal, (l1Token, to, amount));
        sequence = messageBus.publishMessage(CrossChain.TOPIC_CALL, abi.encode(l1Bridge, call), 1);
        emit WithdrawalInitiated(l1Token, msg.sender, to, amount, sequence);
    }
}
