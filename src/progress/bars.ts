import cliProgress from 'cli-progress';
import type { Progress } from './progress.js';
import { formatBytes } from '../util/format.js';

/**
 * Bars on a terminal (stderr). A group of bars lives while some task runs and is closed when the last one finishes,
 * so a line logged between tasks prints at once (MultiBar.log only flushes at its next redraw).
 */
export function barProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  let multi: cliProgress.MultiBar | undefined;
  let running = 0;
  const bars = (): cliProgress.MultiBar =>
    (multi ??= new cliProgress.MultiBar(
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
    ));
  const close = (): void => {
    multi?.stop();
    multi = undefined;
  };
  return {
    task(label, total) {
      running += 1;
      let finished = false;
      const bar = bars().create(total && total > 0 ? total : 1, 0, { label: label.padEnd(32).slice(0, 32), detail: '' });
      return {
        update(done, detail) {
          if (finished) return;
          if (!total) bar.setTotal(Math.max(done, 1));
          bar.update(done, { detail: detail ?? (total ? '' : formatBytes(done)) });
        },
        finish(detail) {
          if (finished) return;
          finished = true;
          bar.setTotal(Math.max(bar.getTotal(), 1));
          bar.update(bar.getTotal(), { detail: detail ?? 'done' });
          bar.stop();
          running -= 1;
          if (running === 0) close();
        },
      };
    },
    log(message) {
      if (multi) multi.log(`${message}\n`);
      else stream.write(`${message}\n`);
    },
    stop: close,
  };
}
