import { clientConfig, contentSecurityPolicy } from './client-config';

describe(clientConfig.name, () => {
  it('anonymous mode: no URLs', () => {
    expect(clientConfig({ AUTH_MODE: 'anonymous' })).toEqual({ authMode: 'anonymous', loginUrl: null, refreshUrl: null });
  });

  it('jwt mode: the login and refresh URLs as configured; empty is unset', () => {
    const sut = clientConfig({ AUTH_MODE: 'jwt', AUTH_LOGIN_URL: 'https://idp.example.com/login?client=chat', AUTH_REFRESH_URL: '' });
    expect(sut).toEqual({ authMode: 'jwt', loginUrl: 'https://idp.example.com/login?client=chat', refreshUrl: null });
  });
});

describe(contentSecurityPolicy.name, () => {
  const base = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  it('lets the page connect to its own origin only, without a refresh URL', () => {
    expect(contentSecurityPolicy()).toBe(base);
    expect(contentSecurityPolicy(null)).toBe(base);
  });

  it("adds the refresh URL's origin (scheme, host and port; not its path or query) to connect-src", () => {
    expect(contentSecurityPolicy('https://idp.example.com:8443/realms/x/refresh?client=chat')).toBe(
      base.replace("connect-src 'self'", "connect-src 'self' https://idp.example.com:8443"),
    );
    expect(contentSecurityPolicy('https://idp.example.com/refresh')).toContain("connect-src 'self' https://idp.example.com;");
  });
});
