import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/env.validation';
import { AuthService } from './auth.service';
import { TokenVerifier, verifierSettings } from './token-verifier';

type OptionalAuthVariable = 'AUTH_JWT_SECRET' | 'AUTH_JWT_PUBLIC_KEY' | 'AUTH_JWKS_URL' | 'AUTH_JWT_ISSUER' | 'AUTH_JWT_AUDIENCE' | 'METRICS_TOKEN' | 'ADMIN_TOKEN';

/** Provides the AuthService for the edges (handshake, REST hook, /metrics) and the chat services. */
@Global()
@Module({
  providers: [
    {
      provide: AuthService,
      inject: [ConfigService],
      useFactory: (config: ConfigService<EnvironmentVariables, true>) => {
        // ConfigService falls back to process.env for a variable validated as unset, so '' means unset here too.
        const optional = (key: OptionalAuthVariable) => config.get(key, { infer: true }) || undefined;
        const mode = config.get('AUTH_MODE', { infer: true });
        const verifier =
          mode === 'jwt'
            ? new TokenVerifier(
                verifierSettings({
                  AUTH_JWT_SECRET: optional('AUTH_JWT_SECRET'),
                  AUTH_JWT_PUBLIC_KEY: optional('AUTH_JWT_PUBLIC_KEY'),
                  AUTH_JWKS_URL: optional('AUTH_JWKS_URL'),
                  AUTH_JWT_ISSUER: optional('AUTH_JWT_ISSUER'),
                  AUTH_JWT_AUDIENCE: optional('AUTH_JWT_AUDIENCE'),
                  AUTH_ROLES_CLAIM: config.get('AUTH_ROLES_CLAIM', { infer: true }),
                }),
              )
            : undefined;
        return new AuthService({ mode, verifier, metricsToken: optional('METRICS_TOKEN'), adminToken: optional('ADMIN_TOKEN') });
      },
    },
  ],
  exports: [AuthService],
})
export class AuthModule {}
