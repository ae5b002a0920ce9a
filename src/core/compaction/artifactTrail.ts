import type { StoredEvent } from '../log/events';
import type { ArtifactTrail, FileAction, TrailCommand, TrailError, TrailFile, TrailNote } from './compactionTypes';

// The artifact trail of a range: which files were read, written and created (with the tool
// calls that did it), which commands ran and how they ended, what failed, what the user
// confirmed and what is still open. It is derived from the events alone, never from a model,
// so it is exact: the same events give the same trail, and a summary cannot drop an item of it.
//
// Tool names cover this extension's read-only tools and the editing and shell tools of other
// assistants whose sessions are imported (Claude Code's Read/Write/Edit/Bash and the like).

const readTools = new Set(['read_file', 'read', 'view', 'cat', 'notebookread', 'open_file']);
const writeTools = new Set(['write_file', 'write', 'create_file', 'notebookedit']);
const editTools = new Set(['edit', 'multiedit', 'edit_file', 'str_replace', 'str_replace_editor', 'apply_patch', 'replace_in_file', 'insert']);
const listTools = new Set(['list_files', 'ls', 'glob', 'list_dir', 'list_directory']);
const searchTools = new Set(['search_text', 'grep', 'search', 'find', 'ripgrep']);
const shellTools = new Set(['bash', 'shell', 'run_command', 'execute_command', 'run_terminal_cmd', 'terminal', 'exec']);

const pathFields = ['path', 'file_path', 'filePath', 'notebook_path', 'file', 'filename', 'target_file'];
const maxNoteChars = 600;

/** A user message that confirms a decision ("yes, go with …", "let's use …", "decision: …"). */
const confirmation = /^\s*(?:yes\b|yep\b|yeah\b|ok\b|okay\b|agreed\b|sounds good|go ahead|do it\b|confirmed?\b|approved?\b|let'?s\s|lets\s|we(?:'ll| will| should) (?:go with|use|keep|stick)|go with\b|use\b|decision:|decided\b|final answer\b)/i;
/** Words that mark a line as still open. */
const openMarker = /\b(?:TODO|FIXME|open question|unresolved|still (?:need|have) to|not (?:yet )?decided|tbd)\b/i;

function toolKind(name: string): 'read' | 'write' | 'edit' | 'list' | 'search' | 'shell' | 'other' {
  const key = name.toLowerCase().replace(/^mcp__[^_]+__/, '');
  if (readTools.has(key)) {
    return 'read';
  }
  if (writeTools.has(key)) {
    return 'write';
  }
  if (editTools.has(key)) {
    return 'edit';
  }
  if (listTools.has(key)) {
    return 'list';
  }
  if (searchTools.has(key)) {
    return 'search';
  }
  return shellTools.has(key) ? 'shell' : 'other';
}

function field(input: unknown, names: readonly string[]): string | undefined {
  if (typeof input !== 'object' || input === null) {
    return undefined;
  }
  for (const name of names) {
    const value = (input as Record<string, unknown>)[name];
    if (typeof value === 'string' && value.trim() !== '') {
      return value;
    }
  }
  return undefined;
}

/** The exit status a command's result names ("exit code 2", "Exit status: 1", "exited with 127"). */
export function exitStatusOf(content: string, isError: boolean): number | null {
  const match = /\bexit(?:ed)?(?:\s+(?:code|status))?(?:\s+with)?\s*[:=]?\s*(-?\d{1,5})\b/i.exec(content);
  if (match) {
    return Number(match[1]);
  }
  return isError ? null : 0;
}

function firstLine(text: string, max = maxNoteChars): string {
  const line = text.trim().split('\n').find((candidate) => candidate.trim() !== '') ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line.trim();
}

function clip(text: string, max = maxNoteChars): string {
  const flat = text.trim().replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Sentences of a text ending in "?" and lines marked open, outside code fences. */
function questionsIn(text: string): Array<{ text: string; marked: boolean }> {
  const found: Array<{ text: string; marked: boolean }> = [];
  let inFence = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) {
      inFence = !inFence;
      continue;
    }
    if (inFence) {
      continue;
    }
    for (const sentence of line.split(/(?<=[.!?])\s+/)) {
      if (sentence.trim().endsWith('?') && sentence.trim().length > 3) {
        found.push({ text: clip(sentence), marked: openMarker.test(sentence) });
      }
    }
    if (openMarker.test(line) && !line.trim().endsWith('?')) {
      found.push({ text: clip(line), marked: true });
    }
  }
  return found;
}

