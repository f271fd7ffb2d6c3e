// Inline Markdown for one paragraph: code spans and links first (emphasis cannot enter them), then
// **strong** and *em* by delimiter pairing, then mentions of the reader's nickname in what is left
// as text. The result is DOM nodes; every piece of user text goes in through createTextNode.
import { el } from './view.js';

const MAX_INLINE_DEPTH = 6; // deeper emphasis is still shown, just not nested further
const URL_START = /https?:\/\//gi;
const URL_BODY = /^https?:\/\/[^\s<>"]+/i;
const TRAILING = /[.,;:!?'"*_~]$/;
const PUNCT = /[\p{P}\p{S}]/u;
const SPACE = /\s/u;

/** The nodes of one paragraph; `state` carries the mention pattern and records a match. */
export function inline(text, state) {
  return toNodes(emphasis(atoms(text)), 0, state);
}

/**
 * Splits text into text tokens and atoms that emphasis cannot enter: code spans (a run of
 * backticks closed by the next run of the same length; "\\`" is a literal backtick) and links.
 */
function atoms(text) {
  const tokens = [];
  const runs = backtickRuns(text);
  let plain = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] === '\\' && text[i + 1] === '`') {
      plain += '`';
      i += 2;
    } else if (text[i] !== '`') {
      plain += text[i];
      i += 1;
    } else {
      let run = 1;
      while (text[i + run] === '`') run += 1;
      const close = runs.next(run, i + run);
      if (close < 0) {
        plain += '`'.repeat(run);
        i += run;
      } else {
        tokens.push(...links(plain), { type: 'code', text: trimCode(text.slice(i + run, close)) });
        plain = '';
        i = close + run;
      }
    }
  }
  tokens.push(...links(plain));
  return tokens;
}

