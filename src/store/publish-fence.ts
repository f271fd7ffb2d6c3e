/**
 * Cluster mode's ordering fence on the write path (docs/protocol.md#order-across-instances).
 *
 * The PostgreSQL store writes messages under one cluster-wide lock, and calls `settle()` after a
 * group commit's acknowledgements (which publish the committed messages) and before it lets the
 * lock go: the broker resolves it once Redis has taken every publish issued so far. So Redis sees
 * the messages of every room in the order of their ids, and every node delivers them in that order.
 * One node (no Redis) has nothing to wait for.
 */
export interface PublishFence {
  settle(): Promise<void>;
}

export const PUBLISH_FENCE = Symbol('PublishFence');

export const NO_FENCE: PublishFence = { settle: () => Promise.resolve() };
