// Fidelity check of the Vault emulator against an independent client: node-vault 0.12.0.
//
// Contract: spawns ../vault_emulator.py on port 0 (port read from --port-file, polled with
// a deadline), drives it only through node-vault's public API (write/read/list/update/
// delete, approleLogin, kubernetesLogin, tokenLookupSelf, transit via write) and checks
// both the happy paths and the rejected promises node-vault builds from Vault's error
// bodies (404, 403, 400 CAS, 429). The control API is used only for setup.
// Run: cd tests/emulators/vault/fidelity && npm ci && node --test

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const nodeVault = require('node-vault');
const here = dirname(fileURLToPath(import.meta.url));

let emulator;
let endpoint;
let workdir;

async function waitForPortFile(path, child, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (!existsSync(path) || readFileSync(path, 'utf8').trim() === '') {
    if (child.exitCode !== null) throw new Error(`emulator exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('emulator did not write its port file in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Number(readFileSync(path, 'utf8').trim());
}

async function admin(method, name, body) {
  const res = await fetch(`${endpoint}/_emulator/${name}`, {
    method,
    headers: { 'X-Emulator-Admin': '1', 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(res.status, 200, `control ${method} ${name}: ${await res.clone().text()}`);
  return res.json();
}

function client(options = {}) {
  return nodeVault({ apiVersion: 'v1', endpoint, token: 'root', ...options });
}

async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected the promise to be rejected');
}

const b64 = (text) => Buffer.from(text).toString('base64');

before(async () => {
  workdir = mkdtempSync(join(tmpdir(), 'vault-fidelity-'));
  const portFile = join(workdir, 'port');
  emulator = spawn('python3', [join(here, '..', 'vault_emulator.py'), '--port', '0', '--port-file', portFile],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  const port = await waitForPortFile(portFile, emulator, 15000);
  endpoint = `http://127.0.0.1:${port}`;
});

after(async () => {
  const exited = new Promise((resolve) => emulator.once('exit', resolve));
  emulator.kill('SIGTERM');
  assert.equal(await exited, 0, 'emulator exits cleanly on SIGTERM');
  rmSync(workdir, { recursive: true, force: true });
});

test('KV v2 write, read, version, patch, list and delete', async () => {
  await admin('POST', 'reset');
  const vault = client();
  const written = await vault.write('secret/data/app/db', { data: { user: 'svc', port: 5432, tags: ['a'] } });
  assert.equal(written.data.version, 1);
  assert.equal(written.data.deletion_time, '');
  assert.match(written.data.created_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  await vault.write('secret/data/app/db', { options: { cas: 1 }, data: { user: 'svc2' } });

  const latest = await vault.read('secret/data/app/db');
  assert.deepEqual(latest.data.data, { user: 'svc2' });
  assert.equal(latest.data.metadata.version, 2);
  assert.equal(latest.mount_type, 'kv');
  const first = await vault.read('secret/data/app/db?version=1');
  assert.deepEqual(first.data.data, { user: 'svc', port: 5432, tags: ['a'] });

  const patched = await vault.update('secret/data/app/db', { data: { port: 6543 } });
  assert.equal(patched.data.version, 3);
  assert.deepEqual((await vault.read('secret/data/app/db')).data.data, { user: 'svc2', port: 6543 });

  await vault.write('secret/data/app/sub/leaf', { data: { v: 1 } });
  assert.deepEqual((await vault.list('secret/metadata/')).data.keys, ['app/']);
  assert.deepEqual((await vault.list('secret/metadata/app/')).data.keys, ['db', 'sub/']);
  const getList = client({ noCustomHTTPVerbs: true });
  assert.deepEqual((await getList.list('secret/metadata/app/')).data.keys, ['db', 'sub/']);

  await vault.write('secret/metadata/app/db', { custom_metadata: { owner: 'team-a' } });
  const withMeta = await vault.read('secret/data/app/db');
  assert.deepEqual(withMeta.data.metadata.custom_metadata, { owner: 'team-a' });

  await vault.delete('secret/data/app/db');
  const deleted = await rejection(vault.read('secret/data/app/db'));
  assert.equal(deleted.response.statusCode, 404);
  assert.equal(deleted.response.body.data.data, null);
  assert.notEqual(deleted.response.body.data.metadata.deletion_time, '');
});

test('errors: 404 not found, 403 bad token, 400 CAS mismatch, 429 throttled', async () => {
  await admin('POST', 'reset');
  const vault = client();
  const missing = await rejection(vault.read('secret/data/nope'));
  assert.equal(missing.response.statusCode, 404);
  assert.deepEqual(missing.response.body, { errors: [] });
  assert.equal(missing.message, 'Status 404');

  const denied = await rejection(client({ token: 'not-a-token' }).read('secret/data/nope'));
  assert.equal(denied.response.statusCode, 403);
  assert.equal(denied.message, 'permission denied');

  await vault.write('secret/data/cas', { data: { v: 1 } });
  const conflict = await rejection(vault.write('secret/data/cas', { options: { cas: 0 }, data: { v: 2 } }));
  assert.equal(conflict.response.statusCode, 400);
  assert.equal(conflict.message, 'check-and-set parameter did not match the current version');
  assert.deepEqual(conflict.response.body, { errors: ['check-and-set parameter did not match the current version'] });

  await admin('POST', 'faults', { path_regex: '^/v1/secret/data/cas$', status: 429, retry_after: '1' });
  const throttled = await rejection(vault.read('secret/data/cas'));
  assert.equal(throttled.response.statusCode, 429);
  assert.equal(throttled.message, 'request path "secret/data/cas": rate limit quota exceeded');
  assert.equal((await vault.read('secret/data/cas')).data.data.v, 1);
});

test('AppRole and Kubernetes login, token lookup-self', async () => {
  await admin('POST', 'reset');
  await admin('POST', 'policies', { name: 'app', paths: { 'secret/data/app/*': ['read'] } });
  await admin('POST', 'approle', { role_id: 'role-1', secret_id: 'secret-1', policies: ['app'], token_ttl_s: 600 });
  await admin('POST', 'kubernetes', { role: 'demo', jwt: 'header.payload.sig', policies: ['app'], token_ttl_s: 300 });
  await client().write('secret/data/app/x', { data: { v: 'ok' } });

  const rootInfo = await client().tokenLookupSelf();
  assert.equal(rootInfo.data.id, 'root');
  assert.deepEqual(rootInfo.data.policies, ['root']);

  const approle = client({ token: undefined });
  const login = await approle.approleLogin({ role_id: 'role-1', secret_id: 'secret-1' });
  assert.match(login.auth.client_token, /^hvs\./);
  assert.equal(login.auth.lease_duration, 600);
  assert.deepEqual(login.auth.policies, ['app', 'default']);
  assert.equal(approle.token, login.auth.client_token, 'node-vault adopts the issued token');
  const self = await approle.tokenLookupSelf();
  assert.equal(self.data.id, login.auth.client_token);
  assert.equal(self.data.type, 'service');
  assert.ok(self.data.ttl > 0 && self.data.ttl <= 600);
  assert.equal((await approle.read('secret/data/app/x')).data.data.v, 'ok');
  const forbidden = await rejection(approle.read('secret/data/other'));
  assert.equal(forbidden.response.statusCode, 403);

  const badLogin = await rejection(client({ token: undefined }).approleLogin({ role_id: 'role-1', secret_id: 'x' }));
  assert.equal(badLogin.response.statusCode, 400);
  assert.equal(badLogin.message, 'invalid role or secret ID');

  // node-vault 0.12.0 renders "/auth//login" unless mount_point is given (its
  // kubernetesPath option never reaches the path template), so pass it explicitly.
  const kube = client({ token: undefined });
  const kubeLogin = await kube.kubernetesLogin({ mount_point: 'kubernetes', role: 'demo', jwt: 'header.payload.sig' });
  assert.equal(kubeLogin.auth.lease_duration, 300);
  assert.equal(kubeLogin.auth.metadata.role, 'demo');
  assert.equal((await kube.read('secret/data/app/x')).data.data.v, 'ok');
  const badJwt = await rejection(client({ token: undefined }).kubernetesLogin({ mount_point: 'kubernetes', role: 'demo', jwt: 'forged' }));
  assert.equal(badJwt.response.statusCode, 403);
  assert.equal(badJwt.message, 'permission denied');
});

test('Transit encrypt/decrypt via write, and namespaces', async () => {
  await admin('POST', 'reset');
  const vault = client();
  await vault.write('transit/keys/app', {});
  const enc = await vault.write('transit/encrypt/app', { plaintext: b64('top secret') });
  assert.match(enc.data.ciphertext, /^vault:v1:[A-Za-z0-9+/=]+$/);
  assert.equal(enc.data.key_version, 1);
  const dec = await vault.write('transit/decrypt/app', { ciphertext: enc.data.ciphertext });
  assert.equal(Buffer.from(dec.data.plaintext, 'base64').toString(), 'top secret');
  const viaHelper = await vault.decryptData({ name: 'app', ciphertext: enc.data.ciphertext });
  assert.equal(viaHelper.data.plaintext, b64('top secret'));
  const bad = await rejection(vault.write('transit/decrypt/app', { ciphertext: 'vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }));
  assert.equal(bad.response.statusCode, 400);
  assert.equal(bad.message, 'cipher: message authentication failed');

  await admin('POST', 'namespaces', { path: 'ns1/' });
  const ns1 = client({ namespace: 'ns1/' });
  await ns1.write('secret/data/only-in-ns1', { data: { v: 1 } });
  assert.equal((await ns1.read('secret/data/only-in-ns1')).data.data.v, 1);
  assert.equal((await vault.read('ns1/secret/data/only-in-ns1')).data.data.v, 1);
  const rootMiss = await rejection(vault.read('secret/data/only-in-ns1'));
  assert.equal(rootMiss.response.statusCode, 404);
});
