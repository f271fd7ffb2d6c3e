import { Logger } from '@nestjs/common';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { ErrorCode } from '../protocol/error-code';
import type { ErrorFrame } from '../protocol/frames';
import { ErrorReporter } from './error-reporter';
import { FakeTransport } from './fake-transport';
import { Session } from './session';

describe(ErrorReporter.name, () => {
  let metrics: ChatMetrics;
  let transport: FakeTransport;
  let session: Session;
  let log: jest.SpyInstance;
  let logError: jest.SpyInstance;
  let sut: ErrorReporter;

  const notInRoom: ErrorFrame = { type: 'error', code: ErrorCode.NOT_IN_ROOM, message: 'You are not in room "dev"; join it first', event: 'message' };
  const internal: ErrorFrame = { type: 'error', code: ErrorCode.INTERNAL, message: 'Internal error', event: 'history' };

  beforeEach(() => {
    metrics = new ChatMetrics();
    transport = new FakeTransport();
    session = new Session(1, transport, 'alice', '127.0.0.1', metrics.framesDelivered);
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    logError = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    sut = new ErrorReporter(metrics);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  const errorsCounted = async (): Promise<Record<string, number>> =>
    Object.fromEntries((await metrics.errors.get()).values.map((v) => [String(v.labels.code), v.value]));

  it('sends the frame through the session, counting it as delivered and as an error by code', async () => {
    sut.send(session, notInRoom);
    sut.send(session, notInRoom);
    sut.send(session, internal, new Error('boom'));

    expect(transport.frames()).toEqual([notInRoom, notInRoom, internal]);
    await expect(errorsCounted()).resolves.toEqual({ NOT_IN_ROOM: 2, INTERNAL: 1 });
    expect((await metrics.framesDeliveredCounter.get()).values[0].value).toBe(3);
  });

  it('logs a client error by code and event at log level, never its payload or message', () => {
    sut.send(session, { ...notInRoom, clientMsgId: 'secret-id' });

    expect(log).toHaveBeenCalledWith({ msg: 'error frame', code: ErrorCode.NOT_IN_ROOM, event: 'message' });
    expect(logError).not.toHaveBeenCalled();
  });

  it('logs INTERNAL at error level with its cause', () => {
    const cause = new Error('db exploded');

    sut.send(session, internal, cause);

    expect(logError).toHaveBeenCalledWith({ msg: 'error frame', code: ErrorCode.INTERNAL, event: 'history', err: cause });
  });

  it('counts but sends nothing to a connection that is gone', async () => {
    transport.isOpen = false;

    sut.send(session, notInRoom);

    expect(transport.written).toEqual([]);
    await expect(errorsCounted()).resolves.toEqual({ NOT_IN_ROOM: 1 });
  });
});
