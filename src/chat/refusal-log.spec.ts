import { REFUSAL_AUDIT_CLIENTS, REFUSAL_AUDIT_INTERVAL_MS, RefusalLog } from './refusal-log';

describe(RefusalLog.name, () => {
  let now: number;
  let sut: RefusalLog;

  beforeEach(() => {
    now = 1_000_000;
    sut = new RefusalLog(() => now);
  });

  it('audits a client once per interval', () => {
    expect(sut.shouldAudit('a')).toBe(true);
    expect(sut.shouldAudit('a')).toBe(false);
    expect(sut.shouldAudit('b')).toBe(true);
    now += REFUSAL_AUDIT_INTERVAL_MS - 1;
    expect(sut.shouldAudit('a')).toBe(false);
    now += 1;
    expect(sut.shouldAudit('a')).toBe(true);
  });

  it('remembers a bounded number of clients: new ones go unaudited until old ones age out', () => {
    for (let i = 0; i < REFUSAL_AUDIT_CLIENTS; i++) expect(sut.shouldAudit(`c${i}`)).toBe(true);
    expect(sut.shouldAudit('one too many')).toBe(false);
    now += REFUSAL_AUDIT_INTERVAL_MS;
    expect(sut.shouldAudit('one too many')).toBe(true);
  });
});
