import { formatBytes } from '../util/format.js';

/** One long step: pulling a layer, walking it, analysing. `total` in bytes or items; unknown totals are fine. */
export interface ProgressTask {
  update(done: number, detail?: string): void;
  finish(detail?: string): void;
}

/** Every long step reports through this; the CLI picks bars on a TTY, plain lines otherwise, or nothing. */
export interface Progress {
  task(label: string, total?: number): ProgressTask;
  /** A one-off line (warnings, stage changes). */
  log(message: string): void;
  stop(): void;
}

export const silentProgress: Progress = {
  task: () => ({ update: () => {}, finish: () => {} }),
  log: () => {},
  stop: () => {},
};

/** Plain lines for logs and CI: a start line, a line at most every few seconds, an end line. */
export function lineProgress(write: (line: string) => void = (l) => process.stderr.write(`${l}\n`), intervalMs = 5000): Progress {
  return {
    task(label, total) {
      const started = Date.now();
      // quick steps print one line when they end; long ones also print every `intervalMs`
      let lastPrint = started;
      return {
        update(done, detail) {
          const now = Date.now();
          if (now - lastPrint < intervalMs) return;
          lastPrint = now;
          // without a total, a count's detail says what `done` counts; a byte count (a download) shows as bytes
          const pct = total ? ` ${Math.min(100, Math.floor((done / total) * 100))}%` : detail ? '' : ` ${formatBytes(done)}`;
          write(`${label}${pct}${detail ? ` ${detail}` : ''}`);
        },
        finish(detail) {
          write(`${label} done in ${((Date.now() - started) / 1000).toFixed(1)}s${detail ? `: ${detail}` : ''}`);
        },
      };
    },
    log: (message) => write(message),
    stop: () => {},
  };
}

