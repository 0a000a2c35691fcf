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
 * redacted (users pass presigned data URLs, `--data 'https://…?X-Amz-Signature=…'`), the
 * value of a secret option (`--password`) replaced, and a command after `--` (run)
 * redacted as redactCommandLine does.
 */
export function redactArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    // `modelctl run … -- <command>`: the command is redacted as run's lineage records it.
    if (arg === '--') return [...out, arg, ...redactCommandLine(argv.slice(i + 1))];
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (SECRET_OPTIONS.has(name)) {
      if (eq > 0) out.push(`${name}=${REDACTED}`);
      else {
        out.push(arg);
        if (i + 1 < argv.length) out.push(REDACTED);
        i++;
      }
      continue;
    }
    out.push(redactUrlsInText(arg));
  }
  return out;
}

/** The one replacement for a value modelctl will not record. */
export const REDACTED = 'REDACTED';

/** modelctl's own options whose value is a secret (sign and attest `--password`). */
const SECRET_OPTIONS = new Set(['--password']);

// Names of variables and flags that hold credentials: TOKEN, SECRET, PASSWORD, API_KEY,
// ACCESS_KEY, PRIVATE_KEY, CREDENTIALS, AUTH, COOKIE, SESSION, a lone KEY word…
const SECRET_NAME = /(secret|token|passw(or)?d|passphrase|credential|private|api[-_]?key|access[-_]?key|auth(?!or)|cookie|session|signature|(^|[-_])key($|[-_]))/i;

/** True when a variable or option name says its value is a credential (`AWS_SECRET_ACCESS_KEY`, `--api-key`, `GITHUB_TOKEN`). */
export function looksLikeCredentialName(name: string): boolean {
  return SECRET_NAME.test(name.replace(/^-+/, ''));
}

// Shapes of well-known credentials, and long random-looking strings (see randomLooking): AWS key ids, GitHub/GitLab/Slack/OpenAI/Hugging Face tokens,
// JWTs, PEM private keys.
const SECRET_VALUE = [
  /\b(AKIA|ASIA)[0-9A-Z]{16}\b/,
  /\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}/,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/,
  /\bglpat-[A-Za-z0-9_-]{16,}/,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/,
  /\bsk-[A-Za-z0-9_-]{20,}/,
  /\bhf_[A-Za-z0-9]{20,}/,
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\./,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
];
/**
 * A token-shaped word: 32+ characters of letters, digits and `+/=_-`, with upper case, lower
 * case and digits, that switches between those classes as often as random text does (about
 * 6 times in 10 characters), where words people write in camelCase or snake_case switch at
 * most at each word boundary (about 3 in 10).
 */
function randomLooking(value: string): boolean {
  if (value.length < 32 || !/^[A-Za-z0-9+/=_-]+$/.test(value) || !/[a-z]/.test(value) || !/[A-Z]/.test(value) || !/[0-9]/.test(value)) return false;
  const cls = (c: string) => (c >= 'a' && c <= 'z' ? 0 : c >= 'A' && c <= 'Z' ? 1 : c >= '0' && c <= '9' ? 2 : 3);
  let switches = 0;
  for (let i = 1; i < value.length; i++) if (cls(value[i]) !== cls(value[i - 1])) switches++;
  return switches / (value.length - 1) > 0.45;
}

/** True when a value looks like a credential whatever it is called (see SECRET_VALUE). */
export function looksLikeCredentialValue(value: string): boolean {
  return SECRET_VALUE.some((re) => re.test(value)) || randomLooking(value);
}

/**
 * Environment variables safe to record: a credential-looking name or value becomes
 * `REDACTED`, and URLs inside the rest are redacted (redactUrl).
 */
export function redactEnvironment(vars: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    out[name] = looksLikeCredentialName(name) || looksLikeCredentialValue(value) ? REDACTED : redactUrlsInText(value);
  }
  return out;
}

/**
 * A command line safe to record (`modelctl run`'s command): URLs redacted as redactArgv does,
 * plus the value of every credential-named option (`--token x`, `--api-key=x`), every
 * `NAME=value` assignment with a credential-looking name, and every credential-looking word.
 */
export function redactCommandLine(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const assign = /^(-{0,2}[A-Za-z_][A-Za-z0-9_.-]*)=(.*)$/s.exec(arg);
    if (assign) {
      out.push(looksLikeCredentialName(assign[1]) || looksLikeCredentialValue(assign[2]) ? `${assign[1]}=${REDACTED}` : redactUrlsInText(arg));
      continue;
    }
    out.push(looksLikeCredentialValue(arg) ? REDACTED : redactUrlsInText(arg));
    // `--token x`: the word after a credential-named option is its value.
    if (/^--?[A-Za-z]/.test(arg) && looksLikeCredentialName(arg) && i + 1 < argv.length && !argv[i + 1].startsWith('-')) {
      out.push(REDACTED);
      i++;
    }
  }
  return out;
}
