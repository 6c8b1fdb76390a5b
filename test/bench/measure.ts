import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** What a measured child process did. */
export interface Measured {
  /** Exit code (null when killed by a signal). */
  readonly code: number | null;
  readonly wallMs: number;
  /** Peak resident set size of the process, in bytes. */
  readonly peakRssBytes: number;
  /** 'rusage': exact (GNU time's ru_maxrss); 'proc': VmHWM sampled every 100 ms (may miss a last-moment spike). */
  readonly rssSource: 'rusage' | 'proc';
  /** CPU seconds (user + system) of the process; null without GNU time. */
  readonly cpuSeconds: number | null;
  readonly stdout: string;
  /** The last 64 KiB of stderr. */
  readonly stderr: string;
  readonly timedOut: boolean;
}

const GNU_TIME = '/usr/bin/time';
const STDERR_TAIL = 64 * 1024;

let gnuTime: boolean | undefined;

/** Whether /usr/bin/time is GNU time (it takes -f %M -o FILE). */
const hasGnuTime = (): boolean => {
  if (gnuTime !== undefined) return gnuTime;
  const r = spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8' });
  gnuTime = r.status === 0 && /^\d+\s*$/m.test(r.stderr ?? '');
  return gnuTime;
};

/** VmHWM (peak RSS) of a live process in bytes, or undefined once it has gone. */
const vmHwm = (pid: number): number | undefined => {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Runs a command to its end and measures wall time and peak RSS: exactly through GNU time
 * when /usr/bin/time is GNU time (the peak of the command itself, not of `time`), otherwise by
 * sampling /proc/PID/status. Never throws for a non-zero exit: the caller decides.
 */
export const runMeasured = async (
  command: string,
  args: readonly string[],
  options: { env: Record<string, string | undefined>; timeoutMs: number; cwd?: string },
): Promise<Measured> => {
  const useTime = hasGnuTime();
  const dir = useTime ? await mkdtemp(path.join(tmpdir(), 'bench-time-')) : undefined;
  const rssFile = dir ? path.join(dir, 'rss') : undefined;
  const [cmd, argv] = rssFile ? [GNU_TIME, ['-f', '%M %U %S', '-o', rssFile, command, ...args]] : [command, [...args]];
  const started = process.hrtime.bigint();
  const child = spawn(cmd, argv, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (stderr.length > 2 * STDERR_TAIL) stderr = stderr.slice(-STDERR_TAIL);
  });
  let sampled = 0;
  const poll = useTime
    ? undefined
    : setInterval(() => {
        const hwm = child.pid === undefined ? undefined : vmHwm(child.pid);
        if (hwm !== undefined) sampled = Math.max(sampled, hwm);
      }, 100);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  }).finally(() => {
    clearTimeout(timer);
    if (poll) clearInterval(poll);
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  let peakRssBytes = sampled;
  let cpuSeconds: number | null = null;
  if (rssFile && dir) {
    // GNU time writes "Command exited with non-zero status N" before the figures when it fails.
    const text = await readFile(rssFile, 'utf8').catch(() => '');
    const m = /^(\d+) ([\d.]+) ([\d.]+)$/.exec(text.trim().split('\n').pop() ?? '');
    if (m) {
      peakRssBytes = Number(m[1]) * 1024;
      cpuSeconds = Number(m[2]) + Number(m[3]);
    }
    await rm(dir, { recursive: true, force: true });
  }
  return { code, wallMs, peakRssBytes, rssSource: useTime ? 'rusage' : 'proc', cpuSeconds, stdout, stderr: stderr.slice(-STDERR_TAIL), timedOut };
};

/** Runs a command and returns its first stdout line, or undefined when it cannot be run. */
export const firstLine = (command: string, args: readonly string[]): string | undefined => {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 20_000 });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.split('\n')[0]?.trim();
};

/** Where a results file's figures come from: when, the commit (and whether tracked files differed), the Node.js version. */
export const provenance = (): { generatedAt: string; commit: string | null; dirty: boolean; node: string } => {
  const status = firstLine('git', ['status', '--porcelain', '--untracked-files=no']);
  return { generatedAt: new Date().toISOString(), commit: firstLine('git', ['rev-parse', 'HEAD']) ?? null, dirty: status !== undefined && status !== '', node: process.version };
};

/** Writes a results file: provenance() first, then the figures. */
export const writeResults = (file: string, figures: Record<string, unknown>): void => writeFileSync(file, `${JSON.stringify({ ...provenance(), ...figures }, null, 2)}\n`);

/** CPU seconds (user + system) a live process has used so far, from /proc/PID/stat. */
export const processCpuSeconds = (pid: number | undefined): number | undefined => {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
};

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

/** Peak RSS (VmHWM) of a live process in bytes. */
export const processPeakRss = (pid: number | undefined): number | undefined => (pid === undefined ? undefined : vmHwm(pid));
