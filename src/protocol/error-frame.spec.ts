import { ChatException } from './chat.exception';
import { defaultErrorMessage, ErrorCode } from './error-code';
import { toErrorFrame } from './error-frame';

describe(toErrorFrame.name, () => {
  it.each(Object.values(ErrorCode))('maps a ChatException with %s to a frame with that code and its message', (code) => {
    expect(toErrorFrame(new ChatException(code, `about ${code}`), 'message')).toStrictEqual({
      type: 'error',
      code,
      message: `about ${code}`,
      event: 'message',
    });
  });

  it.each(Object.values(ErrorCode))("uses %s's default text when the exception has no message", (code) => {
    expect(toErrorFrame(new ChatException(code, ''))).toStrictEqual({ type: 'error', code, message: defaultErrorMessage(code) });
  });

  it("carries the exception's details (MUTED's until, SLOW_MODE's retryAfterMs) in the frame", () => {
    const muted = new ChatException(ErrorCode.MUTED, 'muted');
    muted.details = { until: '2026-12-07T23:00:00.000Z' };
    const slow = new ChatException(ErrorCode.SLOW_MODE, 'slow');
    slow.details = { retryAfterMs: 1500 };

    expect(toErrorFrame(muted, 'message', { clientMsgId: 'c-1' })).toStrictEqual({
      type: 'error',
      code: ErrorCode.MUTED,
      message: 'muted',
      event: 'message',
      until: '2026-12-07T23:00:00.000Z',
      clientMsgId: 'c-1',
    });
    expect(toErrorFrame(slow)).toStrictEqual({ type: 'error', code: ErrorCode.SLOW_MODE, message: 'slow', retryAfterMs: 1500 });
  });

  it('maps a plain Error to INTERNAL without its message, stack or the payload', () => {
    const sut = toErrorFrame(new Error('secret detail in /srv/app/src/chat.service.ts'), 'nick', { nickname: 'payload-text' });
    expect(sut).toStrictEqual({ type: 'error', code: ErrorCode.INTERNAL, message: 'Internal error', event: 'nick' });
    const wire = JSON.stringify(sut);
    expect(wire).not.toContain('secret');
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

  it.each([
    ['1 character', 'c'],
    ['64 characters', 'c'.repeat(64)],
    ['64 astral characters (128 UTF-16 units)', '😀'.repeat(64)],
  ])('echoes a clientMsgId of %s', (_label, clientMsgId) => {
    const sut = toErrorFrame(new ChatException(ErrorCode.UNAVAILABLE, 'down'), 'message', { message: 'hi', clientMsgId });
    expect(sut).toStrictEqual({ type: 'error', code: ErrorCode.UNAVAILABLE, message: 'down', event: 'message', clientMsgId });
  });

  it('echoes the clientMsgId but not the message text on INTERNAL', () => {
    const sut = toErrorFrame(new Error('x'), 'message', { message: 'my private text', clientMsgId: 'c-1' });
    expect(sut).toStrictEqual({ type: 'error', code: ErrorCode.INTERNAL, message: 'Internal error', event: 'message', clientMsgId: 'c-1' });
  });

  it.each([
    ['empty', { clientMsgId: '' }],
    ['65 characters', { clientMsgId: 'c'.repeat(65) }],
    ['a number', { clientMsgId: 12 }],
    ['an array', { clientMsgId: [[['c']]] }],
    ['absent', { message: 'hi' }],
    ['data a string', 'clientMsgId'],
    ['data null', null],
    ['data undefined', undefined],
  ])('does not echo a clientMsgId that is %s', (_label, data) => {
    expect(toErrorFrame(new ChatException(ErrorCode.VALIDATION, 'bad'), 'message', data)).toStrictEqual({
      type: 'error',
      code: ErrorCode.VALIDATION,
      message: 'bad',
      event: 'message',
    });
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

  it('throws on a value outside the enum', () => {
    expect(() => defaultErrorMessage('NOPE' as ErrorCode)).toThrow('unhandled error code NOPE');
  });
});
