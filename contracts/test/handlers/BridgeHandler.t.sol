// SPDX-License-Identifier: MIT
// Test conventions: plain `require`s with messages; a handler carries many ghost variables.
// solhint-disable gas-custom-errors, reason-string, max-states-count, one-contract-per-file

pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {IMessageBus} from "../../interfaces/IMessageBus.sol";
import {Bridge} from "../../l1/Bridge.sol";
import {CrossChainMessenger} from "../../l1/CrossChainMessenger.sol";
import {MessageBus} from "../../l1/MessageBus.sol";
import {CrossChain} from "../../libraries/CrossChain.sol";
import {RejectingReceiver} from "../mocks/TestTargets.sol";
import {MessageTrees, TestBase, Vm} from "../utils/TestBase.t.sol";
import {IBridgeErrors} from "../../interfaces/IBridgeErrors.sol";
import {ICrossChainMessengerErrors} from "../../interfaces/ICrossChainMessengerErrors.sol";
import {IMessageBusErrors} from "../../interfaces/IMessageBusErrors.sol";

interface IMintableERC20 is IERC20 {
    function mint(address to, uint256 amount) external;
}

/// @notice Invariant handler for the Bridge: deposits ETH, a plain ERC-20 and a fee-on-transfer ERC-20 with
/// fuzzed amounts; plays the L2 bridge (burns a ghost L2 balance and emits withdrawal messages bounded by
/// it), plus an attacker publishing forged withdrawals from another L2 address; commits message roots,
/// relays, replays and retries them while tokens, the bridge and an ETH recipient are paused or refusing.
/// It predicts each outcome and reverts (failing the campaign, `failOnRevert`) on any deviation.
/// @dev Token index 0 is ETH (`address(0)`), 1 the plain token, 2 the fee-on-transfer token.
contract BridgeHandler is TestBase {
    /// @notice One L2→L1 withdrawal message and what the model knows about it.
    struct Withdrawal {
        uint8 tokenIndex;
        bool forged;
        bool committed;
        bool relayed;
        bool retryable;
        uint8 payouts;
        uint64 sequence;
        uint64 nonce;
        address l2Sender;
        address to;
        uint256 amount;
        uint256 rootId;
        uint256 position;
    }

    struct Root {
        bytes32 root;
        uint64 activatesAt;
        bytes32[] leaves;
    }

    uint256 public constant TOKENS = 3;
    uint64 public constant CHALLENGE = 1 hours;
    uint256 public constant MAX_ETH_DEPOSIT = 1_000 ether;
    uint256 public constant MAX_TOKEN_DEPOSIT = 1e36;

    Bridge public immutable bridge;
    CrossChainMessenger public immutable messenger;
    MessageBus public immutable bus;
    uint256 public immutable messageFee;
    uint256 public immutable feeBps;
    address public immutable l2Bridge;
    RejectingReceiver public immutable rejecting;

    address[TOKENS] internal _tokens;
    address[3] internal _actors;
    address[3] internal _recipients;

    // Ghost accounting, per token index.
    uint256[TOKENS] public deposited; // value the bridge must have received
    uint256[TOKENS] public paidOut; // value the bridge must have sent
    uint256[TOKENS] public l2Supply; // credited on L2 and not withdrawn
    uint256[TOKENS] public inFlight; // withdrawn on L2, not yet paid on L1

    bool public bridgePaused;
    bool[TOKENS] public tokenPaused;

    Withdrawal[] internal _withdrawals;
    Root[] internal _roots;
    uint256[] internal _pending;
    uint256[] internal _committed;
    uint64 public nextSequence;
    uint64 internal _l2BridgeNonce;

    /// @notice Withdrawals paid out more than once (must stay 0).
    uint256 public doublePayouts;
    /// @notice Forged withdrawals that paid out (must stay 0).
    uint256 public forgedPayouts;

    // Coverage counters, for diagnosing a campaign (not asserted).
    uint256 public depositsMade;
    uint256 public payoutsMade;
    uint256 public relaysFailed;
    uint256 public replaysRejected;
    uint256 public retriesSucceeded;
    uint256 public retriesRejected;

    constructor(
        Bridge bridge_,
        IMintableERC20 plainToken,
        IMintableERC20 feeToken,
        uint256 feeBps_,
        RejectingReceiver rejecting_
    ) {
        bridge = bridge_;
        messenger = CrossChainMessenger(address(bridge_.messenger()));
        bus = MessageBus(address(bridge_.messageBus()));
        messageFee = bus.messageFee();
        l2Bridge = bridge_.l2Bridge();
        feeBps = feeBps_;
        rejecting = rejecting_;
        _tokens = [address(0), address(plainToken), address(feeToken)];
        for (uint256 i; i < 3; ++i) _actors[i] = _addr("actor", i);
        _recipients = [_addr("recipient", 0), _addr("recipient", 1), address(rejecting_)];
    }

    // ----------------------------------------------------------------------------------------------
    // Deposits (L1)

    /// @notice An actor deposits a fuzzed amount of ETH (the message fee comes out of it).
    function depositNative(uint256 actorSeed, uint256 amount) external {
        address actor = _actors[actorSeed % 3];
        amount = _bound(amount, messageFee + 1, MAX_ETH_DEPOSIT);
        vm.deal(actor, amount);
        vm.recordLogs();
        vm.prank(actor);
        try bridge.depositNative{value: amount}(_l2Recipient(actorSeed)) {
            require(!bridgePaused, "deposit while paused");
        } catch (bytes memory reason) {
            require(bridgePaused, "ETH deposit reverted");
            _requireError(reason, abi.encodeWithSelector(Pausable.EnforcedPause.selector));
            return;
        }
        _credit(0, actor, amount - messageFee);
    }

    /// @notice An actor deposits a fuzzed amount of the plain or the fee-on-transfer token.
    function depositERC20(uint256 tokenSeed, uint256 actorSeed, uint256 amount) external {
        uint256 i = 1 + (tokenSeed % 2);
        IMintableERC20 token = IMintableERC20(_tokens[i]);
        address actor = _actors[actorSeed % 3];
        amount = _bound(amount, 1, MAX_TOKEN_DEPOSIT);
        token.mint(actor, amount);
        vm.prank(actor);
        token.approve(address(bridge), amount);
        vm.deal(actor, messageFee);
        vm.recordLogs();
        vm.prank(actor);
        try bridge.depositERC20{value: messageFee}(token, amount, _l2Recipient(actorSeed)) {
            require(!bridgePaused && !tokenPaused[i], "deposit while paused");
        } catch (bytes memory reason) {
            require(bridgePaused || tokenPaused[i], "ERC-20 deposit reverted");
            _requireError(
                reason,
                bridgePaused
                    ? abi.encodeWithSelector(Pausable.EnforcedPause.selector)
                    : abi.encodeWithSelector(IBridgeErrors.TokenIsPaused.selector, address(token))
            );
            return;
        }
        _credit(i, actor, i == 2 ? amount - (amount * feeBps) / 10_000 : amount);
    }

    // ----------------------------------------------------------------------------------------------
    // L2 side

    /// @notice The L2 bridge burns a fuzzed amount (bounded by the L2 supply) and sends a withdrawal message.
    function initiateWithdrawal(uint256 tokenSeed, uint256 amount, uint256 recipientSeed) public {
        uint256 i = tokenSeed % TOKENS;
        if (l2Supply[i] == 0) return;
        amount = _bound(amount, 1, l2Supply[i]);
        l2Supply[i] -= amount;
        inFlight[i] += amount;
        _withdrawals.push(
            Withdrawal({
                tokenIndex: uint8(i),
                forged: false,
                committed: false,
                relayed: false,
                retryable: false,
                payouts: 0,
                sequence: nextSequence++,
                nonce: _l2BridgeNonce++,
                l2Sender: l2Bridge,
                to: _recipients[recipientSeed % 3],
                amount: amount,
                rootId: 0,
                position: 0
            })
        );
        _pending.push(_withdrawals.length - 1);
    }

    /// @notice Another L2 account publishes a withdrawal call to the L1 bridge, for any amount.
    function forgeWithdrawal(uint256 tokenSeed, uint256 amount, uint256 recipientSeed, uint256 senderSeed) external {
        address sender = _addr("attacker", senderSeed % 4);
        _withdrawals.push(
            Withdrawal({
                tokenIndex: uint8(tokenSeed % TOKENS),
                forged: true,
                committed: false,
                relayed: false,
                retryable: false,
                payouts: 0,
                sequence: nextSequence++,
                nonce: 0,
                l2Sender: sender,
                to: _recipients[recipientSeed % 3],
                amount: _bound(amount, 1, type(uint128).max),
                rootId: 0,
                position: 0
            })
        );
        _pending.push(_withdrawals.length - 1);
    }

    /// @notice A rollup carries every pending message: its root is registered, active after the challenge period.
    function commitRoot() public {
        uint256 n = _pending.length;
        if (n == 0) return;
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 k; k < n; ++k) leaves[k] = MessageTrees.leaf(message(_pending[k]));
        bytes32 root = MessageTrees.root(leaves);
        uint64 activatesAt = uint64(block.timestamp) + CHALLENGE;
        bus.addMessageRoot(root, keccak256(abi.encode("rollup", _roots.length)), activatesAt, 0);
        _roots.push(Root({root: root, activatesAt: activatesAt, leaves: leaves}));
        for (uint256 k; k < n; ++k) {
            Withdrawal storage w = _withdrawals[_pending[k]];
            (w.committed, w.rootId, w.position) = (true, _roots.length - 1, k);
            _committed.push(_pending[k]);
        }
        delete _pending;
    }

    /// @notice Time passes.
    function passTime(uint256 secondsSeed) public {
        vm.warp(block.timestamp + _bound(secondsSeed, 1, 2 * CHALLENGE));
    }

    // ----------------------------------------------------------------------------------------------
    // Relays (L1)

    /// @notice Anyone relays a withdrawal: for half the seeds the first not yet relayed one from a random
    /// start, otherwise any one (maybe again). A pending one is committed first (with every other pending
    /// one); for three `waitSeed`s in four the relayer waits for the root's activation if needed.
    function relay(uint256 idSeed, uint256 waitSeed) external {
        uint256 n = _withdrawals.length;
        if (n == 0) return;
        uint256 id = idSeed % n;
        if ((idSeed >> 128) % 2 == 0) {
            for (uint256 k; k < n && _withdrawals[id].relayed; ++k) id = (id + 1) % n;
        }
        if (!_withdrawals[id].committed) commitRoot();
        Root storage r = _roots[_withdrawals[id].rootId];
        if (block.timestamp < r.activatesAt) {
            _relay(id); // refused: not active yet
            if (waitSeed % 4 == 0) return;
            vm.warp(r.activatesAt);
        }
        _relay(id);
    }

    /// @notice Anyone retries a committed withdrawal (maybe one that never failed).
    function retry(uint256 idSeed) external {
        if (_committed.length == 0) return;
        uint256 id = _committed[idSeed % _committed.length];
        _retry(id);
    }

    /// @notice Nobody but the messenger may call `finalizeWithdrawal`.
    function finalizeDirectly(uint256 tokenSeed, uint256 amount) external {
        address token = _tokens[tokenSeed % TOKENS];
        try bridge.finalizeWithdrawal(token, address(this), amount) {
            revert("direct finalizeWithdrawal succeeded");
        } catch (bytes memory reason) {
            _requireError(
                reason,
                bridgePaused
                    ? abi.encodeWithSelector(Pausable.EnforcedPause.selector)
                    : abi.encodeWithSelector(IBridgeErrors.NotMessenger.selector, address(this))
            );
        }
    }

    // ----------------------------------------------------------------------------------------------
    // Conditions that make withdrawals fail at the target

    function setTokenPaused(uint256 tokenSeed, uint256 pauseSeed) external {
        uint256 i = 1 + (tokenSeed % 2);
        bool paused = pauseSeed % 4 == 0;
        if (paused) bridge.pauseToken(_tokens[i]);
        else bridge.unpauseToken(_tokens[i]);
        tokenPaused[i] = paused;
    }

    function setBridgePaused(uint256 pauseSeed) public {
        bool paused = pauseSeed % 6 == 0;
        if (paused && !bridgePaused) bridge.pause();
        if (!paused && bridgePaused) bridge.unpause();
        bridgePaused = paused;
    }

    function setReceiverAccepts(bool accept) public {
        rejecting.setAccept(accept);
    }

    // ----------------------------------------------------------------------------------------------
    // End of run: everything exits

    /// @notice Lifts every blocking condition, withdraws the whole remaining L2 supply of each token, then
    /// relays or retries every withdrawal: each genuine one must pay exactly once, no forged one ever.
    /// (The test then checks that the bridge is empty.)
    function drain() external {
        setBridgePaused(1); // unpause
        for (uint256 i = 1; i < TOKENS; ++i) {
            bridge.unpauseToken(_tokens[i]);
            tokenPaused[i] = false;
        }
        setReceiverAccepts(true);
        for (uint256 i; i < TOKENS; ++i) initiateWithdrawal(i, l2Supply[i], 0);
        commitRoot();
        vm.warp(block.timestamp + CHALLENGE);
        for (uint256 k; k < _committed.length; ++k) {
            Withdrawal storage w = _withdrawals[_committed[k]];
            if (!w.relayed) _relay(_committed[k]);
            else if (w.retryable) _retry(_committed[k]);
            require(w.forged ? w.payouts == 0 : w.payouts == 1, "drain: withdrawal not paid exactly once");
        }
    }

    // ----------------------------------------------------------------------------------------------
    // Views

    function tokenAt(uint256 i) external view returns (address) {
        return _tokens[i];
    }

    function withdrawalCount() external view returns (uint256) {
        return _withdrawals.length;
    }

    /// @notice The on-chain balance of token `i` held by `account`.
    function balanceOf(uint256 i, address account) public view returns (uint256) {
        return i == 0 ? account.balance : IERC20(_tokens[i]).balanceOf(account);
    }

    /// @notice The L2→L1 message of withdrawal `id`.
    function message(uint256 id) public view returns (CrossChain.Message memory) {
        Withdrawal storage w = _withdrawals[id];
        return
            CrossChain.Message({
                sender: w.l2Sender,
                sequence: w.sequence,
                nonce: w.nonce,
                topic: CrossChain.TOPIC_CALL,
                payload: abi.encode(
                    address(bridge),
                    abi.encodeCall(Bridge.finalizeWithdrawal, (_tokens[w.tokenIndex], w.to, w.amount))
                ),
                consistencyLevel: 0
            });
    }

    // ----------------------------------------------------------------------------------------------
    // Internals

    function _relay(uint256 id) private {
        Withdrawal storage w = _withdrawals[id];
        Root storage r = _roots[w.rootId];
        CrossChain.Message memory m = message(id);
        bytes32[] memory proof = MessageTrees.proof(r.leaves, w.position);
        if (block.timestamp < r.activatesAt) {
            try messenger.relayMessageWithProof(m, proof, r.root) returns (bool) {
                revert("relayed before activation");
            } catch (bytes memory reason) {
                _requireError(
                    reason,
                    abi.encodeWithSelector(IMessageBusErrors.MessageRootNotActive.selector, r.root, r.activatesAt)
                );
            }
            return;
        }
        uint256 recipientBefore = balanceOf(w.tokenIndex, w.to);
        bool payable_ = _payable(w);
        try messenger.relayMessageWithProof(m, proof, r.root) returns (bool success) {
            require(!w.relayed, "relayed twice");
            require(success == payable_, "relay outcome differs from the model");
            w.relayed = true;
            if (success) {
                _recordPayout(w, recipientBefore);
            } else {
                require(balanceOf(w.tokenIndex, w.to) == recipientBefore, "failed relay moved value");
                require(messenger.failedMessages(MessageTrees.leaf(m)), "failed relay not retryable");
                w.retryable = true;
                ++relaysFailed;
            }
        } catch (bytes memory reason) {
            require(w.relayed, "fresh withdrawal rejected");
            _requireError(
                reason,
                abi.encodeWithSelector(ICrossChainMessengerErrors.MessageAlreadyRelayed.selector, m.sequence)
            );
            ++replaysRejected;
        }
    }

    function _retry(uint256 id) private {
        Withdrawal storage w = _withdrawals[id];
        CrossChain.Message memory m = message(id);
        uint256 recipientBefore = balanceOf(w.tokenIndex, w.to);
        try messenger.retryMessage(m) {
            require(w.retryable && _payable(w), "retry ran when it must not");
            w.retryable = false;
            _recordPayout(w, recipientBefore);
            ++retriesSucceeded;
        } catch (bytes memory reason) {
            _requireError(reason, w.retryable ? _failure(w) : _notRetryable(m));
            require(balanceOf(w.tokenIndex, w.to) == recipientBefore, "failed retry moved value");
            ++retriesRejected;
        }
    }

    /// @dev Whether `finalizeWithdrawal` for `w` succeeds now.
    function _payable(Withdrawal storage w) private view returns (bool) {
        if (w.forged || bridgePaused) return false;
        if (w.tokenIndex == 0) return w.to != address(rejecting) || rejecting.accept();
        return !tokenPaused[w.tokenIndex];
    }

    /// @dev The error `finalizeWithdrawal` for `w` reverts with when `_payable(w)` is false.
    function _failure(Withdrawal storage w) private view returns (bytes memory) {
        if (bridgePaused) return abi.encodeWithSelector(Pausable.EnforcedPause.selector);
        if (w.forged) return abi.encodeWithSelector(IBridgeErrors.NotFromL2Bridge.selector, w.l2Sender);
        if (w.tokenIndex == 0) return abi.encodeWithSignature("Error(string)", "RejectingReceiver: refused");
        return abi.encodeWithSelector(IBridgeErrors.TokenIsPaused.selector, _tokens[w.tokenIndex]);
    }

    function _notRetryable(CrossChain.Message memory m) private pure returns (bytes memory) {
        return abi.encodeWithSelector(ICrossChainMessengerErrors.MessageNotRetryable.selector, MessageTrees.leaf(m));
    }

    /// @dev Books the payout of `w` (the invariants check it against the bridge's balance).
    function _recordPayout(Withdrawal storage w, uint256 recipientBefore) private {
        uint256 i = w.tokenIndex;
        uint256 received = i == 2 ? w.amount - (w.amount * feeBps) / 10_000 : w.amount;
        require(balanceOf(i, w.to) == recipientBefore + received, "recipient not paid the amount");
        if (w.payouts != 0) ++doublePayouts;
        ++w.payouts;
        paidOut[i] += w.amount;
        if (w.forged) ++forgedPayouts;
        else if (w.payouts == 1) inFlight[i] -= w.amount;
        ++payoutsMade;
    }

    /// @dev Books a deposit of `credited` to token `i`; the L2 credit is read from the published deposit message.
    function _credit(uint256 i, address from, uint256 credited) private {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bytes32 published = IMessageBus.MessagePublished.selector;
        uint256 found;
        uint256 l2Credit;
        for (uint256 k; k < logs.length; ++k) {
            if (logs[k].emitter != address(bus) || logs[k].topics[0] != published) continue;
            require(address(uint160(uint256(logs[k].topics[1]))) == address(bridge), "message not from the bridge");
            (, uint32 topic, bytes memory payload, ) = abi.decode(logs[k].data, (uint64, uint32, bytes, uint8));
            require(topic == CrossChain.TOPIC_DEPOSIT, "not a deposit message");
            (address l1Token, address sender, , uint256 amount) = abi.decode(
                payload,
                (address, address, address, uint256)
            );
            require(l1Token == _tokens[i] && sender == from, "deposit message names another token or sender");
            l2Credit = amount;
            ++found;
        }
        require(found == 1, "expected one deposit message");
        require(l2Credit == credited, "L2 credit differs from the value received");
        deposited[i] += credited;
        l2Supply[i] += l2Credit;
        ++depositsMade;
    }

    function _l2Recipient(uint256 seed) private pure returns (address) {
        return _addr("l2 recipient", seed % 5);
    }

    function _requireError(bytes memory reason, bytes memory expected) private pure {
        require(keccak256(reason) == keccak256(expected), "unexpected revert reason");
    }
}
