import type { TimelineCategory } from '../../shared/memoryPanelMessages';

// Numbers, sizes and times as the memory panel writes them.

export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function bytes(value: number): string {
  if (value < 1024) {
    return `${value} B`;
  }
  const units = ['KB', 'MB', 'GB', 'TB'];
  let amount = value / 1024;
  let unit = 0;
  while (amount >= 1024 && unit < units.length - 1) {
    amount /= 1024;
    unit++;
  }
  return `${amount.toFixed(amount >= 100 ? 0 : 1)} ${units[unit]}`;
}

export function age(ms: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 90) {
    return `${seconds} s`;
  }
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) {
    return `${minutes} min`;
  }
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} days`;
}

export function time(ms: number): string {
  return new Date(ms).toLocaleString();
}

export const categoryIcons: Record<TimelineCategory, string> = {
  turn: 'account',
  answer: 'hubot',
  toolCall: 'tools',
  toolResult: 'output',
  receipt: 'checklist',
  failure: 'error',
  compaction: 'fold',
  undo: 'discard',
  imported: 'cloud-download',
  other: 'circle-small',
};

export const categoryNames: Record<TimelineCategory, string> = {
  turn: 'Question',
  answer: 'Answer',
  toolCall: 'Tool call',
  toolResult: 'Tool result',
  receipt: 'Receipt',
  failure: 'Failure',
  compaction: 'Compaction',
  undo: 'Undo',
  imported: 'Imported record',
  other: 'Event',
};
