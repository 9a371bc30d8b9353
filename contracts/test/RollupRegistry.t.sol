// SPDX-License-Identifier: MIT
// Test conventions: plain `require`s with messages, Foundry-style test names, several contracts per file.
// solhint-disable gas-custom-errors, reason-string, func-name-mixedcase, one-contract-per-file
// solhint-disable interface-starts-with-i

pragma solidity ^0.8.28;

import {IEnclaveRegistry} from "../interfaces/IEnclaveRegistry.sol";
import {FeeVault} from "../l1/FeeVault.sol";
import {MessageBus} from "../l1/MessageBus.sol";
import {RollupRegistry} from "../l1/RollupRegistry.sol";
import {TestBase} from "./utils/TestBase.t.sol";
import {IRollupRegistryErrors} from "../interfaces/IRollupRegistryErrors.sol";
import {TestOperatorRegistry} from "./mocks/TestOperatorRegistry.sol";

/// @notice The cheatcodes these tests need beyond TestBase's `Vm` (same cheatcode address).
interface BlockAndSignVm {
    function roll(uint256 blockNumber) external;
    function sign(uint256 privateKey, bytes32 digest) external returns (uint8 v, bytes32 r, bytes32 s);
    function addr(uint256 privateKey) external returns (address);
    function assume(bool condition) external pure;
}

/// @notice Stands in for the EnclaveRegistry: one sequencer enclave, whose operator is itself, and a
/// revocation generation of zero.
contract OneSequencerRegistry is IEnclaveRegistry {
    address public immutable sequencer;

    constructor(address sequencer_) {
        sequencer = sequencer_;
    }

    function isAttested(address enclaveId) external view returns (bool) {
        return enclaveId == sequencer;
    }

    function isSequencer(address enclaveId) external view returns (bool) {
        return enclaveId == sequencer;
    }

    function sequencerOperator(address enclaveId) external view returns (address) {
        require(enclaveId == sequencer, "not the sequencer");
        return enclaveId;
    }

    function revocationGeneration() external pure returns (uint64) {
        return 0;
    }
}

