import * as path from 'node:path';
import type { SqlJsStatic } from 'sql.js';
import { currentPromptVersion } from '../drift/promptVersions';
import { FactsStore } from '../facts/factsStore';
import type { FactView } from '../facts/factTypes';
import type { FileSystem } from '../fs/fileSystem';
import type { Ledger } from '../ledger';
import { isSystemStream } from '../log/systemStreams';
import { transcriptLines } from '../report/transcriptReport';
import { indexFilePath, readSavedWorkspaceFolder } from '../retrieval/indexDatabase';
import { RetrievalIndex } from '../retrieval/retrievalIndex';
import type { RetrievalSearchResult } from '../retrieval/retrievalTypes';
import { fenceAsData } from '../tools/toolText';
import { WorkspaceFiles } from '../tools/workspaceFiles';
import { mcpNotesStreamId } from './mcpEvents';

// What each MCP tool does on the store, as plain text for the client. Everything read from the
// store (transcripts, fact values, file chunks) goes out fenced as data: a client model must
// not take it as instructions. Writes are limited to proposals and notes: an assistant never
// changes a fact itself.

/** Bad arguments or a missing thing: the call fails with this message, nothing is written. */
export class MemoryToolError extends Error {
  override readonly name = 'MemoryToolError';
}

/**
 * Runs a search of the workspace index; a string says why there is nothing to search. The CLI
 * searches the store's saved index (`SavedIndexSearch`); the engine asks its own index.
 */
export type MemorySearch = (query: string, limit: number) => Promise<RetrievalSearchResult | string>;

export interface MemoryToolsOptions {
  readonly ledger: Ledger;
  readonly search: MemorySearch;
}

/**
 * Searches the retrieval index saved in the store. The index stays open between calls (opening
 * it is most of a call's time) and is opened again when the saved file changed under it: VS
 * Code's engine re-indexes and saves the same file. What the read-time check repaired is saved.
 */
export class SavedIndexSearch {
  private open: { index: RetrievalIndex; folder: string; identity: string } | undefined;
  private opens = 0;

  constructor(private readonly options: { readonly storeDir: string; readonly fs: FileSystem; readonly sql: SqlJsStatic }) {}

  readonly search: MemorySearch = async (query, limit) => {
    const index = this.current();
    if (typeof index === 'string') {
      return index;
    }
    // The read-time check runs inside search: a hit is what its file holds now.
    const result = index.search(query, { limit });
    if (index.isDirty) {
      index.save();
      this.open = this.open && { ...this.open, identity: this.fileIdentity() };
    }
    return result;
  };

  /** How many times the saved index was opened (once, and again after each save by another writer). */
  get openCount(): number {
    return this.opens;
  }

  dispose(): void {
    this.open?.index.close();
    this.open = undefined;
  }

  private current(): RetrievalIndex | string {
    const { sql, fs, storeDir } = this.options;
    const identity = this.fileIdentity();
    if (this.open && this.open.identity === identity) {
      return this.open.index;
    }
    this.dispose();
    const store = path.resolve(storeDir);
    const folder = readSavedWorkspaceFolder(sql, fs, indexFilePath(store));
    if (!folder) {
      return `no retrieval index in this store: nothing to search (build one with \`context-ledger --store ${storeDir} index FOLDER\`)`;
    }
    const index = RetrievalIndex.open({ sql, fs, workspace: new WorkspaceFiles(folder), storeDir: store });
    this.open = { index, folder, identity };
    this.opens++;
    return index;
  }

  /** The saved index file as of now: changed size, mtime or inode means another writer saved it. */
  private fileIdentity(): string {
    try {
      const stat = this.options.fs.statSync(indexFilePath(path.resolve(this.options.storeDir)));
      return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }
}

/** Rough token estimate (4 characters a token): enough to bound a window of a session. */
const charsPerToken = 4;

export class MemoryTools {
  private readonly facts: FactsStore;
  private notesStarted = false;

  constructor(private readonly options: MemoryToolsOptions) {
    this.facts = new FactsStore(options.ledger);
  }

  listSessions(): string {
    const sessions = this.options.ledger.listSessions();
    if (sessions.length === 0) {
      return 'no sessions';
    }
    const lines = sessions.map((session) => `${session.id}  ${JSON.stringify(session.name)}  ${session.turnCount} turns  last ${new Date(session.lastActivityMs).toISOString()}${session.closed ? '  (closed)' : ''}`);
    return fenceAsData('session list', lines.join('\n'));
  }

