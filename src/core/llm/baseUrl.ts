// Where the API key may be sent. A base URL other than the SDK's default receives the key in
// every request, so only two kinds are accepted: https (a gateway the user chose), and plain
// http to this machine's loopback (a local proxy or test server; nothing crosses a network in
// the clear). The extension checks the setting with this, and the engine checks it again.

/** Loopback hosts as `URL.hostname` spells them. */
const loopbackHosts: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]']);

export type BaseUrlCheck =
  | { readonly ok: true; /** Trimmed, without trailing slashes; null = the SDK's default. */ readonly baseUrl: string | null }
  | { readonly ok: false; readonly problem: string };

export function checkBaseUrl(value: unknown): BaseUrlCheck {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    return { ok: true, baseUrl: null };
  }
  if (typeof value !== 'string') {
    return { ok: false, problem: 'it must be text' };
  }
  const text = value.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: `"${text}" is not a URL` };
  }
  if (url.username || url.password) {
    return { ok: false, problem: 'it must not carry a user name or password' };
  }
  if (url.protocol === 'https:') {
    return { ok: true, baseUrl: text.replace(/\/+$/, '') };
  }
  if (url.protocol === 'http:') {
    return loopbackHosts.has(url.hostname)
      ? { ok: true, baseUrl: text.replace(/\/+$/, '') }
      : { ok: false, problem: `plain http is allowed only to this machine (127.0.0.1, localhost, [::1]), not to ${url.hostname}; use https` };
  }
  return { ok: false, problem: `"${url.protocol}" is not https` };
}
