// Progress for long commands: a bar redrawn in place on a terminal, a plain line per step
// otherwise (a CI log, a file).

export interface Progress {
  update(done: number, line: string): void;
  finish(): void;
}

export const createProgress = (stream: NodeJS.WriteStream, total: number | undefined): Progress => {
  if (!stream.isTTY) {
    return { update: (_done, line) => stream.write(`${line}\n`), finish: () => undefined };
  }
  const width = 24;
  return {
    update(done, line) {
      const bar =
        total && total > 0
          ? `[${'#'.repeat(Math.min(width, Math.round((done / total) * width))).padEnd(width, '.')}] `
          : '';
      stream.write(`\r\x1b[2K${bar}${line}`);
    },
    finish: () => stream.write('\n'),
  };
};
