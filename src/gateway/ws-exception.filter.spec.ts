import { Logger, type ArgumentsHost } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { ErrorReporter } from '../hub/error-reporter';
import { FakeTransport } from '../hub/fake-transport';
import { Session } from '../hub/session';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { ChatException } from '../protocol/chat.exception';
import { defaultErrorMessage, ErrorCode } from '../protocol/error-code';
import { toErrorFrame } from '../protocol/error-frame';
import { StoreUnavailableError } from '../store/message-store.service';
import { WsProtocolExceptionFilter } from './ws-exception.filter';
import { bindSession } from './ws-transport';

// toErrorFrame and defaultErrorMessage are what this filter sends; their specs stay with it.
describe(toErrorFrame.name, () => {
  it('maps a ChatException to its own code and message', () => {
    const sut = toErrorFrame(new ChatException(ErrorCode.NICK_TAKEN, 'Nickname "alice" is already taken'));
    expect(sut).toStrictEqual({ type: 'error', code: ErrorCode.NICK_TAKEN, message: 'Nickname "alice" is already taken' });
  });

  it.each([
    [ErrorCode.NOT_IN_ROOM, 'You are not in room "dev"; join it first'],
    [ErrorCode.NO_SUCH_USER, 'No user named "zed" is online'],
  ])('maps a %s ChatException to its own code and message', (code, message) => {
    expect(toErrorFrame(new ChatException(code, message), 'message')).toStrictEqual({ type: 'error', code, message, event: 'message' });
  });

  it('maps a StoreUnavailableError to UNAVAILABLE without the cause', () => {
    const sut = toErrorFrame(new StoreUnavailableError(new Error('SQLITE_FULL: database or disk is full')), 'message');
    expect(sut).toStrictEqual({
      type: 'error',
      code: ErrorCode.UNAVAILABLE,
      message: 'The message store is unavailable; nothing was stored or sent, try again',
      event: 'message',
    });
  });

  it('maps a plain Error to INTERNAL without its message or stack', () => {
    const error = new Error('secret detail in /srv/app/src/chat.service.ts');
    const sut = toErrorFrame(error, 'nick', { nickname: 'payload-text' });

    expect(sut).toStrictEqual({ type: 'error', code: ErrorCode.INTERNAL, message: 'Internal error', event: 'nick' });
    const wire = JSON.stringify(sut);
    expect(wire).not.toContain('secret');
    expect(wire).not.toContain('chat.service');
    expect(wire).not.toContain('payload-text');
  });

  it.each([
    ['a string', 'boom'],
    ['undefined', undefined],
    ['null', null],
    ['an object that only looks like a ChatException', { code: ErrorCode.NICK_TAKEN, message: 'spoofed' }],
  ])('maps a thrown %s to INTERNAL', (_label, thrown) => {
    expect(toErrorFrame(thrown)).toStrictEqual({ type: 'error', code: ErrorCode.INTERNAL, message: 'Internal error' });
  });

  it('includes the inbound event when given', () => {
    const sut = toErrorFrame(new ChatException(ErrorCode.VALIDATION, 'message must be ...'), 'message');
    expect(sut).toStrictEqual({ type: 'error', code: ErrorCode.VALIDATION, message: 'message must be ...', event: 'message' });
  });

  it.each([
    ['1 character', 'c'],
    ['64 characters', 'c'.repeat(64)],
  ])('echoes a clientMsgId of %s', (_label, clientMsgId) => {
    const sut = toErrorFrame(new StoreUnavailableError(null), 'message', { message: 'hi', clientMsgId });
    expect(sut.clientMsgId).toBe(clientMsgId);
    expect(sut.event).toBe('message');
  });

  it('echoes the clientMsgId but not the message text on INTERNAL', () => {
    const sut = toErrorFrame(new Error('x'), 'message', { message: 'my private text', clientMsgId: 'c-1' });
    expect(sut).toStrictEqual({ type: 'error', code: ErrorCode.INTERNAL, message: 'Internal error', event: 'message', clientMsgId: 'c-1' });
  });

  it.each([
    ['empty', { clientMsgId: '' }],
    ['65 characters', { clientMsgId: 'c'.repeat(65) }],
    ['a number', { clientMsgId: 12 }],
    ['an object', { clientMsgId: { toString: 'x' } }],
    ['absent', { message: 'hi' }],
    ['data a string', 'clientMsgId'],
    ['data null', null],
    ['data undefined', undefined],
  ])('does not echo a clientMsgId that is %s', (_label, data) => {
    const sut = toErrorFrame(new ChatException(ErrorCode.VALIDATION, 'bad'), 'message', data);
    expect(sut).toStrictEqual({ type: 'error', code: ErrorCode.VALIDATION, message: 'bad', event: 'message' });
  });
});

