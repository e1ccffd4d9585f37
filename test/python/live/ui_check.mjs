// Drives the Airflow 3 UI of a live stack with Debian's chromium through playwright-core (no
// Playwright-downloaded browser): logs in (SimpleAuthManager), opens one DAG, its docs and its
// tasks, saves a screenshot of each, and prints what each page showed as JSON on stdout, for
// test_ui_live.py to assert on. Usage (all required, as environment variables):
//   UI_BASE=http://127.0.0.1:8080 UI_USER=admin UI_PASSWORD=... UI_DAG=<dag id>
//   UI_TASKS=a,b,c UI_OUT=<screenshot folder> [UI_CHROMIUM=/usr/bin/chromium] node ui_check.mjs
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === "") throw new Error(`ui_check: ${name} is not set`);
  return value;
};
const base = env("UI_BASE").replace(/\/$/, "");
const dagId = env("UI_DAG");
const tasks = env("UI_TASKS").split(",");
const out = env("UI_OUT");
const timeout = Number(process.env.UI_TIMEOUT_MS ?? 30000);
mkdirSync(out, { recursive: true });

const result = { steps: [], pages: {}, screenshots: [], console_errors: [] };
const step = (name) => result.steps.push({ name, at_ms: Date.now() - started });
const started = Date.now();

const browser = await chromium.launch({
  executablePath: env("UI_CHROMIUM", "/usr/bin/chromium"),
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
page.setDefaultTimeout(timeout);
page.on("console", (msg) => {
  if (msg.type() === "error") result.console_errors.push(msg.text().slice(0, 300));
});

const shot = async (name) => {
  const path = join(out, `${name}.png`);
  // "disabled" ends CSS animations first: a dialog is shot open, not fading in.
  await page.screenshot({ path, fullPage: true, animations: "disabled" });
  result.screenshots.push(path);
};
const text = async (locator) => (await locator.innerText()).replace(/\u00a0/g, " ");

try {
  // 1. Not logged in: the UI sends us to SimpleAuthManager's login page.
  await page.goto(`${base}/`);
  await page.waitForURL(/\/auth\/login/);
  await page.locator('input[name="username"]').fill(env("UI_USER"));
  await page.locator('input[name="password"]').fill(env("UI_PASSWORD"));
  await shot("01-login");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/auth/"));
  step("logged in");

  // 2. The DAG's page: header with owner and tags.
  await page.goto(`${base}/dags/${dagId}`);
  await page.getByRole("button", { name: "Dag Docs" }).waitFor();
  await page.getByText("Owner", { exact: false }).first().waitFor();
  await page.waitForLoadState("networkidle").catch(() => {});
  result.pages.dag = await text(page.locator("body"));
  result.pages.dag_url = page.url();
  await shot("02-dag");
  step("dag page");

  // 3. Its doc_md, rendered in the "Dag Docs" dialog.
  await page.getByRole("button", { name: "Dag Docs" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByText("What it delivers").waitFor();
  result.pages.docs = await text(dialog);
  await shot("03-dag-docs");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" }).catch(() => {});
  step("dag docs");

  // 4. The Tasks tab: a table with one row per task (the grid beside it names them too, so the
  //    rows are read from the table itself).
  await page.goto(`${base}/dags/${dagId}/tasks`);
  await page.getByText(`${tasks.length} Tasks`, { exact: true }).waitFor();
  const rows = page.locator("table tbody tr");
  await rows.nth(tasks.length - 1).waitFor();
  result.pages.task_rows = (await rows.allInnerTexts()).map((row) =>
    row.split(/\s+/).filter((cell) => cell !== ""),
  );
  result.pages.tasks = await text(page.locator("body"));
  await shot("04-tasks");
  step("tasks");

  // 5. The first task's page and its doc_md ("Documentation" button, "Task Documentation" dialog).
  await page.goto(`${base}/dags/${dagId}/tasks/${tasks[0]}`);
  await page.getByRole("button", { name: "Documentation", exact: true }).waitFor();
  result.pages.task = await text(page.locator("body"));
  await shot("05-task");
  await page.getByRole("button", { name: "Documentation", exact: true }).click();
  const taskDialog = page.getByRole("dialog");
  await taskDialog.getByText("Task Documentation").waitFor();
  result.pages.task_docs = await text(taskDialog);
  await shot("06-task-docs");
  step("task page and docs");
} catch (error) {
  result.error = String(error?.stack ?? error).slice(0, 3000);
  result.failed_url = page.url();
  await shot("99-failure").catch(() => {});
} finally {
  await browser.close();
}
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(result.error ? 1 : 0);
