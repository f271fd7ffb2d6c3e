/** The most message ids one anonymous lineage remembers; older messages of it can no longer be edited or deleted by it. */
export const MAX_AUTHORED = 1000;

/**
 * Anonymous mode: the ids of the room messages one connection sent, and its reconnect-token
 * lineage after it (a connection that presents the token takes this object over with the
 * nickname). A nickname is no identity (anyone may take a free one), so authorship is this: only
 * the lineage that sent a message may edit or delete it. It lives in memory, like the nickname
 * holds the lineage rides on: after a restart nobody can (an admin still can delete).
 */
export class Authored {
  private readonly ids = new Set<number>();

  add(id: number): void {
    this.ids.add(id);
    if (this.ids.size > MAX_AUTHORED) this.ids.delete(this.ids.values().next().value!);
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }
}
