import type { WebSocket } from 'ws';
import type { NotificationFrame } from '../../src/chat/protocol';
import type { Session } from '../../src/fanout/session';

/**
 * Fakes shared by the unit specs (src/**\/*.spec.ts). The e2e suites use real sockets instead.
 */

/** The part of a `ws` socket that sessions and services touch; every call is recorded. */
export interface FakeSocket {
  readyState: number;
  bufferedAmount: number;
  send: jest.Mock;
  terminate: jest.Mock;
  close: jest.Mock;
}

/** An open socket by default; like ws, terminate() moves it out of OPEN at once. */
export function fakeSocket(readyState = 1): FakeSocket {
  const socket: FakeSocket = {
    readyState,
    bufferedAmount: 0,
    send: jest.fn(),
    terminate: jest.fn(() => {
      socket.readyState = 2;
    }),
    close: jest.fn(),
  };
  return socket;
}

/** What `fn` throws; fails the test if it returns instead. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

/** A session on a fake socket, with the frames it was sent decoded. */
export interface RecordedClient {
  session: Session;
  socket: WebSocket;
  fake: FakeSocket;
  /** The frames sent so far, decoded. */
  frames(): unknown[];
  /** Forgets the frames sent so far. */
  clear(): void;
}

export function recorded(fake: FakeSocket, session: Session): RecordedClient {
  return {
    session,
    socket: fake as unknown as WebSocket,
    fake,
    frames: () => fake.send.mock.calls.map(([data]: [Buffer]) => JSON.parse(data.toString('utf8')) as unknown),
    clear: () => fake.send.mockClear(),
  };
}

/** The notification a room's members get when `nickname` joins or leaves it, written out by hand. */
export const joinedNote = (room: string, nickname: string): NotificationFrame => ({
  type: 'notification',
  event: 'join',
  room,
  nickname,
  message: `${nickname} joined`,
});

export const leftNote = (room: string, nickname: string): NotificationFrame => ({
  type: 'notification',
  event: 'leave',
  room,
  nickname,
  message: `${nickname} left`,
});
