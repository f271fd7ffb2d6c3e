import { AuthFailure } from './auth-failure';
import { displayName, identityFromClaims, MAX_DISPLAY_NAME, rolesFrom } from './identity-claims';

describe(displayName.name, () => {
  it.each([
    ['Alice Smith', 'Alice Smith'],
    ['  alice@example.com ', 'alice@example.com'],
    ['Jean\t\n  Dupont', 'Jean Dupont'],
    ['Zo\u00EB', 'Zo\u00EB'],
    ['Zoe\u0301', 'Zo\u00E9'], // NFC composes e + combining acute into one code point
    ['a\u200Bb\u200Dc', 'abc'], // zero-width characters are default-ignorable
    ['evil\u202Egnp.exe', 'evilgnp.exe'], // a bidi override would reverse the name on screen
    ['bell\u0007 and\u0000 nul', 'bell and nul'],
    ['\u3164', ''], // a Hangul filler draws nothing
    ['   ', ''],
    [42, ''],
    [undefined, ''],
  ])('normalizes %j to %j', (raw, expected) => {
    expect(displayName(raw)).toBe(expected);
  });

  it(`keeps at most ${MAX_DISPLAY_NAME} code points, never half a surrogate pair`, () => {
    expect([...displayName('😀'.repeat(100))]).toHaveLength(MAX_DISPLAY_NAME);
    expect(displayName('😀'.repeat(100))).toBe('😀'.repeat(MAX_DISPLAY_NAME));
    expect(displayName(`${'a'.repeat(63)} b`)).toBe('a'.repeat(63));
  });
});

describe(rolesFrom.name, () => {
  it('takes the strings of an array, once each, in order', () => {
    expect(rolesFrom({ roles: ['admin', 7, 'user', null, 'admin', ''] }, 'roles')).toEqual(['admin', 'user']);
  });

  it('takes one string as one role; anything else, or nothing, as none', () => {
    expect(rolesFrom({ roles: 'admin' }, 'roles')).toEqual(['admin']);
    expect(rolesFrom({ roles: { admin: true } }, 'roles')).toEqual([]);
    expect(rolesFrom({}, 'roles')).toEqual([]);
  });

  it('reads a claim whose name has dots (Auth0) before a path (Keycloak)', () => {
    expect(rolesFrom({ 'https://example.com/roles': ['admin'] }, 'https://example.com/roles')).toEqual(['admin']);
    expect(rolesFrom({ realm_access: { roles: ['admin', 'offline_access'] } }, 'realm_access.roles')).toEqual(['admin', 'offline_access']);
    expect(rolesFrom({ 'realm_access.roles': ['x'], realm_access: { roles: ['y'] } }, 'realm_access.roles')).toEqual(['x']);
    expect(rolesFrom({ realm_access: 'no' }, 'realm_access.roles')).toEqual([]);
  });
});

describe(identityFromClaims.name, () => {
  const exp = 1_900_000_000;

  it('takes the user id from sub, the expiry from exp (ms) and the roles from the named claim', () => {
    expect(identityFromClaims({ sub: 'u-1', exp, preferred_username: 'alice', groups: ['ops'] }, 'groups')).toEqual({
      userId: 'u-1',
      nickname: 'alice',
      roles: ['ops'],
      expiresAt: exp * 1000,
    });
  });

  it.each([
    [{ preferred_username: 'alice', name: 'Alice Smith' }, 'alice'],
    [{ name: 'Alice Smith' }, 'Alice Smith'],
    [{ preferred_username: ' \u200B ', name: 'Alice Smith' }, 'Alice Smith'],
    [{}, 'u-1'],
    [{ preferred_username: '', name: '\u0000' }, 'u-1'],
  ])('names %j %j', (names, nickname) => {
    expect(identityFromClaims({ sub: 'u-1', exp, ...names }, 'roles').nickname).toBe(nickname);
  });

  it('falls back to the sub as given when even the normalized sub is empty', () => {
    expect(identityFromClaims({ sub: '\u200B', exp }, 'roles').nickname).toBe('\u200B');
  });

  it.each([[{}], [{ sub: '' }], [{ sub: 42 }], [{ sub: 'x'.repeat(256) }]])('refuses the subject of %j as missing_claim', (sub) => {
    expect(() => identityFromClaims({ exp, ...sub }, 'roles')).toThrow(AuthFailure);
    expect(() => identityFromClaims({ exp, ...sub }, 'roles')).toThrow('subject (sub) must be a string of 1 to 255 characters');
  });
});
