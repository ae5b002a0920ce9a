// How the API key reaches the engine: not in any LSP message (vscode-languageclient's trace,
// `contextLedger.trace.server: verbose`, writes every request's params to the output channel,
// which users paste into bug reports), but on the engine's stdin, which the LSP connection does
// not use (it talks over Node IPC). One JSON line per update; `version` rises with every update
// the extension sends, and each chat/send names the version it needs, so a send never races a
// key change that the engine has not read yet.

export interface ApiKeyUpdate {
  readonly version: number;
  /** null: no key (cleared, or none was ever set). */
  readonly apiKey: string | null;
}

export function encodeApiKeyUpdate(update: ApiKeyUpdate): string {
  return `${JSON.stringify({ version: update.version, apiKey: update.apiKey })}\n`;
}

/** One line of the channel; undefined for anything malformed (the engine ignores it). */
export function parseApiKeyUpdate(line: string): ApiKeyUpdate | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const { version, apiKey } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(version) || (version as number) < 1) {
    return undefined;
  }
  if (apiKey !== null && (typeof apiKey !== 'string' || apiKey.trim() === '')) {
    return undefined;
  }
  return { version: version as number, apiKey: apiKey === null ? null : apiKey.trim() };
}
