import type { GrowthPoint, GrowthSeries } from '../../shared/memoryPanelMessages';
import { readableTime, timeTicks } from '../../shared/timeAxis';
import { h } from '../chat/dom';
import { count } from './format';

// The session's tokens over time as plain SVG: the running total of its content (what a request
// would carry with no window or compaction), the request sizes the receipts recorded as dots,
// and the compactions in force as shaded bands. The x-axis is the events' own time (an imported
// event's transcript time), with round ticks labelled below; hovering says which event a point
// is (its position in the session), and a click jumps the timeline to it.

const svgNs = 'http://www.w3.org/2000/svg';
const width = 600;
const height = 120;
const pad = 4;
const minTimeSpanMs = 1000;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string>): SVGElementTagNameMap[K] {
  const element = document.createElementNS(svgNs, tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, value);
  }
  return element;
}

function describePoint(point: GrowthPoint, eventCount: number, what: string): string {
  return `${what} at event ${count(point.index + 1)} of ${count(eventCount)} (seq ${point.seq}), ${readableTime(point.timeMs)}: ${count(point.tokens)} tokens`;
}

export function growthChart(series: GrowthSeries, jump: (index: number) => void): HTMLElement {
  const max = Math.max(1, series.totalTokens, ...series.requests.map((point) => point.tokens));
  const start = series.timeSpan?.startMs ?? 0;
  const span = (series.timeSpan?.endMs ?? 0) - start;
  // Events written within a second (one batch, one import of records with one timestamp) would
  // stack on one x: then the x-axis is their position in the session, and the axis says so.
  const byTime = span >= minTimeSpanMs;
  const lastIndex = Math.max(1, series.eventCount - 1);
  const x = (ms: number): number => pad + ((width - 2 * pad) * (ms - start)) / Math.max(1, span);
  const xIndex = (index: number): number => pad + ((width - 2 * pad) * index) / lastIndex;
  const xOf = (point: { timeMs: number; index: number }): number => (byTime ? x(point.timeMs) : xIndex(point.index));
  const y = (tokens: number): number => height - pad - ((height - 2 * pad) * tokens) / max;
  const label = `Tokens of the session over time: ${count(series.totalTokens)} tokens in ${count(series.eventCount)} events${series.timeSpan ? `, ${readableTime(series.timeSpan.startMs)} to ${readableTime(series.timeSpan.endMs)}` : ''}; ${series.requests.length} recorded requests, ${series.compactions.length} compactions in force.`;
  const chart = svg('svg', { class: 'growth', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label });
  chart.append(Object.assign(svg('title', {}), { textContent: label }));
  const ticks = series.timeSpan && byTime ? timeTicks(series.timeSpan.startMs, series.timeSpan.endMs) : [];
  for (const tick of ticks) {
    chart.append(svg('line', { class: 'tick', x1: x(tick.ms).toFixed(1), x2: x(tick.ms).toFixed(1), y1: '0', y2: String(height) }));
  }
  for (const band of series.compactions) {
    const from = byTime ? x(band.firstTimeMs) : xIndex(band.firstIndex);
    const to = byTime ? x(band.timeMs) : xIndex(band.index);
    chart.append(svg('rect', { class: 'compacted', x: from.toFixed(1), y: '0', width: String(Math.max(1, to - from)), height: String(height) }));
  }
  chart.append(svg('polyline', { class: 'total', points: series.points.map((point) => `${xOf(point).toFixed(1)},${y(point.tokens).toFixed(1)}`).join(' ') }));
  for (const point of series.requests) {
    const dot = svg('circle', { class: 'request', cx: xOf(point).toFixed(1), cy: y(point.tokens).toFixed(1), r: '2' });
    dot.append(Object.assign(svg('title', {}), { textContent: describePoint(point, series.eventCount, 'Request') }));
    chart.append(dot);
  }

  // Ticks as HTML below the chart: text in a stretched SVG would be stretched with it.
  const axis = h('div', { class: 'growth-axis', 'aria-hidden': 'true' });
  for (const tick of ticks) {
    const share = (100 * x(tick.ms)) / width;
    // A label at an end of the chart is aligned inward, so none is cut off.
    const tickLabel = h('span', { class: `tick-label${share < 6 ? ' at-start' : share > 94 ? ' at-end' : ''}`, 'data-ms': String(tick.ms) }, tick.label);
    tickLabel.style.left = `${share.toFixed(2)}%`;
    axis.append(tickLabel);
  }
  if (ticks.length === 0 && series.timeSpan) {
    axis.append(h('span', { class: 'tick-label start' }, byTime ? readableTime(series.timeSpan.startMs) : `all at ${readableTime(series.timeSpan.startMs)}; across: events 1–${count(series.eventCount)}`));
  }
  const readout = h('div', { class: 'growth-readout', id: 'growth-readout' }, 'Point at the chart to see the event there; click to show it in the timeline.');

  /** The point drawn nearest to where the pointer is (by x: the time). */
  const nearest = (clientX: number): GrowthPoint | undefined => {
    const box = chart.getBoundingClientRect();
    const at = box.width > 0 ? ((clientX - box.left) / box.width) * width : 0;
    let best: GrowthPoint | undefined;
    let distance = Infinity;
    for (const point of series.points) {
      const gap = Math.abs(xOf(point) - at);
      if (gap < distance) {
        best = point;
        distance = gap;
      }
    }
    return best;
  };
  chart.addEventListener('mousemove', (event) => {
    const point = nearest(event.clientX);
    if (point) {
      readout.textContent = describePoint(point, series.eventCount, 'Total');
    }
  });
  chart.addEventListener('click', (event) => {
    const point = nearest(event.clientX);
    if (point) {
      jump(point.index);
    }
  });
  return h('div', { class: 'growth-wrap' }, chart, axis, readout);
}
