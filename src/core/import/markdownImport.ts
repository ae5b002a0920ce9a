import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { EventDraft } from '../log/events';
import type { LineProblem } from './importTypes';
import { parseSourceTimestamp, withSourceTime } from './sourceTime';

// A Markdown transcript, as Export Session… writes it (`## User`, `## Assistant`, `### Tool call:
// NAME` with a JSON fence, `### Tool result` with a fence), read back as one session. Ids come
// from the file's path and the section's place, so importing the same file again stores nothing
// twice. Lines in italics (other events: receipts, pins) are not conversation and are left out.

export interface MarkdownImport {
  readonly sessionId: string;
  readonly drafts: EventDraft[];
  readonly problems: LineProblem[];
  readonly sections: number;
}

interface Section {
  readonly heading: string;
  readonly line: number;
  readonly body: string[];
}

export function markdownSessionId(file: string): string {
  return `md-${createHash('sha256').update(path.resolve(file)).digest('hex').slice(0, 16)}`;
}

export function importMarkdown(file: string, text: string): MarkdownImport {
  const sessionId = markdownSessionId(file);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let name = path.basename(file).replace(/\.(md|markdown)$/i, '');
  const sections: Section[] = [];
  let current: Section | undefined;
  let fenceTicks = '';
  lines.forEach((line, index) => {
    if (fenceTicks === '') {
      const heading = /^(#{1,3}) (.*)$/.exec(line);
      if (heading) {
        if (heading[1] === '#' && sections.length === 0 && current === undefined) {
          name = heading[2]!.trim().slice(0, 200) || name;
          return;
        }
        current = { heading: heading[2]!.trim(), line: index + 1, body: [] };
        sections.push(current);
        return;
      }
    }
    const ticks = /^(`{3,})/.exec(line)?.[1];
    if (ticks && (fenceTicks === '' || ticks === fenceTicks)) {
      fenceTicks = fenceTicks === '' ? ticks : '';
    }
    current?.body.push(line);
  });
  const drafts: EventDraft[] = [{ kind: 'session.started', sessionId, id: `${sessionId}:start`, body: { name } }];
  const problems: LineProblem[] = [];
  const openCalls: string[] = [];
  sections.forEach((section, index) => {
    const before = drafts.length;
    importSection(section, index);
    // The export's time note under the heading is when the section happened: its source time.
    const sourceTimeMs = sectionTime(section.body);
    if (sourceTimeMs !== undefined && drafts.length > before) {
      drafts[drafts.length - 1] = withSourceTime(drafts.at(-1)!, sourceTimeMs);
    }
  });
  return { sessionId, drafts, problems, sections: sections.length };

  function importSection(section: Section, index: number): void {
    const id = `${sessionId}:s${index}`;
    const content = withoutNotes(section.body).join('\n').trim();
    if (/^User$/.test(section.heading)) {
      drafts.push({ kind: 'message.user', sessionId, id, body: { text: content } });
    } else if (/^Assistant( \(incomplete\))?$/.test(section.heading)) {
      drafts.push({ kind: 'message.assistant', sessionId, id, body: { text: content, ...(section.heading.endsWith('(incomplete)') ? { incomplete: true } : {}) } });
    } else if (section.heading.startsWith('Tool call: ')) {
      let input: unknown = {};
      try {
        input = JSON.parse(unfence(content) || '{}');
      } catch {
        problems.push({ file, line: section.line, problem: 'the tool call input is not valid JSON; imported as text', partial: true });
        input = { text: unfence(content) };
      }
      const toolUseId = `${id}:call`;
      openCalls.push(toolUseId);
      drafts.push({ kind: 'tool.use', sessionId, id, body: { toolUseId, name: section.heading.slice('Tool call: '.length).trim().slice(0, 200) || 'tool', input } });
    } else if (/^Tool result( \(error\))?$/.test(section.heading)) {
      const toolUseId = openCalls.shift();
      if (!toolUseId) {
        problems.push({ file, line: section.line, problem: 'a tool result without a tool call before it: skipped' });
        return;
      }
      drafts.push({ kind: 'tool.result', sessionId, id, body: { toolUseId, content: unfence(content), ...(section.heading.endsWith('(error)') ? { isError: true } : {}) } });
    } else {
      problems.push({ file, line: section.line, problem: `a section "${section.heading.slice(0, 60)}" is not part of a transcript (User, Assistant, Tool call, Tool result): skipped` });
    }
  }
}

/** The time of the export's note that opens a section (`*2025-07-01T10:00:00.000Z …*`), if any. */
function sectionTime(body: readonly string[]): number | undefined {
  const first = body.find((line) => line.trim() !== '')?.trim();
  const match = first === undefined ? null : /^\*(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?Z)\b[^*]*\*$/.exec(first);
  return match ? parseSourceTimestamp(match[1]) : undefined;
}

/** A section's lines without its italic paragraphs (the export's notes on other events). */
function withoutNotes(lines: readonly string[]): string[] {
  const kept: string[] = [];
  let paragraph: string[] = [];
  const end = (): void => {
    const first = paragraph[0]?.trimStart() ?? '';
    const last = paragraph.at(-1)?.trimEnd() ?? '';
    if (!(first.startsWith('*') && last.endsWith('*'))) {
      kept.push(...paragraph);
    }
    paragraph = [];
  };
  let inFence = '';
  for (const line of lines) {
    const ticks = /^(`{3,})/.exec(line)?.[1];
    if (ticks && (inFence === '' || ticks === inFence)) {
      inFence = inFence === '' ? ticks : '';
    }
    if (line.trim() === '' && inFence === '') {
      end();
      kept.push(line);
    } else {
      paragraph.push(line);
    }
  }
  end();
  return kept;
}

/** The inside of one code fence (as transcriptReport's `fence` writes it), or the text as is. */
function unfence(text: string): string {
  const match = /^(`{3,})[^\n]*\n([\s\S]*)\n\1$/.exec(text.trim());
  return match ? match[2]! : text;
}