/// @notice Fuzz tests of revelation epochs: a rollup's epoch is its binding block's, and an epoch key is
/// published only from `revealableAt` on, only with the committed key, only once.
contract RollupRegistryRevelationFuzzTest is TestBase {
    BlockAndSignVm internal constant CHEATS = BlockAndSignVm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    uint256 internal constant SEQUENCER_KEY = 0x5EC0E4CE;

    RollupRegistry internal registry;
    TestOperatorRegistry internal operators;
    uint64 internal epochLength;

    function setUp() public {
        address sequencer = CHEATS.addr(SEQUENCER_KEY);
        FeeVault vault = new FeeVault(address(this), 0, address(this), 0, 0, 0);
        MessageBus bus = new MessageBus(address(this), 0, address(this), payable(address(vault)), 0);
        operators = new TestOperatorRegistry();
        address[] memory members = new address[](1);
        members[0] = sequencer;
        operators.setCommittee(1, members, 1, 0);
        registry = new RollupRegistry(
            address(this),
            0,
            address(this),
            new OneSequencerRegistry(sequencer),
            operators,
            bus,
            vault,
            3600,
            60,
            256
        );
        bus.bindRollupRegistry(address(registry));
        vault.bindRewarder(address(registry));
        epochLength = registry.EPOCH_LENGTH();
    }

    /// @dev A signed header for the next rollup, bound to block `binding` (already mined), in `epoch`.
    function _rollup(uint64 binding, uint64 epoch, bytes32 commitment)
        internal
        returns (RollupRegistry.RollupHeader memory header, bytes memory payload, bytes memory signature)
    {
        payload = abi.encodePacked("payload", binding);
        uint64 next = registry.nextBatchSeq();
        header = RollupRegistry.RollupHeader({
            firstBatchSeq: next,
            lastBatchSeq: next,
            lastBatchHash: keccak256(abi.encode(binding, next)),
            previousBatchHash: registry.lastBatchHash(),
            l1BlockNumber: binding,
            l1BlockHash: blockhash(binding),
            messageRoot: bytes32(0),
            payloadHash: keccak256(payload),
            revelationEpoch: epoch,
            keyCommitment: commitment
        });
        (uint8 v, bytes32 r, bytes32 s) = CHEATS.sign(SEQUENCER_KEY, registry.rollupDigest(header));
        signature = abi.encodePacked(r, s, v);
    }

    /// @dev Submits a rollup signed by the committee of one.
    function _add(RollupRegistry.RollupHeader memory header, bytes memory payload, bytes memory signature) internal {
        address[] memory members = new address[](1);
        members[0] = CHEATS.addr(SEQUENCER_KEY);
        registry.addRollup(header, payload, members, 1, signature);
    }

    /// @notice A rollup is accepted in its binding block's epoch and refused in any other.
    function testFuzz_EpochIsTheBindingBlocks(uint256 bindingSeed, uint256 claimSeed) public {
        // Half the runs bind next to an epoch boundary.
        uint64 binding = bindingSeed % 2 == 0
            ? uint64(_bound(bindingSeed >> 1, 1, 50 * uint256(epochLength)))
            : uint64((((bindingSeed >> 1) % 50) + 1) * epochLength + ((bindingSeed >> 8) % 5)) - 2;
        CHEATS.roll(uint256(binding) + 1);
        uint64 expected = binding / epochLength;
        // Claims around the right epoch (and, rarely, anywhere).
        uint64 claimed = claimSeed % 8 == 0
            ? uint64(claimSeed >> 3)
            : uint64(_bound(claimSeed >> 3, expected < 3 ? 0 : expected - 3, uint256(expected) + 3));
        (RollupRegistry.RollupHeader memory header, bytes memory payload, bytes memory signature) = _rollup(
            binding,
            claimed,
            keccak256(abi.encode("key", claimed))
        );
        if (claimed != expected) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IRollupRegistryErrors.RevelationEpochMismatch.selector,
                    binding,
                    expected,
                    claimed
                )
            );
            _add(header, payload, signature);
            require(registry.rollupCount() == 0, "a rollup in another epoch was accepted");
        } else {
            _add(header, payload, signature);
            require(registry.epochKeyCommitment(expected) == header.keyCommitment, "epoch not committed");
        }
    }

    /// @dev Adds a rollup in `epoch` (bound to its second block) committing to `key`; returns the commitment.
    function _commitEpoch(uint64 epoch, bytes32 key) internal returns (bytes32 commitment) {
        uint64 binding = epoch * epochLength + 1;
        CHEATS.roll(uint256(binding) + 1);
        commitment = keccak256(abi.encodePacked(key));
        (RollupRegistry.RollupHeader memory header, bytes memory payload, bytes memory signature) = _rollup(
            binding,
            epoch,
            commitment
        );
        _add(header, payload, signature);
    }

    /// @dev Expects revealing `wrong` for `epoch` to be refused with the right error.
    function _refuseWrongKey(uint64 epoch, bytes32 commitment, bytes32 wrong) internal {
        if (wrong == bytes32(0)) {
            vm.expectRevert(abi.encodeWithSelector(IRollupRegistryErrors.ZeroValue.selector));
        } else {
            bytes32 wrongHash = keccak256(abi.encodePacked(wrong));
            vm.expectRevert(
                abi.encodeWithSelector(IRollupRegistryErrors.EpochKeyMismatch.selector, epoch, commitment, wrongHash)
            );
        }
        registry.revealEpochKey(epoch, wrong);
    }

    /// @notice The committed key is revealed exactly from `revealableAt`, with no other key, and once.
    function testFuzz_RevealOnlyTheCommittedKeyFromRevealableAt(
        bytes32 key,
        bytes32 wrong,
        uint256 epochSeed,
        uint256 periodSeed,
        uint256 callSeed
    ) public {
        CHEATS.assume(key != bytes32(0) && wrong != key);
        uint64 period = uint64(_bound(periodSeed, 256, 100_000));
        registry.setRevelationPeriod(period);
        uint64 epoch = uint64(_bound(epochSeed, 0, 1000));
        bytes32 commitment = _commitEpoch(epoch, key);

        uint256 from = registry.revealableAt(epoch);
        require(from == (uint256(epoch) + 1) * epochLength + period, "revealableAt is not the epoch's end + period");
        // Half the runs call next to `revealableAt`.
        uint256 callBlock = callSeed % 2 == 0
            ? _bound(callSeed >> 1, from - 3, from + 3)
            : _bound(callSeed >> 1, block.number, from + 2 * uint256(epochLength));
        CHEATS.roll(callBlock);
        if (callBlock < from) {
            vm.expectRevert(abi.encodeWithSelector(IRollupRegistryErrors.EpochKeyNotRevealable.selector, epoch, from));
            registry.revealEpochKey(epoch, key);
            require(registry.epochKey(epoch) == bytes32(0), "revealed early");
            CHEATS.roll(from);
        }
        _refuseWrongKey(epoch, commitment, wrong);

        registry.revealEpochKey(epoch, key);
        require(registry.epochKey(epoch) == key, "key not stored");
        vm.expectRevert(abi.encodeWithSelector(IRollupRegistryErrors.EpochKeyAlreadyRevealed.selector, epoch));
        registry.revealEpochKey(epoch, key);
    }

    /// @notice F6: whatever batch range a signed rollup claims, the registry either refuses it or accepts it
    /// within `MAX_BATCHES_PER_ROLLUP` (and its payload), and a next one-batch rollup is always accepted.
    function testFuzz_NoBatchRangeBricksTheRegistry(uint64 last, uint16 payloadLength) public {
        CHEATS.roll(10);
        uint64 binding = 9;
        (RollupRegistry.RollupHeader memory header, , ) = _rollup(binding, 0, keccak256(abi.encode("key", 0)));
        bytes memory payload = new bytes(uint256(payloadLength) + 1);
        header.lastBatchSeq = last;
        header.payloadHash = keccak256(payload);
        (uint8 v, bytes32 r, bytes32 s) = CHEATS.sign(SEQUENCER_KEY, registry.rollupDigest(header));
        uint256 maximum = payload.length < 1024 ? payload.length : 1024;
        if (uint256(last) + 1 > maximum) {
            vm.expectRevert(
                abi.encodeWithSelector(IRollupRegistryErrors.TooManyBatches.selector, uint256(last) + 1, maximum)
            );
        }
        _add(header, payload, abi.encodePacked(r, s, v));
        uint64 next = registry.nextBatchSeq();
        require(next <= 1024, "a rollup spanned more than MAX_BATCHES_PER_ROLLUP batches");
        (RollupRegistry.RollupHeader memory after_, bytes memory p2, bytes memory sig2) = _rollup(
            binding,
            0,
            keccak256(abi.encode("key", 0))
        );
        _add(after_, p2, sig2);
        require(registry.nextBatchSeq() == next + 1, "the registry no longer accepts rollups");
    }
}

