// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title MAGNET contribution registry
/// @notice One record per contribution (dataset, experiment, model, merge) to a research
/// session. A content hash can be recorded once only, so a record proves who added what first.
contract ContributionRegistry {
    enum Kind { Dataset, Experiment, Model, Merge }

    struct Record {
        bytes32 sessionId;     // sha256 of the session id
        bytes32 experimentId;  // sha256 of the experiment id
        address contributor;
        Kind kind;
        bytes32 contentHash;   // sha256 of canonical JSON, checkpoint or dataset bytes
        int256 metric;         // metric value x 1e6
        string uri;
        uint64 timestamp;
    }

    Record[] private records;
    mapping(bytes32 => uint256) private idByContent;   // content hash => id + 1
    mapping(bytes32 => uint256[]) private idsBySession;

    event Recorded(
        uint256 indexed id,
        bytes32 indexed sessionId,
        bytes32 indexed contentHash,
        address contributor,
        Kind kind,
        bytes32 experimentId,
        int256 metric,
        string uri
    );

    error AlreadyRecorded(bytes32 contentHash, uint256 id);
    error NoSuchRecord(uint256 id);

    function record(
        bytes32 sessionId,
        bytes32 experimentId,
        Kind kind,
        bytes32 contentHash,
        int256 metric,
        string calldata uri
    ) external returns (uint256 id) {
        uint256 existing = idByContent[contentHash];
        if (existing != 0) revert AlreadyRecorded(contentHash, existing - 1);
        id = records.length;
        records.push(
            Record(sessionId, experimentId, msg.sender, kind, contentHash, metric, uri, uint64(block.timestamp))
        );
        idByContent[contentHash] = id + 1;
        idsBySession[sessionId].push(id);
        emit Recorded(id, sessionId, contentHash, msg.sender, kind, experimentId, metric, uri);
    }

    function get(uint256 id) external view returns (Record memory) {
        if (id >= records.length) revert NoSuchRecord(id);
        return records[id];
    }

    function count() external view returns (uint256) {
        return records.length;
    }

    function idsOf(bytes32 sessionId) external view returns (uint256[] memory) {
        return idsBySession[sessionId];
    }

    /// @return found whether the content hash was recorded, and under which id
    function findContent(bytes32 contentHash) external view returns (bool found, uint256 id) {
        uint256 stored = idByContent[contentHash];
        return (stored != 0, stored == 0 ? 0 : stored - 1);
    }
}
