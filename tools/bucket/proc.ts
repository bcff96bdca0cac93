// Process and port helpers for the test-bucket harness (Node only).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { delimiter, join } from 'node:path';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Absolute path of an executable on PATH (plus the sbin folders), or undefined. */
export function which(bin: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const p = join(dir, bin);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** `n` distinct TCP ports on 127.0.0.1 that were free a moment ago (the OS picks them). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    return typeof address === 'object' && address ? address.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/** True while the PID exists and is not a zombie (PID 1 here reaps lazily, and kill -0 succeeds on zombies). */
export function isAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // Field 3 (state) follows the command name, which is in parentheses and may contain spaces.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** Waits until the PID is gone or a zombie; false on timeout. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

/** Sends a signal to one PID, ignoring "no such process". */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** Kills by PID: SIGTERM, then SIGKILL after graceMs (0: SIGKILL straight away); waits for the exit. */
export async function killAndWait(pids: readonly number[], graceMs: number): Promise<void> {
  const live = pids.filter(isAlive);
  if (live.length === 0) return;
  for (const pid of live) signal(pid, graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
  const exited = await Promise.all(live.map((pid) => waitForExit(pid, graceMs > 0 ? graceMs : 10_000)));
  const stuck = live.filter((_, i) => !exited[i]);
  if (stuck.length === 0) return;
  for (const pid of stuck) signal(pid, 'SIGKILL');
  const dead = await Promise.all(stuck.map((pid) => waitForExit(pid, 10_000)));
  const survivors = stuck.filter((_, i) => !dead[i]);
  if (survivors.length) throw new Error(`PIDs ${survivors.join(', ')} did not exit after SIGKILL.`);
}

/** Runs a command to completion; rejects with its output on failure. */
export function run(bin: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const out = `${stdout}${stderr}`.trim().split('\n').slice(-15).join('\n');
        reject(new Error(`${[bin, ...args].join(' ')} failed (${err.message.split('\n')[0]})${out ? `:\n${out}` : ''}`));
      } else resolve(stdout);
    });
  });
}

/**
 * Starts a long-running process with stdout/stderr appended to `logFile` (no pipes: a pipe held by a
 * forked grandchild would keep the parent waiting). The child stays in our process group, so a
 * Ctrl-C in the terminal reaches it too.
 */
export function spawnLogged(bin: string, args: readonly string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(bin, args, { stdio: ['ignore', fd, fd] });
    child.on('error', () => {
      /* reported through exit/pid checks */
    });
    return child;
  } finally {
    closeSync(fd);
  }
}

/** The last lines of a file, for error messages. */
export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

// Last-resort cleanup: if the process exits without stop() (an uncaught error, process.exit), SIGKILL
// every PID still registered. Synchronous, as 'exit' handlers must be.
const registered = new Set<number>();
let hooked = false;
export function registerPid(pid: number): void {
  registered.add(pid);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const p of registered) signal(p, 'SIGKILL');
    });
  }
}
export function unregisterPid(pid: number): void {
  registered.delete(pid);
}
