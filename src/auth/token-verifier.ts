import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions, type KeyObject } from 'jose';
import type { EnvironmentVariables } from '../config/env.validation';
import { parsePublicKeyPem } from '../config/public-key';
import type { Identity } from '../protocol/identity';
import { AuthFailure } from './auth-failure';
import { identityFromClaims } from './identity-claims';

/** exp and nbf are checked with this much leeway either way, for clocks that disagree a little. */
export const CLOCK_TOLERANCE_S = 30;
/** A token naming a key id the cached JWKS lacks refetches it, at most once in this interval. */
export const JWKS_COOLDOWN_MS = 5000;
/** A JWKS fetch that takes longer fails (the request gets 503). */
export const JWKS_TIMEOUT_MS = 5000;
/** The cached JWKS is fetched again when it is older than this, even with no unknown key id. */
export const JWKS_MAX_AGE_MS = 10 * 60 * 1000;
/** What a JWKS may sign with: asymmetric algorithms only, so a published public key can never serve as an HMAC secret. */
const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

export type KeySource = { kind: 'secret'; secret: string } | { kind: 'pem'; pem: string } | { kind: 'jwks'; url: string };

export interface VerifierSettings {
  key: KeySource;
  issuer?: string;
  audience?: string[];
  rolesClaim: string;
}

/** The variables the verifier is made of. */
export type VerifierEnvironment = Pick<
  EnvironmentVariables,
  'AUTH_JWT_SECRET' | 'AUTH_JWT_PUBLIC_KEY' | 'AUTH_JWKS_URL' | 'AUTH_JWT_ISSUER' | 'AUTH_JWT_AUDIENCE' | 'AUTH_ROLES_CLAIM'
>;

/** The verifier settings of a jwt-mode configuration (validateEnvironment has checked there is exactly one key source). */
export function verifierSettings(config: VerifierEnvironment): VerifierSettings {
  const key: KeySource =
    config.AUTH_JWT_SECRET !== undefined
      ? { kind: 'secret', secret: config.AUTH_JWT_SECRET }
      : config.AUTH_JWT_PUBLIC_KEY !== undefined
        ? { kind: 'pem', pem: config.AUTH_JWT_PUBLIC_KEY }
        : { kind: 'jwks', url: config.AUTH_JWKS_URL ?? '' };
  const audience = config.AUTH_JWT_AUDIENCE?.split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  return { key, issuer: config.AUTH_JWT_ISSUER, audience: audience?.length ? audience : undefined, rolesClaim: config.AUTH_ROLES_CLAIM };
}

/**
 * Verifies a JWT with `jose` and turns its claims into an Identity, or throws an AuthFailure that
 * says why not. The key is one of: an HS256 secret, a PEM public key (its one algorithm), or an
 * identity provider's JWKS, cached and refetched for an unknown `kid` (key rotation without a
 * restart). `sub` and `exp` are required; `iss` and `aud` are checked when configured.
 */
export class TokenVerifier {
  private readonly key: Uint8Array | KeyObject | JWTVerifyGetKey;
  private readonly options: JWTVerifyOptions;

  constructor(private readonly settings: VerifierSettings) {
    const base = { clockTolerance: CLOCK_TOLERANCE_S, requiredClaims: ['sub', 'exp'], issuer: settings.issuer, audience: settings.audience };
    const source = settings.key;
    switch (source.kind) {
      case 'secret':
        this.key = new TextEncoder().encode(source.secret);
        this.options = { ...base, algorithms: ['HS256'] };
        break;
      case 'pem': {
        const parsed = parsePublicKeyPem(source.pem);
        if (!parsed.ok) throw new Error(`AUTH_JWT_PUBLIC_KEY ${parsed.problem}`);
        this.key = parsed.key;
        this.options = { ...base, algorithms: parsed.algorithm === 'EdDSA' ? ['EdDSA', 'Ed25519'] : [parsed.algorithm] };
        break;
      }
      case 'jwks':
        this.key = keysUnavailableOnFailure(
          createRemoteJWKSet(new URL(source.url), { cooldownDuration: JWKS_COOLDOWN_MS, timeoutDuration: JWKS_TIMEOUT_MS, cacheMaxAge: JWKS_MAX_AGE_MS }),
        );
        this.options = { ...base, algorithms: JWKS_ALGORITHMS };
        break;
    }
  }

  async verify(token: string): Promise<Identity> {
    let payload: JWTPayload;
    try {
      // One overload per key kind in jose's types; the key is one of them.
      ({ payload } = await jwtVerify(token, this.key as JWTVerifyGetKey, this.options));
    } catch (error) {
      throw this.failure(error);
    }
    return identityFromClaims(payload, this.settings.rolesClaim);
  }

  /** jose's error as the reason a client is told; anything unforeseen passes on unchanged. */
  private failure(error: unknown): unknown {
    if (error instanceof AuthFailure) return error;
    const { code, claim, reason, payload } = error as { code?: unknown; claim?: string; reason?: string; payload?: JWTPayload };
    switch (code) {
      case 'ERR_JWT_EXPIRED':
        return new AuthFailure('expired', `The token expired at ${isoOf(payload?.exp)}`);
      case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
        return this.claimFailure(claim ?? '', reason ?? '', payload);
      case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
        return new AuthFailure('bad_signature', "The token's signature does not verify");
      case 'ERR_JOSE_ALG_NOT_ALLOWED':
      case 'ERR_JOSE_NOT_SUPPORTED':
        return new AuthFailure('bad_signature', `The token is signed with an algorithm this server does not accept (${this.options.algorithms?.join(', ')})`);
      case 'ERR_JWKS_NO_MATCHING_KEY':
      case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
        return new AuthFailure('unknown_key', "The token's key id (kid) names no single key the identity provider publishes");
      case 'ERR_JWS_INVALID':
      case 'ERR_JWT_INVALID':
      case 'ERR_JWK_INVALID':
        return new AuthFailure('malformed', 'The token is not a well-formed signed JWT');
      default:
        return error;
    }
  }

  private claimFailure(claim: string, reason: string, payload: JWTPayload | undefined): AuthFailure {
    if (reason === 'missing') return new AuthFailure('missing_claim', `The token has no "${claim}" claim`);
    if (reason !== 'check_failed') return new AuthFailure('malformed', `The token's "${claim}" claim is not of the right type`);
    switch (claim) {
      case 'nbf':
        return new AuthFailure('not_yet_valid', `The token is not valid before ${isoOf(payload?.nbf)}`);
      case 'iss':
        return new AuthFailure('wrong_issuer', `The token's issuer (iss) must be "${this.settings.issuer}"`);
      case 'aud':
        return new AuthFailure('wrong_audience', `The token's audience (aud) must include ${this.settings.audience?.map((a) => `"${a}"`).join(' or ')}`);
      default:
        return new AuthFailure('malformed', `The token's "${claim}" claim was not accepted`);
    }
  }
}

function isoOf(seconds: unknown): string {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : 'an unknown time';
}

/**
 * The JWKS resolver, with its fetch failures (unreachable, timeout, not 200, not a key set) turned
 * into `keys_unavailable`; an unknown or ambiguous key id stays what it is.
 */
function keysUnavailableOnFailure(jwks: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await jwks(header, token);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS' || code === 'ERR_JOSE_NOT_SUPPORTED') throw error;
      throw new AuthFailure('keys_unavailable', "The identity provider's signing keys (AUTH_JWKS_URL) could not be fetched; try again shortly");
    }
  };
}
