import { pageRows } from './message-sql';

const page = (...ids: number[]) => [{ page: JSON.stringify(ids.map((id) => [id, 'alice', `m${id}`, '2026-11-21T23:44:19.123Z', id % 2 ? null : `c-${id}`, id % 3 ? null : `sub-${id}`])) }];

describe(pageRows.name, () => {
  it('turns a newest-first page into rows oldest first, cutting the row beyond the limit', () => {
    const sut = pageRows(page(9, 8, 7), 'general', 2, true);
    expect(sut).toStrictEqual({
      rows: [
        { id: 8, room: 'general', nickname: 'alice', body: 'm8', sentAt: '2026-11-21T23:44:19.123Z', clientMsgId: 'c-8', userId: null },
        { id: 9, room: 'general', nickname: 'alice', body: 'm9', sentAt: '2026-11-21T23:44:19.123Z', clientMsgId: null, userId: 'sub-9' },
      ],
      hasMore: true,
    });
  });

  it('keeps an oldest-first page in order', () => {
    expect(pageRows(page(3, 4, 5), 'dev', 5, false)).toMatchObject({ rows: [{ id: 3 }, { id: 4 }, { id: 5 }], hasMore: false });
  });

  it('sorts rows the aggregate returned out of order before cutting', () => {
    expect(pageRows(page(7, 9, 8), 'general', 2, true)).toMatchObject({ rows: [{ id: 8 }, { id: 9 }], hasMore: true });
    expect(pageRows(page(5, 3, 4), 'general', 2, false)).toMatchObject({ rows: [{ id: 3 }, { id: 4 }], hasMore: true });
  });

  it('reads an empty page', () => {
    expect(pageRows([{ page: '[]' }], 'general', 50, true)).toStrictEqual({ rows: [], hasMore: false });
  });
});
