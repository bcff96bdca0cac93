// Rows of the `remote-scale` section of bench/results.json (bench/remote-scale.bench.ts).
import { loadavg } from 'node:os';
import type { RemoteScaleResult } from '../e2e/scenarios/remote-scale.ts';
import { BENCH } from './config.ts';
import { saveSection, summarize, type Sample } from './report.ts';

const GROUP = 'remote at scale';
const k = (n: number): string => n.toLocaleString('en');

export function saveRemoteScale(r: RemoteScaleResult, config: { commits: number; pages: number; retain: number; concurrency: number }, loadStart: number[]): void {
  const target = 'Scion on radosgw';
  const row = (workload: string, unit: string, value: number, extra: Partial<Sample> = {}): Sample => ({ group: GROUP, workload, target, unit, value, ...extra });
  const samples: Sample[] = [
    row(`build ${k(config.commits)} commits (2 PUTs each, ${config.concurrency} at a time)`, 's', r.buildMs / 1000),
    row('clone to first page, before GC', 'ms', r.before.clone.ms, { requests: r.before.clone.requests }),
    row('clone to first page, after GC', 'ms', r.after.clone.ms, { requests: r.after.clone.requests }),
    row('clone to first page, after compaction', 'ms', r.compacted.clone.ms, { requests: r.compacted.clone.requests }),
    row(`clone: every other page (${k(config.pages - 1)}), after GC`, 'ms', r.after.clone.allPages.ms, { requests: r.after.clone.allPages.requests }),
    row(`clone: every other page (${k(config.pages - 1)}), after compaction`, 'ms', r.compacted.clone.allPages.ms, { requests: r.compacted.clone.allPages.requests }),
    row('remote objects before GC', 'objects', r.before.objects),
    row('remote objects after GC', 'objects', r.after.objects),
    row('remote objects after compaction', 'objects', r.compacted.objects),
    row('remote bytes before GC', 'KiB', r.before.bytes / 1024, { bytes: r.before.bytes }),
    row('remote bytes after GC', 'KiB', r.after.bytes / 1024, { bytes: r.after.bytes }),
    row('remote bytes after compaction', 'KiB', r.compacted.bytes / 1024, { bytes: r.compacted.bytes }),
    row(`remote compaction (${k(r.compaction.pages)} live pages → ${r.compaction.segments} segment${r.compaction.segments === 1 ? '' : 's'})`, 's', r.compaction.ms / 1000, { bytes: r.compaction.bytesUploaded }),
    row(`remote GC (retain ${k(config.retain)} LSNs)`, 's', r.gc.ms / 1000, { detail: { segmentsDeleted: r.gc.segmentsDeleted, bytesDeleted: r.gc.bytesDeleted, commitsDeleted: r.gc.commitsDeleted } }),
    row('retained LSNs read right on a new device', 'LSNs', r.lsnsChecked),
  ];
  saveSection(BENCH.resultsPath, 'remote-scale', {
    date: new Date().toISOString(),
    config: { ...config, loadAverage: { start: loadStart, end: loadavg() } },
    rows: summarize(samples),
    samples: [r],
  });
}