/** Positions of backtick runs by length, handed out left to right, so the scan stays linear. */
function backtickRuns(text) {
  const byLength = new Map();
  for (const match of text.matchAll(/`+/g)) {
    const list = byLength.get(match[0].length) ?? [];
    list.push(match.index);
    byLength.set(match[0].length, list);
  }
  return {
    next(length, from) {
      const list = byLength.get(length) ?? [];
      while (list.length > 0 && list[0] < from) list.shift();
      return list.length > 0 ? list.shift() : -1;
    },
  };
}

function trimCode(code) {
  return code.length > 2 && code.startsWith(' ') && code.endsWith(' ') && /\S/.test(code) ? code.slice(1, -1) : code;
}

/** Text with its http(s) URLs as link atoms. Trailing punctuation and unbalanced ")" stay text. */
function links(text) {
  const tokens = [];
  let last = 0;
  for (const start of text.matchAll(URL_START)) {
    if (start.index < last) continue;
    const url = trimUrl(URL_BODY.exec(text.slice(start.index))?.[0] ?? '');
    const href = safeHref(url);
    if (!href) continue;
    if (start.index > last) tokens.push({ type: 'text', text: text.slice(last, start.index) });
    tokens.push({ type: 'link', text: url, href });
    last = start.index + url.length;
  }
  if (last < text.length) tokens.push({ type: 'text', text: text.slice(last) });
  return tokens;
}

function trimUrl(url) {
  let out = url;
  for (;;) {
    if (TRAILING.test(out)) out = out.slice(0, -1);
    else if (out.endsWith(')') && count(out, '(') < count(out, ')')) out = out.slice(0, -1);
    else return out;
  }
}

function count(text, char) {
  return text.split(char).length - 1;
}

/** The URL as an href, only when it parses as http(s) with a host; otherwise null. */
export function safeHref(text) {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * Emphasis over the tokens, after CommonMark's delimiter algorithm (as commonmark.js runs it,
 * without the rule of three): runs of `*` or `_` that can open or close, judged by the characters
 * on either side, pair up from each closer back to the nearest opener; whatever does not pair stays
 * literal text. Returns the first node of a linked list; strong and em nodes hold a sublist.
 */
function emphasis(tokens) {
  const head = { type: 'head', next: null };
  let tail = head;
  const push = (node) => {
    node.prev = tail;
    node.next = null;
    tail.next = node;
    tail = node;
    return node;
  };
  const stack = [];
  tokens.forEach((token, t) => {
    if (token.type !== 'text') return push(token);
    const text = token.text;
    let plain = '';
    for (let i = 0; i < text.length; i += 1) {
      const ch = text[i];
      if (ch === '\\' && (text[i + 1] === '*' || text[i + 1] === '_')) {
        plain += text[i + 1];
        i += 1;
      } else if (ch === '*' || ch === '_') {
        let end = i;
        while (text[end] === ch) end += 1;
        if (plain) push({ type: 'text', text: plain });
        plain = '';
        const before = i > 0 ? text[i - 1] : edgeChar(tokens[t - 1], -1);
        const after = end < text.length ? text[end] : edgeChar(tokens[t + 1], 0);
        stack.push(push({ type: 'delim', char: ch, count: end - i, ...flanks(ch, before, after) }));
        i = end - 1;
      } else {
        plain += ch;
      }
    }
    if (plain) push({ type: 'text', text: plain });
  });
  pairUp(stack);
  return head.next;
}

/** The character next to a text token on the side of its neighbour (an atom counts as punctuation). */
function edgeChar(token, at) {
  if (!token) return undefined;
  return token.type === 'text' ? token.text.at(at) : '`';
}

function flanks(ch, before, after) {
  const spaceBefore = before === undefined || SPACE.test(before);
  const spaceAfter = after === undefined || SPACE.test(after);
  const punctBefore = before !== undefined && PUNCT.test(before);
  const punctAfter = after !== undefined && PUNCT.test(after);
  const left = !spaceAfter && (!punctAfter || spaceBefore || punctBefore);
  const right = !spaceBefore && (!punctBefore || spaceAfter || punctAfter);
  if (ch === '*') return { canOpen: left, canClose: right };
  // `_` inside a word (snake_case) is never emphasis.
  return { canOpen: left && (!right || punctBefore), canClose: right && (!left || punctAfter) };
}

/**
 * Each closer, left to right, takes the nearest opener of its kind. The delimiters form a list of
 * their own from which used ones are taken out, and `bottom` marks, per kind, below which no opener
 * is left, so every search is short.
 */
function pairUp(delimiters) {
  delimiters.forEach((d, i) => {
    d.before = delimiters[i - 1] ?? null;
    d.after = delimiters[i + 1] ?? null;
  });
  const bottom = { '*': null, _: null };
  let closer = delimiters[0] ?? null;
  while (closer) {
    if (!closer.canClose) {
      closer = closer.after;
      continue;
    }
    let opener = closer.before;
    while (opener && opener !== bottom[closer.char] && !(opener.char === closer.char && opener.canOpen)) opener = opener.before;
    if (!opener || opener === bottom[closer.char]) {
      bottom[closer.char] = closer.before;
      const next = closer.after;
      if (!closer.canOpen) drop(closer);
      closer = next;
      continue;
    }
    const use = opener.count >= 2 && closer.count >= 2 ? 2 : 1;
    opener.count -= use;
    closer.count -= use;
    wrap(opener, closer, use === 2 ? 'strong' : 'em');
    for (let d = opener.after; d !== closer; d = d.after) drop(d); // inside the pair now: literal
    if (opener.count === 0) unlink(opener);
    if (closer.count === 0) {
      const next = closer.after;
      unlink(closer);
      closer = next;
    } // else what is left of the closer looks for another opener
  }
}

/** Takes a delimiter out of the list of delimiters (its text stays). */
function drop(d) {
  if (d.before) d.before.after = d.after;
  if (d.after) d.after.before = d.before;
}

/** Moves the nodes between two delimiters into a new strong or em node placed between them. */
function wrap(opener, closer, type) {
  const first = opener.next === closer ? null : opener.next;
  const node = { type, first, prev: opener, next: closer };
  if (first) {
    first.prev = null;
    closer.prev.next = null;
  }
  opener.next = node;
  closer.prev = node;
}

function unlink(node) {
  drop(node);
  if (node.prev) node.prev.next = node.next;
  if (node.next) node.next.prev = node.prev;
}

/** DOM nodes for a list; every piece of text is a text node. */
function toNodes(first, depth, state) {
  const out = [];
  for (let node = first; node; node = node.next) {
    if (node.type === 'text') out.push(...mentions(node.text, state));
    else if (node.type === 'delim') out.push(document.createTextNode(node.char.repeat(node.count)));
    else if (node.type === 'code') out.push(el('code', '', node.text));
    else if (node.type === 'link') out.push(link(node));
    else if (depth >= MAX_INLINE_DEPTH) out.push(...toNodes(node.first, depth, state));
    else {
      const wrapper = el(node.type);
      wrapper.append(...toNodes(node.first, depth + 1, state));
      out.push(wrapper);
    }
  }
  return out;
}

function link(node) {
  const a = el('a', 'link', node.text);
  a.href = node.href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  return a;
}

/** Text with each mention of the reader's nickname in a highlighted span. */
function mentions(text, state) {
  if (!state.mention) return [document.createTextNode(text)];
  const out = [];
  let last = 0;
  for (const match of text.matchAll(state.mention)) {
    if (match.index > last) out.push(document.createTextNode(text.slice(last, match.index)));
    const span = el('span', 'mention', match[0]);
    span.dataset.testid = 'mention';
    out.push(span);
    state.mentioned = true;
    last = match.index + match[0].length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}
