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
  titleLock: byTestId('conversation-lock'),
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
  me: byTestId('me'),
  server: byTestId('server'),
  jump: byTestId('jump-latest'),
  loading: byTestId('log-loading'),
  online: byTestId('online'),
  onlineUsers: byTestId('online-users'),
  onlineCount: byTestId('online-count'),
  signin: byTestId('signin'),
  signinText: byTestId('signin-text'),
  signinDetail: byTestId('signin-detail'),
  signinLink: byTestId('signin-link'),
  meLabel: byTestId('me-label'),
  nickRow: byTestId('nick-row'),
};

let errorTimer = null;
// Every request the user makes gets the next number; an error remembers the last one made before
// it, so a success of anything asked for after the error clears it (and one asked before does not).
let actions = 0;
let errorAfter = 0;

export function showError(text) {
  ui.errorText.textContent = text;
  ui.error.hidden = false;
  errorAfter = actions;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(hideError, ERROR_SHOW_MS);
}

/** The user asked for something the server will answer; returns its number for actionSucceeded. */
export function beginAction() {
  actions += 1;
  return actions;
}

/** What the user asked for (see beginAction) succeeded: an error shown before it was asked for is over. */
export function actionSucceeded(action) {
  if (action > errorAfter) hideError();
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

/** Signed out (jwt mode): what happened in plain words, the server's own words under it, and the way back in. */
export function showSignedOut(text, detail, href) {
  ui.signinText.textContent = text;
  ui.signinDetail.textContent = detail;
  ui.signinDetail.hidden = !detail;
  ui.signinLink.hidden = !href;
  if (href) ui.signinLink.href = href;
  ui.signin.hidden = false;
  hideError();
}

/** Signed in (jwt mode): the name comes from the sign-in, so there is no box to change it. */
export function showSignedInLayout() {
  ui.meLabel.textContent = 'Signed in as';
  ui.meLabel.removeAttribute('for');
  ui.nickRow.hidden = true;
}
