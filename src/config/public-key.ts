import { createPublicKey, type KeyObject } from 'node:crypto';

/** The JWS algorithm each kind of AUTH_JWT_PUBLIC_KEY verifies: one per key, so a token cannot pick another. */
export type PublicKeyAlgorithm = 'RS256' | 'ES256' | 'EdDSA';

export type ParsedPublicKey = { ok: true; key: KeyObject; algorithm: PublicKeyAlgorithm } | { ok: false; problem: string };

/**
 * AUTH_JWT_PUBLIC_KEY as given: an SPKI PEM (`-----BEGIN PUBLIC KEY-----`) of an RSA key of 2048 bits
 * or more, a P-256 key or an Ed25519 key. `\n` written as two characters (one-line environment
 * files) counts as a line break. A private key is refused: it does not belong on this server.
 */
export function parsePublicKeyPem(raw: string): ParsedPublicKey {
  const pem = raw.includes('\\n') ? raw.replace(/\\n/g, '\n') : raw;
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    return { ok: false, problem: 'is a private key: give the public key (-----BEGIN PUBLIC KEY-----) only' };
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    return { ok: false, problem: 'is not a PEM public key (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----)' };
  }
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      if ((details.modulusLength ?? 0) < 2048) return { ok: false, problem: 'is an RSA key shorter than 2048 bits' };
      return { ok: true, key, algorithm: 'RS256' };
    case 'ec':
      if (details.namedCurve !== 'prime256v1') return { ok: false, problem: `is an EC key on ${details.namedCurve ?? 'an unknown curve'}; only P-256 (ES256) is taken` };
      return { ok: true, key, algorithm: 'ES256' };
    case 'ed25519':
      return { ok: true, key, algorithm: 'EdDSA' };
    default:
      return { ok: false, problem: `is a ${key.asymmetricKeyType ?? 'unknown'} key; RSA (RS256), P-256 (ES256) or Ed25519 (EdDSA) are taken` };
  }
}
