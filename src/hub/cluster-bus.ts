/**
 * Control messages between the nodes of one chat (a kick or ban to enforce, a membership or
 * presence change, a sanction to reload): JSON payloads by topic. Frames to clients do not go
 * here; they go through the Broker, encoded once.
 */
export interface ClusterBus {
  /** This node's id: random per process start. */
  readonly instanceId: string;
  /** Whether other nodes may exist (REDIS_URL is set). */
  readonly clustered: boolean;
  /** To this node's handlers of `topic` at once (synchronously, in call order), then to every other node's. */
  publish(topic: string, payload: unknown): void;
  /** `from` is the publishing node's instanceId (this node's own for a local publish). */
  subscribe(topic: string, handler: (payload: unknown, from: string) => void): void;
}

export const CLUSTER_BUS = Symbol('ClusterBus');

/** The bus of a single process: handlers of this node only. */
export class LocalClusterBus implements ClusterBus {
  readonly clustered: boolean = false;
  private readonly handlers = new Map<string, Array<(payload: unknown, from: string) => void>>();

  constructor(readonly instanceId: string = 'local') {}

  publish(topic: string, payload: unknown): void {
    this.dispatch(topic, payload, this.instanceId);
  }

  subscribe(topic: string, handler: (payload: unknown, from: string) => void): void {
    const list = this.handlers.get(topic);
    if (list) list.push(handler);
    else this.handlers.set(topic, [handler]);
  }

  /** Runs the handlers of `topic`; a Redis bus calls it for messages from other nodes too. */
  protected dispatch(topic: string, payload: unknown, from: string): void {
    for (const handler of this.handlers.get(topic) ?? []) handler(payload, from);
  }
}
