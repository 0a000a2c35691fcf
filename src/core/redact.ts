/** Query parameters that carry secrets in presigned or tokenised URLs. */
const SECRET_PARAMS = /^(x-amz-(signature|credential|security-token)|signature|sig|token|access_token|password|secret|key)$/i;

/**
 * Removes credentials from a URL-looking string: userinfo (`user:pass@`) and secret query
 * parameters. Non-URLs are returned unchanged. Used for everything shown or recorded.
 */
export function stripUrlCredentials(text: string): string {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#]*@)?([^?#]*)(\?[^#]*)?(#.*)?$/.exec(text);
  if (!m) {
    // scp-like git remotes (git@host:path) carry no secret beyond the user name.
    return text;
  }
  const [, scheme, , rest, query, hash] = m;
  let q = '';
  if (query) {
    const kept = query
      .slice(1)
      .split('&')
      .filter((kv) => kv !== '' && !SECRET_PARAMS.test(decodeURIComponentSafe(kv.split('=')[0])));
    q = kept.length ? `?${kept.join('&')}` : '';
  }
  return `${scheme}${rest}${q}${hash ?? ''}`;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
