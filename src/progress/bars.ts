import cliProgress from 'cli-progress';
import type { Progress } from './progress.js';
import { formatBytes } from '../report/text.js';

/** Bars on a terminal (stderr). */
export function barProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const multi = new cliProgress.MultiBar(
    {
      stream,
      clearOnComplete: false,
      hideCursor: true,
      format: '{label} [{bar}] {percentage}% {detail}',
      barsize: 24,
      etaBuffer: 20,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    task(label, total) {
      const bar = multi.create(total && total > 0 ? total : 1, 0, { label: label.padEnd(32).slice(0, 32), detail: '' });
      return {
        update(done, detail) {
          if (!total) bar.setTotal(Math.max(done, 1));
          bar.update(done, { detail: detail ?? (total ? '' : formatBytes(done)) });
        },
        finish(detail) {
          bar.setTotal(Math.max(bar.getTotal(), 1));
          bar.update(bar.getTotal(), { detail: detail ?? 'done' });
          bar.stop();
        },
      };
    },
    log: (message) => multi.log(`${message}\n`),
    stop: () => multi.stop(),
  };
}
