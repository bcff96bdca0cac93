// Turns per-run samples into report rows (median, min–max, ratio to the group's reference target), renders
// one markdown table, and keeps results in one JSON file whose sections each spec replaces (Node only).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** One measurement from one run. */
export interface Sample {
  group: string;
  workload: string;
  target: string;
  /** The network the workload ran over (bench/netem-proxy.ts profiles, or `loopback`); none for local work. */
  network?: string;
  unit: string;
  /** null: the target cannot do this (reported as n/a). */
  value: number | null;
  requests?: number;
  /** Requests (bucket and presign service) that ran one after another: see `sequentialRoundTrips`. */
  roundTrips?: number;
  bytes?: number;
  /** Parts of `value` or context, kept in the JSON only (e.g. memory split into JS and wasm). */
  detail?: Record<string, number | null>;
}

export interface Row {
  group: string;
  workload: string;
  target: string;
  network?: string;
  unit: string;
  median: number | null;
  min: number | null;
  max: number | null;
  runs: number;
  /** median ÷ the reference target's median for the same group and workload; > 1 means more (time, bytes). */
  ratio: number | null;
  requests?: number;
  roundTrips?: number;
  bytes?: number;
}

/** Each group's reference target (ratio 1.0). */
export const REFERENCE_TARGETS: Record<string, string> = {
  'local OLTP': 'opfs-sahpool',
  'speed suite (wa-sqlite)': 'opfs-sahpool',
  'cold read': 'download whole file',
  'push/pull': 'raw presigned PUT',
  'local store (engine, no SQLite)': 'opfs',
  'storage over time': 'opfs-sahpool',
  'live query': 'no watchers',
};

