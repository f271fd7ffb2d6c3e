// Token minting and a JWKS server on port 0 for the e2e specs: the unit specs' fixture, shared.
export { claims, inSeconds, JwksServer, mintHs256, TEST_SECRET, TestKeyPair, type KeyAlg } from '../../src/auth/token-fixture';