describe(defaultErrorMessage.name, () => {
  it.each([
    [ErrorCode.BAD_JSON, 'Frame is not valid JSON'],
    [ErrorCode.BAD_FRAME, 'Frame must be a JSON object with an "event" string'],
    [ErrorCode.UNKNOWN_EVENT, 'Unknown event'],
    [ErrorCode.VALIDATION, 'Invalid data'],
    [ErrorCode.NICK_TAKEN, 'Nickname is already taken'],
    [ErrorCode.NOT_IN_ROOM, 'You are not in that room; join it first'],
    [ErrorCode.NO_SUCH_USER, 'No user with that nickname is online'],
    [ErrorCode.UNAVAILABLE, 'The message store is unavailable; nothing was stored or sent, try again'],
    [ErrorCode.INTERNAL, 'Internal error'],
  ])('describes %s', (code, message) => {
    expect(defaultErrorMessage(code)).toBe(message);
  });

  it('has a non-empty message for every ErrorCode value', () => {
    const codes = Object.values(ErrorCode);
    expect(codes).toHaveLength(16);
    for (const code of codes) {
      expect(defaultErrorMessage(code)).toEqual(expect.stringMatching(/\S/));
    }
  });

  it('throws on a value outside the enum', () => {
    expect(() => defaultErrorMessage('NOPE' as ErrorCode)).toThrow('unhandled error code NOPE');
  });
});

describe(WsProtocolExceptionFilter.name, () => {
  let metrics: ChatMetrics;
  let transport: FakeTransport;
  let session: Session;
  let client: WebSocket;
  let sut: WsProtocolExceptionFilter;
  let logError: jest.SpyInstance;

  beforeAll(() => {
    metrics = new ChatMetrics();
  });

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    logError = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    transport = new FakeTransport();
    session = new Session(1, transport, 'alice', '127.0.0.1', metrics.framesDelivered);
    client = {} as WebSocket;
    bindSession(client, session);
    sut = new WsProtocolExceptionFilter(new ErrorReporter(metrics));
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  function host(socket: WebSocket, pattern: string, data: unknown): ArgumentsHost {
    return {
      switchToWs: () => ({ getClient: () => socket, getPattern: () => pattern, getData: () => data }),
    } as unknown as ArgumentsHost;
  }

  it("sends the mapped error frame to the sender's session, echoing its clientMsgId", () => {
    sut.catch(new ChatException(ErrorCode.NICK_TAKEN, 'taken'), host(client, 'nick', { nickname: 'bob', clientMsgId: 'n-1' }));

    expect(transport.frames()).toEqual([{ type: 'error', code: ErrorCode.NICK_TAKEN, message: 'taken', event: 'nick', clientMsgId: 'n-1' }]);
    expect(logError).not.toHaveBeenCalled();
  });

  it('sends an unexpected error as INTERNAL, keeping the original only as the logged cause', () => {
    const exception = new Error('db exploded');

    sut.catch(exception, host(client, 'history', { limit: 5 }));

    expect(transport.frames()).toEqual([{ type: 'error', code: ErrorCode.INTERNAL, message: 'Internal error', event: 'history' }]);
    expect(logError).toHaveBeenCalledWith(expect.objectContaining({ code: ErrorCode.INTERNAL, event: 'history', err: exception }));
  });

  it('sends nothing for a socket that has no session', () => {
    sut.catch(new Error('x'), host({} as WebSocket, 'message', {}));

    expect(transport.written).toEqual([]);
  });
});
