// emulator.mjs — one python emulator of tests/emulators on a free loopback
// port for the browser tests: started with --port 0 --port-file and the
// given arguments, its control API (/_emulator/…, X-Emulator-Admin: 1)
// called with control(), stopped (and its directory removed) with stop().
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { until } from "./stack.mjs";

const repo = path.resolve(import.meta.dirname, "../..");

/** script: path below the repository; args(dir): its extra arguments, given its own temporary directory. */
export async function startEmulator(name, script, args = () => []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sb-emu-"));
  const portFile = path.join(dir, "port");
  const log = path.join(dir, "emulator.log");
  const proc = spawn("python3", [path.join(repo, script), "--port", "0", "--port-file", portFile, ...args(dir)], {
    stdio: ["ignore", fs.openSync(log, "w"), fs.openSync(log, "a")],
  });
  const port = await until(`the ${name} emulator to listen`, 20_000, () => {
    if (proc.exitCode !== null) throw new Error(`the ${name} emulator exited ${proc.exitCode}: ${fs.readFileSync(log, "utf8").slice(-2000)}`);
    return fs.existsSync(portFile) && fs.readFileSync(portFile, "utf8").trim();
  });
  const url = `http://127.0.0.1:${port}`;

  /** One control call (/_emulator/<name>); its JSON answer, or a thrown error unless 200. */
  async function control(method, call, body) {
    const r = await fetch(`${url}/_emulator/${call}`, {
      method,
      headers: { "X-Emulator-Admin": "1", "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`emulator ${method} ${call}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  async function stop() {
    if (proc.exitCode === null) {
      proc.kill("SIGTERM");
      await until(`the ${name} emulator to stop`, 10_000, () => proc.exitCode !== null || proc.signalCode !== null).catch(() => proc.kill("SIGKILL"));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }

  return { url, control, stop };
}
