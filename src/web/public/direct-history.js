// Signed in, direct messages are kept by the server (GET /api/dm, GET /api/dm/:user): the page
// lists the user's conversations after it connects (so a reload or a new device has them), loads
// a conversation's recent messages the first time it is shown, and pages in what a resume left out
// (a `gap` with "direct": true). A server that keeps none (anonymous mode, or an older one) answers
// 404, and the page shows what arrives over the socket only.
import { fetchConversations, fetchDirectPage } from './api.js';
import { addMessage, ensureDm } from './conversations.js';
import { showError } from './ui.js';

const RECENT = 50;
const GAP_PAGE = 200; // the most GET /api/dm/:user hands out per page

let listed = false; // the conversations were listed once on this page

/** The message of a `direct` frame (live, or from the API), as a conversation holds it. */
export function directMessage(frame) {
  return {
    id: frame.id,
    author: frame.from ?? '',
    authorId: frame.fromId,
    text: frame.message ?? '',
    sentAt: frame.sentAt,
    editedAt: frame.editedAt,
    deleted: frame.deleted === true,
  };
}

/**
 * After the first welcome: every conversation of the user, in the list. Their messages load when
 * one is shown (loadRecentDirect): added here, the newest would race the direct messages that
 * waited for the user, which come over the socket meanwhile and count as unread.
 */
export async function listConversations() {
  if (listed) return;
  listed = true;
  let conversations;
  try {
    conversations = await fetchConversations();
  } catch {
    listed = false; // tried again after the next welcome
    return;
  }
  // Oldest first, so that the newest conversation ends up at the end of the list, as a new one does.
  for (const { userId, nickname } of conversations.reverse()) {
    if (typeof userId === 'string' && typeof nickname === 'string') ensureDm(nickname, userId);
  }
}

/** The first time a conversation with a known user id is shown: its newest messages. */
export async function loadRecentDirect(conv) {
  if (conv.recentRequested || !conv.peerId) return;
  conv.recentRequested = true;
  try {
    const page = await fetchDirectPage(conv.peerId, { limit: RECENT });
    for (const message of page.messages) addMessage(conv, directMessage(message), false);
  } catch {
    conv.recentRequested = false; // asked again the next time it is shown
  }
}

/** A resume left out the direct messages with afterId < id < beforeId: page them in, per conversation. */
export async function fillDirectGap(afterId, beforeId) {
  try {
    for (const { userId, nickname, lastId } of await fetchConversations()) {
      if (typeof userId !== 'string' || !(lastId > afterId)) continue;
      const conv = ensureDm(nickname, userId);
      let after = afterId;
      for (;;) {
        const page = await fetchDirectPage(userId, { after, before: beforeId, limit: GAP_PAGE });
        for (const message of page.messages) addMessage(conv, directMessage(message), true);
        const last = page.messages.at(-1);
        if (!page.hasMore || !last) break;
        after = last.id;
      }
    }
  } catch {
    showError('Some earlier direct messages could not be loaded right now.');
  }
}
