// SPDX-License-Identifier: MIT
// Test conventions: plain `require`s with messages; a handler carries many ghost variables; Foundry's `Vm` name.
// solhint-disable gas-custom-errors, reason-string, max-states-count, interface-starts-with-i, one-contract-per-file

pragma solidity ^0.8.28;

import {IOperatorRegistryErrors} from "../../interfaces/IOperatorRegistryErrors.sol";
import {FeeVault} from "../../l1/FeeVault.sol";
import {OperatorRegistry} from "../../l1/OperatorRegistry.sol";
import {MockEnclaveRegistry} from "../mocks/MockEnclaveRegistry.sol";
import {TestBase} from "../utils/TestBase.t.sol";

/// @notice The block-number cheatcode (not in TestBase's `Vm`).
interface VmBlocks {
    function roll(uint256 blockNumber) external;
}

/// @notice Invariant handler for the OperatorRegistry: six operators (fees fuzzed, changed, removed), committees
/// of one or four of them created, funded, drained, liquidated, reactivated and made active, blocks passing,
/// sequencing rewards from a real FeeVault collected, operator and network withdrawals. It is the registry's
/// admin, guardian and genesis initializer, and the FeeVault's rewarder. It counts every wei that enters and
/// leaves the registry; the invariants compare that with the registry's books.
contract OperatorRegistryHandler is TestBase {
    uint256 public constant OPERATORS = 6;
    uint256 public constant MAX_FEE = 1e12;
    uint256 public constant MAX_VALUE = 0.01 ether;
    VmBlocks internal constant VM_BLOCKS = VmBlocks(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    MockEnclaveRegistry public immutable enclaves;
    FeeVault public immutable vault;
    OperatorRegistry public immutable registry;

    address[3] internal _actors;
    address internal immutable _liquidator;
    address internal immutable _treasury;

    /// @notice Wei the registry received (creations, deposits, reactivations, collected rewards).
    uint256 public ghostIn;
    /// @notice Wei the registry paid (withdrawals, liquidations, operator and network withdrawals).
    uint256 public ghostOut;
    /// @notice Liquidations that succeeded although `isLiquidatable` said no, or failed although it said yes.
    uint256 public liquidationMispredictions;
    /// @notice Withdrawals or reactivations that left a committee liquidatable.
    uint256 public unhealthyAfterTopUpOrWithdrawal;

    // Coverage counters, for diagnosing a campaign (not asserted).
    uint256 public committeesCreated;
    uint256 public liquidations;
    uint256 public reactivations;
    uint256 public activations;
    uint256 public rewardsCollected;

    constructor() {
        enclaves = new MockEnclaveRegistry();
        vault = new FeeVault(address(this), 0, address(this), 1 gwei, 1 gwei, 0);
        vault.bindRewarder(address(this));
        registry = new OperatorRegistry(
            address(this),
            0,
            address(this),
            address(this),
            enclaves,
            vault,
            MAX_FEE
        );
        registry.setLiquidationThresholds(50, 0.0001 ether);
        for (uint256 i; i < 3; ++i) _actors[i] = _addr("actor", i);
        _liquidator = _addr("liquidator", 0);
        _treasury = _addr("treasury", 0);
        for (uint256 i; i < OPERATORS; ++i) {
            address owner = _actors[i % 3];
            // A 33-byte compressed key: 0x02 prefix and 32 distinct bytes.
            bytes memory key = abi.encodePacked(bytes1(0x02), keccak256(abi.encode("key", i)));
            vm.prank(owner);
            uint64 id = registry.registerOperator(key, (i + 1) * 1e11);
            address enclave = _addr("enclave", i);
            enclaves.grantSequencer(enclave, owner);
            vm.prank(owner);
            registry.setOperatorEnclave(id, enclave);
        }
    }

    // ----------------------------------------------------------------------------------------------
    // Committees

    /// @notice An actor creates a committee of one operator or of four (a fuzzed ascending subset).
    function createCommittee(uint256 actorSeed, uint256 subsetSeed, bool four, uint256 value) external {
        value = _bound(value, 0, MAX_VALUE);
        address actor = _actors[actorSeed % 3];
        uint64[] memory ids = _subset(subsetSeed, four ? 4 : 1);
        vm.deal(actor, value);
        vm.prank(actor);
        try registry.createCommittee{value: value}(ids) {
            ghostIn += value;
            ++committeesCreated;
        } catch (bytes memory reason) {
            bytes4 selector = bytes4(reason);
            require(
                selector == IOperatorRegistryErrors.CommitteeExists.selector ||
                    selector == IOperatorRegistryErrors.OperatorIsRemoved.selector ||
                    selector == IOperatorRegistryErrors.CommitteeBalanceTooLow.selector ||
                    selector == IOperatorRegistryErrors.MissingEnclave.selector,
                "createCommittee: unexpected revert"
            );
        }
    }

    /// @notice Anyone deposits into a committee.
    function deposit(uint256 committeeSeed, uint256 value) external {
        uint64 id = _committee(committeeSeed);
        if (id == 0) return;
        value = _bound(value, 1, MAX_VALUE);
        vm.deal(_liquidator, value);
        vm.prank(_liquidator);
        registry.deposit{value: value}(id);
        ghostIn += value;
    }

    /// @notice The owner withdraws part of a committee's balance; a success must leave it healthy.
    function withdraw(uint256 committeeSeed, uint256 amount) external {
        uint64 id = _committee(committeeSeed);
        if (id == 0) return;
        OperatorRegistry.Committee memory c = registry.committee(id);
        if (c.liquidated || c.balance == 0) return;
        address owner = c.owner;
        uint256 balance = c.balance;
        amount = _bound(amount, 1, balance);
        vm.prank(owner);
        try registry.withdraw(id, amount) {
            ghostOut += amount;
            if (registry.isLiquidatable(id)) ++unhealthyAfterTopUpOrWithdrawal;
        } catch (bytes memory reason) {
            require(
                bytes4(reason) == IOperatorRegistryErrors.CommitteeBalanceTooLow.selector,
                "withdraw: unexpected revert"
            );
        }
    }

    /// @notice A liquidator tries to liquidate a committee: it succeeds exactly when `isLiquidatable` says so.
    function liquidate(uint256 committeeSeed) external {
        uint64 id = _committee(committeeSeed);
        if (id == 0) return;
        bool predicted = registry.isLiquidatable(id);
        uint256 balance = registry.committeeBalance(id);
        vm.prank(_liquidator);
        try registry.liquidate(id) {
            if (!predicted) ++liquidationMispredictions;
            ghostOut += balance;
            ++liquidations;
        } catch {
            if (predicted) ++liquidationMispredictions;
        }
    }

    /// @notice The owner reactivates a liquidated committee with a fuzzed top-up.
    function reactivate(uint256 committeeSeed, uint256 value) external {
        uint64 id = _committee(committeeSeed);
        if (id == 0) return;
        OperatorRegistry.Committee memory c = registry.committee(id);
        if (!c.liquidated) return;
        address owner = c.owner;
        value = _bound(value, 0, MAX_VALUE);
        vm.deal(owner, value);
        vm.prank(owner);
        try registry.reactivate{value: value}(id) {
            ghostIn += value;
            ++reactivations;
            if (registry.isLiquidatable(id)) ++unhealthyAfterTopUpOrWithdrawal;
        } catch (bytes memory reason) {
            require(
                bytes4(reason) == IOperatorRegistryErrors.CommitteeBalanceTooLow.selector,
                "reactivate: unexpected revert"
            );
        }
    }

    /// @notice The handler (genesis initializer, then admin) makes a committee active.
    function setActive(uint256 committeeSeed) external {
        uint64 id = _committee(committeeSeed);
        if (id == 0) return;
        (uint64 active, , , , , ) = registry.activeCommittee();
        if (registry.committee(id).liquidated || active == id) return;
        if (active == 0) registry.initializeActiveCommittee(id);
        else registry.setActiveCommittee(id);
        ++activations;
    }

    // ----------------------------------------------------------------------------------------------
    // Operators and the network

    /// @notice An operator's owner lowers its fee, or declares an increase and executes it after the period.
    function changeFee(uint256 operatorSeed, uint256 fee, bool increase) external {
        uint64 id = uint64(1 + (operatorSeed % OPERATORS));
        (address owner, uint64 current, bool removed, , , , , ) = registry.operators(id);
        if (removed) return;
        vm.startPrank(owner);
        if (increase) {
            uint256 limit = (uint256(current) * 11_000) / 10_000;
            if (limit > MAX_FEE) limit = MAX_FEE;
            if (limit <= current) {
                vm.stopPrank();
                return;
            }
            registry.declareOperatorFee(id, _bound(fee, uint256(current) + 1, limit));
            (, uint64 from, ) = registry.declaredFees(id);
            vm.warp(from);
            registry.executeOperatorFee(id);
        } else if (current != 0) {
            registry.reduceOperatorFee(id, _bound(fee, 0, uint256(current) - 1));
        }
        vm.stopPrank();
    }

    /// @notice An operator's owner removes it (rarely: one call in eight).
    function removeOperator(uint256 operatorSeed) external {
        if (operatorSeed % 8 != 0) return;
        uint64 id = uint64(1 + ((operatorSeed / 8) % OPERATORS));
        (address owner, , bool removed, , , , , ) = registry.operators(id);
        if (removed) return;
        vm.prank(owner);
        registry.removeOperator(id);
    }

    /// @notice An operator's owner withdraws part of its earnings.
    function operatorWithdraw(uint256 operatorSeed, uint256 amount) external {
        uint64 id = uint64(1 + (operatorSeed % OPERATORS));
        uint256 earned = registry.operatorEarnings(id);
        if (earned == 0) return;
        amount = _bound(amount, 1, earned);
        (address owner, , , , , , , ) = registry.operators(id);
        vm.prank(owner);
        registry.operatorWithdraw(id, amount);
        ghostOut += amount;
    }

    /// @notice The admin sets a fuzzed network fee.
    function setNetworkFee(uint256 fee) external {
        registry.setNetworkFee(_bound(fee, 0, MAX_FEE));
    }

    /// @notice The admin withdraws part of the network's earnings to the treasury.
    function withdrawNetworkEarnings(uint256 amount) external {
        (, , , uint256 network) = registry.accounting();
        if (network == 0) return;
        amount = _bound(amount, 1, network);
        registry.withdrawNetworkEarnings(payable(_treasury), amount);
        ghostOut += amount;
    }

    /// @notice A rollup's reward is credited to the registry in the FeeVault, then collected by anyone.
    function collectRewards(uint256 batches, uint256 funding) external {
        (uint64 active, , , , , ) = registry.activeCommittee();
        if (active == 0) return;
        funding = _bound(funding, 0, 1 ether);
        vm.deal(address(this), funding);
        (bool ok, ) = address(vault).call{value: funding}("");
        require(ok, "funding the vault failed");
        vault.rewardSequencer(address(registry), _bound(batches, 0, 100), uint64(block.timestamp));
        if (vault.rewardsOf(address(registry)) == 0) return;
        uint256 amount = registry.collectRewards();
        ghostIn += amount;
        ++rewardsCollected;
    }

    /// @notice Blocks (and time) pass.
    function passBlocks(uint256 count) external {
        count = _bound(count, 1, 2_000);
        VM_BLOCKS.roll(block.number + count);
        vm.warp(block.timestamp + count * 12);
    }

    // ----------------------------------------------------------------------------------------------
    // Internals

    /// @dev An existing committee picked by `seed` (zero: none yet).
    function _committee(uint256 seed) private view returns (uint64) {
        uint64 count = registry.committeeCount();
        return count == 0 ? 0 : uint64(1 + (seed % count));
    }

    /// @dev `size` distinct operator ids, ascending, picked by `seed`.
    function _subset(uint256 seed, uint256 size) private pure returns (uint64[] memory ids) {
        ids = new uint64[](size);
        uint256 n;
        for (uint256 i; i < OPERATORS && n < size; ++i) {
            // Take operator i+1 when the seed says so, or when every remaining one is needed.
            bool needed = OPERATORS - i == size - n;
            if (needed || (seed >> i) & 1 == 1) ids[n++] = uint64(i + 1);
        }
    }
}
