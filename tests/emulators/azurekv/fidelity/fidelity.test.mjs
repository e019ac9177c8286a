// tests/emulators/azurekv/fidelity/fidelity.test.mjs — starts the Key Vault emulator
// (its test CA is written to a temporary --cert-dir) and runs sdk_cases.mjs, which
// drives it with the official clients (@azure/keyvault-secrets, @azure/identity,
// pinned in package.json / package-lock.json), in a child node with
// NODE_EXTRA_CA_CERTS pointing at that CA: Node reads the variable only at start-up,
// and azure-core refuses bearer tokens over plain http, so the SDK must trust the
// emulator's TLS for real.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
let proc, dir;

async function waitFor(file) {
  const deadline = Date.now() + 15000;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`emulator did not write ${file}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return readFileSync(file, 'utf8').trim();
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'azurekv-fidelity-'));
  proc = spawn('python3', [path.join(here, '..', 'azurekv_emulator.py'), '--port-file', path.join(dir, 'port'),
    '--tls-port-file', path.join(dir, 'tls'), '--cert-dir', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(path.join(dir, 'port'));
  await waitFor(path.join(dir, 'tls'));
});

after(() => {
  proc?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

test('the official Azure SDK clients agree with the emulator (sdk_cases.mjs)', async () => {
  const plain = readFileSync(path.join(dir, 'port'), 'utf8').trim();
  const tls = readFileSync(path.join(dir, 'tls'), 'utf8').trim();
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // else the child thinks it runs under this runner and skips
  const child = spawn(process.execPath, ['--test', '--test-reporter=tap', path.join(here, 'sdk_cases.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...env,
      NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem'),
      KV_URL: `https://127.0.0.1:${tls}`,
      KV_ADMIN: `http://127.0.0.1:${plain}`,
      AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${plain}`,
    },
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; process.stderr.write(d); });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, 'some SDK cases failed (see above)');
  const passed = Number((out.match(/^# pass (\d+)$/m) || [])[1]);
  assert.ok(passed >= 10, `expected the SDK cases to run, got: ${passed} passed`);
});
