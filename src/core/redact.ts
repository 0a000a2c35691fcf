/**
 * Credential stripping for everything modelctl shows or records (URLs of remotes, git
 * origins, data inputs): the one implementation, used by every layer.
 */
const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;

/** Query parameters whose values are secrets or signatures (compared case-insensitively). */
const SECRET_PARAMS = new Set([
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'signature',
  'awsaccesskeyid',
  'sig',
  'token',
  'access_token',
  'password',
  'secret',
]);

/**
 * Returns `url` safe to print or record: userinfo (`user:pass@`) removed and secret query
 * values (presigned-URL signatures, credentials, session tokens) replaced by `REDACTED`.
 * Strings that are not URLs come back unchanged except for a stripped `//user:pass@`.
 */
export function redactUrl(url: string): string {
  if (!SCHEME.test(url)) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/?#]*@/, '$1');
  }
  let changed = false;
  if (parsed.username !== '' || parsed.password !== '') {
    parsed.username = '';
    parsed.password = '';
    changed = true;
  }
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAMS.has(name.toLowerCase())) {
      parsed.searchParams.set(name, 'REDACTED');
      changed = true;
    }
  }
  if (!changed) return url;
  // URLSearchParams would re-encode "REDACTED" fine; nothing else in the URL changes meaning.
  return parsed.toString();
}

// A URL inside free text: a scheme, "://", then anything up to whitespace or a quote.
const URL_IN_TEXT = /[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s"'<>`]+/g;

/** `text` with every URL in it passed through redactUrl (e.g. `--data=https://…?X-Amz-Signature=…`, a message quoting a URL). */
export function redactUrlsInText(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => redactUrl(url));
}

/**
 * A command line safe to record (lineage argv, audit events): every URL in every argument
 * redacted. The command line is the one input modelctl records verbatim, and users pass
 * presigned data URLs (`--data 'https://…?X-Amz-Signature=…'`) on it.
 */
export function redactArgv(argv: readonly string[]): string[] {
  return argv.map(redactUrlsInText);
}
