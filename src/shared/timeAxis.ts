// Tick marks of a time axis (the memory panel's token chart): a round step (a minute, an hour, a
// day…) chosen so at most `maxTicks` steps fit in the span, each labelled in local time as
// precisely as the step needs (14:05, 14:05:30, Nov 30, Nov 30 14:00). Pure, so the unit tests
// run it in Node; the webview draws it.

export interface TimeTick {
  readonly ms: number;
  readonly label: string;
}

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;
const steps = [second, 5 * second, 15 * second, 30 * second, minute, 5 * minute, 15 * minute, 30 * minute, hour, 3 * hour, 6 * hour, 12 * hour, day, 2 * day, 7 * day, 14 * day, 30 * day, 91 * day, 365 * day];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function two(value: number): string {
  return String(value).padStart(2, '0');
}

/** The smallest round step that puts at most `maxTicks` ticks in [startMs, endMs]. */
export function tickStep(spanMs: number, maxTicks: number): number {
  return steps.find((step) => spanMs / step <= maxTicks) ?? Math.ceil(spanMs / maxTicks / day) * day;
}

/** A time as the axis writes it for a step (local time). */
export function tickLabel(ms: number, stepMs: number, withDate: boolean): string {
  const date = new Date(ms);
  const clock = `${two(date.getHours())}:${two(date.getMinutes())}${stepMs < minute ? `:${two(date.getSeconds())}` : ''}`;
  const calendar = `${months[date.getMonth()]} ${date.getDate()}`;
  if (stepMs >= day) {
    return calendar;
  }
  return withDate ? `${calendar} ${clock}` : clock;
}

/** Ticks at round local times in [startMs, endMs]; none for an empty or invalid span. */
export function timeTicks(startMs: number, endMs: number, maxTicks = 6): TimeTick[] {
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs <= startMs || maxTicks < 1) {
    return [];
  }
  const step = tickStep(endMs - startMs, maxTicks);
  const ticks: TimeTick[] = [];
  // The span crosses midnight: every clock label says its day, so none reads as the wrong day.
  const withDate = new Date(startMs).toDateString() !== new Date(endMs).toDateString();
  for (let ms = firstTick(startMs, step); ms <= endMs && ticks.length <= maxTicks; ms = nextTick(ms, step)) {
    ticks.push({ ms, label: tickLabel(ms, step, withDate) });
  }
  return ticks;
}

/** The first round local time at or after `ms`: on the step within the day, at midnight for days. */
function firstTick(ms: number, step: number): number {
  const date = new Date(ms);
  if (step >= day) {
    date.setHours(0, 0, 0, 0);
    if (date.getTime() < ms) {
      date.setDate(date.getDate() + 1);
    }
    return date.getTime();
  }
  const offset = date.getTimezoneOffset() * minute;
  return Math.ceil((ms - offset) / step) * step + offset;
}

/** The next tick: whole local days for a day step (a DST change makes one 23 or 25 hours). */
function nextTick(ms: number, step: number): number {
  if (step < day) {
    return ms + step;
  }
  const date = new Date(ms);
  date.setDate(date.getDate() + Math.round(step / day));
  return date.getTime();
}

/** A readable local date and time for a tooltip (2026-11-30 14:05:09). */
export function readableTime(ms: number): string {
  const date = new Date(ms);
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** A short local time for a timeline row: the clock today, with the day before today. */
export function shortTime(ms: number, nowMs = Date.now()): string {
  const sameDay = new Date(ms).toDateString() === new Date(nowMs).toDateString();
  return tickLabel(ms, minute, !sameDay);
}
