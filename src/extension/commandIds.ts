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
