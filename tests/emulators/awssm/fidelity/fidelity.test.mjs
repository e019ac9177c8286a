// tests/emulators/awssm/fidelity/fidelity.test.mjs — drives the AWS emulator with the
// official AWS SDK v3 clients (@aws-sdk/client-secrets-manager, @aws-sdk/client-kms,
// pinned in package.json / package-lock.json). The SDK signs with its own SigV4
// (@smithy/signature-v4) and parses errors with its own JSON 1.1 deserialiser, so a
// pass means the emulator's wire format (headers, bodies, __type errors) and its
// SigV4 verification agree with AWS's client. Happy and error paths, typed errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  SecretsManagerClient, CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand,
  DescribeSecretCommand, ListSecretsCommand, TagResourceCommand, paginateListSecrets,
  ResourceNotFoundException, ResourceExistsException, InvalidRequestException,
  InvalidNextTokenException, InvalidParameterException, SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import {
  KMSClient, EncryptCommand, DecryptCommand, InvalidCiphertextException, NotFoundException,
  IncorrectKeyException,
} from '@aws-sdk/client-kms';

const here = path.dirname(fileURLToPath(import.meta.url));
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
let proc, dir, endpoint;

async function admin(name, body) {
  const r = await fetch(`${endpoint}/_emulator/${name}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'X-Emulator-Admin': '1' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}

function sm(extra = {}) {
  return new SecretsManagerClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1, ...extra });
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'awssm-fidelity-'));
  const portFile = path.join(dir, 'port');
  proc = spawn('python3', [path.join(here, '..', 'awssm_emulator.py'), '--port', '0', '--port-file', portFile],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 15000;
  while (!existsSync(portFile)) {
    if (Date.now() > deadline) throw new Error('emulator did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  endpoint = `http://127.0.0.1:${readFileSync(portFile, 'utf8').trim()}`;
});

after(() => {
  proc?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

test('create, read, put with staging moves, describe, idempotent token', async () => {
  await admin('reset', {});
  const c = sm();
  const created = await c.send(new CreateSecretCommand({ Name: 'app/db', SecretString: '{"user":"u","password":"p1"}',
    Tags: [{ Key: 'env', Value: 'prod' }] }));
  assert.match(created.ARN, /^arn:aws:secretsmanager:us-east-1:123456789012:secret:app\/db-[A-Za-z0-9]{6}$/);
  const got = await c.send(new GetSecretValueCommand({ SecretId: 'app/db' }));
  assert.equal(got.SecretString, '{"user":"u","password":"p1"}');
  assert.deepEqual(got.VersionStages, ['AWSCURRENT']);
  assert.ok(got.CreatedDate instanceof Date);

  const token = '0123456789abcdef0123456789abcdef';
  const put = await c.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: 'p2', ClientRequestToken: token }));
  assert.equal(put.VersionId, token);
  const again = await c.send(new PutSecretValueCommand({ SecretId: 'app/db', SecretString: 'p2', ClientRequestToken: token }));
  assert.equal(again.VersionId, token);
  await assert.rejects(c.send(new PutSecretValueCommand({ SecretId: 'app/db', SecretString: 'p3', ClientRequestToken: token })),
    (e) => e instanceof ResourceExistsException && e.$metadata.httpStatusCode === 400);

  const d = await c.send(new DescribeSecretCommand({ SecretId: 'app/db' }));
  assert.deepEqual(d.VersionIdsToStages[token], ['AWSCURRENT']);
  assert.deepEqual(d.VersionIdsToStages[created.VersionId], ['AWSPREVIOUS']);
  assert.deepEqual(d.Tags, [{ Key: 'env', Value: 'prod' }]);
  const prev = await c.send(new GetSecretValueCommand({ SecretId: 'app/db', VersionStage: 'AWSPREVIOUS' }));
  assert.equal(prev.VersionId, created.VersionId);

  // the SDK fills ClientRequestToken itself when absent (idempotency token trait)
  const auto = await c.send(new PutSecretValueCommand({ SecretId: 'app/db', SecretBinary: Buffer.from([0, 255, 1]) }));
  assert.match(auto.VersionId, /^[0-9a-f-]{36}$/);
  const bin = await c.send(new GetSecretValueCommand({ SecretId: 'app/db' }));
  assert.deepEqual(Buffer.from(bin.SecretBinary), Buffer.from([0, 255, 1]));
  assert.equal(bin.SecretString, undefined);
});

test('typed errors: not found, invalid request, invalid parameter, bad next token', async () => {
  await admin('reset', {});
  const c = sm();
  await c.send(new CreateSecretCommand({ Name: 'x', SecretString: 'v' }));
  await assert.rejects(c.send(new GetSecretValueCommand({ SecretId: 'missing' })),
    (e) => e instanceof ResourceNotFoundException && e.message === "Secrets Manager can't find the specified secret.");
  await assert.rejects(c.send(new GetSecretValueCommand({ SecretId: 'x', VersionStage: 'AWSPREVIOUS' })),
    (e) => e instanceof ResourceNotFoundException && /staging label: AWSPREVIOUS/.test(e.message));
  const cur = await c.send(new GetSecretValueCommand({ SecretId: 'x' }));
  await c.send(new PutSecretValueCommand({ SecretId: 'x', SecretString: 'w' }));
  await assert.rejects(c.send(new GetSecretValueCommand({ SecretId: 'x', VersionId: cur.VersionId, VersionStage: 'AWSCURRENT' })),
    (e) => e instanceof InvalidRequestException);
  await assert.rejects(c.send(new ListSecretsCommand({ NextToken: 'not-a-token' })),
    (e) => e instanceof InvalidNextTokenException);
  await assert.rejects(c.send(new ListSecretsCommand({ Filters: [{ Key: 'colour', Values: ['x'] }] })),
    (e) => e instanceof InvalidParameterException);
  await assert.rejects(c.send(new CreateSecretCommand({ Name: 'x', SecretString: 'v' })),
    (e) => e instanceof ResourceExistsException);
});

