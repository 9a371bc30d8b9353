// SPDX-License-Identifier: MIT
// L2 contracts the privacy tests (test/enclave/privacy.ts) run: one per kind of visibility declaration.
// solhint-disable one-contract-per-file
pragma solidity ^0.8.28;

import {IVisibilityRules} from "../../interfaces/IVisibilityRules.sol";

/// @notice No declaration: the default rules. A token-like ledger whose events name accounts, plus one
///         event naming nobody.
contract PrivateLedger {
    event Sent(address indexed from, address indexed to, uint256 amount);
    /// @dev Names no account (the memo is not an address): visible to nobody under the default rules.
    event Memo(uint256 indexed id, bytes32 note);

    mapping(address account => uint256) private _balances;
    uint256 private _memos;

    function mint(address to, uint256 amount) external {
        _balances[to] += amount;
        emit Sent(address(0), to, amount);
    }

    function send(address to, uint256 amount, bytes32 note) external {
        // A plain reason string on purpose: the tests read it back from eth_call.
        // solhint-disable-next-line gas-custom-errors
        require(_balances[msg.sender] >= amount, "PrivateLedger: balance too low");
        _balances[msg.sender] -= amount;
        _balances[to] += amount;
        emit Sent(msg.sender, to, amount);
        emit Memo(++_memos, note);
    }

    /// @notice Only the account itself may read its balance: `eth_call`'s `from` is checked by the enclave.
    function balanceOf(address account) external view returns (uint256) {
        // solhint-disable-next-line gas-custom-errors
        require(msg.sender == account, "PrivateLedger: not your balance");
        return _balances[account];
    }

    receive() external payable {}
}

/// @notice A PRIVATE contract declaring some events public, one visible to the sender only, one to its
///         second topic only, and leaving one to the default rules.
contract DeclaredEvents is IVisibilityRules {
    /// @dev Declared EVERYONE.
    event Announced(uint256 value);
    /// @dev Declared SENDER only: `target`, although named, does not see it.
    event Pinged(address indexed target, uint256 value);
    /// @dev Declared TOPIC2 only: `b` sees it, `a` does not.
    event Shared(address indexed a, address indexed b, uint256 value);
    /// @dev Not declared: the default rules (visible to `who`).
    event Unlisted(address indexed who);

    uint256 private _secret;

    function act(address target, address b, uint256 value) external {
        _secret = value;
        emit Announced(value);
        emit Pinged(target, value);
        emit Shared(target, b, value);
        emit Unlisted(target);
    }

    function visibilityRules() external pure returns (VisibilityConfig memory config) {
        config.contractCfg = ContractCfg.PRIVATE;
        config.eventLogConfigs = new EventLogConfig[](3);
        Field[] memory everyone = new Field[](1);
        everyone[0] = Field.EVERYONE;
        config.eventLogConfigs[0] = EventLogConfig(Announced.selector, everyone);
        Field[] memory sender = new Field[](1);
        sender[0] = Field.SENDER;
        config.eventLogConfigs[1] = EventLogConfig(Pinged.selector, sender);
        Field[] memory second = new Field[](1);
        second[0] = Field.TOPIC2;
        config.eventLogConfigs[2] = EventLogConfig(Shared.selector, second);
    }
}

/// @notice A TRANSPARENT contract: its events, balance, nonce and storage are public.
contract TransparentCounter is IVisibilityRules {
    event Counted(uint256 count);

    uint256 public count;

    function increment() external payable {
        emit Counted(++count);
    }

    function visibilityRules() external pure returns (VisibilityConfig memory config) {
        config.contractCfg = ContractCfg.TRANSPARENT;
    }
}

/// @notice Answers `visibilityRules()` with data that is not a VisibilityConfig: the enclave must fall back to
///         the default rules (and not, say, read the garbage as TRANSPARENT).
contract GarbageRules {
    event Flagged(address indexed who);

    uint256 private _secret = 42;

    function flag(address who) external {
        emit Flagged(who);
    }

    /// @dev Same selector as IVisibilityRules.visibilityRules(), another return type: `abi.encode(0, 7)` reads as
    ///      `contractCfg = TRANSPARENT` followed by an offset that points nowhere.
    function visibilityRules() external pure returns (uint256, uint256) {
        return (0, 7);
    }
}
