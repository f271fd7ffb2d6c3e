/** `limit` items from `offset`, in the set's order, without copying the set. */
export function pageOf<T>(items: ReadonlySet<T>, offset: number, limit: number): T[] {
  const found: T[] = [];
  if (offset >= items.size) return found;
  let i = 0;
  for (const item of items) {
    if (i++ < offset) continue;
    if (found.length === limit) break;
    found.push(item);
  }
  return found;
}
