import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Hub, type Snapshot } from '../hub/hub';
import type { PrivateRoomInfo, RoomMember } from '../hub/private-rooms';
import type { Session } from '../hub/session';
import { ChatException } from '../protocol/chat.exception';
import type { RoomMemberDto } from '../protocol/dto/room-member.dto';
import { ErrorCode } from '../protocol/error-code';
import { toErrorFrame } from '../protocol/error-frame';
import type { MembershipFrame } from '../protocol/frames';
import { StoreUnavailableError } from '../store/message-store.service';
import { RoomDirectory } from '../store/room-directory.service';
import { UserStore } from '../store/user-store.service';
import { RoomsService } from './rooms.service';

/**
 * Who is in a private room (jwt mode): its owner or an admin invites and removes, by user id or
 * nickname, online or not. The store keeps the membership; the hub's copy, loaded here at startup,
 * answers every check without a database read.
 */
@Injectable()
export class MembershipService implements OnApplicationBootstrap {
  constructor(
    private readonly hub: Hub,
    private readonly rooms: RoomsService,
    private readonly directory: RoomDirectory,
    private readonly users: UserStore,
  ) {}

  /** Every private room with its owner and members, before the server takes its first connection. */
  async onApplicationBootstrap(): Promise<void> {
    // Two reads whatever the number of rooms and members (it was one read per room and per member).
    const members = new Map<string, RoomMember[]>();
    for (const { room, userId, nickname } of await this.directory.privateRoomMembers()) {
      let list = members.get(room);
      if (!list) members.set(room, (list = []));
      list.push({ userId, nickname });
    }
    const rooms: PrivateRoomInfo[] = (await this.directory.privateRooms()).map(({ name, ownerId }) => ({ name, ownerId, members: members.get(name) ?? [] }));
    this.hub.loadPrivateRooms(rooms);
  }

  /**
   * `invite`: stores the membership, then every connection of the invitee gets `invited` and joins
   * the room; the sender gets `membership`. Inviting a member again changes nothing.
   */
  async invite(session: Session, { room, user }: RoomMemberDto): Promise<MembershipFrame> {
    this.hub.assertManages(session, room);
    const target = await this.findUser(user);
    if (!this.hub.isMember(room, target.userId)) {
      await this.directory.addMember(room, target.userId);
      await this.hub.invite(session, room, target, () => this.snapshot(room));
    }
    return membership(room, target, true);
  }

  /**
   * `remove`: the member's connections are out of the room within this call, before anything else
   * can be delivered to them; then the store forgets the membership. A user who is not a member
   * (after a removal the store did not take, say) is removed from the store again.
   */
  async remove(session: Session, { room, user }: RoomMemberDto): Promise<MembershipFrame> {
    this.hub.assertManages(session, room);
    const member = this.hub.findMember(room, user);
    if (!member) {
      const target = await this.findUser(user);
      await this.directory.removeMember(room, target.userId);
      return membership(room, target, false);
    }
    this.hub.remove(session, room, member);
    try {
      await this.directory.removeMember(room, member.userId);
    } catch (error) {
      const message = `${member.nickname} is out of "${room}" on this server, but the store did not record it; send remove again`;
      throw new ChatException(ErrorCode.UNAVAILABLE, message, { cause: error });
    }
    return membership(room, member, false);
  }

  /** The user `ref` names among all who ever signed in: by id, else by nickname. */
  private async findUser(ref: string): Promise<RoomMember> {
    const found = await this.users.findUsers(ref);
    if (found.length === 0) throw new ChatException(ErrorCode.NO_SUCH_USER, `No user "${ref}" has ever signed in`);
    if (found.length > 1) throw new ChatException(ErrorCode.VALIDATION, `Several users are named "${ref}"; use the user id`);
    return { userId: found[0].id, nickname: found[0].nickname };
  }

  /** An invitee's snapshot never fails the invitation: a history that cannot be read is an error frame in its place. */
  private async snapshot(room: string): Promise<Snapshot> {
    try {
      return await this.rooms.snapshot(room);
    } catch (error) {
      return { frames: [toErrorFrame(StoreUnavailableError.from(error), 'history')], lastId: 0 };
    }
  }
}

function membership(room: string, { userId, nickname }: RoomMember, member: boolean): MembershipFrame {
  return { type: 'membership', room, user: nickname, userId, member };
}
