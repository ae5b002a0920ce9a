// The memory tools' names, apart from their schemas, for callers that only name them (the VS
// Code side registers them; the engine runs them).

export const memoryToolNames = ['list_sessions', 'read_session', 'get_facts', 'propose_fact', 'search_memory', 'record_note'] as const;
export type MemoryToolName = (typeof memoryToolNames)[number];

/** The tools that write (a proposal, a note): VS Code asks the user before they run. */
export const writingMemoryTools: readonly MemoryToolName[] = ['propose_fact', 'record_note'];
