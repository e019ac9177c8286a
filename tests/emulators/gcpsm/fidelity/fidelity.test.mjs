// tests/emulators/gcpsm/fidelity/fidelity.test.mjs — drives the GCP Secret Manager emulator
// with Google's official Node clients (pinned in package.json / package-lock.json):
// google-auth-library signs its own RS256 service-account assertion and exchanges it at the
// emulator's token endpoint (the library hard-codes https://oauth2.googleapis.com/token, so a
// request interceptor sends that one URL to the emulator; the assertion's aud stays Google's)
// and reads a metadata-server token through gcp-metadata (GCE_METADATA_HOST), which insists on
// the Metadata-Flavor header; @google-cloud/secret-manager speaks REST over HTTP/1.1
// (fallback: true, protocol http) with its own JSON encoding (int64 as strings, numeric
// enums) and parses google.rpc.Status errors into GoogleError codes. A pass means the
// emulator's wire format and its auth checks agree with Google's clients.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JWT, Compute, OAuth2Client } from 'google-auth-library';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';

const here = path.dirname(fileURLToPath(import.meta.url));
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const EMAIL = 'fidelity@test-project.iam.gserviceaccount.com';
let proc, dir, port, endpoint;

async function admin(name, body) {
  const r = await fetch(`${endpoint}/_emulator/${name}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'X-Emulator-Admin': '1' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}

function jwtClient(key) {
  const jwt = new JWT({ email: key.client_email, key: key.private_key, keyId: key.private_key_id, scopes: [SCOPE] });
  jwt.transporter.interceptors.request.add({
    resolved: async (cfg) => {
      if (String(cfg.url) === 'https://oauth2.googleapis.com/token') cfg.url = new URL(`${endpoint}/token`);
      return cfg;
    },
  });
  return jwt;
}

function smClient(authClient) {
  return new SecretManagerServiceClient({
    apiEndpoint: '127.0.0.1', port, protocol: 'http', fallback: true, authClient,
  });
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'gcpsm-fidelity-'));
  const portFile = path.join(dir, 'port');
  proc = spawn('python3', [path.join(here, '..', 'gcpsm_emulator.py'), '--port', '0', '--port-file', portFile],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 15000;
  while (!existsSync(portFile)) {
    if (Date.now() > deadline) throw new Error('emulator did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  port = Number(readFileSync(portFile, 'utf8').trim());
  endpoint = `http://127.0.0.1:${port}`;
});

