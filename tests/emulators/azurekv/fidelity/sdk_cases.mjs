// tests/emulators/azurekv/fidelity/sdk_cases.mjs — the official clients against the
// emulator (run by fidelity.test.mjs with NODE_EXTRA_CA_CERTS, KV_URL, KV_ADMIN).
// Happy and error paths, asserting on the SDK's typed results and RestError codes.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SecretClient } from '@azure/keyvault-secrets';
import { ClientSecretCredential, ClientCertificateCredential, ManagedIdentityCredential } from '@azure/identity';
import { RestError } from '@azure/core-rest-pipeline';

const here = path.dirname(fileURLToPath(import.meta.url));
const { KV_URL, KV_ADMIN } = process.env;
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';

async function admin(name, body) {
  const r = await fetch(`${KV_ADMIN}/_emulator/${name}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'X-Emulator-Admin': '1' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}

const authority = { authorityHost: KV_URL, disableInstanceDiscovery: true };
const secretCred = () => new ClientSecretCredential(TENANT, 'app-1', 's3cret', authority);
const client = (cred = secretCred(), extra = {}) =>
  new SecretClient(KV_URL, cred, { disableChallengeResourceVerification: true, serviceVersion: '7.5', ...extra });

beforeEach(async () => {
  await admin('reset', {});
  await admin('apps', { client_id: 'app-1', client_secret: 's3cret' });
});

test('set, get (latest and by version), tags, contentType, Unix-second dates', async () => {
  const c = client();
  const before = Date.now() - 2000;
  const set = await c.setSecret('app-db', '{"user":"u"}', { contentType: 'application/json', tags: { team: 'a' } });
  assert.match(set.properties.version, /^[0-9a-f]{32}$/);
  assert.equal(set.properties.vaultUrl, KV_URL);
  const got = await c.getSecret('app-db');
  assert.equal(got.value, '{"user":"u"}');
  assert.deepEqual(got.properties.tags, { team: 'a' });
  assert.equal(got.properties.contentType, 'application/json');
  assert.ok(got.properties.createdOn instanceof Date);
  assert.ok(got.properties.createdOn.getTime() >= before && got.properties.createdOn.getTime() <= Date.now() + 2000,
    `createdOn ${got.properties.createdOn.toISOString()} is not now: seconds read as ms or the reverse`);
  await c.setSecret('app-db', 'second');
  const old = await c.getSecret('app-db', { version: set.properties.version });
  assert.equal(old.value, '{"user":"u"}');
  const latest = await c.getSecret('app-db');
  assert.equal(latest.value, 'second');
  assert.equal(latest.properties.contentType, undefined);
});

test('the SDK goes challenge-first and gets one token for the vault scope', async () => {
  const c = client();
  await c.setSecret('x', 'v');
  await c.getSecret('x');
  const { requests } = await admin('requests');
  const vault = requests.filter((r) => r.path.startsWith('/secrets'));
  assert.equal(vault[0].status, 401);
  assert.equal(vault[0].authorization, false);
  assert.equal(vault[0].body_length, 0, 'the challenge request must carry no body');
  assert.ok(vault.slice(1).every((r) => r.status === 200 && r.authorization));
  const tokens = (await admin('token-requests')).requests;
  assert.equal(tokens.length, 1);
  assert.equal(tokens[0].scope, 'https://vault.azure.net/.default');
  assert.equal(tokens[0].tenant, TENANT);
});

test('SecretNotFound is a RestError with code and status', async () => {
  await assert.rejects(client().getSecret('nope'),
    (e) => e instanceof RestError && e.statusCode === 404 && e.code === 'SecretNotFound');
});

test('list and list versions follow the absolute nextLink', async () => {
  const c = client();
  for (let i = 0; i < 30; i++) await c.setSecret(`s-${String(i).padStart(2, '0')}`, 'v', { tags: { n: String(i) } });
  const names = [];
  for await (const p of c.listPropertiesOfSecrets()) names.push(p.name);
  assert.equal(names.length, 30);
  assert.deepEqual(names, [...names].sort());
  const pages = (await admin('requests')).requests.filter((r) => r.op === 'GetSecrets' && r.status === 200);
  assert.equal(pages.length, 2, 'two pages of 25');
  for (let i = 0; i < 3; i++) await c.setSecret('s-00', `v${i}`);
  const versions = [];
  for await (const p of c.listPropertiesOfSecretVersions('s-00')) versions.push(p.version);
  assert.equal(versions.length, 4);
});

test('api-version 7.4 is accepted; the SDK sends it', async () => {
  const c = client(secretCred(), { serviceVersion: '7.4' });
  await c.setSecret('x', 'v');
  const { requests } = await admin('requests');
  assert.ok(requests.filter((r) => r.path.startsWith('/secrets')).every((r) => r.api_version === '7.4'));
});

test('Throttled 429: retried by the SDK, surfaced as RestError when retries are off', async () => {
  const c = client();
  await c.setSecret('x', 'v');
  await admin('faults', { target: 'GetSecret', count: 1, retry_after: 0 });
  assert.equal((await c.getSecret('x')).value, 'v');
  await admin('faults', { target: 'GetSecret', count: 5 });
  const strict = client(secretCred(), { retryOptions: { maxRetries: 0 } });
  await assert.rejects(strict.getSecret('x'),
    (e) => e instanceof RestError && e.statusCode === 429 && e.code === 'Throttled');
});

test('Forbidden with innererror', async () => {
  await admin('deny', { principal: 'app-1', inner: 'ForbiddenByRbac' });
  await assert.rejects(client().getSecret('x'),
    (e) => e instanceof RestError && e.statusCode === 403 && e.code === 'Forbidden');
});

test('a wrong client secret fails in @azure/identity with the AADSTS code', async () => {
  const c = client(new ClientSecretCredential(TENANT, 'app-1', 'wrong', authority));
  await assert.rejects(c.getSecret('x'), (e) => /AADSTS7000215/.test(e.message));
});

test('certificate credential: MSAL signs a client assertion the emulator verifies', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kv-cert-'));
  const port = new URL(KV_ADMIN).port;
  execFileSync('python3', [path.join(here, '..', '..', '..', 'plugins', 'azurekv', 'make_app_cert.py'), dir, port, 'app-c']);
  const pem = readFileSync(path.join(dir, 'key.pem'), 'utf8') + readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  const cred = new ClientCertificateCredential(TENANT, 'app-c', { certificate: pem }, authority);
  const c = client(cred);
  await c.setSecret('x', 'v');
  assert.equal((await c.getSecret('x')).value, 'v');
  const tokens = (await admin('token-requests')).requests;
  assert.equal(tokens.at(-1).method, 'assertion');
});

test('managed identity: @azure/identity probes and uses IMDS', async () => {
  await admin('managed-identity', { client_id: 'mi-1' });
  const c = client(new ManagedIdentityCredential());
  await c.setSecret('x', 'v');
  assert.equal((await c.getSecret('x')).value, 'v');
  const tokens = (await admin('token-requests')).requests;
  assert.equal(tokens.at(-1).method, 'imds');
});
