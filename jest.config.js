// Jest with @swc/jest: ts-jest cannot load NestJS 12's ES modules on Node 20, so swc
// compiles our TypeScript *and* @nestjs/* to CommonJS, with legacy decorators + metadata. Also the
// ES-module-only packages under Fastify (path-to-regexp 9 in @fastify/middie, cookie 2 in
// light-my-request, content-disposition 3 in @fastify/static) and jose 6 (JWT verification): Node 20
// loads them with require(esm), Jest on Node 20 cannot.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  },
];

const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  // Only the innermost node_modules/ of a path decides, so a nested copy is matched by its own name.
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|path-to-regexp|cookie|content-disposition|jose)/)(?!.*/node_modules/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  setupFiles: ['reflect-metadata'],
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30000,
  // Finds PostgreSQL and Redis for the suites that need them (skipped, loudly, without them).
  globalSetup: '<rootDir>/test/support/services-setup.js',
  projects: [
    { ...shared, displayName: 'unit', rootDir: 'src', testMatch: ['**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', rootDir: '.', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};
