import { generateKeyPairSync } from 'node:crypto';
import { validateEnvironment } from './env.validation';

const SECRET = 'a-secret-of-thirty-two-characters!!';
const ecPem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

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

  describe('scale-out settings', () => {
    const PG = 'postgres://chat:secret-password@db.internal:5432/chat';

    it('defaults to one node on SQLite: no DATABASE_URL, no REDIS_URL, prefix `chat`, a 15 s instance TTL', () => {
      expect(validateEnvironment({})).toMatchObject({ DATABASE_URL: undefined, REDIS_URL: undefined, CLUSTER_PREFIX: 'chat', INSTANCE_TTL_MS: 15000 });
    });

    it('takes PostgreSQL with a schema, and cluster mode with it', () => {
      const sut = validateEnvironment({ DATABASE_URL: PG, DATABASE_SCHEMA: 'chat_eu', REDIS_URL: 'rediss://cache:6380', CLUSTER_PREFIX: 'eu-1', INSTANCE_TTL_MS: '5000' });
      expect(sut).toMatchObject({ DATABASE_URL: PG, DATABASE_SCHEMA: 'chat_eu', REDIS_URL: 'rediss://cache:6380', CLUSTER_PREFIX: 'eu-1', INSTANCE_TTL_MS: 5000 });
    });

    it.each([
      [{ DATABASE_URL: 'mysql://db/chat' }, 'DATABASE_URL=(15 characters, not shown): DATABASE_URL must be a postgres:// or postgresql:// URL'],
      [{ DATABASE_SCHEMA: 'chat' }, 'DATABASE_SCHEMA="chat": DATABASE_SCHEMA is set but DATABASE_URL is not'],
      [{ DATABASE_URL: PG, DATABASE_SCHEMA: 'Chat-EU' }, 'DATABASE_SCHEMA="Chat-EU": DATABASE_SCHEMA must be a lower-case identifier'],
      [{ DATABASE_URL: PG, REDIS_URL: 'http://cache' }, 'REDIS_URL must be a redis:// or rediss:// URL'],
      [{ REDIS_URL: 'redis://cache' }, 'REDIS_URL (cluster mode) needs DATABASE_URL'],
      [{ CLUSTER_PREFIX: 'a b' }, 'CLUSTER_PREFIX="a b": CLUSTER_PREFIX must be 1 to 64 of'],
      [{ INSTANCE_TTL_MS: '999' }, 'INSTANCE_TTL_MS="999"'],
    ])('refuses %j', (env, problem) => {
      expect(() => validateEnvironment(env)).toThrow(problem);
    });

    it('never prints a database or Redis URL, which may hold a password', () => {
      const error = (() => {
        try {
          validateEnvironment({ DATABASE_URL: 'mysql://root:hunter2@db/chat', REDIS_URL: 'http://:hunter2@cache' });
        } catch (e) {
          return String(e);
        }
      })();
      expect(error).toContain('DATABASE_URL=(28 characters, not shown)');
      expect(error).not.toContain('hunter2');
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

  it('turns the abuse limits on by default and checks TRUST_PROXY and ALLOWED_ORIGINS at startup', () => {
    expect(validateEnvironment({})).toMatchObject({
      RATE_LIMIT_PER_SEC: 20,
      RATE_LIMIT_BURST: 40,
      MAX_CONNECTIONS_PER_IP: 500,
      MAX_CONNECTIONS_PER_USER: 20,
      MAX_CONNECTIONS: 50000,
      HANDSHAKE_TIMEOUT_MS: 10000,
      TRUST_PROXY: undefined,
      ALLOWED_ORIGINS: undefined,
    });
    expect(() => validateEnvironment({ TRUST_PROXY: '10.0.0.0/8,nginx' })).toThrow('TRUST_PROXY="10.0.0.0/8,nginx": "nginx" is not an IP address or CIDR range');
    expect(() => validateEnvironment({ ALLOWED_ORIGINS: 'chat.example.com' })).toThrow('ALLOWED_ORIGINS="chat.example.com": "chat.example.com" is not an origin');
    expect(validateEnvironment({ ALLOWED_ORIGINS: '*, https://chat.example.com/' }).ALLOWED_ORIGINS).toBe('*, https://chat.example.com/');
    expect(() => validateEnvironment({ RATE_LIMIT_PER_SEC: '0' })).toThrow('RATE_LIMIT_PER_SEC must not be less than 1');
  });

  it('ignores unrelated environment variables', () => {
    expect(() => validateEnvironment({ PATH: '/usr/bin', HOME: '/root' })).not.toThrow();
  });

  it('leaves LOG_FORMAT unset by default and takes json or pretty only', () => {
    expect(validateEnvironment({}).LOG_FORMAT).toBeUndefined();
    expect(validateEnvironment({ LOG_FORMAT: 'pretty', NODE_ENV: 'production' })).toMatchObject({ LOG_FORMAT: 'pretty', NODE_ENV: 'production' });
    expect(() => validateEnvironment({ LOG_FORMAT: 'text' })).toThrow(/LOG_FORMAT="text": LOG_FORMAT must be one of the following values: json, pretty/);
  });

  describe('sign-in (AUTH_*)', () => {
    it('is anonymous by default, roles in `roles`, no metrics token', () => {
      expect(validateEnvironment({})).toMatchObject({ AUTH_MODE: 'anonymous', AUTH_ROLES_CLAIM: 'roles', METRICS_TOKEN: undefined, AUTH_JWT_SECRET: undefined });
    });

    it.each([
      [{ AUTH_JWT_SECRET: SECRET }],
      [{ AUTH_JWT_PUBLIC_KEY: 'PEM' }],
      [{ AUTH_JWKS_URL: 'https://idp.example.com/jwks' }],
    ])('takes exactly one key source in jwt mode: %j', (source) => {
      const pem = 'AUTH_JWT_PUBLIC_KEY' in source ? { AUTH_JWT_PUBLIC_KEY: ecPem() } : {};
      expect(validateEnvironment({ AUTH_MODE: 'jwt', ...source, ...pem }).AUTH_MODE).toBe('jwt');
    });

    it('refuses jwt mode with no key source, or with two', () => {
      expect(() => validateEnvironment({ AUTH_MODE: 'jwt' })).toThrow(
        'Invalid configuration:\n  AUTH_MODE="jwt": AUTH_MODE=jwt needs exactly one of AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY, AUTH_JWKS_URL (none is set)',
      );
      expect(() => validateEnvironment({ AUTH_MODE: 'jwt', AUTH_JWT_SECRET: SECRET, AUTH_JWKS_URL: 'https://idp/jwks' })).toThrow(
        '(AUTH_JWT_SECRET and AUTH_JWKS_URL are set)',
      );
    });

    it.each(['AUTH_JWT_SECRET', 'AUTH_JWKS_URL', 'AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE', 'AUTH_LOGIN_URL', 'AUTH_REFRESH_URL'])(
      'refuses %s without AUTH_MODE=jwt',
      (key) => {
        const value = key === 'AUTH_JWT_SECRET' ? SECRET : 'https://idp.example.com/x';
        expect(() => validateEnvironment({ [key]: value })).toThrow(`${key} is set but AUTH_MODE is anonymous: set AUTH_MODE=jwt, or unset ${key}`);
      },
    );

    it('takes METRICS_TOKEN and AUTH_ROLES_CLAIM in either mode', () => {
      expect(validateEnvironment({ METRICS_TOKEN: 'sixteen-chars-ok', AUTH_ROLES_CLAIM: 'realm_access.roles' })).toMatchObject({
        METRICS_TOKEN: 'sixteen-chars-ok',
        AUTH_ROLES_CLAIM: 'realm_access.roles',
      });
    });

    it('refuses AUTH_MODE values other than anonymous and jwt', () => {
      expect(() => validateEnvironment({ AUTH_MODE: 'oidc' })).toThrow('AUTH_MODE="oidc": AUTH_MODE must be one of the following values: anonymous, jwt');
    });

    it('never prints a secret, a metrics token or a key, only its length', () => {
      const error = (() => {
        try {
          validateEnvironment({ AUTH_MODE: 'jwt', AUTH_JWT_SECRET: 'short-secret', METRICS_TOKEN: 'tiny', AUTH_JWKS_URL: 'https://idp/jwks' });
        } catch (e) {
          return (e as Error).message;
        }
        return '';
      })();
      expect(error).toContain('AUTH_JWT_SECRET=(12 characters, not shown): AUTH_JWT_SECRET must be longer than or equal to 32 characters');
      expect(error).toContain('METRICS_TOKEN=(4 characters, not shown): METRICS_TOKEN must be longer than or equal to 16 characters');
      expect(error).not.toContain('short-secret');
      expect(error).not.toContain('tiny');
    });

    it('refuses a PEM that is no public key, without printing it', () => {
      expect(() => validateEnvironment({ AUTH_MODE: 'jwt', AUTH_JWT_PUBLIC_KEY: 'not a key' })).toThrow(
        'AUTH_JWT_PUBLIC_KEY=(9 characters, not shown): AUTH_JWT_PUBLIC_KEY is not a PEM public key',
      );
    });

    it.each(['AUTH_JWKS_URL', 'AUTH_LOGIN_URL', 'AUTH_REFRESH_URL'])('refuses a %s that is not an http(s) URL', (key) => {
      const env = { AUTH_MODE: 'jwt', AUTH_JWT_SECRET: SECRET, [key]: 'ftp://idp/x' };
      if (key === 'AUTH_JWKS_URL') delete (env as Record<string, string>).AUTH_JWT_SECRET;
      expect(() => validateEnvironment(env)).toThrow(`${key}="ftp://idp/x": ${key} must be an http:// or https:// URL`);
    });
  });
});
