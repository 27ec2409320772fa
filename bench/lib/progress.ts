// Progress lines on stderr, so stdout carries the report alone.

export const progress = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

/** Runs `work`, saying when it starts and how long it took. */
export const time = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
  const started = performance.now();
  progress(`${label}…`);
  const result = await work();
  progress(`${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
};
