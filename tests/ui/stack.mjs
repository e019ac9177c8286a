// stack.mjs — the system under the browser tests, on loopback only:
// `sbridge dev` (a private embedded PostgreSQL, the seeded users admin /
// approver / developer, the built UI from ui/dist) and, once the UI has
// minted an enrollment token, the real agent (sbridge-agent) serving the
// connection with the example plugin's demo provider (payments/db holds
// username and password). startStack({config, env, listen}) runs dev with that
// configuration text instead of the built-in one (e.g. GitOps observation
// on, notifiers), env added to its environment. Everything lives in one
// temporary directory and is stopped and removed by stop(). listen: the
// address (default any free loopback port; a fixed one when the URL must be
// known before start, e.g. an OIDC redirect URI; freePort() finds one).
// Waits poll with deadlines; no sleeps as synchronisation.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const repo = path.resolve(import.meta.dirname, "../..");
const build = process.env.SB_BUILD_DIR ?? path.join(repo, "build/gcc");
export const SBRIDGE = process.env.SBRIDGE ?? path.join(build, "sbridge");
export const SBRIDGE_AGENT = process.env.SBRIDGE_AGENT ?? path.join(build, "sbridge-agent");
const PLUGIN_DIR = process.env.SB_PLUGIN_DIR ?? path.join(build, "plugins-out");

export async function until(what, ms, check) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function startStack({ config, env = {}, listen = "127.0.0.1:0" } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sb-ui-"));
  fs.chmodSync(dir, 0o755); // the embedded PostgreSQL runs as postgres when we are root
  const state = path.join(dir, "state");
  const out = path.join(dir, "dev.out");
  const err = path.join(dir, "dev.err");
  const args = ["dev", "--no-demo", "--listen", listen, "--state-dir", state];
  if (config) {
    fs.writeFileSync(path.join(dir, "dev.yaml"), config);
    args.push("--config", path.join(dir, "dev.yaml"));
  }
  const dev = spawn(SBRIDGE, args, {
    env: { ...process.env, ...env, SBRIDGE_PLUGIN_DIR: PLUGIN_DIR, SBRIDGE_CONFIG: "", TMPDIR: dir },
    stdio: ["ignore", fs.openSync(out, "w"), fs.openSync(err, "w")],
  });
  const procs = [dev];
  const read = (f) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "");
  let url;
  try {
    url = await until("sbridge dev to listen", 120_000, () => {
      if (dev.exitCode !== null) throw new Error(`sbridge dev exited ${dev.exitCode}: ${read(err).slice(-2000)}`);
      return read(out).match(/Control plane: (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    });
  } catch (e) {
    dev.kill("SIGKILL");
    throw e;
  }
  const passwords = {};
  for (const m of read(out).matchAll(/^\s+(admin|approver|developer)\s+(\S+)\s+\(role/gm)) passwords[m[1]] = m[2];

  async function startAgent(connection, token) {
    const health = await freePort();
    const agentDir = path.join(dir, `agent-${procs.length}`);
    fs.mkdirSync(agentDir);
    const config = path.join(agentDir, "agent.yaml");
    fs.writeFileSync(
      config,
      [
        "role: agent",
        "log:\n  level: info",
        `control_plane:\n  url: ${url}\n  identity_file: ${agentDir}/identity/agent.json\n  connection: ${connection}\n  name: ui-test-agent\n  claim_wait: 2s\n  heartbeat_interval: 1s`,
        `health:\n  listen: 127.0.0.1:${health}`,
        `plugins:\n  directory: ${PLUGIN_DIR}\n  load:\n    - name: example\n      file: example.so`,
        `providers:\n  - name: ${connection}\n    plugin: example\n    fence:\n      team: payments\n    config:\n      seed_demo: true`,
        "concurrency: 2",
        "shutdown_grace: 5s",
        "",
      ].join("\n"),
    );
    const log = path.join(agentDir, "agent.log");
    const agent = spawn(SBRIDGE_AGENT, ["--config", config], {
      env: { ...process.env, SBRIDGE_ENROLLMENT_TOKEN: token, SBRIDGE_LOG_LEVEL: "" },
      stdio: ["ignore", fs.openSync(log, "w"), fs.openSync(log, "a")],
    });
    procs.push(agent);
    await until("the agent to be ready", 30_000, async () => {
      if (agent.exitCode !== null) throw new Error(`the agent exited ${agent.exitCode}: ${read(log).slice(-2000)}`);
      try {
        return (await fetch(`http://127.0.0.1:${health}/readyz`)).status === 200;
      } catch {
        return false;
      }
    });
    return { log };
  }

  /** Every byte the server stored: pg_dumpall of the embedded database. */
  function dumpDatabase() {
    const socket = path.join(state, "run");
    const bin = fs.readdirSync("/usr/lib/postgresql").map((v) => `/usr/lib/postgresql/${v}/bin/pg_dumpall`).find((p) => fs.existsSync(p));
    const args = ["-h", socket, "-U", "sbridge"];
    const asPostgres = process.getuid?.() === 0;
    return execFileSync(asPostgres ? "runuser" : bin, asPostgres ? ["-u", "postgres", "--", bin, ...args] : args, { maxBuffer: 256 << 20 }).toString("utf8");
  }

  /** The server's logs (stdout banner + JSON log) and every agent's log. */
  function logs() {
    const agentLogs = fs.readdirSync(dir).filter((d) => d.startsWith("agent-")).map((d) => read(path.join(dir, d, "agent.log")));
    return [read(out), read(err), read(path.join(state, "postgres.log")), ...agentLogs].join("\n");
  }

  async function stop() {
    for (const p of procs.reverse()) {
      if (p.exitCode !== null) continue;
      p.kill("SIGINT");
      await until("a process to stop", 20_000, () => p.exitCode !== null || p.signalCode !== null).catch(() => p.kill("SIGKILL"));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }

  return { url, passwords, startAgent, dumpDatabase, logs, stop, dir };
}
