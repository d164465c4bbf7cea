/** The dashboard drawn as an SVG picture: each panel where Grafana puts it, in its colours. */
import type { Series } from './dashboard-data.js';

interface Panel {
  id: number;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  fieldConfig: { defaults: { unit: string } };
}

const COLORS = [
  '#73bf69',
  '#f2cc0c',
  '#5794f2',
  '#ff780a',
  '#f2495c',
  '#b877d9',
  '#8ab8ff',
  '#ff9830',
];
const COL = 50; // pixels per grid column (24 columns)
const ROW = 32; // pixels per grid row
const PAD = 8;

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function format(v: number, unit: string): string {
  const n = (x: number): string =>
    x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
  if (unit === 'percentunit') return `${n(v * 100)}%`;
  if (unit === 's') return v < 1 ? `${n(v * 1000)} ms` : `${n(v)} s`;
  if (unit === 'reqps') return `${n(v)} req/s`;
  if (unit === 'ops') return `${n(v)}/s`;
  return n(v);
}

function panel(p: Panel, series: Series, seconds: number): string {
  const x0 = p.gridPos.x * COL + PAD;
  const y0 = p.gridPos.y * ROW + PAD;
  const w = p.gridPos.w * COL - 2 * PAD;
  const h = p.gridPos.h * ROW - 2 * PAD;
  const names = Object.keys(series).sort();
  const legendRows = Math.ceil(names.length / 3);
  const plot = { x: x0 + 70, y: y0 + 30, w: w - 85, h: h - 52 - legendRows * 16 };
  const values = names.flatMap((k) => series[k]!.filter((v): v is number => v !== null));
  const max = Math.max(...values, 0) * 1.1 || 1;
  const unit = p.fieldConfig.defaults.unit;
  const out: string[] = [
    `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" rx="3" fill="#181b1f" stroke="#2c3235"/>`,
    `<text x="${x0 + 10}" y="${y0 + 19}" fill="#ccccdc" font-size="13" font-weight="500">${esc(p.title)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = plot.y + plot.h - (plot.h * i) / 4;
    out.push(
      `<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${y}" y2="${y}" stroke="#2c3235"/>`,
      `<text x="${plot.x - 6}" y="${y + 4}" fill="#8e8e8e" font-size="10" text-anchor="end">${format((max * i) / 4, unit)}</text>`,
    );
  }
  for (let s = 0; s <= seconds; s += 10) {
    const x = plot.x + (plot.w * s) / seconds;
    out.push(
      `<text x="${x}" y="${plot.y + plot.h + 13}" fill="#8e8e8e" font-size="10" text-anchor="middle">${s}s</text>`,
    );
  }
  names.forEach((name, i) => {
    const color = COLORS[i % COLORS.length];
    const col = series[name]!;
    const points = col
      .map((v, t) =>
        v === null
          ? null
          : `${(plot.x + (plot.w * (t + 1)) / col.length).toFixed(1)},${(plot.y + plot.h - (plot.h * v) / max).toFixed(1)}`,
      )
      .filter(Boolean);
    if (points.length) {
      out.push(
        `<polyline points="${points.join(' ')}" fill="none" stroke="${color}" stroke-width="1.5"/>`,
      );
    }
    const lx = x0 + 12 + (i % 3) * ((w - 24) / 3);
    const ly = plot.y + plot.h + 30 + Math.floor(i / 3) * 16;
    out.push(
      `<rect x="${lx}" y="${ly - 8}" width="12" height="3" fill="${color}"/>`,
      `<text x="${lx + 16}" y="${ly - 3}" fill="#ccccdc" font-size="10">${esc(name || 'all')}</text>`,
    );
  });
  if (!names.length) {
    out.push(
      `<text x="${plot.x + plot.w / 2}" y="${plot.y + plot.h / 2}" fill="#8e8e8e" font-size="12" text-anchor="middle">no data (none happened)</text>`,
    );
  }
  return out.join('\n');
}

export function renderDashboard(
  dashboard: { title: string; panels: Panel[] },
  figures: Record<number, Series>,
  seconds: number,
): string {
  const bottom = Math.max(...dashboard.panels.map((p) => p.gridPos.y + p.gridPos.h));
  const width = 24 * COL;
  const height = bottom * ROW + 40;
  const body = dashboard.panels.map((p) => {
    const f = figures[p.id];
    if (!f) throw new Error(`panel ${p.id} (${p.title}) has no figures`);
    return panel(p, f, seconds);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Inter, Helvetica, Arial, sans-serif">
<rect width="100%" height="100%" fill="#111217"/>
<g transform="translate(0 32)">
${body.join('\n')}
</g>
<text x="${PAD + 2}" y="22" fill="#ccccdc" font-size="16" font-weight="500">${esc(dashboard.title)} — a scripted minute (npm run dashboard:preview)</text>
</svg>
`;
}
