/** How progress is shown: a redrawn bar (terminals), a line every few seconds (logs), or not at all. */
export type ProgressMode = "bar" | "lines" | "off";

/** Receives the write phase's progress; `update` is called per command, so it must be cheap. */
export interface ProgressSink {
  start(total: number): void;
  update(done: number): void;
  finish(): void;
}

/** Where progress is written: a stream that may be a terminal. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  readonly mode: ProgressMode | "auto";
  /** Default: `process.stderr`, so that stdout carries only the report. */
  readonly stream?: ProgressStream | undefined;
  /** Redraw interval of the bar; default 100 ms. */
  readonly barIntervalMs?: number | undefined;
  /** Interval between progress lines; default 2 s. */
  readonly lineIntervalMs?: number | undefined;
}

const noProgress: ProgressSink = { start: () => {}, update: () => {}, finish: () => {} };

function formatRate(perSecond: number): string {
  return perSecond >= 10_000 ? `${Math.round(perSecond / 1000)}k/s` : `${Math.round(perSecond)}/s`;
}

/**
 * A progress display. Rendering happens on a timer, never per command, so a million commands cost a
 * million integer stores and a few hundred redraws.
 */
export function createProgress(options: ProgressOptions): ProgressSink {
  const stream = options.stream ?? process.stderr;
  const mode = options.mode === "auto" ? (stream.isTTY ? "bar" : "lines") : options.mode;
  if (mode === "off") return noProgress;

  let total = 0;
  let done = 0;
  let startedAt = 0;
  let timer: NodeJS.Timeout | undefined;

  const summary = (): string => {
    const seconds = (performance.now() - startedAt) / 1000;
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    return `${done}/${total} commands (${percent}%), ${formatRate(seconds > 0 ? done / seconds : 0)}, ${seconds.toFixed(1)} s`;
  };
  const drawBar = (): void => {
    const text = summary();
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - text.length - 4));
    const filled = total === 0 ? width : Math.round((done / total) * width);
    stream.write(`\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${text}\x1b[K`);
  };
  const writeLine = (): void => {
    stream.write(`progress: ${summary()}\n`);
  };

  return {
    start(n) {
      total = n;
      done = 0;
      startedAt = performance.now();
      const render = mode === "bar" ? drawBar : writeLine;
      if (mode === "bar") drawBar();
      timer = setInterval(
        render,
        mode === "bar" ? (options.barIntervalMs ?? 100) : (options.lineIntervalMs ?? 2000),
      );
      // Progress must never be what keeps the process alive.
      timer.unref();
    },
    update(n) {
      done = n;
    },
    finish() {
      clearInterval(timer);
      if (mode === "bar") {
        drawBar();
        stream.write("\n");
      } else {
        writeLine();
      }
    },
  };
}