after(() => {
  proc?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

test('google-auth-library: the service-account assertion is verified and exchanged', async () => {
  await admin('reset', {});
  const key = await admin('service-account-keys', { client_email: EMAIL });
  const jwt = jwtClient(key);
  const { token } = await jwt.getAccessToken();
  assert.match(token, /^ya29\.emu-/);
  assert.equal((await admin('stats')).token_calls, 1);

  // the same library with a key the emulator does not trust: invalid_grant
  const stale = await admin('service-account-keys', { client_email: EMAIL });
  await admin('service-account-keys', { client_email: EMAIL }); // rotated again: `stale` is no longer trusted
  await assert.rejects(jwtClient(stale).getAccessToken(), (err) => {
    assert.match(String(err.message), /invalid_grant|Invalid JWT Signature/);
    return true;
  });
});

test('google-auth-library: metadata-server token through gcp-metadata', async () => {
  process.env.GCE_METADATA_HOST = `127.0.0.1:${port}`;
  try {
    const compute = new Compute();
    const { token } = await compute.getAccessToken();
    assert.match(token, /^ya29\.emu-/);
    const log = (await admin('requests')).requests.filter((r) => r.op === 'metadata');
    assert.ok(log.some((r) => r.status === 200), JSON.stringify(log));
  } finally {
    delete process.env.GCE_METADATA_HOST;
  }
});

test('@google-cloud/secret-manager (REST fallback): create, add, access, list, states', async () => {
  await admin('reset', {});
  const key = await admin('service-account-keys', { client_email: EMAIL });
  const client = smClient(jwtClient(key));
  const parent = 'projects/test-project';
  const [secret] = await client.createSecret({
    parent, secretId: 'db', secret: { replication: { automatic: {} }, labels: { env: 'prod', team: 'a' } },
  });
  assert.equal(secret.name, 'projects/123456789012/secrets/db');
  assert.deepEqual({ ...secret.labels }, { env: 'prod', team: 'a' });

  const data = Buffer.from('my super secret data');
  const [v1] = await client.addSecretVersion({
    parent: secret.name, payload: { data, dataCrc32c: 2525891252 },
  });
  assert.equal(v1.name, 'projects/123456789012/secrets/db/versions/1');
  assert.equal(v1.state, 'ENABLED'); // sent as a number on the wire, decoded by the client

  const [got] = await client.accessSecretVersion({ name: `${secret.name}/versions/latest` });
  assert.equal(got.name, v1.name);
  assert.equal(Buffer.from(got.payload.data).toString(), 'my super secret data');
  assert.equal(String(got.payload.dataCrc32c), '2525891252');

  for (let i = 0; i < 5; i++) {
    await client.createSecret({ parent, secretId: `p${i}`,
      secret: { replication: { automatic: {} }, labels: { env: i % 2 ? 'prod' : 'dev' } } });
  }
  const names = [];
  for await (const s of client.listSecretsAsync({ parent, filter: 'labels.env=prod', pageSize: 1 })) {
    names.push(s.name.split('/').pop());
  }
  assert.deepEqual(names, ['p3', 'p1', 'db']); // newest first, followed through nextPageToken
  const pages = (await admin('requests')).requests.filter((r) => r.op === 'list');
  assert.ok(pages.length >= 3 && pages.some((r) => r.pageToken), JSON.stringify(pages));

  const [disabled] = await client.disableSecretVersion({ name: v1.name });
  assert.equal(disabled.state, 'DISABLED');
  await assert.rejects(client.accessSecretVersion({ name: `${secret.name}/versions/latest` }), (err) => {
    assert.equal(err.code, 9); // FAILED_PRECONDITION
    assert.match(err.message, /DISABLED state/);
    return true;
  });
  const [destroyed] = await client.destroySecretVersion({ name: v1.name });
  assert.equal(destroyed.state, 'DESTROYED');
  assert.ok(destroyed.destroyTime);
});

test('@google-cloud/secret-manager: typed errors (not found, bad CRC32C, denied, throttled, unauthenticated)', async () => {
  await admin('reset', {});
  const key = await admin('service-account-keys', { client_email: EMAIL });
  const client = smClient(jwtClient(key));
  await admin('secrets', { secret_id: 's', versions: [{ data: 'v' }] });
  const name = 'projects/test-project/secrets/s';
  await assert.rejects(client.getSecret({ name: 'projects/test-project/secrets/nope' }),
    (err) => err.code === 5); // NOT_FOUND
  await assert.rejects(client.addSecretVersion({ parent: name, payload: { data: Buffer.from('x'), dataCrc32c: 1 } }),
    (err) => err.code === 3); // INVALID_ARGUMENT: checksum mismatch
  await client.createSecret({ parent: 'projects/test-project', secretId: 'dup', secret: { replication: { automatic: {} } } });
  await assert.rejects(client.createSecret({ parent: 'projects/test-project', secretId: 'dup',
    secret: { replication: { automatic: {} } } }), (err) => err.code === 6); // ALREADY_EXISTS
  await admin('deny', { permission: 'secretmanager.secrets.get', secret: 's' });
  await assert.rejects(client.getSecret({ name }), (err) => err.code === 7); // PERMISSION_DENIED
  await admin('faults', { target: 'list', status: 429, code: 'RESOURCE_EXHAUSTED' });
  await assert.rejects(client.listSecrets({ parent: 'projects/test-project' }, { maxRetries: 0 }),
    (err) => err.code === 8); // RESOURCE_EXHAUSTED

  const fixed = new OAuth2Client();
  fixed.setCredentials({ access_token: 'ya29.never-issued', expiry_date: Date.now() + 3600e3 });
  await assert.rejects(smClient(fixed).listSecrets({ parent: 'projects/test-project' }, { maxRetries: 0 }),
    (err) => err.code === 16); // UNAUTHENTICATED
});
