import { firstLine } from './measure.ts';

/** A Node.js binary and its version (`v24.21.0`). */
export interface NodeBinary {
  readonly bin: string;
  readonly version: string;
}

const major = (v: string): string => v.split('.')[0] as string;

/** This process's Node.js first, then one binary per other major among `extra` (unrunnable ones left out). */
export const nodeBinaries = (extra: readonly string[]): NodeBinary[] => {
  const out: NodeBinary[] = [{ bin: process.execPath, version: process.version }];
  for (const bin of extra) {
    const version = firstLine(bin, ['--version']);
    if (version && !out.some((o) => major(o.version) === major(version))) out.push({ bin, version });
  }
  return out;
};
