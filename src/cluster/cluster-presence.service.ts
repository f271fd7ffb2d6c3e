import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/env.validation';
import { CLUSTER_BUS, type ClusterBus } from '../hub/cluster-bus';
import { RoomsService } from '../chat/rooms.service';
import { Hub } from '../hub/hub';
import type { PrivateRoomChange } from '../hub/private-rooms';
import type { ClusterLink, RemoteMemberInfo } from '../hub/remote-members';
import type { Member } from '../hub/user';
import { GuestNumbers } from './guest-numbers';
import { RedisNicknameClaims } from './nickname-claims';
import { REDIS_CONNECTION, type RedisConnection } from './redis-connection';

const TOPIC = 'presence';

/** The state events one node sends the others about its members (`key`: the member's key on the sender). */
type PresenceEvent =
  | { op: 'open'; member: RemoteMemberInfo }
  | { op: 'rename'; key: number; nickname: string }
  | { op: 'close'; key: number }
  | { op: 'join' | 'leave'; key: number; room: string }
  /** A node starts, or has Redis back: the others forget what they knew of it and send their state. */
  | { op: 'hello'; members: RemoteMemberInfo[] }
  /** A node's whole state (an answer to hello). */
  | { op: 'state'; members: RemoteMemberInfo[] }
  /** jwt mode: a user left a room on purpose on the sender; its connections everywhere leave it. */
  | { op: 'userLeft'; userId: string; room: string }
  | { op: 'userJoined'; userId: string; room: string; by?: { nickname: string; userId: string } }
  | { op: 'private'; change: PrivateRoomChange }
  /** A node shuts down: its members are gone. */
  | { op: 'bye' };

/**
 * Shared presence in cluster mode (docs/operations.md#cluster). Every node mirrors the others'
 * members in memory (Hub.remote) from their state events on the ClusterBus, so that welcome
 * lists, `who`, room counts, nickname clashes and DMs by nickname see the whole cluster at memory
 * speed. Each node keeps a heartbeat key, `<prefix>:instance:<id>`, with a TTL of INSTANCE_TTL_MS,
 * renewed every third of it; every node checks the others' as often. A node whose key is gone
 * (SIGKILL, a lost machine) is forgotten by every node, and the one that wins
 * `SET NX <prefix>:reaper:<id>` tells the rooms of its members that they left: once, cluster-wide.
 */
