import type { GrowthSeries } from '../../shared/memoryPanelMessages';
import { count, time } from './format';

// The session's tokens over time as plain SVG: the running total of its content (what a request
// would carry with no window or compaction), the request sizes the receipts recorded as dots,
// and the compactions in force as shaded bands. A click jumps the timeline to that point.

const svgNs = 'http://www.w3.org/2000/svg';
const width = 600;
const height = 120;
const pad = 4;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string>): SVGElementTagNameMap[K] {
  const element = document.createElementNS(svgNs, tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, value);
  }
  return element;
}

export function growthChart(series: GrowthSeries, jump: (index: number) => void): SVGSVGElement {
  const max = Math.max(1, series.totalTokens, ...series.requests.map((point) => point.tokens));
  const lastIndex = Math.max(1, series.eventCount - 1);
  const x = (index: number): number => pad + ((width - 2 * pad) * index) / lastIndex;
  const y = (tokens: number): number => height - pad - ((height - 2 * pad) * tokens) / max;
  const first = series.points[0];
  const last = series.points.at(-1);
  const label = `Tokens of the session over time: ${count(series.totalTokens)} tokens in ${count(series.eventCount)} events${first && last ? `, ${time(first.wallMs)} to ${time(last.wallMs)}` : ''}; ${series.requests.length} recorded requests, ${series.compactions.length} compactions in force.`;
  const chart = svg('svg', { class: 'growth', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label });
  chart.append(Object.assign(svg('title', {}), { textContent: label }));
  for (const band of series.compactions) {
    chart.append(svg('rect', { class: 'compacted', x: String(x(band.firstIndex)), y: '0', width: String(Math.max(1, x(band.index) - x(band.firstIndex))), height: String(height) }));
  }
  chart.append(svg('polyline', { class: 'total', points: series.points.map((point) => `${x(point.index).toFixed(1)},${y(point.tokens).toFixed(1)}`).join(' ') }));
  for (const point of series.requests) {
    chart.append(svg('circle', { class: 'request', cx: x(point.index).toFixed(1), cy: y(point.tokens).toFixed(1), r: '2' }));
  }
  chart.addEventListener('click', (event) => {
    const box = chart.getBoundingClientRect();
    const share = box.width > 0 ? (event.clientX - box.left) / box.width : 0;
    jump(Math.round(Math.max(0, Math.min(1, share)) * lastIndex));
  });
  return chart;
}
