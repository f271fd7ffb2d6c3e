import { generateKeyPairSync } from 'node:crypto';
import { parsePublicKeyPem } from './public-key';

const spki = (key: { export(options: { type: 'spki'; format: 'pem' }): string | Buffer }) => key.export({ type: 'spki', format: 'pem' }).toString();

describe(parsePublicKeyPem.name, () => {
  it.each([
    ['RSA 2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, 'RS256'],
    ['P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 'ES256'],
    ['Ed25519', () => generateKeyPairSync('ed25519').publicKey, 'EdDSA'],
  ] as const)('takes an %s key for %s', (_kind, make, algorithm) => {
    expect(parsePublicKeyPem(spki(make()))).toMatchObject({ ok: true, algorithm });
  });

  it('takes a one-line PEM with \\n written out', () => {
    const oneLine = spki(generateKeyPairSync('ed25519').publicKey).replace(/\n/g, '\\n');
    expect(parsePublicKeyPem(oneLine)).toMatchObject({ ok: true, algorithm: 'EdDSA' });
  });

  it.each([
    ['RSA 1024', () => spki(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey), 'is an RSA key shorter than 2048 bits'],
    ['P-384', () => spki(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey), 'is an EC key on secp384r1; only P-256 (ES256) is taken'],
    ['X25519', () => spki(generateKeyPairSync('x25519').publicKey), 'is a x25519 key; RSA (RS256), P-256 (ES256) or Ed25519 (EdDSA) are taken'],
    [
      'a private key',
      () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      'is a private key: give the public key (-----BEGIN PUBLIC KEY-----) only',
    ],
    ['text', () => 'hello', 'is not a PEM public key (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----)'],
  ])('refuses %s', (_kind, make, problem) => {
    expect(parsePublicKeyPem(make())).toEqual({ ok: false, problem });
  });
});