/// @notice Fuzz tests of committee signatures: a rollup is accepted exactly when at least `quorum` members
/// of the active committee signed it, each at its own bit.
contract RollupRegistryCommitteeFuzzTest is TestBase {
    BlockAndSignVm internal constant CHEATS = BlockAndSignVm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    uint8 internal constant SIZE = 13;
    uint8 internal constant QUORUM = 9;

    RollupRegistry internal registry;
    address[] internal members;

    function setUp() public {
        FeeVault vault = new FeeVault(address(this), 0, address(this), 0, 0, 0);
        MessageBus bus = new MessageBus(address(this), 0, address(this), payable(address(vault)), 0);
        TestOperatorRegistry operators = new TestOperatorRegistry();
        for (uint256 i; i < SIZE; ++i) members.push(CHEATS.addr(_key(i)));
        operators.setCommittee(7, members, QUORUM, 0);
        registry = new RollupRegistry(
            address(this),
            0,
            address(this),
            new OneSequencerRegistry(members[0]),
            operators,
            bus,
            vault,
            3600,
            60,
            256
        );
        bus.bindRollupRegistry(address(registry));
        vault.bindRewarder(address(registry));
    }

    function _key(uint256 member) internal pure returns (uint256) {
        return 0xC0FFEE00 + member;
    }

    /// @notice Any bitmap within the committee is accepted iff it has at least `QUORUM` bits, and one
    /// wrong signature (a non-member's, or another member's) among them makes it fail.
    function testFuzz_QuorumOfMembersAtTheirBits(uint16 bitmapSeed, uint8 corruptSeed, bool corrupt) public {
        CHEATS.roll(10);
        uint256 bitmap = uint256(bitmapSeed) & ((1 << SIZE) - 1);
        bytes memory payload = "payload";
        RollupRegistry.RollupHeader memory header = RollupRegistry.RollupHeader({
            firstBatchSeq: 0,
            lastBatchSeq: 0,
            lastBatchHash: keccak256("batch 0"),
            previousBatchHash: bytes32(0),
            l1BlockNumber: 9,
            l1BlockHash: blockhash(9),
            messageRoot: bytes32(0),
            payloadHash: keccak256(payload),
            revelationEpoch: 0,
            keyCommitment: keccak256("key")
        });
        bytes32 digest = registry.rollupDigest(header);
        uint256 count;
        for (uint256 i; i < SIZE; ++i) if ((bitmap >> i) & 1 != 0) ++count;
        uint256 corrupted = count == 0 ? 0 : uint256(corruptSeed) % count;
        bytes memory signatures;
        bytes memory mismatch;
        uint256 k;
        for (uint256 i; i < SIZE; ++i) {
            if ((bitmap >> i) & 1 == 0) continue;
            // The corrupted one is signed by the next member (or, for the last, by a non-member).
            uint256 key = corrupt && k == corrupted ? _key(i + 1) : _key(i);
            if (key != _key(i)) {
                mismatch = abi.encodeWithSelector(
                    IRollupRegistryErrors.SignerMismatch.selector,
                    i,
                    members[i],
                    CHEATS.addr(key)
                );
            }
            (uint8 v, bytes32 r, bytes32 s) = CHEATS.sign(key, digest);
            signatures = abi.encodePacked(signatures, r, s, v);
            ++k;
        }
        if (count < QUORUM) {
            vm.expectRevert(
                abi.encodeWithSelector(IRollupRegistryErrors.QuorumNotReached.selector, uint64(7), count, QUORUM)
            );
        } else if (mismatch.length != 0) {
            vm.expectRevert(mismatch);
        }
        registry.addRollup(header, payload, members, bitmap, signatures);
        require(registry.rollupCount() == (count >= QUORUM && mismatch.length == 0 ? 1 : 0), "wrong acceptance");
    }
}
