// The UI's one way to the JSON API (same origin; the token, when the server needs one, is a cookie).

/** An API error with the CLI's code and hint. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? 'HTTP_ERROR';
    this.hint = body?.error?.hint ?? null;
  }
}

/** GET /api/<path> as JSON. */
export async function api(path) {
  const res = await fetch(`/api/${path}`, { headers: { Accept: 'application/json' } });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

/** A path segment: models and references are percent-encoded (a namespace's "/" too). */
export const seg = encodeURIComponent;

/** The download URL of a file of a version. */
export function fileUrl(ref, path) {
  return `/api/versions/${seg(ref)}/files/${path.split('/').map(encodeURIComponent).join('/')}`;
}
