import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import { mkdtempSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DataSource, type QueryRunner } from 'typeorm';
import { sqliteOptions } from '../database/typeorm-options';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { MessageStore, StoreUnavailableError, type NewMessage, type StoreOptions } from './message-store.service';

const general = (body: string): NewMessage => ({ room: 'general', nickname: 'alice', body });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 10 ms; fails after `timeoutMs`. */
async function eventually(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

const gauge = async (metrics: ChatMetrics): Promise<number> => (await metrics.storeWritable.get()).values[0].value;

describe(`${MessageStore.name} under storage faults`, () => {
  let dir: string;
  let path: string;
  let ds: DataSource;
  let metrics: ChatMetrics;
  let sut: MessageStore;
  let logs: Record<'error' | 'log' | 'debug', jest.SpyInstance>;

  async function open(options: Partial<StoreOptions> = {}, file = path): Promise<void> {
    ds = new DataSource(sqliteOptions({ path: file, synchronous: 'NORMAL' }));
    await ds.initialize();
    metrics = new ChatMetrics();
    sut = new MessageStore(ds, metrics, { checkIntervalMs: 60_000, ...options });
    await sut.onModuleInit();
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chat-store-faults-'));
    path = join(dir, 'db', 'chat.sqlite');
    logs = {
      error: jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined),
      log: jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined),
      debug: jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined),
    };
  });

  afterEach(async () => {
    sut?.onApplicationShutdown();
    if (ds?.isInitialized) await ds.destroy();
    Object.values(logs).forEach((spy) => spy.mockRestore());
    rmSync(dir, { recursive: true, force: true });
  });

  const errorLines = () => logs.error.mock.calls.map(([line]) => line as Record<string, unknown>);

  describe('one statement sequence at a time on the shared connection', () => {
    it('runs a read issued while a write transaction is open after it, so it never sees rows that roll back', async () => {
      await open({}, ':memory:');
      await ds.query(`CREATE TRIGGER doomed BEFORE INSERT ON rooms WHEN NEW.name = 'doomed' BEGIN SELECT RAISE(ABORT, 'doomed'); END`);
      const runner: QueryRunner = ds.createQueryRunner();
      const query = runner.query.bind(runner);
      const statements: string[] = [];
      let read: Promise<unknown> | undefined;
      jest.spyOn(runner, 'query').mockImplementation(async (sql: string, ...rest: unknown[]) => {
        statements.push(/^(BEGIN IMMEDIATE|ROLLBACK|COMMIT|INSERT INTO \w+|SELECT)/.exec(sql)?.[0] ?? sql);
        const result: unknown = await (query as (...args: unknown[]) => Promise<unknown>)(sql, ...rest);
        // The row is written but not committed: a read now would see it.
        if (sql.startsWith('INSERT INTO messages')) read ??= sut.page({ room: 'doomed', limit: 10 });
        return result;
      });

      await expect(sut.append({ room: 'doomed', nickname: 'bob', body: 'rolled back' })).rejects.toBeInstanceOf(StoreUnavailableError);

      await expect(read).resolves.toEqual({ messages: [], hasMore: false });
      expect(statements).toEqual(['BEGIN IMMEDIATE', 'INSERT INTO messages', 'INSERT INTO rooms', 'ROLLBACK', 'SELECT']);
    });
  });

  describe('a lock held by another connection', () => {
    let other: Database.Database;

    beforeEach(() => {
      other = undefined as unknown as Database.Database;
    });

    afterEach(() => {
      if (other?.open) {
        if (other.inTransaction) other.exec('ROLLBACK');
        other.close();
      }
    });

    const lockOut = () => {
      other = new Database(path);
      other.exec('BEGIN EXCLUSIVE');
    };

    it('waits without blocking the event loop and commits once the lock is released', async () => {
      await open({ busyTimeoutMs: 5000 });
      lockOut();
      const lag = monitorEventLoopDelay({ resolution: 1 });
      lag.enable();
      const started = Date.now();

      const append = sut.append(general('after the lock'));
      await sleep(300);
      other.exec('COMMIT');
      const { record } = await append;

      lag.disable();
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      expect(record).toMatchObject({ id: 1, body: 'after the lock' });
      // SQLite's own busy handler would have slept on the event loop for the whole 300 ms.
      expect(lag.max / 1e6).toBeLessThan(50);
      expect((await metrics.storeLockWaits.get()).values[0].value).toBeGreaterThan(0);
      expect(sut.status()).toEqual({ writable: true });
    });

    it('answers UNAVAILABLE (SQLITE_BUSY) once STORE_BUSY_TIMEOUT_MS has passed, goes not-ready, and recovers by probing', async () => {
      await open({ busyTimeoutMs: 200, checkIntervalMs: 20 });
      lockOut();
      const started = Date.now();

      const append = sut.append(general('locked out'));

      await expect(append).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(append).rejects.toMatchObject({ cause: { driverError: { code: 'SQLITE_BUSY' } } });
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(sut.status()).toEqual({
        writable: false,
        reason: 'group commit of 1 message(s) failed: the database stayed locked by another process for 200 ms (SQLITE_BUSY)',
      });
      await expect(gauge(metrics)).resolves.toBe(0);

      other.exec('ROLLBACK');
      await eventually(() => sut.status().writable);
      await expect(gauge(metrics)).resolves.toBe(1);
      expect(other.prepare('SELECT id FROM store_probe').all()).toEqual([{ id: 1 }]);
    });

    it('keeps serving reads meanwhile (WAL readers never wait for the writer)', async () => {
      await open({ busyTimeoutMs: 5000 });
      await sut.append(general('before the lock'));
      lockOut();

      await expect(sut.page({ room: 'general', limit: 10 })).resolves.toMatchObject({ messages: [{ body: 'before the lock' }] });
      await expect(sut.rooms()).resolves.toEqual([{ name: 'general', lastMessageId: 1, visibility: 'public', ownerId: null, createdAt: null }]);
    });
  });

  describe('write health', () => {
    it('is writable after a successful start', async () => {
      await open();
      expect(sut.status()).toEqual({ writable: true });
      await expect(gauge(metrics)).resolves.toBe(1);
    });

    it('logs one error when writes start failing, nothing more while they keep failing, and one line when they recover', async () => {
      await open();
      await ds.query('PRAGMA query_only = 1');

      await expect(sut.append(general('one'))).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(sut.append(general('two'))).rejects.toBeInstanceOf(StoreUnavailableError);

      expect(sut.status()).toEqual({
        writable: false,
        reason: 'group commit of 1 message(s) failed: SQLITE_READONLY: attempt to write a readonly database',
      });
      expect(errorLines()).toEqual([
        {
          msg: 'message store unhealthy: writes fail',
          reason: 'group commit of 1 message(s) failed: SQLITE_READONLY: attempt to write a readonly database',
          diagnosis: expect.stringMatching(/^\d+ bytes free on the filesystem of .*chat-store-faults-.*\/db$/),
        },
      ]);
      await expect(gauge(metrics)).resolves.toBe(0);

      await ds.query('PRAGMA query_only = 0');
      await expect(sut.append(general('three'))).resolves.toMatchObject({ duplicate: false });

      expect(sut.status()).toEqual({ writable: true });
      expect(logs.log).toHaveBeenCalledWith({
        msg: 'message store recovered: writes succeed again',
        after: 'group commit of 1 message(s) failed: SQLITE_READONLY: attempt to write a readonly database',
      });
      expect(errorLines()).toHaveLength(1);
      await expect(gauge(metrics)).resolves.toBe(1);
    });

    it('comes back with no client traffic once a probe write succeeds, and not before', async () => {
      await open({ checkIntervalMs: 20 });
      await ds.query('PRAGMA query_only = 1');
      await expect(sut.append(general('lost'))).rejects.toBeInstanceOf(StoreUnavailableError);

      await sleep(150); // several probes, all refused
      expect(sut.status().writable).toBe(false);
      expect(logs.debug).toHaveBeenCalledWith(expect.objectContaining({ reason: expect.stringMatching(/^probe write failed: SQLITE_READONLY/) }));

      await ds.query('PRAGMA query_only = 0');
      await eventually(() => sut.status().writable);
      await expect(ds.query('SELECT id, checked_at FROM store_probe')).resolves.toEqual([{ id: 1, checked_at: expect.any(String) }]);
      await expect(ds.query('SELECT count(*) AS n FROM messages')).resolves.toEqual([{ n: 0 }]);
    });

    it('refuses to start when the database takes no writes', async () => {
      ds = new DataSource(sqliteOptions({ path, synchronous: 'NORMAL' }));
      await ds.initialize();
      await ds.query('PRAGMA query_only = 1');
      sut = new MessageStore(ds, new ChatMetrics());

      await expect(sut.onModuleInit()).rejects.toThrow(
        /^the message store cannot write: SQLITE_READONLY: attempt to write a readonly database; \d+ bytes free on the filesystem of /,
      );
    });

    it('reports a closed database as not writable', async () => {
      await open();
      await ds.destroy();
      expect(sut.status()).toEqual({ writable: false, reason: 'the database is closed' });
    });
  });

  describe('database files lost while running', () => {
    const lost = (reason: RegExp) => ({ cause: expect.objectContaining({ message: expect.stringMatching(reason) }) });

    it('refuses every call once the database directory is removed, logging it once', async () => {
      await open({ checkIntervalMs: 20 });
      await sut.append(general('acknowledged before'));

      rmSync(join(dir, 'db'), { recursive: true });

      await expect(sut.append(general('after the removal'))).rejects.toMatchObject(lost(/chat\.sqlite was removed while the server had it open$/));
      await expect(sut.page({ room: 'general', limit: 5 })).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(sut.appendDirect({ from: 'a', to: 'b', body: 'x' })).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(sut.status()).toEqual({ writable: false, reason: expect.stringMatching(/chat\.sqlite was removed while the server had it open$/) });
      await sleep(100); // the timer does not bring it back
      expect(sut.status().writable).toBe(false);
      expect(errorLines()).toEqual([
        { msg: 'message store unhealthy: database files lost, restart the server', reason: expect.stringMatching(/chat\.sqlite was removed/) },
      ]);
      await expect(gauge(metrics)).resolves.toBe(0);
    });

    it('notices the removal with no traffic, from its timer', async () => {
      await open({ checkIntervalMs: 20 });
      rmSync(join(dir, 'db'), { recursive: true });
      await eventually(() => errorLines().length > 0);
      await expect(gauge(metrics)).resolves.toBe(0);
    });

    it('does not acknowledge a commit whose files were removed while it ran', async () => {
      await open();
      const runner = ds.createQueryRunner();
      const query = runner.query.bind(runner);
      jest.spyOn(runner, 'query').mockImplementation(async (sql: string, ...rest: unknown[]) => {
        if (sql === 'COMMIT') rmSync(join(dir, 'db'), { recursive: true });
        return (query as (...args: unknown[]) => Promise<unknown>)(sql, ...rest);
      });

      await expect(sut.append(general('committed into a removed file'))).rejects.toMatchObject(lost(/chat\.sqlite was removed/));
    });

    it('notices a database file replaced under it', async () => {
      await open();
      writeFileSync(`${path}.new`, '');
      renameSync(`${path}.new`, path);

      await expect(sut.append(general('x'))).rejects.toMatchObject(lost(/chat\.sqlite was replaced while the server had it open$/));
    });

    it('notices a removed -wal', async () => {
      await open();
      rmSync(`${path}-wal`);

      await expect(sut.append(general('x'))).rejects.toMatchObject(lost(/chat\.sqlite-wal was removed/));
    });

    it('grows a truncated -shm back before SQLite touches its mapping (else SIGBUS), and refuses every call', async () => {
      await open();
      await sut.append(general('before'));
      const size = statSync(`${path}-shm`).size;
      expect(size).toBeGreaterThan(0);

      truncateSync(`${path}-shm`, 0);

      await expect(sut.append(general('after'))).rejects.toMatchObject(
        lost(new RegExp(`chat\\.sqlite-shm was truncated from ${size} to 0 bytes by another process; grown back`)),
      );
      expect(statSync(`${path}-shm`).size).toBe(size);
      await expect(sut.page({ room: 'general', limit: 5 })).rejects.toBeInstanceOf(StoreUnavailableError);
      // Closing the connection touches the mapping too: this process would die here if it had not been grown back.
      await ds.destroy();
    });

    it('notices a truncated -shm with no traffic and no timer, through its watcher', async () => {
      await open({ checkIntervalMs: 60_000 });
      const size = statSync(`${path}-shm`).size;

      truncateSync(`${path}-shm`, 0);

      await eventually(() => statSync(`${path}-shm`).size === size, 2000);
      expect(errorLines()).toEqual([
        { msg: 'message store unhealthy: database files lost, restart the server', reason: expect.stringMatching(/-shm was truncated/) },
      ]);
    });

    it('keeps growing the -shm back while the files are lost, so that closing the connection stays safe', async () => {
      await open({ checkIntervalMs: 20 });
      const size = statSync(`${path}-shm`).size;
      rmSync(`${path}-wal`);
      await expect(sut.append(general('x'))).rejects.toBeInstanceOf(StoreUnavailableError);

      truncateSync(`${path}-shm`, 0);

      await eventually(() => statSync(`${path}-shm`).size === size, 2000);
      await ds.destroy();
    });
  });
});
