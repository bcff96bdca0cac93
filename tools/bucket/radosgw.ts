// A real Ceph radosgw (Debian 12: 16.2.15 Pacific) on 127.0.0.1: one mon, one memstore OSD (RAM only),
// no mgr, auth none.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { AwsClient } from 'aws4fetch';
import { freePorts, isAlive, killAndWait, registerPid, run, sleep, spawnLogged, tail, unregisterPid, which } from './proc.ts';
import { corsXml, DEFAULT_BUCKET, DEFAULT_REGION, type TestBucketServer } from './types.ts';

export const RADOSGW_PACKAGES = 'radosgw ceph-mon ceph-osd ceph-common';
export const RADOSGW_INSTALL = `apt-get install -y --no-install-recommends ${RADOSGW_PACKAGES}`;
const BINARIES = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph-authtool', 'ceph'] as const;
type Bin = (typeof BINARIES)[number];

export interface RadosgwOptions {
  /** Working directory (config, mon store, logs, pid files). Kept after stop() when given; a fresh temp dir otherwise. */
  dir?: string | undefined;
  /** S3 port on 127.0.0.1; a free one when omitted. */
  port?: number | undefined;
  /** Monitor ports [msgr v2, msgr v1]; two free ones when omitted (the reference uses 3300/3301). */
  monPorts?: readonly [number, number] | undefined;
  bucket?: string | undefined;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  /** RAM the memstore OSD may use; writes hang (not fail) when it is full. Default 512 MiB. */
  memstoreBytes?: number | undefined;
  /** Give up starting after this long. Default 90 s. */
  timeoutMs?: number | undefined;
}

/** The first radosgw/ceph binary that is not installed, or undefined when all are. */
export function missingRadosgwBinary(): string | undefined {
  return BINARIES.find((b) => which(b) === undefined);
}

export function radosgwInstalled(): boolean {
  return missingRadosgwBinary() === undefined;
}

function renderConf(dir: string, fsid: string, rgwPort: number, mon: readonly [number, number], memstoreBytes: number): string {
  // $name, $cluster and $id are Ceph metavariables, expanded per daemon.
  return `[global]
fsid = ${fsid}
mon host = [v2:127.0.0.1:${mon[0]},v1:127.0.0.1:${mon[1]}]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
public network = 127.0.0.0/8
cluster network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
log to stderr = false
err to stderr = false
mon cluster log file = ${dir}/log/cluster.log
keyring = ${dir}/keyring
# single-replica, tiny cluster
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
mon allow pool delete = true
mon warn on insecure global id reclaim allowed = false
ms bind ipv6 = false
# faster cold start: commit mon map changes (pool creation, osd boot) sooner than the 1 s default
paxos propose interval = 0.05
paxos min wait = 0.01

[mon]
mon data = ${dir}/mon/$cluster-$id
mon initial members = a
mon data avail warn = 1
mon data avail crit = 0

[osd]
osd data = ${dir}/osd/$cluster-$id
osd objectstore = memstore
memstore device bytes = ${memstoreBytes}
osd memory target = 939524096
osd op num shards = 1
osd op num threads per shard = 2

[client.rgw.a]
# radosgw hard-defaults ms_mon_client_mode=secure, which auth=none cannot satisfy (-13 EACCES)
ms mon client mode = crc secure
rgw data = ${dir}/rgw
# tcp_nodelay=1: without it every small GET takes ~40 ms (Nagle + delayed ACK)
rgw frontends = beast endpoint=127.0.0.1:${rgwPort} tcp_nodelay=1
rgw thread pool size = 32
rgw dns name = localhost
rgw enable usage log = false
rgw enable ops log = false
`;
}