test('list: paginator follows NextToken, filters and tags', async () => {
  await admin('reset', {});
  const c = sm();
  for (let i = 0; i < 5; i++) {
    await c.send(new CreateSecretCommand({ Name: `svc/${i}`, SecretString: 'v', Tags: [{ Key: 'team', Value: i % 2 ? 'odd' : 'even' }] }));
  }
  await c.send(new TagResourceCommand({ SecretId: 'svc/0', Tags: [{ Key: 'extra', Value: 'yes' }] }));
  const names = [];
  let pages = 0;
  for await (const page of paginateListSecrets({ client: c, pageSize: 2 }, {})) {
    pages++;
    names.push(...page.SecretList.map((s) => s.Name));
    for (const s of page.SecretList) assert.ok(s.SecretVersionsToStages && !s.VersionIdsToStages);
  }
  assert.equal(pages, 3);
  assert.deepEqual(names, ['svc/0', 'svc/1', 'svc/2', 'svc/3', 'svc/4']);
  const odd = await c.send(new ListSecretsCommand({ Filters: [{ Key: 'tag-value', Values: ['odd'] }] }));
  assert.deepEqual(odd.SecretList.map((s) => s.Name), ['svc/1', 'svc/3']);
  const notOdd = await c.send(new ListSecretsCommand({ Filters: [{ Key: 'tag-value', Values: ['!odd'] }] }));
  assert.deepEqual(notOdd.SecretList.map((s) => s.Name), ['svc/0', 'svc/2', 'svc/4']);
  assert.deepEqual(notOdd.SecretList[0].Tags, [{ Key: 'team', Value: 'even' }, { Key: 'extra', Value: 'yes' }]);
});

test('signature and credential failures reach the SDK as typed service errors', async () => {
  await admin('reset', {});
  const bad = sm({ credentials: { ...credentials, secretAccessKey: 'wrong' } });
  await assert.rejects(bad.send(new ListSecretsCommand({})), (e) =>
    e instanceof SecretsManagerServiceException && e.name === 'InvalidSignatureException' &&
    e.$metadata.httpStatusCode === 403 && /signature we calculated does not match/.test(e.message));
  const unknown = sm({ credentials: { accessKeyId: 'AKIDNOPE', secretAccessKey: 'x' } });
  await assert.rejects(unknown.send(new ListSecretsCommand({})),
    (e) => e.name === 'UnrecognizedClientException' && e.$metadata.httpStatusCode === 403);
  const wrongRegion = new SecretsManagerClient({ region: 'eu-west-1', endpoint, credentials, maxAttempts: 1 });
  await assert.rejects(wrongRegion.send(new ListSecretsCommand({})), (e) => e.name === 'InvalidSignatureException');
  // temporary credentials: the SDK signs x-amz-security-token
  await admin('credentials', { access_key_id: 'ASIATEMPFID', secret_access_key: 'tmp', session_token: 'sess', expires_in: 600 });
  const temp = sm({ credentials: { accessKeyId: 'ASIATEMPFID', secretAccessKey: 'tmp', sessionToken: 'sess' } });
  assert.deepEqual((await temp.send(new ListSecretsCommand({}))).SecretList, []);
  const log = (await admin('requests')).requests.at(-1);
  assert.equal(log.session_token, true);
  assert.match(log.signed_headers, /x-amz-security-token/);
});

test('throttling: typed error without retries, transparent retry with them', async () => {
  await admin('reset', {});
  await admin('secrets', { name: 't', string: 'v' });
  await admin('faults', { target: 'GetSecretValue', count: 1 });
  await assert.rejects(sm().send(new GetSecretValueCommand({ SecretId: 't' })),
    (e) => e.name === 'ThrottlingException' && e.$metadata.httpStatusCode === 400);
  await admin('faults', { target: 'GetSecretValue', count: 1 });
  const c = sm({ maxAttempts: 3 });
  const got = await c.send(new GetSecretValueCommand({ SecretId: 't' }));
  assert.equal(got.SecretString, 'v');
  assert.equal(got.$metadata.attempts, 2);
});

test('KMS encrypt/decrypt round trip and typed errors', async () => {
  await admin('reset', {});
  const { arn } = await admin('kms-keys', { key_id: 'k-1', alias: 'alias/sbridge' });
  const other = (await admin('kms-keys', { key_id: 'k-2' })).arn;
  const k = new KMSClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1 });
  const enc = await k.send(new EncryptCommand({ KeyId: 'alias/sbridge', Plaintext: Buffer.from('dek'), EncryptionContext: { app: 'sb' } }));
  assert.equal(enc.KeyId, arn);
  assert.equal(enc.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
  const dec = await k.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { app: 'sb' } }));
  assert.equal(Buffer.from(dec.Plaintext).toString(), 'dek');
  await assert.rejects(k.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { app: 'other' } })),
    (e) => e instanceof InvalidCiphertextException);
  await assert.rejects(k.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: other, EncryptionContext: { app: 'sb' } })),
    (e) => e instanceof IncorrectKeyException);
  await assert.rejects(k.send(new EncryptCommand({ KeyId: 'alias/missing', Plaintext: Buffer.from('x') })),
    (e) => e instanceof NotFoundException);
});
