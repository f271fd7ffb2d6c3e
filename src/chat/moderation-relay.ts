import { randomUUID } from 'node:crypto';
import type { ClusterBus } from '../hub/cluster-bus';
import type { BanKind } from '../store/ban.entity';
import type { Ban, Mute } from './sanctions';

/** The ClusterBus topic of moderation: sanction changes, kicks, and the answers to them. */
export const MODERATION_TOPIC = 'moderation';

/**
 * How long a node that kicks or bans (cluster mode) collects the other nodes' answers: what they
 * closed, or where a nickname is connected. A node slower than this still closes its connections
 * when the message reaches it; only the reply's `closed` count misses them.
 */
export const REPLY_WAIT_MS = 300;

/** What one node closed (or, for `find`, holds) of a kick's or ban's target. */
export interface Reach {
  closed: number;
  user?: string;
  userId?: string;
  address?: string;
}

/** A change to apply on every other node; `request` ones are answered with a Reach. */
export type ModerationMessage =
  | { op: 'ban'; ban: Ban; request?: string }
  | { op: 'unban'; kind: BanKind; target: string }
  | { op: 'mute'; mute: Mute }
  | { op: 'unmute'; room: string; target: string }
  | { op: 'slow_mode'; room: string; seconds: number; ownerId: string | null }
  /** A message let through in a slow room: the sender's interval starts on every node. */
  | { op: 'slow_sent'; room: string; sender: string; at: number }
  | { op: 'kick'; ref: string; request: string }
  /** Anonymous mode's ban of a nickname: who holds it, and from which address. */
  | { op: 'find'; ref: string; request: string }
  | { op: 'reach'; request: string; to: string; reach: Reach };

/** What ModerationService does with a message from another node; returns the Reach of a request. */
export type ApplyRemote = (message: Exclude<ModerationMessage, { op: 'reach' }>) => Reach | undefined;

/**
 * Moderation across nodes (cluster mode) over the ClusterBus. Each node keeps every sanction in
 * memory (checks stay a map lookup); a change made on one node is applied here and published, and
 * the others apply it on receipt. Kicks and bans also ask the others what they closed, waiting
 * REPLY_WAIT_MS at most. On one node (LocalClusterBus) nothing is published at all.
 */
export class ModerationRelay {
  private readonly waiting = new Map<string, Reach[]>();

  constructor(
    private readonly bus: ClusterBus,
    apply: ApplyRemote,
  ) {
    if (!bus.clustered) return;
    bus.subscribe(MODERATION_TOPIC, (payload, from) => {
      if (from === bus.instanceId) return;
      const message = payload as ModerationMessage;
      if (message.op === 'reach') {
        if (message.to === bus.instanceId) this.waiting.get(message.request)?.push(message.reach);
        return;
      }
      const reach = apply(message);
      if (reach !== undefined && 'request' in message && message.request !== undefined) {
        this.bus.publish(MODERATION_TOPIC, { op: 'reach', request: message.request, to: from, reach } satisfies ModerationMessage);
      }
    });
  }

  get clustered(): boolean {
    return this.bus.clustered;
  }

  /** Tells the other nodes (none on one node). */
  publish(message: Exclude<ModerationMessage, { op: 'reach' | 'kick' | 'find' }>): void {
    if (this.bus.clustered) this.bus.publish(MODERATION_TOPIC, message);
  }

  /** Tells the other nodes and collects their answers for REPLY_WAIT_MS; [] on one node. */
  async ask(message: { op: 'kick' | 'find'; ref: string } | { op: 'ban'; ban: Ban }): Promise<Reach[]> {
    if (!this.bus.clustered) return [];
    const request = randomUUID();
    const answers: Reach[] = [];
    this.waiting.set(request, answers);
    this.bus.publish(MODERATION_TOPIC, { ...message, request });
    await new Promise((resolve) => setTimeout(resolve, REPLY_WAIT_MS));
    this.waiting.delete(request);
    return answers;
  }
}
