// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IBridgeErrors} from "../interfaces/IBridgeErrors.sol";
import {IBridge} from "../interfaces/IBridge.sol";
import {ICrossChainMessenger} from "../interfaces/ICrossChainMessenger.sol";
import {IMessageBus} from "../interfaces/IMessageBus.sol";
import {CrossChain} from "../libraries/CrossChain.sol";

/// @title Bridge (L1)
/// @notice Locks ETH and ERC-20 tokens on L1 and tells the L2 bridge, through the MessageBus, to credit
/// them on L2; pays out withdrawals the L2 bridge sends back through the CrossChainMessenger.
/// The token list is dynamic: `registerToken` reads a token's metadata and asks the L2 side to create
/// its wrapped token. Fee-on-transfer tokens are credited with the amount actually received.
/// @dev Every deposit and registration pays the MessageBus fee on top (ETH deposits: out of msg.value;
/// `depositNativeWithMaxFee` bounds it). The registered tokens are listed by `TokenRegistered` events,
/// not in storage.
contract Bridge is IBridge, IBridgeErrors, AccessControlDefaultAdminRules, ReentrancyGuardTransient, Pausable {
    using SafeERC20 for IERC20;

    /// @notice May register tokens when registration is restricted, pause and unpause tokens.
    bytes32 public constant TOKEN_ADMIN_ROLE = keccak256("TOKEN_ADMIN_ROLE");
    /// @notice May pause and unpause the whole bridge (the guardian).
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Consistency level of the bridge's messages (L2 acts on them once the L1 block is final
    /// enough for the enclave's configured depth).
    uint8 public constant CONSISTENCY_LEVEL = 1;

    /// @notice State of a token, one storage slot.
    struct TokenInfo {
        bool registered;
        bool paused;
    }

    /// @notice Emitted for every deposit; `amount` is what the bridge received (and L2 credits).
    event DepositInitiated(
        address indexed token,
        address indexed from,
        address indexed to,
        uint256 amount,
        uint64 sequence
    );
    /// @notice Emitted for every withdrawal paid out.
    event WithdrawalFinalized(address indexed token, address indexed to, uint256 amount);
    /// @notice Emitted when a token is registered; the L2 side creates its wrapped token.
    event TokenRegistered(address indexed token, string name, string symbol, uint8 decimals);
    /// @notice Emitted when deposits and withdrawals of `token` are paused.
    event TokenPaused(address indexed token);
    /// @notice Emitted when deposits and withdrawals of `token` resume.
    event TokenUnpaused(address indexed token);
    /// @notice Emitted when token registration opens to anyone or closes to TOKEN_ADMIN_ROLE.
    event PermissionlessRegistrationSet(bool permissionless);

    IMessageBus public immutable messageBus;
    ICrossChainMessenger public immutable messenger;
    /// @notice The L2 bridge (a predeploy of the L2 genesis).
    address public immutable l2Bridge;

    // Packs with Pausable's flag.
    bool public permissionlessRegistration;

    mapping(address token => TokenInfo) private _tokens;

    /// @param admin Receives DEFAULT_ADMIN_ROLE (transferred in two delayed steps) and TOKEN_ADMIN_ROLE.
    /// @param adminDelay Delay of a DEFAULT_ADMIN_ROLE transfer, in seconds.
    /// @param guardian Receives PAUSER_ROLE.
    /// @param bus The L1 MessageBus.
    /// @param messenger_ The L1 CrossChainMessenger.
    /// @param l2Bridge_ The L2 bridge's address.
    /// @param permissionless Whether anyone may register tokens.
    constructor(
        address admin,
        uint48 adminDelay,
        address guardian,
        IMessageBus bus,
        ICrossChainMessenger messenger_,
        address l2Bridge_,
        bool permissionless
    ) AccessControlDefaultAdminRules(adminDelay, _nonZero(admin)) {
        if (
            guardian == address(0) ||
            address(bus) == address(0) ||
            address(messenger_) == address(0) ||
            l2Bridge_ == address(0)
        ) revert ZeroAddress();
        _grantRole(TOKEN_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, guardian);
        messageBus = bus;
        messenger = messenger_;
        l2Bridge = l2Bridge_;
        permissionlessRegistration = permissionless;
        emit PermissionlessRegistrationSet(permissionless);
    }

    // ----------------------------------------------------------------------------------------------
    // Deposits

    /// @notice Deposits ETH for `l2Recipient`: `msg.value` minus the message fee is credited on L2.
    /// The fee is the one in force when the transaction is included: use `depositNativeWithMaxFee` to
    /// bound it.
    function depositNative(address l2Recipient) external payable whenNotPaused {
        // No guard needed: the only external call is to the MessageBus, after all checks.
        uint256 fee = messageBus.messageFee();
        if (msg.value <= fee) revert ZeroAmount();
        _deposit(address(0), l2Recipient, msg.value - fee, fee);
    }

    /// @notice Deposits ETH for `l2Recipient` like `depositNative`, but reverts with `FeeAboveMax` when
    /// the message fee in force exceeds `maxFee`, so a fee raised before inclusion cannot lower what is
    /// credited below `msg.value - maxFee`.
    function depositNativeWithMaxFee(address l2Recipient, uint256 maxFee) external payable whenNotPaused {
        uint256 fee = messageBus.messageFee();
        if (fee > maxFee) revert FeeAboveMax(fee, maxFee);
        if (msg.value <= fee) revert ZeroAmount();
        _deposit(address(0), l2Recipient, msg.value - fee, fee);
    }

    /// @notice Deposits `amount` of registered `token` for `l2Recipient`; `msg.value` must equal the
    /// message fee, so a fee changed before inclusion makes it revert (`IncorrectFee`) rather than take
    /// more. The amount credited is what the bridge actually received.
    function depositERC20(
        IERC20 token,
        uint256 amount,
        address l2Recipient
    ) external payable whenNotPaused nonReentrant {
        TokenInfo memory info = _tokens[address(token)];
        if (!info.registered) revert TokenNotRegistered(address(token));
        if (info.paused) revert TokenIsPaused(address(token));
        uint256 fee = messageBus.messageFee();
        if (msg.value != fee) revert IncorrectFee(msg.value, fee);
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received == 0) revert ZeroAmount();
        _deposit(address(token), l2Recipient, received, fee);
    }

    // ----------------------------------------------------------------------------------------------
    // Withdrawals

    /// @inheritdoc IBridge
    function finalizeWithdrawal(address token, address to, uint256 amount) external whenNotPaused nonReentrant {
        if (msg.sender != address(messenger)) revert NotMessenger(msg.sender);
        address l2Sender = messenger.crossChainSender();
        if (l2Sender != l2Bridge) revert NotFromL2Bridge(l2Sender);
        if (token == address(0)) {
            Address.sendValue(payable(to), amount);
        } else {
            TokenInfo memory info = _tokens[token];
            if (!info.registered) revert TokenNotRegistered(token);
            if (info.paused) revert TokenIsPaused(token);
            IERC20(token).safeTransfer(to, amount);
        }
        emit WithdrawalFinalized(token, to, amount);
    }

    // ----------------------------------------------------------------------------------------------
    // Token list

    /// @notice Registers `token`: reads its name, symbol and decimals and asks the L2 bridge to create
    /// the wrapped token. `msg.value` must equal the message fee. Open to anyone when
    /// `permissionlessRegistration`, otherwise to TOKEN_ADMIN_ROLE.
    function registerToken(address token) external payable whenNotPaused nonReentrant {
        if (!permissionlessRegistration && !hasRole(TOKEN_ADMIN_ROLE, msg.sender)) {
            revert RegistrationRestricted(msg.sender);
        }
        if (token.code.length == 0) revert NotAContract(token);
        if (_tokens[token].registered) revert TokenAlreadyRegistered(token);
        uint256 fee = messageBus.messageFee();
        if (msg.value != fee) revert IncorrectFee(msg.value, fee);

        string memory name = _readString(token, "name()");
        string memory symbol = _readString(token, "symbol()");
        uint8 decimals = _readDecimals(token);
        _tokens[token].registered = true;
        emit TokenRegistered(token, name, symbol, decimals);
        messageBus.publishMessage{value: fee}(
            CrossChain.TOPIC_TOKEN_REGISTERED,
            abi.encode(token, name, symbol, decimals),
            CONSISTENCY_LEVEL
        );
    }

    /// @notice Stops deposits and withdrawals of `token` (withdrawals stay retryable at the messenger).
    function pauseToken(address token) external onlyRole(TOKEN_ADMIN_ROLE) {
        TokenInfo storage info = _tokens[token];
        if (!info.registered) revert TokenNotRegistered(token);
        info.paused = true;
        emit TokenPaused(token);
    }

    /// @notice Resumes deposits and withdrawals of `token`.
    function unpauseToken(address token) external onlyRole(TOKEN_ADMIN_ROLE) {
        TokenInfo storage info = _tokens[token];
        if (!info.registered) revert TokenNotRegistered(token);
        info.paused = false;
        emit TokenUnpaused(token);
    }

    /// @notice Opens token registration to anyone, or restricts it to TOKEN_ADMIN_ROLE.
    function setPermissionlessRegistration(bool permissionless) external onlyRole(DEFAULT_ADMIN_ROLE) {
        permissionlessRegistration = permissionless;
        emit PermissionlessRegistrationSet(permissionless);
    }

    /// @notice Stops deposits, withdrawals and registrations.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes deposits, withdrawals and registrations.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ----------------------------------------------------------------------------------------------
    // Views

    /// @notice The state of `token`.
    function tokenInfo(address token) external view returns (TokenInfo memory) {
        return _tokens[token];
    }

    // ----------------------------------------------------------------------------------------------
    // Internals

    function _deposit(address token, address to, uint256 amount, uint256 fee) private {
        if (to == address(0)) revert ZeroAddress();
        uint64 sequence = messageBus.publishMessage{value: fee}(
            CrossChain.TOPIC_DEPOSIT,
            abi.encode(token, msg.sender, to, amount),
            CONSISTENCY_LEVEL
        );
        emit DepositInitiated(token, msg.sender, to, amount, sequence);
    }

    function _nonZero(address account) private pure returns (address) {
        if (account == address(0)) revert ZeroAddress();
        return account;
    }

    /// @dev Reads an optional string getter; accepts `string` and `bytes32` returns, "" otherwise.
    function _readString(address token, string memory signature) private view returns (string memory) {
        (bool ok, bytes memory data) = token.staticcall(abi.encodeWithSignature(signature));
        if (!ok) return "";
        if (data.length == 32) {
            bytes32 raw = bytes32(data);
            uint256 n;
            while (n < 32 && raw[n] != 0) ++n;
            bytes memory out = new bytes(n);
            for (uint256 i; i < n; ++i) out[i] = raw[i];
            return string(out);
        }
        if (data.length < 64) return "";
        uint256 offset = uint256(bytes32(data));
        if (offset != 32) return "";
        uint256 length;
        assembly ("memory-safe") {
            length := mload(add(data, 64))
        }
        if (length > data.length - 64) return "";
        return abi.decode(data, (string));
    }

    /// @dev Reads `decimals()`; 18 when the token has none.
    function _readDecimals(address token) private view returns (uint8) {
        (bool ok, bytes memory data) = token.staticcall(abi.encodeWithSignature("decimals()"));
        if (!ok || data.length < 32) return 18;
        uint256 d = abi.decode(data, (uint256));
        return d > type(uint8).max ? 18 : uint8(d);
    }
}
