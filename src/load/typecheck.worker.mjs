// Worker-thread entry of the spec type check (see typecheck-async.ts). Plain JavaScript because
// Node 20 cannot start a worker on a .ts file; everything else is loaded through jiti. One worker
// serves every build of its process, so the TypeScript compiler is loaded once.
import { parentPort } from "node:worker_threads";
import { createJiti } from "jiti";

const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: true });
const { createSpecProject, typecheckSpecs } = await jiti.import("./typecheck.ts");
parentPort.on("message", ({ id, root, files }) => {
  try {
    parentPort.postMessage({ id, diagnostics: typecheckSpecs(createSpecProject(), root, files) });
  } catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});
