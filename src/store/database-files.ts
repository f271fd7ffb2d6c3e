import { accessSync, closeSync, constants, fstatSync, ftruncateSync, openSync, statfsSync, statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

interface Identity {
  path: string;
  dev: number;
  ino: number;
  /** Largest size seen; the -shm never shrinks while a connection has it mapped. */
  size: number;
}

/** Something happened to the database's files behind SQLite's back. */
export interface FileProblem {
  reason: string;
}

/**
 * Watches the identity of a SQLite database's files (the database, its -wal and its -shm) so that
 * the store notices when they are removed, replaced or truncated while it runs.
 *
 * SQLite keeps writing to the files it has open even after they were unlinked: a commit then lands
 * in a file nobody will ever open again. And it maps the -shm into memory: once another process
 * truncates it, the next access raises SIGBUS. So every write transaction checks the files before
 * it begins and before it is acknowledged, and a truncated -shm is grown back to its size at once,
 * which makes the mapping safe to touch again (SQLite rebuilds the zeroed WAL index from the WAL).
 *
 * Only stat, statfs, access and inotify are used on these paths, never open/close, with one exception
 * (growing the -shm back): closing any descriptor of a file drops every POSIX lock this process holds
 * on it, SQLite's included.
 */
export class DatabaseFiles {
  private readonly files: Identity[] = [];
  private watcher: FSWatcher | null = null;

  constructor(readonly path: string) {}

  /** Records the files as they are now; call once SQLite has opened them. */
  snapshot(): void {
    this.files.length = 0;
    for (const path of [this.path, `${this.path}-wal`, `${this.path}-shm`]) {
      const stat = statSync(path, { throwIfNoEntry: false });
      if (stat) this.files.push({ path, dev: stat.dev, ino: stat.ino, size: stat.size });
    }
  }

  /**
   * The first file that was removed, replaced or truncated since the snapshot, or null. With
   * `shmOnly`, just the -shm: the one check that must come before SQLite touches the files.
   */
  verify(shmOnly = false): FileProblem | null {
    if (shmOnly) {
      const shm = this.files.find((f) => f.path.endsWith('-shm'));
      // Something happened: look at every file, so that the report names the database first.
      return shm === undefined || this.intact(shm) ? null : this.verify();
    }
    for (const file of this.files) {
      const stat = statSync(file.path, { throwIfNoEntry: false });
      if (!stat) return { reason: `${file.path} was removed while the server had it open` };
      if (stat.ino !== file.ino || stat.dev !== file.dev) return { reason: `${file.path} was replaced while the server had it open` };
      if (stat.size < file.size && file.path.endsWith('-shm')) return { reason: this.growBack(file, stat.size) };
      file.size = Math.max(file.size, stat.size);
    }
    return null;
  }

  /** Same file, and not shorter than it was (the -shm never shrinks while SQLite has it mapped). */
  private intact(file: Identity): boolean {
    const stat = statSync(file.path, { throwIfNoEntry: false });
    if (stat === undefined || stat.ino !== file.ino || stat.dev !== file.dev || stat.size < file.size) return false;
    file.size = stat.size;
    return true;
  }

  /**
   * Grows the -shm back again if it was truncated once more after the files were lost: the
   * connection still has it mapped, and closing it at shutdown touches the mapping.
   */
  keepShmMapped(): void {
    const shm = this.files.find((f) => f.path.endsWith('-shm'));
    const stat = shm && statSync(shm.path, { throwIfNoEntry: false });
    if (shm && stat && stat.ino === shm.ino && stat.dev === shm.dev && stat.size < shm.size) this.growBack(shm, stat.size);
  }

  /**
   * What may explain a failed write, for the log: files that are not writable, and the space
   * left on the filesystem. Costs a few system calls; only called on the fault path.
   */
  diagnose(): string {
    const notes: string[] = [];
    for (const path of [dirname(this.path), this.path, `${this.path}-wal`, `${this.path}-shm`]) {
      try {
        accessSync(path, constants.W_OK);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' || path === this.path) notes.push(`${path} is not writable (${code})`);
      }
    }
    try {
      const fs = statfsSync(dirname(this.path));
      notes.push(`${fs.bavail * fs.bsize} bytes free on the filesystem of ${dirname(this.path)}`);
    } catch (error) {
      notes.push(`statfs ${dirname(this.path)} failed (${(error as NodeJS.ErrnoException).code})`);
    }
    return notes.join('; ');
  }

  /** Calls `onChange` when the -shm changes through a system call (truncation, growth, removal). */
  watch(onChange: () => void): void {
    const shm = this.files.find((f) => f.path.endsWith('-shm'));
    if (!shm || this.watcher) return;
    try {
      this.watcher = watch(shm.path, { persistent: false }, onChange);
      this.watcher.on('error', () => this.unwatch());
    } catch {
      // No inotify (or no file): the checks before each write and on the store's timer remain.
      this.watcher = null;
    }
  }

  unwatch(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  /**
   * Grows a truncated -shm back to the size SQLite mapped, so that touching the mapping (any
   * statement, or closing the connection) no longer raises SIGBUS.
   */
  private growBack(file: Identity, size: number): string {
    const what = `${file.path} was truncated from ${file.size} to ${size} bytes by another process`;
    let fd: number | undefined;
    try {
      fd = openSync(file.path, 'r+');
      const stat = fstatSync(fd);
      if (stat.ino !== file.ino || stat.dev !== file.dev) return `${what}; it was replaced before it could be grown back`;
      if (stat.size < file.size) ftruncateSync(fd, file.size);
      return `${what}; grown back so that the server does not crash (SIGBUS)`;
    } catch (error) {
      return `${what}; growing it back failed (${(error as NodeJS.ErrnoException).code}): the server may crash (SIGBUS)`;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

