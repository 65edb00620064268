/**
 * Connection strings of embedded servers started in this process that accept a single connection. A log
 * created from one of them uses one connection for everything (no LISTEN connection, readers and the
 * committer take turns), without the caller having to know.
 */
export const singleConnectionServers: Set<string> = new Set();
