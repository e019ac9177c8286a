// oidc.mjs — the strict OpenID provider emulator (tests/emulators/oidc) on a
// free loopback port for the browser tests: one client (id sbridge, the
// secret given, the redirect URI given); its control API (/_emulator/…)
// scripts the next sign-in (claims, ID token faults, provider errors).
// issuer = its URL.
import fs from "node:fs";
import path from "node:path";
import { startEmulator } from "./emulator.mjs";

export async function startOidc({ secret, redirectUri }) {
  const emu = await startEmulator("OIDC", "tests/emulators/oidc/oidc_emulator.py", (dir) => {
    const secretFile = path.join(dir, "secret");
    fs.writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
    return ["--client-id", "sbridge", "--client-secret-file", secretFile, "--redirect-uri", redirectUri];
  });
  return { ...emu, issuer: emu.url };
}
