import { displayLine, displayPath, fenceAsData } from './toolText';
import { WorkspaceAccessError, type WorkspaceFiles } from './workspaceFiles';
import { describeSearchCoverage, searchWorkspace } from './workspaceSearch';
import type { RetrievalIndex } from '../retrieval/retrievalIndex';
import { searchIndexedText } from '../retrieval/indexedSearch';

// The read-only tools the model may call. Their results enter the prompt, so workspace content
// is fenced as data: a header that says it is data and not instructions, and a fence that the
// content cannot close. What the tool itself says (truncation, skipped files) follows the fence.
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly input_schema: { readonly type: 'object'; readonly properties: Record<string, unknown>; readonly required?: readonly string[] };
}

export const modelToolDefinitions: readonly ToolDefinition[] = [
  {
    name: 'read_file',
    description: 'Read a text file of the open workspace. Paths are relative to the workspace folder. Secret files and files ignored by .gitignore are not readable.',
    input_schema: { type: 'object', properties: { path: { type: 'string', description: 'Workspace-relative path' } }, required: ['path'] },
  },
  {
    name: 'list_files',
    description: 'List files of the open workspace under a folder (default: the whole workspace), optionally only those whose path contains a substring.',
    input_schema: {
      type: 'object',
      properties: { folder: { type: 'string', description: 'Workspace-relative folder, default "."' }, contains: { type: 'string', description: 'Only paths containing this text' } },
    },
  },
  {
    name: 'search_text',
    description:
      'Search the text files of the open workspace (or of one folder) for lines containing a string (case-insensitive). Returns file, line number and the line. A search reads at most 500 files; the result says when it was cut short.',
    input_schema: {
      type: 'object',
      properties: {
        query: { type: 'string' },
        folder: { type: 'string', description: 'Workspace-relative folder to search, default "."' },
        maxResults: { type: 'integer', minimum: 1, maximum: 50 },
      },
      required: ['query'],
    },
  },
];

export interface ToolOutcome {
  readonly content: string;
  readonly isError: boolean;
}

/** Runs one tool call; every failure, a cancel (`signal`) included, is a tool error for the model. */
export async function runModelTool(files: WorkspaceFiles | undefined, name: string, input: unknown, signal?: AbortSignal, retrieval?: RetrievalIndex): Promise<ToolOutcome> {
  if (!files) {
    return { content: 'No workspace folder is open, so there are no files to read.', isError: true };
  }
  const args = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  try {
    switch (name) {
      case 'read_file': {
        const { relative, text, settled, attempts } = await files.readSettledText(stringArg(args, 'path'));
        const note = settled ? undefined : `The file changed while it was read (${attempts} reads, each changed under the read), so this content may be incomplete; it is probably being saved. Read it again in a moment.`;
        return { content: fenceAsData(`file ${displayPath(relative)}`, text, note), isError: false };
      }
      case 'list_files': {
        const folder = optionalStringArg(args, 'folder') ?? '.';
        const contains = optionalStringArg(args, 'contains')?.toLowerCase();
        const { files: listed, truncated } = await files.listFiles(folder, contains ? (file) => file.toLowerCase().includes(contains) : undefined, signal);
        const note = truncated ? `Listed the first ${listed.length} files; there are more. Narrow the list with "folder" or "contains".` : undefined;
        return { content: fenceAsData(`file list of ${displayPath(folder)}`, listed.map(displayPath).join('\n') || '(no files)', note), isError: false };
      }
      case 'search_text': {
        const query = stringArg(args, 'query');
        const folder = optionalStringArg(args, 'folder');
        const maxResults = Number.isSafeInteger(args.maxResults) ? Math.min(50, Math.max(1, args.maxResults as number)) : undefined;
        // The retrieval index answers when it covers the folder (no 500-file cap); else the files are walked.
        const indexed = retrieval && files.folder === retrieval.workspaceFolder ? searchIndexedText(retrieval, query, { ...(folder ? { folder: files.resolve(folder).relative } : {}), maxResults: maxResults ?? files.limits.maxSearchResults }) : undefined;
        const outcome = indexed ?? (await searchWorkspace(files, query, { ...(folder ? { folder } : {}), ...(maxResults ? { maxResults } : {}), ...(signal ? { signal } : {}) }));
        const body = outcome.matches.map((match) => `${displayPath(match.file)}:${match.line}: ${match.text}`).join('\n');
        const where = folder ? ` in ${displayPath(folder)}` : '';
        return { content: fenceAsData(`search results for ${JSON.stringify(query)}${where}`, body || '(no matches)', describeSearchCoverage(outcome, files)), isError: false };
      }
      default:
        return { content: `Unknown tool ${JSON.stringify(name)}. Available: ${modelToolDefinitions.map((tool) => tool.name).join(', ')}.`, isError: true };
    }
  } catch (error) {
    if (signal?.aborted) {
      // Still a result, so the log answers every tool call; the turn then ends as stopped.
      return { content: 'Stopped before the tool finished (the turn was stopped or ran out of time).', isError: true };
    }
    if (error instanceof WorkspaceAccessError) {
      return { content: error.message, isError: true };
    }
    // A system error's message can carry an absolute path; its code is enough.
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    return { content: `The tool failed: ${displayLine(code ?? (error instanceof Error ? error.message : String(error)))}`, isError: true };
  }
}

function stringArg(args: Record<string, unknown>, name: string): string {
  const value = args[name];
  if (typeof value !== 'string' || value === '') {
    throw new WorkspaceAccessError(`"${name}" must be a non-empty string`);
  }
  return value;
}

function optionalStringArg(args: Record<string, unknown>, name: string): string | undefined {
  const value = args[name];
  if (value === undefined || value === null || value === '') {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new WorkspaceAccessError(`"${name}" must be a string`);
  }
  return value;
}
