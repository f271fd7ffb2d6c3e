import { validateEnvironment } from './env.validation';

describe(validateEnvironment.name, () => {
  it('applies the documented defaults', () => {
    const sut = validateEnvironment({});
    expect(sut).toMatchObject({
      PORT: 8090,
      SQLITE_PATH: 'data/chat.sqlite',
      HEARTBEAT_INTERVAL_MS: 30000,
      MAX_PAYLOAD_BYTES: 65536,
      LOG_LEVEL: 'info',
      SQLITE_SYNCHRONOUS: 'FULL',
      RESUME_MAX: 1000,
      STORE_BUSY_TIMEOUT_MS: 5000,
      SQLITE_LOCKING_MODE: 'NORMAL',
    });
  });

  it('accepts SQLITE_LOCKING_MODE=EXCLUSIVE and rejects anything else', () => {
    expect(validateEnvironment({ SQLITE_LOCKING_MODE: 'EXCLUSIVE' }).SQLITE_LOCKING_MODE).toBe('EXCLUSIVE');
    expect(() => validateEnvironment({ SQLITE_LOCKING_MODE: 'exclusive' })).toThrow('SQLITE_LOCKING_MODE="exclusive"');
  });

  it.each([
    ['0', 0],
    ['600000', 600000],
  ])('accepts STORE_BUSY_TIMEOUT_MS=%s', (value, expected) => {
    expect(validateEnvironment({ STORE_BUSY_TIMEOUT_MS: value }).STORE_BUSY_TIMEOUT_MS).toBe(expected);
  });

  it.each(['-1', '600001', '1.5', 'soon'])('rejects STORE_BUSY_TIMEOUT_MS=%s', (value) => {
    expect(() => validateEnvironment({ STORE_BUSY_TIMEOUT_MS: value })).toThrow(`STORE_BUSY_TIMEOUT_MS=${JSON.stringify(value)}`);
  });

  it('converts numeric strings and treats empty strings as unset', () => {
    const sut = validateEnvironment({ PORT: '0', HEARTBEAT_INTERVAL_MS: '', LOG_LEVEL: 'debug' });
    expect(sut.PORT).toBe(0);
    expect(sut.HEARTBEAT_INTERVAL_MS).toBe(30000);
    expect(sut.LOG_LEVEL).toBe('debug');
  });

  it('rejects bad values naming every offending variable', () => {
    expect(() => validateEnvironment({ PORT: 'eighty', MAX_PAYLOAD_BYTES: '10', LOG_LEVEL: 'loud' })).toThrow(
      /PORT="eighty".*\n.*MAX_PAYLOAD_BYTES="10".*\n.*LOG_LEVEL="loud"/,
    );
  });

  it('holds nicknames for 30 s by default; NICK_HOLD_MS=0 turns holds off, a negative value is refused', () => {
    expect(validateEnvironment({}).NICK_HOLD_MS).toBe(30000);
    expect(validateEnvironment({ NICK_HOLD_MS: '0' }).NICK_HOLD_MS).toBe(0);
    expect(() => validateEnvironment({ NICK_HOLD_MS: '-1' })).toThrow('NICK_HOLD_MS="-1": NICK_HOLD_MS must not be less than 0');
    expect(() => validateEnvironment({ NICK_HOLD_MS: '3600001' })).toThrow('NICK_HOLD_MS must not be greater than 3600000');
  });

  it('ignores unrelated environment variables', () => {
    expect(() => validateEnvironment({ PATH: '/usr/bin', HOME: '/root' })).not.toThrow();
  });

  it('leaves LOG_FORMAT unset by default and takes json or pretty only', () => {
    expect(validateEnvironment({}).LOG_FORMAT).toBeUndefined();
    expect(validateEnvironment({ LOG_FORMAT: 'pretty', NODE_ENV: 'production' })).toMatchObject({ LOG_FORMAT: 'pretty', NODE_ENV: 'production' });
    expect(() => validateEnvironment({ LOG_FORMAT: 'text' })).toThrow(/LOG_FORMAT="text": LOG_FORMAT must be one of the following values: json, pretty/);
  });
});