function median(sorted: number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Groups samples by (group, workload, target), keeping first-seen order. */
export function summarize(samples: readonly Sample[]): Row[] {
  const byKey = new Map<string, Sample[]>();
  for (const s of samples) {
    const key = JSON.stringify([s.group, s.network ?? '', s.workload, s.target]);
    const list = byKey.get(key);
    if (list) list.push(s);
    else byKey.set(key, [s]);
  }
  const rows: Row[] = [...byKey.values()].map((list) => {
    const first = list[0] as Sample;
    const values = list.flatMap((s) => (s.value === null ? [] : [s.value])).sort((a, b) => a - b);
    const sorted = (pick: (s: Sample) => number | undefined): number[] =>
      list.flatMap((s) => { const v = pick(s); return v === undefined ? [] : [v]; }).sort((a, b) => a - b);
    const requests = sorted((s) => s.requests);
    const roundTrips = sorted((s) => s.roundTrips);
    const bytes = sorted((s) => s.bytes);
    return {
      group: first.group, ...(first.network ? { network: first.network } : {}), workload: first.workload, target: first.target, unit: first.unit,
      median: values.length ? median(values) : null,
      min: values.length ? (values[0] as number) : null,
      max: values.length ? (values.at(-1) as number) : null,
      runs: values.length,
      ratio: null,
      ...(requests.length ? { requests: median(requests) } : {}),
      ...(roundTrips.length ? { roundTrips: median(roundTrips) } : {}),
      ...(bytes.length ? { bytes: median(bytes) } : {}),
    };
  });
  for (const row of rows) {
    const ref = rows.find((r) => r.group === row.group && r.network === row.network && r.workload === row.workload && r.target === REFERENCE_TARGETS[row.group]);
    if (ref?.median && row.median !== null) row.ratio = row.median / ref.median;
  }
  return rows;
}

function formatNumber(n: number): string {
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en');
  if (Math.abs(n) >= 1) return n.toFixed(1);
  return n.toFixed(2);
}

function formatRatio(r: number): string {
  if (r >= 10) return `${Math.round(r)}×`;
  if (r >= 0.1) return `${r.toFixed(2)}×`;
  return `${r.toPrecision(2)}×`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${formatNumber(n / 1024)} KiB`;
  return `${formatNumber(n / 1024 / 1024)} MiB`;
}

const formatCount = (n: number | undefined): string =>
  n === undefined ? '' : Number.isInteger(n) ? n.toLocaleString('en') : formatNumber(n);

/** One markdown table; Network, Requests, Seq. RTs and Transferred are filled where a row has them. */
export function formatTable(rows: readonly Row[]): string {
  const lines = [
    `| Group | Network | Workload | Target | Median | Min–max | × ref | Requests | Seq. RTs | Transferred |`,
    `| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |`,
  ];
  for (const r of rows) {
    const isRef = REFERENCE_TARGETS[r.group] === r.target;
    const value = r.median === null ? 'n/a' : `${formatNumber(r.median)} ${r.unit}`;
    const range = r.min === null || r.max === null ? '' : `${formatNumber(r.min)}–${formatNumber(r.max)}`;
    const ratio = isRef ? '1 (ref)' : r.ratio === null ? '' : formatRatio(r.ratio);
    const bytes = r.bytes === undefined ? '' : formatBytes(r.bytes);
    lines.push(`| ${r.group} | ${r.network ?? ''} | ${r.workload} | ${r.target} | ${value} | ${range} | ${ratio} | ${formatCount(r.requests)} | ${formatCount(r.roundTrips)} | ${bytes} |`);
  }
  return lines.join('\n');
}

export interface Section {
  date: string;
  /** Everything that shaped the numbers: sizes, runs, browser, dataset. */
  config: Record<string, unknown>;
  rows: Row[];
  /** Raw per-run data, for re-analysis. */
  samples: unknown[];
}

export interface ResultsFile {
  date: string;
  userAgent?: string;
  /** Keyed by spec: `peers`, `local-store`. A spec replaces only its own section. */
  sections: Record<string, Section>;
  /** All sections' rows in one table, as printed. */
  table: string;
}

/** Section order in the combined table. */
const SECTION_ORDER = ['speed-suite', 'peers', 'local-store', 'storage'];

function readResults(path: string): ResultsFile | undefined {
  if (!existsSync(path)) return undefined;
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<ResultsFile>;
  // Files from before the sections layout hold one spec's output at the top level: start afresh.
  return parsed.sections ? (parsed as ResultsFile) : undefined;
}

function sortedSections(file: ResultsFile): Section[] {
  const rank = (k: string): number => (SECTION_ORDER.includes(k) ? SECTION_ORDER.indexOf(k) : SECTION_ORDER.length);
  return Object.keys(file.sections).sort((a, b) => rank(a) - rank(b)).map((k) => file.sections[k] as Section);
}

/** Replaces section `key` in the results file (creating it) and refreshes the combined table. */
export function saveSection(path: string, key: string, section: Section, userAgent?: string): ResultsFile {
  const file: ResultsFile = readResults(path) ?? { date: section.date, sections: {}, table: '' };
  file.date = section.date;
  if (userAgent) file.userAgent = userAgent;
  file.sections[key] = section;
  file.table = formatTable(sortedSections(file).flatMap((s) => s.rows));
  // Quick runs write to the git-ignored bench/.data/, absent on a fresh clone.
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
  return file;
}

/** The combined table with a header naming the browser and each section's date and run count. */
export function describeResults(path: string): string | undefined {
  const file = readResults(path);
  if (!file) return undefined;
  const sections = Object.entries(file.sections)
    .map(([k, s]) => {
      const load = s.config.loadAverage as { start: number[]; end: number[] } | undefined;
      const loadText = load ? `, 1-min load ${load.start[0]?.toFixed(1)} → ${load.end[0]?.toFixed(1)}` : '';
      return `${k}: ${s.date}, ${String(s.config.runs ?? '?')} runs${loadText}`;
    })
    .join('; ');
  const refs = Object.entries(REFERENCE_TARGETS).map(([g, t]) => `${g} → ${t}`).join(', ');
  return [
    `${file.userAgent ?? ''}`,
    `Sections: ${sections}. Reference (× ref = 1): ${refs}.`,
    'Networks other than loopback go through bench/netem-proxy.ts (latency + bandwidth cap, bucket, presign service and web server on one link). Seq. RTs = requests that ran one after another (bucket + presign service).',
    '',
    file.table,
    '',
    `Written to ${path}`,
  ].join('\n');
}
