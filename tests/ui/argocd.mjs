// argocd.mjs — the strict Argo CD emulator (tests/emulators/argocd) on a
// free loopback port for the browser tests: accepts one bearer token, and
// its control API (/_emulator/…) adds applications and scripts rollouts.
import { startEmulator } from "./emulator.mjs";

export function startArgo(token) {
  return startEmulator("Argo CD", "tests/emulators/argocd/argocd_emulator.py", () => ["--token", token]);
}