/** The trail of a range's events (in seq order). */
export function deriveTrail(events: readonly StoredEvent[]): ArtifactTrail {
  const files = new Map<string, { path: string; action: FileAction; toolUseIds: string[] }>();
  const seenPaths = new Map<string, Set<FileAction>>();
  const commands = new Map<string, { command: string; toolUseId: string; exitStatus: number | null; failed: boolean }>();
  const pendingTools = new Map<string, { kind: ReturnType<typeof toolKind>; path?: string }>();
  const errors: TrailError[] = [];
  const decisions: TrailNote[] = [];
  // Marked lines (TODO, unresolved …) stay open; questions close when the other side writes.
  let openQuestions: Array<TrailNote & { marked: boolean }> = [];
  let lastAssistant: StoredEvent | undefined;

  const touch = (path: string, action: FileAction, toolUseId: string): void => {
    const key = `${action}\u0000${path}`;
    const entry = files.get(key);
    if (entry) {
      entry.toolUseIds.push(toolUseId);
    } else {
      files.set(key, { path, action, toolUseIds: [toolUseId] });
    }
    const actions = seenPaths.get(path) ?? new Set<FileAction>();
    actions.add(action);
    seenPaths.set(path, actions);
  };

  for (const event of events) {
    switch (event.kind) {
      case 'tool.use': {
        const kind = toolKind(event.body.name);
        const path = field(event.body.input, pathFields);
        pendingTools.set(event.body.toolUseId, { kind, ...(path !== undefined ? { path } : {}) });
        if (kind === 'shell') {
          const command = field(event.body.input, ['command', 'cmd', 'script']) ?? JSON.stringify(event.body.input);
          commands.set(event.body.toolUseId, { command: clip(command, 2000), toolUseId: event.body.toolUseId, exitStatus: null, failed: false });
        }
        break;
      }
      case 'tool.result': {
        const tool = pendingTools.get(event.body.toolUseId);
        const isError = event.body.isError === true;
        if (isError) {
          errors.push({ source: 'tool', ref: event.body.toolUseId, message: firstLine(event.body.content) || 'the tool call failed' });
        }
        if (!tool) {
          break;
        }
        const command = commands.get(event.body.toolUseId);
        if (command) {
          command.exitStatus = exitStatusOf(event.body.content, isError);
          command.failed = isError || (command.exitStatus !== null && command.exitStatus !== 0);
        }
        if (!isError && tool.path !== undefined) {
          // A file counts as read, written or created only once its call succeeded.
          if (tool.kind === 'read') {
            touch(tool.path, 'read', event.body.toolUseId);
          } else if (tool.kind === 'write') {
            const before = seenPaths.get(tool.path);
            const existed = before !== undefined && (before.has('read') || before.has('written') || before.has('created'));
            touch(tool.path, existed || /\b(?:updated|overwr|modified)\b/i.test(event.body.content) ? 'written' : 'created', event.body.toolUseId);
          } else if (tool.kind === 'edit') {
            touch(tool.path, 'written', event.body.toolUseId);
          } else if (tool.kind === 'list') {
            touch(tool.path, 'listed', event.body.toolUseId);
          } else if (tool.kind === 'search') {
            touch(tool.path, 'searched', event.body.toolUseId);
          }
        }
        break;
      }
      case 'turn.failed':
        errors.push({ source: 'turn', ref: event.id, message: clip(`${event.body.error.kind}: ${event.body.error.message}`) });
        break;
      case 'message.assistant':
        lastAssistant = event;
        // An answer addresses the questions before it; what it asks itself stays open until the user writes.
        openQuestions = openQuestions.filter((note) => note.marked);
        openQuestions.push(...questionsIn(event.body.text).map((question) => ({ ...question, eventId: event.id })));
        break;
      case 'message.user': {
        const text = event.body.text;
        if (confirmation.test(text)) {
          const proposal = lastAssistant?.kind === 'message.assistant' && text.trim().length < 40 ? questionsIn(lastAssistant.body.text).at(-1)?.text : undefined;
          decisions.push({ text: proposal ? `${clip(text)} (to: ${proposal})` : clip(text), eventId: event.id });
        }
        openQuestions = openQuestions.filter((note) => note.marked);
        openQuestions.push(...questionsIn(text).map((question) => ({ ...question, eventId: event.id })));
        break;
      }
      default:
        break;
    }
  }
  // A tool call that never got a result is an error of its own.
  const answered = new Set(events.flatMap((event) => (event.kind === 'tool.result' ? [event.body.toolUseId] : [])));
  for (const [toolUseId, tool] of pendingTools) {
    if (!answered.has(toolUseId)) {
      errors.push({ source: 'tool', ref: toolUseId, message: `no result was logged for this ${tool.kind === 'other' ? 'tool' : tool.kind} call` });
    }
  }
  const fileList: TrailFile[] = [...files.values()];
  const commandList: TrailCommand[] = [...commands.values()];
  return { files: fileList, commands: commandList, errors, decisions, openQuestions: dedupeNotes(openQuestions.map(({ text, eventId }) => ({ text, eventId }))) };
}

function dedupeNotes(notes: readonly TrailNote[]): TrailNote[] {
  const seen = new Set<string>();
  return notes.filter((note) => (seen.has(note.text) ? false : (seen.add(note.text), true)));
}

/** The number of items in a trail (what the fidelity check counts). */
export function trailItemCount(trail: ArtifactTrail): number {
  return trail.files.length + trail.commands.length + trail.errors.length + trail.decisions.length + trail.openQuestions.length;
}

/** The trail as plain text, one item a line: what goes into the request beside the summary. */
export function renderTrail(trail: ArtifactTrail): string {
  const lines: string[] = [];
  const section = (title: string, items: readonly string[]): void => {
    if (items.length > 0) {
      lines.push(`${title}:`, ...items.map((item) => `- ${item}`));
    }
  };
  const byAction = (action: FileAction) => trail.files.filter((file) => file.action === action).map((file) => `${file.path} (${file.toolUseIds.join(', ')})`);
  section('Files read', byAction('read'));
  section('Files created', byAction('created'));
  section('Files written', byAction('written'));
  section('Folders listed', byAction('listed'));
  section('Searched', byAction('searched'));
  section(
    'Commands',
    trail.commands.map((command) => `${command.command} → ${command.exitStatus === null ? (command.failed ? 'failed' : 'no exit status') : `exit ${command.exitStatus}`} (${command.toolUseId})`),
  );
  section('Errors', trail.errors.map((error) => `${error.message} (${error.source === 'tool' ? 'tool call' : 'turn'} ${error.ref})`));
  section('Decisions the user confirmed', trail.decisions.map((note) => note.text));
  section('Open questions', trail.openQuestions.map((note) => note.text));
  return lines.length === 0 ? 'No files, commands, errors, decisions or open questions in this range.' : lines.join('\n');
}