/** Random printable credentials in the usual AWS shapes. */
function newKeys(): { accessKeyId: string; secretAccessKey: string } {
  const alnum = (n: number): string =>
    [...randomBytes(n)].map((b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[b & 31]).join('');
  return { accessKeyId: `SCION${alnum(15)}`, secretAccessKey: randomBytes(30).toString('base64').replace(/[+/=]/g, 'x') };
}

/**
 * Starts mon, memstore OSD and radosgw, creates a user, the bucket and its CORS rule. Resolves once S3
 * answers. Throws a one-line error naming the apt command when the binaries are missing.
 */
export async function startRadosgw(options: RadosgwOptions = {}): Promise<TestBucketServer> {
  const missing = missingRadosgwBinary();
  if (missing) throw new Error(`radosgw is not installed (no ${missing} on PATH): ${RADOSGW_INSTALL}`);
  const bin = (b: Bin): string => which(b) as string;

  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'scion-rgw-')));
  // A given dir is reused: clear only what an earlier run of this function put there.
  for (const entry of ['run', 'log', 'mon', 'osd', 'rgw', 'ceph.conf', 'keyring', 'monmap']) {
    await rm(join(dir, entry), { recursive: true, force: true });
  }
  for (const sub of ['run', 'log', 'mon', 'osd', 'rgw']) await mkdir(join(dir, sub), { recursive: true });

  // Held open together, so the three are distinct.
  const [p0, p1, p2] = (await freePorts(3)) as [number, number, number];
  const port = options.port ?? p0;
  const monPorts = options.monPorts ?? [p1, p2];
  const bucket = options.bucket ?? DEFAULT_BUCKET;
  const region = DEFAULT_REGION;
  const keys =
    options.accessKeyId && options.secretAccessKey
      ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
      : newKeys();
  const timeoutMs = options.timeoutMs ?? 90_000;
  const conf = join(dir, 'ceph.conf');
  const log = (name: string): string => join(dir, 'log', name);
  const endpoint = `http://127.0.0.1:${port}`;

  const t0 = performance.now();
  const phase = (what: string): void => {
    if (process.env.SCION_BUCKET_DEBUG) process.stderr.write(`[radosgw ${port}] ${what} at ${Math.round(performance.now() - t0)} ms\n`);
  };
  const children: { name: string; child: ChildProcess; pid: number }[] = [];
  const daemon = (name: string, b: Bin, args: string[]): void => {
    const child = spawnLogged(bin(b), ['-f', '-c', conf, ...args, '--pid-file', join(dir, 'run', `${name}.pid`)], log(`${name}.out`));
    if (child.pid === undefined) throw new Error(`Could not start ${b}.`);
    registerPid(child.pid);
    children.push({ name, child, pid: child.pid });
  };
  const dead = (): string | undefined => {
    const d = children.find((c) => c.child.exitCode !== null || c.child.signalCode !== null || !isAlive(c.pid));
    return d && `${d.name} exited (${d.child.exitCode ?? d.child.signalCode})`;
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // All state is in RAM and thrown away, so SIGKILL is safe; order still rgw first (an rgw whose OSD
    // is gone blocks in shutdown). SIGTERM would take ~2 s per daemon.
    const pidsOf = (names: string[]): number[] => children.filter((c) => names.includes(c.name)).map((c) => c.pid);
    await killAndWait(pidsOf(['rgw']), 0);
    await killAndWait(pidsOf(['osd', 'mon']), 0);
    for (const c of children) unregisterPid(c.pid);
    if (ownDir) await rm(dir, { recursive: true, force: true });
  };

  try {
    const fsid = randomUUID();
    await writeFile(conf, renderConf(dir, fsid, port, monPorts, options.memstoreBytes ?? 512 * 1024 * 1024));
    await run(bin('monmaptool'), ['--create', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${monPorts[0]},v1:127.0.0.1:${monPorts[1]}]`, join(dir, 'monmap')]);
    await run(bin('ceph-authtool'), ['--create-keyring', join(dir, 'keyring'), '--gen-key', '-n', 'mon.', '--cap', 'mon', 'allow *']);
    await run(bin('ceph-mon'), ['-c', conf, '--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap'), '--keyring', join(dir, 'keyring')]);
    daemon('mon', 'ceph-mon', ['-i', 'a']);
    phase('mon started');

    const osdUuid = randomUUID();
    const id = (await run(bin('ceph'), ['-c', conf, '--connect-timeout', '20', 'osd', 'new', osdUuid], 30_000)).trim();
    if (!/^\d+$/.test(id)) throw new Error(`ceph osd new printed ${JSON.stringify(id)}.`);
    // memstore mkfs aborts (MemStore::set_fsid assert) unless the data dir exists.
    await mkdir(join(dir, 'osd', `ceph-${id}`), { recursive: true });
    await run(bin('ceph-osd'), ['-c', conf, '-i', id, '--mkfs', '--osd-uuid', osdUuid]);
    daemon('osd', 'ceph-osd', ['-i', id]);
    phase('osd started');
    const deadline = Date.now() + timeoutMs;
    // As the recipe: start radosgw once the OSD is up.
    for (;;) {
      const why = dead();
      if (why) throw new Error(why);
      if (Date.now() > deadline) throw new Error(`the OSD was not up within ${timeoutMs} ms`);
      const stat = await run(bin('ceph'), ['-c', conf, '--connect-timeout', '10', 'osd', 'stat', '-f', 'json'], 15_000).catch(() => '');
      if (/"num_up_osds":\s*1\b/.test(stat)) break;
      await sleep(50);
    }
    phase('osd up');
    daemon('rgw', 'radosgw', ['-n', 'client.rgw.a']);

    for (;;) {
      const why = dead();
      if (why) throw new Error(why);
      if (Date.now() > deadline) throw new Error(`radosgw did not answer on ${endpoint} within ${timeoutMs} ms`);
      try {
        const r = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2000) });
        const body = await r.text();
        if (body.includes('ListAllMyBucketsResult')) break;
      } catch {
        /* not listening yet */
      }
      await sleep(50);
    }

    phase('S3 answers');
    await run(bin('radosgw-admin'), [
      '-c', conf, 'user', 'create', '--uid=scion', '--display-name=scion',
      `--access-key=${keys.accessKeyId}`, `--secret-key=${keys.secretAccessKey}`,
    ]);

    const aws = new AwsClient({ ...keys, service: 's3', region, retries: 0 });
    const created = await aws.fetch(`${endpoint}/${bucket}`, { method: 'PUT' });
    if (created.status !== 200) throw new Error(`CreateBucket ${bucket}: ${created.status} ${await created.text()}`);
    const xml = corsXml();
    const cors = await aws.fetch(`${endpoint}/${bucket}?cors`, {
      method: 'PUT',
      body: xml,
      // RGW rejects PutBucketCors without Content-MD5.
      headers: { 'Content-MD5': createHash('md5').update(xml).digest('base64'), 'Content-Type': 'application/xml' },
    });
    if (cors.status !== 200) throw new Error(`PutBucketCors: ${cors.status} ${await cors.text()}`);
    phase('bucket and CORS ready');
  } catch (e) {
    // The logs of the daemon that died, else radosgw's (the last to start).
    const failed = /^(mon|osd|rgw) exited/.exec((e as Error).message)?.[1] ?? 'rgw';
    const files = { mon: 'mon.a.log', osd: 'osd.0.log', rgw: 'client.rgw.a.log' }[failed] as string;
    const detail = [tail(log(`${failed}.out`), 5), tail(log(files), 12)].filter(Boolean).join('\n');
    const where = ownDir ? '' : ` (logs in ${dir}/log)`;
    await stop().catch(() => undefined);
    throw new Error(`radosgw did not start: ${(e as Error).message}${where}${detail ? `\n${detail}` : ''}`);
  }

  return { kind: 'radosgw', endpoint, region, bucket, ...keys, stop };
}

