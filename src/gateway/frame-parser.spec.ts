import { parseFrame } from './frame-parser';
import { ErrorCode } from '../protocol/error-code';

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

describe(parseFrame.name, () => {
  describe('plain text frames', () => {
    it.each([
      ['hello', 'hello'],
      ['张三 says hi', '张三 says hi'],
      ['<b>bold</b>', '<b>bold</b>'],
      ['  {"event":"nick"}', '  {"event":"nick"}'],
      ['[1,2]', '[1,2]'],
      ['', ''],
    ])('turns %j into a message event carrying the text verbatim', (frame, message) => {
      expect(parseFrame(text(frame), false)).toStrictEqual({ ok: true, event: 'message', data: { message } });
    });
  });

  describe('JSON frames', () => {
    it('returns event and data', () => {
      expect(parseFrame(text('{"event":"nick","data":{"nickname":"alice"}}'), false)).toStrictEqual({
        ok: true,
        event: 'nick',
        data: { nickname: 'alice' },
      });
    });

    it('passes data through untouched, whatever its type, and undefined when absent', () => {
      expect(parseFrame(text('{"event":"message","data":"hi"}'), false)).toStrictEqual({ ok: true, event: 'message', data: 'hi' });
      expect(parseFrame(text('{"event":"history"}'), false)).toStrictEqual({ ok: true, event: 'history', data: undefined });
    });

    it.each(['{', '{"event":"message"', "{'event':'message'}", '{"event":"message"} trailing', '{}}'])(
      'reports %j as BAD_JSON',
      (frame) => {
        expect(parseFrame(text(frame), false)).toStrictEqual({
          ok: false,
          code: ErrorCode.BAD_JSON,
          message: 'Frame starts with "{" but is not valid JSON',
        });
      },
    );

    it.each(['{}', '{"data":{"message":"hi"}}', '{"event":42}', '{"event":null}', '{"event":["message"]}', '{"event":{"a":1}}'])(
      'reports %j (no event string) as BAD_FRAME',
      (frame) => {
        expect(parseFrame(text(frame), false)).toStrictEqual({
          ok: false,
          code: ErrorCode.BAD_FRAME,
          message: 'Frame must be a JSON object with an "event" string',
        });
      },
    );

    it('does not take the event from a "__proto__" key', () => {
      expect(parseFrame(text('{"__proto__":{"event":"message"},"data":{"message":"hi"}}'), false)).toMatchObject({
        ok: false,
        code: ErrorCode.BAD_FRAME,
      });
    });

    it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
      'parses the event name %j as a plain string (the router rejects it)',
      (event) => {
        expect(parseFrame(text(`{"event":"${event}","data":{"x":1}}`), false)).toStrictEqual({
          ok: true,
          event,
          data: { x: 1 },
        });
      },
    );
  });

  describe('binary frames', () => {
    it.each([
      ['text that looks like JSON', '{"event":"message","data":{"message":"hi"}}'],
      ['plain text', 'hello'],
    ])('reports a binary frame holding %s as BAD_FRAME', (_label, payload) => {
      expect(parseFrame(text(payload), true)).toStrictEqual({
        ok: false,
        code: ErrorCode.BAD_FRAME,
        message: 'Binary frames are not supported; send JSON text frames',
      });
    });
  });

  describe('raw data shapes', () => {
    it('joins fragmented Buffer[] before decoding, even inside a multi-byte character', () => {
      const whole = text('{"event":"nick","data":{"nickname":"张三"}}');
      const cut = whole.indexOf(text('张')) + 1; // splits the 3-byte UTF-8 sequence
      const fragments = [whole.subarray(0, cut), whole.subarray(cut)];

      expect(parseFrame(fragments, false)).toStrictEqual({ ok: true, event: 'nick', data: { nickname: '张三' } });
    });

    it('reads a plain-text message from Buffer[]', () => {
      expect(parseFrame([text('hel'), text('lo')], false)).toStrictEqual({ ok: true, event: 'message', data: { message: 'hello' } });
    });

    it('reads an ArrayBuffer', () => {
      const bytes = new TextEncoder().encode('{"event":"history","data":{"limit":5}}');
      const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);

      expect(parseFrame(arrayBuffer, false)).toStrictEqual({ ok: true, event: 'history', data: { limit: 5 } });
    });

    it('reads plain text from an ArrayBuffer', () => {
      const bytes = new TextEncoder().encode('hi there');
      expect(parseFrame(bytes.buffer.slice(0, bytes.byteLength), false)).toStrictEqual({
        ok: true,
        event: 'message',
        data: { message: 'hi there' },
      });
    });
  });
});
