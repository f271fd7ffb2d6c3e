import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Hub } from '../hub/hub';
import type { Identity } from '../protocol/identity';
import { AuditStore } from '../store/audit-store.service';
import { DataSubjectStore, type DataSubject, type ErasureCounts } from '../store/data-subject-store.service';

/** The close of an erased user's connections: as a kick (4003), with its own reason. */
export const ERASED_CLOSE = { code: 4003, reason: 'erased' } as const;
const ERASED_CLOSE_GRACE_MS = 3000;

export interface ErasureReport extends ErasureCounts {
  /** What the user's rows now carry instead of their id or nickname. */
  pseudonym: string;
  /** Their connections that were closed. */
  connections: number;
}

/**
 * Data-subject requests (GET /api/admin/export, DELETE /api/admin/users/:user). A user is a user
 * id in jwt mode and a nickname in anonymous mode (where nothing else identifies a person); the
 * audit log names the admin who asked.
 */
@Injectable()
export class DataSubjectService {
  private readonly logger = new Logger(DataSubjectService.name);

  constructor(
    private readonly hub: Hub,
    private readonly store: DataSubjectStore,
    private readonly audit: AuditStore,
  ) {}

  /** Who `by` is in the audit log: the user id in jwt mode (`@admin` for ADMIN_TOKEN), the nickname in anonymous mode. */
  actorOf(by: Identity): string {
    return this.hub.isIdentified ? by.userId : by.nickname;
  }

  subjectOf(user: string): DataSubject {
    return this.hub.isIdentified ? { userId: user } : { nickname: user };
  }

  /**
   * Everything stored about `user`, as JSON text in pieces: the small parts are read before the
   * first piece (a store failure is then a plain 503), the large ones a bounded page at a time as
   * the client reads, so the size of the export never sits in memory. The audit row comes first,
   * so an export cut short is still recorded.
   */
  async export(user: string, by: Identity, address: string | undefined): Promise<AsyncGenerator<string>> {
    const subject = this.subjectOf(user);
    await this.audit.record({ actor: this.actorOf(by), action: 'export', target: user, address });
    const head = {
      user,
      mode: this.hub.isIdentified ? 'jwt' : 'anonymous',
      exportedAt: new Date().toISOString(),
      account: 'userId' in subject ? await this.store.account(subject.userId) : null,
      memberships: 'userId' in subject ? await this.store.memberships(subject.userId) : [],
      ownedRooms: 'userId' in subject ? await this.store.ownedRooms(subject.userId) : [],
    };
    return this.exportBody(head, subject);
  }

  /**
   * Erasure: their connections are closed (4003 `erased`) so that nothing more of theirs is
   * written meanwhile, then the store turns what they wrote and were sent into tombstones and
   * their name everywhere into one pseudonym. The audit row names the pseudonym, not the user.
   */
  async erase(user: string, by: Identity, address: string | undefined): Promise<ErasureReport> {
    const subject = this.subjectOf(user);
    let connections = 0;
    for (const session of [...this.hub.sessions()]) {
      const theirs = 'userId' in subject ? session.identity?.userId === subject.userId : !session.identity && session.nickname === subject.nickname;
      if (!theirs || session.isClosed) continue;
      connections++;
      void session.close(ERASED_CLOSE.code, ERASED_CLOSE.reason, ERASED_CLOSE_GRACE_MS);
    }
    // Random, not a hash of the id: a hash of a known id (or a guessable nickname) would undo the anonymisation.
    const pseudonym = `erased:${randomBytes(6).toString('hex')}`;
    const counts = await this.store.erase(subject, pseudonym);
    const reason =
      `tombstoned ${counts.messages} room message(s) and ${counts.directMessages} direct message(s), ` +
      `anonymised ${counts.auditRows} audit field(s), ${counts.account ? 'deleted the account' : 'no account'}, closed ${connections} connection(s)`;
    await this.audit.record({ actor: this.actorOf(by), action: 'erase', target: pseudonym, reason, address });
    this.logger.log({ msg: 'user erased', pseudonym, ...counts, connections });
    return { pseudonym, ...counts, connections };
  }

  private async *exportBody(head: Record<string, unknown>, subject: DataSubject): AsyncGenerator<string> {
    const json = JSON.stringify(head);
    yield json.slice(0, -1);
    yield* array('messages', this.store.messages(subject));
    yield* array('directMessages', this.store.directMessages(subject));
    yield* array('audit', this.store.audit(subject));
    yield '}';
  }
}

/** `,"name":[…]` from pages of rows, a page per piece. */
async function* array(name: string, pages: AsyncGenerator<Array<Record<string, unknown>>>): AsyncGenerator<string> {
  yield `,${JSON.stringify(name)}:[`;
  let first = true;
  for await (const page of pages) {
    const rows = page.map((row) => JSON.stringify(row)).join(',');
    yield first ? rows : `,${rows}`;
    first = false;
  }
  yield ']';
}
