// SPDX-License-Identifier: MIT
// Test conventions: plain `require`s with messages, Foundry-style test names, several contracts per file.
// solhint-disable gas-custom-errors, reason-string, func-name-mixedcase, one-contract-per-file

pragma solidity ^0.8.28;

import {IOperatorRegistryErrors} from "../interfaces/IOperatorRegistryErrors.sol";
import {FeeVault} from "../l1/FeeVault.sol";
import {OperatorRegistry} from "../l1/OperatorRegistry.sol";
import {OperatorRegistryHandler, VmBlocks} from "./handlers/OperatorRegistryHandler.t.sol";
import {MockEnclaveRegistry} from "./mocks/MockEnclaveRegistry.sol";
import {TestBase} from "./utils/TestBase.t.sol";

/// @notice Fuzz tests of the fee clock and of committee shapes, on a registry whose admin, guardian and genesis
/// initializer is the test contract.
contract OperatorRegistryFuzzTest is TestBase {
    uint256 internal constant MAX_FEE = 1e12;
    VmBlocks internal constant VM_BLOCKS = VmBlocks(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    MockEnclaveRegistry internal enclaves;
    OperatorRegistry internal registry;

    function setUp() public {
        enclaves = new MockEnclaveRegistry();
        FeeVault vault = new FeeVault(address(this), 0, address(this), 0, 0, 0);
        registry = new OperatorRegistry(address(this), 0, address(this), address(this), enclaves, vault, MAX_FEE);
        registry.setLiquidationThresholds(0, 0);
    }

    function _operator(uint256 i, uint256 fee) internal returns (uint64 id) {
        id = registry.registerOperator(abi.encodePacked(bytes1(0x03), keccak256(abi.encode("key", i))), fee);
        address enclave = _addr("enclave", i);
        enclaves.grantSequencer(enclave, address(this));
        registry.setOperatorEnclave(id, enclave);
    }

    /// @notice An active committee pays its members' fees and the network fee for every block its balance
    /// covers, and no more: its balance, the earnings and the network's share always add up to what it was
    /// given, and the balance never covers another whole block once charging stopped.
    function testFuzz_ChargesWholeBlocksItCanPayFor(
        uint64[4] memory feeSeeds,
        uint256 networkFee,
        uint256 value,
        uint256 blockCount
    ) public {
        uint64[] memory ids = new uint64[](4);
        uint256 rate;
        for (uint256 i; i < 4; ++i) {
            uint256 fee = _bound(feeSeeds[i], 0, MAX_FEE);
            ids[i] = _operator(i, fee);
            rate += fee;
        }
        networkFee = _bound(networkFee, 0, MAX_FEE);
        registry.setNetworkFee(networkFee);
        rate += networkFee;
        value = _bound(value, 0, 100 ether);
        vm.deal(address(this), value);
        uint64 id = registry.createCommittee{value: value}(ids);
        registry.initializeActiveCommittee(id);
        blockCount = _bound(blockCount, 0, 10_000_000);
        VM_BLOCKS.roll(block.number + blockCount);

        uint256 paidBlocks = rate == 0 ? blockCount : value / rate;
        if (paidBlocks > blockCount) paidBlocks = blockCount;
        uint256 balance = registry.committeeBalance(id);
        require(balance == value - paidBlocks * rate, "balance is not value minus whole paid blocks");
        uint256 earnings;
        for (uint256 i; i < 4; ++i) earnings += registry.operatorEarnings(ids[i]);
        (uint256 held, uint256 committees, uint256 operators, uint256 network) = registry.accounting();
        require(earnings == operators && network == paidBlocks * networkFee, "earnings differ from the fees");
        require(held == value && held == committees + operators + network, "books do not balance");
        if (paidBlocks < blockCount) require(rate != 0 && balance < rate, "stopped while it could pay");

        // Settling (a deposit of one wei) changes nothing already accrued.
        vm.deal(address(this), 1);
        registry.deposit{value: 1}(id);
        require(registry.committeeBalance(id) == balance + 1, "settlement moved the balance");
    }

    /// @notice Only sizes 1, 4, 7, 10 and 13 make committees, with quorum 2f+1.
    function testFuzz_CommitteeSizes(uint8 sizeSeed) public {
        uint256 n = _bound(sizeSeed, 0, 14);
        uint64[] memory ids = new uint64[](n);
        for (uint256 i; i < n; ++i) ids[i] = _operator(i, 0);
        bool valid = n == 1 || n == 4 || n == 7 || n == 10 || n == 13;
        if (!valid) {
            vm.expectRevert(abi.encodeWithSelector(IOperatorRegistryErrors.InvalidCommitteeSize.selector, n));
            registry.createCommittee(ids);
            return;
        }
        uint64 id = registry.createCommittee(ids);
        OperatorRegistry.Committee memory c = registry.committee(id);
        require(c.size == n && c.quorum == (2 * (n - 1)) / 3 + 1, "wrong size or quorum");
        require(c.operatorIds.length == n && c.quorum * 3 > n * 2, "members or quorum below two thirds");
    }
}

/// @notice Invariant campaign over `OperatorRegistryHandler`: committees created, funded, drained, liquidated,
/// reactivated and switched, fees changed, operators removed, rewards collected, blocks passing.
contract OperatorRegistryInvariantTest is TestBase {
    OperatorRegistryHandler internal handler;
    OperatorRegistry internal registry;

    function setUp() public {
        handler = new OperatorRegistryHandler();
        registry = handler.registry();
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice The registry holds exactly what came in minus what went out, and that equals every committee's
    /// balance plus every operator's earnings plus the network's earnings, summed entity by entity.
    /**
     * hardhat-config: invariant.runs = 32
     * hardhat-config: invariant.depth = 60
     * hardhat-config: invariant.failOnRevert = true
     */
    function invariant_booksBalance() public view {
        (uint256 held, uint256 committees, uint256 operators, uint256 network) = registry.accounting();
        require(held == address(registry).balance, "accounting() misreports the balance");
        require(held == handler.ghostIn() - handler.ghostOut(), "balance differs from the ETH that moved");
        require(held == committees + operators + network, "held != committees + operators + network");
        uint256 sum;
        for (uint64 id = 1; id <= registry.committeeCount(); ++id) sum += registry.committeeBalance(id);
        require(sum == committees, "committee balances do not add up");
        sum = 0;
        for (uint64 id = 1; id <= registry.operatorCount(); ++id) sum += registry.operatorEarnings(id);
        require(sum == operators, "operator earnings do not add up");
    }

    /// @notice Liquidation follows SSV's rule exactly, withdrawals and reactivations never leave a committee
    /// liquidatable, and `activeCommittee()` mirrors the active committee's record.
    /**
     * hardhat-config: invariant.runs = 32
     * hardhat-config: invariant.depth = 60
     * hardhat-config: invariant.failOnRevert = true
     */
    function invariant_liquidationRuleAndActiveMirror() public view {
        require(handler.liquidationMispredictions() == 0, "liquidate disagreed with isLiquidatable");
        require(handler.unhealthyAfterTopUpOrWithdrawal() == 0, "a withdrawal or reactivation left it liquidatable");
        (uint64 id, bytes32 hash, uint64 generation, uint8 size, uint8 quorum, bool liquidated) = registry
            .activeCommittee();
        if (id == 0) return;
        OperatorRegistry.Committee memory c = registry.committee(id);
        require(
            hash == c.signersHash &&
                generation == c.signersGeneration &&
                size == c.size &&
                quorum == c.quorum &&
                liquidated == c.liquidated,
            "activeCommittee() differs from the committee"
        );
    }
}
