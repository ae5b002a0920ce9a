// Command ids, in one place; package.json contributes the same ids.
export const CommandId = {
  newSession: 'contextLedger.newSession',
  showLogStats: 'contextLedger.showLogStats',
  verifyStore: 'contextLedger.verifyStore',
  refreshSessions: 'contextLedger.refreshSessions',
  showEngineLog: 'contextLedger.showEngineLog',
  restartEngine: 'contextLedger.restartEngine',
} as const;

export const ViewId = {
  sessions: 'contextLedger.sessions',
} as const;

/** The chat panel's commands (registered by src/extension/chat/chatFeature.ts). */
export const ChatCommandId = {
  openChat: 'contextLedger.openChat',
  setApiKey: 'contextLedger.setApiKey',
  clearApiKey: 'contextLedger.clearApiKey',
  newTopic: 'contextLedger.newTopic',
  showContextReceipt: 'contextLedger.showContextReceipt',
} as const;