  readSession(sessionId: string, last: number | undefined, maxTokens: number): string {
    const session = isSystemStream(sessionId) ? undefined : this.options.ledger.getSession(sessionId);
    if (!session) {
      throw new MemoryToolError(`there is no session ${JSON.stringify(sessionId)} (list_sessions shows them)`);
    }
    const events = this.options.ledger.readSession(sessionId, last !== undefined ? { last } : {});
    const [header = '', ...lines] = transcriptLines(session, events);
    // Keep the newest lines that fit the budget: the end of a session is what a caller resumes.
    const budget = maxTokens * charsPerToken;
    let used = header.length;
    let first = lines.length;
    while (first > 0 && used + lines[first - 1]!.length + 1 <= budget) {
      first--;
      used += lines[first]!.length + 1;
    }
    const kept = lines.slice(first);
    const note = first > 0 ? `(${first} earlier lines left out to stay within ${maxTokens} tokens; pass a smaller "last" or a larger "maxTokens")` : undefined;
    return fenceAsData(`session ${sessionId}`, [header, ...kept].join('\n'), note);
  }

  getFacts(): string {
    const facts = this.facts.list();
    const proposals = this.facts.queries.proposals('pending');
    if (facts.length === 0 && proposals.length === 0) {
      return 'no facts';
    }
    const lines = [...facts.flatMap(factLines), ...proposals.map((proposal) => `proposed (pending, not a fact yet) ${proposal.key} = ${JSON.stringify(proposal.value)}  [${proposal.proposalId}]`)];
    return fenceAsData('facts', lines.join('\n'));
  }

  async proposeFact(client: string, key: string, value: string, reason: string | undefined): Promise<string> {
    try {
      // The prompt version in effect, as the chat's proposals record it (drift flags old ones).
      const version = currentPromptVersion(this.options.ledger);
      const proposal = await this.facts.propose({
        key,
        value,
        trust: 'model-proposed',
        provenance: { sessionId: null, eventId: null, path: null, line: null },
        promptVersion: version ? String(version.version) : null,
        reason: `proposed by MCP client ${client}${reason ? `: ${reason}` : ''}`,
      });
      return `proposed ${proposal.key} = ${JSON.stringify(proposal.value)} as ${proposal.proposalId}: it waits for the user to confirm it in Context Ledger; it is not a fact until then`;
    } catch (error) {
      if (error instanceof Error && error.name === 'FactsInputError') {
        throw new MemoryToolError(error.message);
      }
      throw error;
    }
  }

  async searchMemory(query: string, limit: number): Promise<string> {
    if (query.trim() === '') {
      throw new MemoryToolError('the query is empty');
    }
    const result = await this.options.search(query, limit);
    if (typeof result === 'string') {
      return result;
    }
    if (result.hits.length === 0) {
      return `no hits for ${JSON.stringify(query)}${result.partial ? ' (the index is partial)' : ''}`;
    }
    const parts = result.hits.map((hit) => fenceAsData(`${hit.path}:${hit.startLine}-${hit.endLine}`, hit.text, `score ${hit.score.toFixed(2)}`));
    const notes = [result.partial ? '(the index is partial: its first build has not finished)' : '', result.staleDropped > 0 ? `(${result.staleDropped} hits of changed files were re-checked and replaced or dropped)` : ''].filter(Boolean);
    return [...parts, ...notes].join('\n\n');
  }

  async recordNote(client: string, text: string): Promise<string> {
    if (text.trim() === '') {
      throw new MemoryToolError('the note is empty');
    }
    const { ledger } = this.options;
    if (!this.notesStarted && !ledger.getSession(mcpNotesStreamId)) {
      await ledger.append([{ kind: 'session.started', id: 'mcp-notes-stream-start', sessionId: mcpNotesStreamId, body: { name: 'MCP notes' } }]);
    }
    this.notesStarted = true;
    const [verdict] = await ledger.append([{ kind: 'mcp.note', sessionId: mcpNotesStreamId, body: { client, text } }]);
    if (verdict?.status === 'conflict') {
      throw new Error(`the note was refused: ${verdict.reason}`);
    }
    return 'noted';
  }
}

function factLines(fact: FactView): string[] {
  const marks = [fact.state === 'conflicted' ? `conflicted: ${fact.heads.length} values, the user has to merge them` : '', fact.stale ? 'stale: a cited file changed' : '', fact.state === 'retired' ? 'retired' : ''].filter(Boolean).join('; ');
  if (fact.state === 'conflicted') {
    return [`${fact.key}  (${marks})`, ...fact.heads.map((head, index) => `  ${index + 1}. ${head.value === null ? '(retired)' : JSON.stringify(head.value)}  (${head.trust})`)];
  }
  const value = fact.heads[0]?.value;
  return [`${fact.key} = ${value === null || value === undefined ? '(retired)' : JSON.stringify(value)}${marks ? `  (${marks})` : ''}`];
}
