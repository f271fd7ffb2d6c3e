/**
 * The PostgreSQL and Redis of the machine, as test/support/services-setup.js found them (undefined:
 * not reachable, and the suites that need them are skipped with one loud line for the whole run).
 */
export const TEST_POSTGRES_URL: string | undefined = process.env.TEST_POSTGRES_URL;
export const TEST_REDIS_URL: string | undefined = process.env.TEST_REDIS_URL;

/** `describe` when PostgreSQL is reachable, else `describe.skip`. */
export const describeWithPostgres = TEST_POSTGRES_URL ? describe : describe.skip;

/** `describe` when both PostgreSQL and Redis are reachable (cluster mode needs both), else `describe.skip`. */
export const describeWithCluster = TEST_POSTGRES_URL && TEST_REDIS_URL ? describe : describe.skip;
