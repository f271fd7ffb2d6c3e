// A small, safe Markdown subset for message bodies: **bold**, *italic* (or _italic_), `code`,
// ``` fenced code blocks ```, > quotes, http(s) links and mentions of your own nickname.
//
// Hand-written rather than a library: the Markdown libraries that run in a browser without a build
// step (marked, markdown-it, snarkdown) all produce an HTML string, which would have to go through
// innerHTML. Here the text is tokenized and the DOM is built node by node, every piece of user text
// through createTextNode, so no input can become markup: a marker that does not pair up stays
// literal text, and a link is only ever made from an http(s) URL that parses.
import { inline } from './inline.js';
import { el } from './view.js';

const MAX_QUOTE_DEPTH = 3;
const FENCE_OPEN = /^ {0,3}(`{3,})([^`]*)$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const WORD = '[\\p{L}\\p{M}\\p{Nd}_]';

/**
 * The body of a message: a `div.body` of paragraphs, code blocks and quotes. `me` is the reader's
 * nickname; returns whether the text mentions it (as a word, with or without "@").
 */
export function renderBody(text, me) {
  const mention = me ? new RegExp(`(?<!${WORD})@?${escapeRegExp(me)}(?!${WORD})`, 'giu') : null;
  const state = { mention, mentioned: false };
  const body = el('div', 'body');
  body.append(...blocks(text.split('\n'), 0, state));
  return { body, mentionsMe: state.mentioned };
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'); // `-` must not be escaped under the u flag
}

/** Paragraphs (runs of ordinary lines, newlines kept), fenced code blocks and quotes. */
function blocks(lines, depth, state) {
  const out = [];
  let para = [];
  const flush = () => {
    if (para.length > 0) out.push(paragraph(para.join('\n'), state));
    para = [];
  };
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    const fence = FENCE_OPEN.exec(line);
    const close = fence ? closingFence(lines, i + 1, fence[1].length) : -1;
    if (close > 0) {
      flush();
      out.push(codeBlock(lines.slice(i + 1, close).join('\n')));
      i = close;
    } else if (depth < MAX_QUOTE_DEPTH && QUOTE.test(line)) {
      flush();
      const quoted = [];
      for (; i < lines.length && QUOTE.test(lines[i]); i += 1) quoted.push(QUOTE.exec(lines[i])[1]);
      i -= 1;
      const quote = el('blockquote');
      quote.append(...blocks(quoted, depth + 1, state));
      out.push(quote);
    } else {
      para.push(line); // an unterminated fence is text too
    }
  }
  flush();
  return out;
}

function closingFence(lines, from, length) {
  for (let i = from; i < lines.length; i += 1) {
    const match = /^ {0,3}(`{3,})\s*$/.exec(lines[i]);
    if (match && match[1].length >= length) return i;
  }
  return -1;
}

function codeBlock(text) {
  const pre = el('pre');
  pre.append(el('code', '', text));
  return pre;
}

function paragraph(text, state) {
  const p = el('p');
  p.append(...inline(text, state));
  return p;
}

