// The retrieval commands (registered by retrievalFeature.ts); package.json contributes the same ids.
export const RetrievalCommandId = {
  reindexWorkspace: 'contextLedger.reindexWorkspace',
  searchMemory: 'contextLedger.searchMemory',
  showRetrievalStats: 'contextLedger.showRetrievalStats',
} as const;
