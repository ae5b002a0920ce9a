import * as vscode from 'vscode';
import type { CompactionModelChoice } from '../../shared/compactionProtocol';
import type { CompactorKind } from '../../shared/memoryPanelMessages';
import { readChatSettings, settingReader } from '../chat/chatSettings';
import type { EngineClient } from '../engineClient';

// contextLedger.compaction.compactor: who writes a summary unless the user picks otherwise (the
// memory panel's preview, Compact Session…'s first choice). "model" spends the user's key, so an
// untrusted workspace cannot choose it (only the user's own value counts there).

export function configuredCompactor(): CompactorKind {
  const inspected = vscode.workspace.getConfiguration('contextLedger.compaction').inspect<string>('compactor');
  const value = vscode.workspace.isTrusted ? vscode.workspace.getConfiguration('contextLedger.compaction').get<string>('compactor') : inspected?.globalValue;
  return value === 'model' ? 'model' : 'offline';
}

/** The chat's model settings (trust-checked) and the key version, for a model compaction. */
export async function modelChoiceOf(engine: EngineClient): Promise<CompactionModelChoice> {
  const { settings } = readChatSettings(settingReader(vscode.workspace.getConfiguration('contextLedger'), vscode.workspace.isTrusted));
  return { keyVersion: await engine.keyVersion(), settings: { model: settings.model, baseUrl: settings.baseUrl, maxTokens: settings.maxTokens, timeoutMs: settings.timeoutMs } };
}
