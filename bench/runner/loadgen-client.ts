// The runner's handle on the load generator processes.
import { fork, type ChildProcess } from 'node:child_process';
import type { Command, ConnectReport, Reply } from '../loadgen/commands';
import type { HttpLoadConfig, HttpLoadReport } from '../loadgen/http-load';

interface Waiter {
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

/** One WebSocket load generator process; commands run one at a time, each with a deadline. */
export class LoadGen {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 0;
  private readonly exited: Promise<void>;
  /** Set once its clients are connected. */
  connected?: ConnectReport;

  constructor(script: string) {
    this.child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    this.child.on('message', (reply: Reply) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.ok) waiter?.resolve(reply.result);
      else waiter?.reject(new Error(`load generator: ${reply.error}`));
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        for (const waiter of this.waiting.values()) waiter.reject(new Error(`load generator exited (${code ?? signal})`));
        this.waiting.clear();
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  request<T>(command: Command, timeoutMs: number): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`load generator: ${command.kind} took over ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (fn: () => void) => {
        clearTimeout(timer);
        fn();
      };
      this.waiting.set(id, {
        resolve: (result) => done(() => resolve(result as T)),
        reject: (error) => done(() => reject(error)),
      });
      this.child.send({ id, command });
    });
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Runs autocannon in a process of its own and returns its report. */
export function httpLoad(script: string, config: HttpLoadConfig, timeoutMs: number): Promise<HttpLoadReport> {
  const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`http load took over ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('message', (message: { ok: boolean; report?: HttpLoadReport; error?: string }) => {
      clearTimeout(timer);
      if (message.ok && message.report) resolve(message.report);
      else reject(new Error(`http load: ${message.error ?? 'failed'}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`http load exited with ${code}`));
    });
    child.send(config);
  });
}
