/** Where a CLI command writes and where it runs: `run(argv, io)` takes one, so tests call commands in-process. */
export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
  cwd: string;
}