@Injectable()
export class ClusterPresence implements ClusterLink, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ClusterPresence');
  private readonly ttlMs: number;
  private timer: NodeJS.Timeout | null = null;
  /** No other node is judged before this (epoch ms): after a start or an outage, everyone renews first. */
  private judgeAfter = 0;
  private readonly reaped = new Set<string>();

  constructor(
    @Optional() @Inject(REDIS_CONNECTION) private readonly redis: RedisConnection | null,
    @Inject(CLUSTER_BUS) private readonly bus: ClusterBus,
    private readonly hub: Hub,
    private readonly rooms: RoomsService,
    config: ConfigService<EnvironmentVariables, true>,
  ) {
    this.ttlMs = config.get('INSTANCE_TTL_MS', { infer: true });
  }

  async onApplicationBootstrap(): Promise<void> {
    const redis = this.redis;
    if (!redis) return;
    this.bus.subscribe(TOPIC, (payload, from) => {
      if (from !== this.bus.instanceId) this.apply(payload as PresenceEvent, from);
    });
    this.hub.attach(this);
    const guests = new GuestNumbers(redis);
    await guests.refill();
    this.hub.useGuestNumbers(() => guests.take());
    this.hub.useNicknameClaims(new RedisNicknameClaims(redis), this.bus.instanceId);
    redis.onStatus((up) => {
      if (!up) return;
      this.judgeAfter = Date.now() + this.ttlMs;
      // Others may have judged this node gone meanwhile: its next death must find the reaper key free.
      redis.command.del(redis.key('reaper', this.bus.instanceId)).catch(() => undefined);
      void this.beat();
      this.send({ op: 'hello', members: this.hub.localMembers() });
    });
    this.judgeAfter = Date.now() + this.ttlMs;
    await this.beat();
    this.send({ op: 'hello', members: this.hub.localMembers() });
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  // ---- ClusterLink: this node's members, told to the others

  opened(member: Member): void {
    this.send({ op: 'open', member: info(member, []) });
  }

  renamed(member: Member): void {
    this.send({ op: 'rename', key: member.key, nickname: member.nickname });
  }

  closed(member: Member): void {
    this.send({ op: 'close', key: member.key });
  }

  joined(member: Member, room: string): void {
    this.send({ op: 'join', key: member.key, room });
  }

  left(member: Member, room: string): void {
    this.send({ op: 'leave', key: member.key, room });
  }

  userLeft(userId: string, room: string): void {
    this.send({ op: 'userLeft', userId, room });
  }

  userJoined(userId: string, room: string, by?: { nickname: string; userId: string }): void {
    this.send(by ? { op: 'userJoined', userId, room, by } : { op: 'userJoined', userId, room });
  }

  privateRoom(change: PrivateRoomChange): void {
    this.send({ op: 'private', change });
  }

  leaving(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.send({ op: 'bye' });
    const redis = this.redis;
    if (redis?.isUp) {
      redis.command.del(this.instanceKey(this.bus.instanceId)).catch(() => undefined);
      redis.command.srem(redis.key('instances'), this.bus.instanceId).catch(() => undefined);
    }
  }

  // ---- the others' members

  private apply(event: PresenceEvent, from: string): void {
    const remote = this.hub.remote;
    switch (event.op) {
      case 'open':
        return remote.opened(from, event.member);
      case 'rename':
        return remote.renamed(from, event.key, event.nickname);
      case 'close':
        return void remote.closed(from, event.key);
      case 'join':
        return remote.joined(from, event.key, event.room);
      case 'leave':
        return remote.left(from, event.key, event.room);
      case 'hello':
        this.reaped.delete(from); // judged gone during its outage, and back: it may be reaped again later
        this.replace(from, event.members);
        this.send({ op: 'state', members: this.hub.localMembers() });
        return;
      case 'state':
        this.reaped.delete(from);
        return this.replace(from, event.members);
      case 'userLeft':
        return this.hub.evict(event.userId, event.room);
      case 'userJoined':
        return void this.hub.joinedElsewhere(event.userId, event.room, () => this.rooms.snapshot(event.room), event.by).catch((error: unknown) => {
          this.logger.warn(`A join from another node failed here: ${error instanceof Error ? error.message : String(error)}`);
        });
      case 'private':
        return this.hub.applyPrivateRoom(event.change);
      case 'bye':
        return void this.gone(from);
    }
  }

  private replace(node: string, members: RemoteMemberInfo[]): void {
    this.hub.remote.dropNode(node);
    for (const member of members) this.hub.remote.opened(node, member);
  }

  private send(event: PresenceEvent): void {
    this.bus.publish(TOPIC, event);
  }

  // ---- heartbeats

  private instanceKey(id: string): string {
    return this.redis!.key('instance', id);
  }

  private async beat(): Promise<void> {
    const redis = this.redis!;
    if (!redis.isUp) return;
    await redis.command
      .multi()
      .set(this.instanceKey(this.bus.instanceId), String(Date.now()), 'PX', this.ttlMs)
      .sadd(redis.key('instances'), this.bus.instanceId)
      .exec()
      .catch(() => undefined);
  }

  private async tick(): Promise<void> {
    await this.beat();
    if (Date.now() < this.judgeAfter || !this.redis!.isUp) return;
    try {
      const listed = await this.redis!.command.smembers(this.redis!.key('instances'));
      // The mirrored nodes too: the reaper takes a dead node off the list, maybe before this node looked.
      const ids = new Set([...listed, ...this.hub.remote.nodeIds()]);
      const others = [...ids].filter((id) => id !== this.bus.instanceId && !this.reaped.has(id));
      if (others.length === 0) return;
      const alive = await this.redis!.command.exists(...others.map((id) => this.instanceKey(id)));
      if (alive === others.length) return;
      for (const id of others) {
        if ((await this.redis!.command.exists(this.instanceKey(id))) === 0) await this.gone(id);
      }
    } catch (error) {
      this.logger.warn(`Heartbeat check failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * A node is gone (shut down, or its heartbeat expired): every node forgets its members; the one
   * that claims the reaper key first tells their rooms they left and takes it off the list.
   */
  private async gone(node: string): Promise<void> {
    if (this.reaped.has(node)) return;
    this.reaped.add(node);
    const dropped = this.hub.remote.dropNode(node);
    const redis = this.redis!;
    const won = await redis.command.set(redis.key('reaper', node), this.bus.instanceId, 'PX', 10 * this.ttlMs + 60_000, 'NX').catch(() => null);
    if (won !== 'OK') return;
    await redis.command.srem(redis.key('instances'), node).catch(() => undefined);
    this.logger.warn(`Node ${node} is gone: ${dropped.length} of its members leave their rooms`);
    this.hub.announceGone(dropped);
  }
}

function info(member: Member, rooms: string[]): RemoteMemberInfo {
  const out: RemoteMemberInfo = { key: member.key, nickname: member.nickname, connectedAt: member.connectedAt, rooms };
  if (member.userId !== undefined) out.userId = member.userId;
  return out;
}
