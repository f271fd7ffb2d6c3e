// The page's fixed elements, and the parts of the page every module may touch: status, error, composer size.
import { byTestId } from './view.js';

const ERROR_SHOW_MS = 10000;
const INPUT_MAX_HEIGHT_PX = 160;

export const ui = {
  status: byTestId('status'),
  error: byTestId('error'),
  errorText: byTestId('error-text'),
  errorDismiss: byTestId('error-dismiss'),
  roomList: byTestId('room-list'),
  dmList: byTestId('dm-list'),
  dmHeading: byTestId('dm-heading'),
  joinForm: byTestId('join-form'),
  joinInput: byTestId('join-input'),
  joinButton: byTestId('join-button'),
  joinError: byTestId('join-error'),
  browseButton: byTestId('browse-button'),
  directory: byTestId('directory'),
  directoryStatus: byTestId('directory-status'),
  directoryList: byTestId('directory-list'),
  title: byTestId('conversation-title'),
  leaveButton: byTestId('leave-button'),
  logHost: byTestId('log-host'),
  typing: byTestId('typing'),
  sendForm: byTestId('send-form'),
  input: byTestId('message-input'),
  sendButton: byTestId('send-button'),
  nickForm: byTestId('nick-form'),
  nickInput: byTestId('nick-input'),
  nickButton: byTestId('nick-button'),
  users: byTestId('users'),
  userCount: byTestId('user-count'),
  peopleRoom: byTestId('people-room'),
};

let errorTimer = null;

export function showError(text) {
  ui.errorText.textContent = text;
  ui.error.hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(hideError, ERROR_SHOW_MS);
}

export function hideError() {
  ui.error.hidden = true;
}

export function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
  document.body.classList.toggle('offline', state !== 'online');
  // Sending stays possible offline: the message waits and goes out once reconnected.
  for (const button of [ui.nickButton, ui.joinButton]) button.disabled = state !== 'online';
}

/** Grows the message box with its text, up to a limit. */
export function fitInput() {
  ui.input.style.height = 'auto';
  ui.input.style.height = `${Math.min(ui.input.scrollHeight, INPUT_MAX_HEIGHT_PX)}px`;
}
