/** An in-process `Io` for `run(argv, io)` that records what the command printed. */
export function captureIo(cwd: string) {
  const out = { stdout: "", stderr: "" };
  return { out, io: { cwd, stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) } };
}
