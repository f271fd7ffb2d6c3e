// Editing and deleting messages (docs/web-client.md): a message's Edit and Delete buttons, the
// editor that takes the place of its text, and the confirmation a deletion asks for (it cannot be
// undone: the server erases the text). What the server then broadcasts (message_edited,
// message_deleted) redraws the message; until then it shows as it was.
import { send } from './connection.js';
import { markDirty } from './scroller.js';
import { session } from './state.js';
import { findMessage } from './timeline.js';
import { showError } from './ui.js';
import { el } from './view.js';

/** Clicks (and Enter or Escape in the editor) inside the log. */
export function onMessageAction(event) {
  const conv = session.visible;
  const item = event.target.closest?.('.message[data-id]');
  const entry = conv && item && findMessage(conv, Number(item.dataset.id));
  if (!entry || entry.deleted) return;
  if (event.type === 'keydown') return onEditorKey(event, conv, entry, item);
  const button = event.target.closest('button[data-edit-action]');
  if (!button) return;
  switch (button.dataset.editAction) {
    case 'edit':
      return openEditor(item, entry);
    case 'save':
      return save(conv, entry, item);
    case 'delete':
      return askToDelete(item);
    case 'confirm-delete':
      if (!send('delete', { id: entry.id })) showError('Not connected. Try again once reconnected.');
      return redraw(conv, entry);
    case 'cancel':
      return redraw(conv, entry);
  }
}

function openEditor(item, entry) {
  const editor = el('form', 'message-editor');
  editor.dataset.testid = 'message-editor';
  const input = el('textarea', 'message-editor-input');
  input.value = entry.text;
  input.rows = Math.min(8, entry.text.split('\n').length + 1);
  input.setAttribute('aria-label', 'Edit your message');
  input.dataset.testid = 'message-editor-input';
  editor.append(input, button('save', 'Save'), button('cancel', 'Cancel', 'secondary'));
  editor.addEventListener('submit', (event) => event.preventDefault());
  item.querySelector('.body')?.replaceWith(editor);
  item.querySelector('.message-actions')?.remove();
  input.focus();
}

function askToDelete(item) {
  const actions = item.querySelector('.message-actions');
  if (!actions) return;
  const question = el('span', 'delete-question', 'Delete this message for everyone?');
  actions.replaceChildren(question, button('confirm-delete', 'Delete'), button('cancel', 'Cancel', 'secondary'));
  actions.classList.add('confirming');
  actions.querySelector('[data-edit-action="confirm-delete"]').focus();
}

function save(conv, entry, item) {
  const text = item.querySelector('.message-editor-input')?.value ?? '';
  if (!/\S/.test(text)) return showError('A message needs some text. To remove it, delete it.');
  if (text !== entry.text && !send('edit', { id: entry.id, message: text })) showError('Not connected. Try again once reconnected.');
  redraw(conv, entry);
}

function onEditorKey(event, conv, entry, item) {
  if (!event.target.classList.contains('message-editor-input')) return;
  if (event.key === 'Escape') return redraw(conv, entry);
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    save(conv, entry, item);
  }
}

/** Back to the message as it stands (the server's frame redraws it again once it is changed). */
function redraw(conv, entry) {
  entry.node = null;
  markDirty(conv);
}

function button(action, label, className = '') {
  const node = el('button', className, label);
  node.type = 'button';
  node.dataset.editAction = action;
  node.dataset.testid = `message-${action}`;
  return node;
}
