// Command ids, in one place; package.json contributes the same ids.
export const CommandId = {
  newSession: 'contextLedger.newSession',
  showLogStats: 'contextLedger.showLogStats',
  verifyStore: 'contextLedger.verifyStore',
  refreshSessions: 'contextLedger.refreshSessions',
  showEngineLog: 'contextLedger.showEngineLog',
  restartEngine: 'contextLedger.restartEngine',
  repairStore: 'contextLedger.repairStore',
  /** A Sessions tree row's click, and its context menu. */
  openSession: 'contextLedger.openSession',
  renameSession: 'contextLedger.renameSession',
  deleteSession: 'contextLedger.deleteSession',
  exportSession: 'contextLedger.exportSession',
} as const;

export const ViewId = {
  sessions: 'contextLedger.sessions',
  /** The side-bar chat (a webview view; the editor-tab chat is `chatPanelViewType`). */
  chat: 'contextLedger.chatView',
} as const;

/** The chat's commands (registered by src/extension/chat/chatFeature.ts). */
export const ChatCommandId = {
  openChat: 'contextLedger.openChat',
  openChatInSideBar: 'contextLedger.openChatInSideBar',
  setApiKey: 'contextLedger.setApiKey',
  clearApiKey: 'contextLedger.clearApiKey',
  newTopic: 'contextLedger.newTopic',
  showContextReceipt: 'contextLedger.showContextReceipt',
} as const;

/** Import's commands (registered by src/extension/import/importCommands.ts). */
export const ImportCommandId = {
  importClaudeCode: 'contextLedger.importClaudeCodeSessions',
} as const;

/** Prompt drift's commands (registered by src/extension/drift/driftFeature.ts). */
export const DriftCommandId = {
  checkPromptDrift: 'contextLedger.checkPromptDrift',
  /** Code actions on fact diagnostics (driftFactActions.ts). */
  markFactVerified: 'contextLedger.drift.markFactVerified',
  retireFact: 'contextLedger.drift.retireFact',
} as const;

/** The Facts view's commands (registered by src/extension/facts/factsFeature.ts). */
export const FactsCommandId = {
  addFact: 'contextLedger.addFact',
  rememberSelection: 'contextLedger.rememberSelection',
  refreshFacts: 'contextLedger.refreshFacts',
  editFact: 'contextLedger.editFact',
  pinFact: 'contextLedger.pinFact',
  unpinFact: 'contextLedger.unpinFact',
  retireFact: 'contextLedger.retireFact',
  mergeFact: 'contextLedger.mergeFact',
  keepValue: 'contextLedger.keepFactValue',
  confirmProposal: 'contextLedger.confirmProposal',
  rejectProposal: 'contextLedger.rejectProposal',
  goToSource: 'contextLedger.goToFactSource',
  markVerified: 'contextLedger.markFactVerified',
} as const;

export const factsViewId = 'contextLedger.facts';
