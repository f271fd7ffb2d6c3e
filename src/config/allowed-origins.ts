/** ALLOWED_ORIGINS, parsed: `*` (any origin) or a set of origins in their serialized form (`https://chat.example.com`). */
export interface AllowedOrigins {
  any: boolean;
  origins: ReadonlySet<string>;
}

export function allowedOrigins(value: string | undefined): AllowedOrigins {
  const entries = originEntries(value);
  return { any: entries.includes('*'), origins: new Set(entries.filter((e) => e !== '*').map((e) => serializedOrigin(e) ?? e)) };
}

/** Entries that are neither `*` nor an origin (scheme, host and optional port, no path): a typo would never match. */
export function allowedOriginsProblems(value: string | undefined): string[] {
  return originEntries(value)
    .filter((e) => e !== '*' && serializedOrigin(e) !== e.replace(/\/$/, '').toLowerCase())
    .map((e) => `"${e}" is not an origin: write scheme://host[:port], e.g. https://chat.example.com, or * for any`);
}

/** An origin as browsers send it in `Origin`: lower case, the scheme's default port left out; undefined if it is not one. */
export function serializedOrigin(text: string): string | undefined {
  try {
    const url = new URL(text);
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

function originEntries(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
}
