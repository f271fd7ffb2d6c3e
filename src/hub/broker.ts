/** Who a delivery is for: a room's members, some users' connections (by nickname, or by user id in jwt mode), or everyone. */
export type Audience =
  | { kind: 'room'; room: string }
  | { kind: 'users'; nicknames: readonly string[] }
  | { kind: 'userIds'; userIds: readonly string[] }
  | { kind: 'everyone' };

/** One frame on its way to an audience, encoded once by the node that sent it. */
export interface Delivery {
  audience: Audience;
  data: Buffer;
  /** A room message's id, or a direct message's to user ids (the hub dedupes it against snapshots and replays); 0 otherwise. */
  messageId: number;
  /**
   * The member that must not get it (the joiner of its own join, the typist of its own typing): a
   * session's id in anonymous mode, a user's key in jwt mode (Session.key); 0 for none.
   */
  except: number;
  /**
   * jwt mode: the user id behind `except`, which means the same user on every node (a session id or
   * user key means something on the node that published only).
   */
  exceptUser?: string;
}

/**
 * How deliveries reach every node's local connections. The hub publishes; each node's hub
 * receives what is published (its own included) and writes to its local sessions. In one
 * process that is a function call (LocalBroker); across processes it is a Redis channel.
 */
export interface Broker {
  publish(delivery: Delivery): void;
  subscribe(receive: (delivery: Delivery) => void): void;
}

export const BROKER = Symbol('Broker');
