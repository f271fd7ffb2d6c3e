// Real storage faults for e2e tests: another process holding a SQLite lock, a small tmpfs that can be
// filled up, an ext4 filesystem that turns read-only under a running server. Mounting needs root
// (CAP_SYS_ADMIN), as in CI.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { withTimeout } from './chat-client';

const BETTER_SQLITE3 = require.resolve('better-sqlite3');

/** Another process with the database open; `BEGIN EXCLUSIVE` when `lock` is set. */
export interface OtherProcess {
  child: ChildProcess;
  /** Ends the transaction (if any), closes the database and exits. */
  close(): Promise<void>;
}

export async function openInOtherProcess(dbPath: string, { lock }: { lock: boolean }): Promise<OtherProcess> {
  const script = `
    const db = new (require(${JSON.stringify(BETTER_SQLITE3)}))(process.argv[1], { timeout: 0 });
    db.pragma('journal_mode = WAL');
    if (${lock}) db.exec('BEGIN EXCLUSIVE');
    process.stdout.write('ready\\n');
    process.stdin.once('data', () => { if (db.inTransaction) db.exec('COMMIT'); db.close(); process.exit(0); });`;
  const child = spawn(process.execPath, ['-e', script, dbPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the other process exited with ${code}`)));
    }),
    5000,
    'the other process to open the database',
  );
  return {
    child,
    close: async () => {
      if (child.exitCode === null) child.stdin?.write('close\n');
      await withTimeout(exited, 5000, 'the other process to exit');
    },
  };
}

export interface Mount {
  dir: string;
  unmount(): void;
}

/** A fresh tmpfs of `size` (e.g. '2m') on a new directory. */
export function mountTmpfs(size: string): Mount {
  const dir = mkdtempSync(join(tmpdir(), 'chat-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return {
    dir,
    unmount: () => {
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes `path` until the filesystem has no block left. */
export function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const size of [1 << 16, 1 << 12, 1 << 9]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
}

export interface BreakableMount extends Mount {
  /**
   * Reports an error to ext4 (mounted errors=remount-ro), which turns the filesystem read-only at
   * once, open files included: what a failing disk does to a running server. `mount -o remount,ro`
   * cannot do this: Linux refuses it (EBUSY) while a process has a file open for writing.
   */
  turnReadOnly(): void;
}

/** A fresh ext4 filesystem of `sizeMb` on a loop device. */
export function mountExt4(sizeMb: number): BreakableMount {
  const base = mkdtempSync(join(tmpdir(), 'chat-ext4-'));
  const image = join(base, 'fs.img');
  const dir = join(base, 'mnt');
  execFileSync('truncate', ['-s', `${sizeMb}M`, image]);
  execFileSync('mkfs.ext4', ['-q', '-F', image]);
  const device = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim();
  execFileSync('mkdir', [dir]);
  execFileSync('mount', ['-o', 'errors=remount-ro', device, dir]);
  return {
    dir,
    turnReadOnly: () => writeFileSync(`/sys/fs/ext4/${basename(device)}/trigger_fs_error`, '1'),
    unmount: () => {
      execFileSync('umount', ['-l', dir]);
      execFileSync('losetup', ['-d', device]);
      rmSync(base, { recursive: true, force: true });
    },
  };
}
