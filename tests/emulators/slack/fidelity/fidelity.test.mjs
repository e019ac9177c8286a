// tests/emulators/slack/fidelity/fidelity.test.mjs — drives the Slack emulator with the
// official clients, @slack/web-api (WebClient) and @slack/webhook (IncomingWebhook),
// pinned in package.json / package-lock.json, and asserts on what they make of its
// answers: results, typed errors (WebAPIPlatformError with data.error,
// WebAPIRateLimitedError with retryAfter, WebAPIHTTPError, IncomingWebhookHTTPError with
// the plain-text body), the client's own Retry-After handling, and the emulator's message
// log of what the clients sent (WebClient posts form-encoded with blocks as JSON text;
// IncomingWebhook posts JSON).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebClient, ErrorCode, LogLevel } from '@slack/web-api';
import { IncomingWebhook } from '@slack/webhook';

const here = path.dirname(fileURLToPath(import.meta.url));
const TOKEN = 'xoxb-fidelity-0123456789';
const HOOK = 'T0FIDEL/B0FIDEL/fidelityhooksecret01';
const CHANNEL = 'C0EMULATOR1';
let proc, dir, base;

async function waitFor(file) {
  const deadline = Date.now() + 15000;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`emulator did not write ${file}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return readFileSync(file, 'utf8').trim();
}

async function admin(name, body) {
  const res = await fetch(`${base}/_emulator/${name}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'X-Emulator-Admin': '1', 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

const client = (opts = {}) => new WebClient(TOKEN, {
  slackApiUrl: `${base}/api/`, logLevel: LogLevel.ERROR, retryConfig: { retries: 0 }, ...opts,
});
const section = (text) => ({ type: 'section', text: { type: 'mrkdwn', text } });

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'slack-fidelity-'));
  proc = spawn('python3', [path.join(here, '..', 'slack_emulator.py'), '--port', '0',
    '--port-file', path.join(dir, 'port'), '--token', TOKEN, '--hook', HOOK],
  { stdio: ['ignore', 'ignore', 'inherit'] });
  base = `http://127.0.0.1:${await waitFor(path.join(dir, 'port'))}`;
});

after(() => {
  proc?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => admin('reset', {}));

test('WebClient chat.postMessage posts blocks and replies in a thread', async () => {
  const web = client();
  const first = await web.chat.postMessage({ channel: CHANNEL, text: 'fallback', blocks: [section('*hello*')], unfurl_links: false });
  assert.equal(first.ok, true);
  assert.equal(first.channel, CHANNEL);
  assert.match(first.ts, /^\d+\.\d{6}$/);
  assert.equal(first.message.ts, first.ts);
  const reply = await web.chat.postMessage({ channel: CHANNEL, text: 'reply', thread_ts: first.ts });
  assert.equal(reply.message.thread_ts, first.ts);
  const { messages } = await admin('messages');
  assert.equal(messages.length, 2);
  assert.deepEqual(messages[0].blocks, [section('*hello*')], 'form-encoded blocks JSON was parsed');
  assert.equal(messages[1].thread_ts, first.ts);
  const { requests } = await admin('requests');
  assert.deepEqual(requests.map((r) => r.auth), ['bearer', 'bearer']);
});

test('WebClient auth.test', async () => {
  const r = await client().auth.test();
  assert.equal(r.ok, true);
  assert.equal(r.bot_id, 'B0EMULBOT');
});

test('ok:false answers become WebAPIPlatformError with data.error', async () => {
  const cases = [
    [new WebClient('xoxb-wrong', { slackApiUrl: `${base}/api/`, logLevel: LogLevel.ERROR, retryConfig: { retries: 0 } }), { channel: CHANNEL, text: 'x' }, 'invalid_auth'],
    [client(), { channel: 'C0MISSING1', text: 'x' }, 'channel_not_found'],
    [client(), { channel: CHANNEL, text: 'x', thread_ts: '1.000001' }, 'thread_not_found'],
    [client(), { channel: CHANNEL, text: 'x', blocks: [section('x'.repeat(3001))] }, 'invalid_blocks'],
  ];
  for (const [web, args, code] of cases) {
    await assert.rejects(web.chat.postMessage(args), (err) => {
      assert.equal(err.code, ErrorCode.PlatformError);
      assert.equal(err.data.ok, false);
      assert.equal(err.data.error, code);
      if (code === 'invalid_blocks') assert.match(err.data.response_metadata.messages[0], /^\[ERROR\] /);
      return true;
    }, code);
  }
  assert.equal((await admin('messages')).messages.length, 0);
});

test('429 + Retry-After: rejected as WebAPIRateLimitedError, or waited out by the client', async () => {
  await admin('faults', { target: 'chat.postMessage', status: 429, retry_after: 2 });
  await assert.rejects(client({ rejectRateLimitedCalls: true }).chat.postMessage({ channel: CHANNEL, text: 'x' }), (err) => {
    assert.equal(err.code, ErrorCode.RateLimitedError);
    assert.equal(err.retryAfter, 2);
    return true;
  });
  await admin('faults', { target: 'chat.postMessage', status: 429, retry_after: 1 });
  const started = Date.now();
  const r = await client({ retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 } }).chat.postMessage({ channel: CHANNEL, text: 'x' });
  assert.equal(r.ok, true);
  assert.ok(Date.now() - started >= 900, 'the client waited for Retry-After');
});

test('5xx and unknown methods become WebAPIHTTPError', async () => {
  await admin('faults', { target: 'chat.postMessage', status: 503 });
  await assert.rejects(client().chat.postMessage({ channel: CHANNEL, text: 'x' }), (err) => {
    assert.equal(err.code, ErrorCode.HTTPError);
    assert.equal(err.statusCode, 503);
    return true;
  });
  await assert.rejects(client().apiCall('chat.nope', {}), (err) => {
    assert.equal(err.code, ErrorCode.HTTPError);
    assert.equal(err.statusCode, 404);
    assert.deepEqual(err.body, { ok: false, error: 'unknown_method' });
    return true;
  });
});

test('IncomingWebhook: plain-text ok, and plain-text errors by status', async () => {
  const hook = new IncomingWebhook(`${base}/services/${HOOK}`);
  const r = await hook.send({ text: 'hello', blocks: [section('b')] });
  assert.equal(r.text, 'ok');
  const { messages } = await admin('messages');
  assert.equal(messages[0].via, 'webhook');
  assert.deepEqual(messages[0].blocks, [section('b')]);
  const cases = [
    [new IncomingWebhook(`${base}/services/T0FIDEL/B0FIDEL/wrong`), { text: 'x' }, 404, 'no_service'],
    [hook, { text: 'x', blocks: [{ type: 'bogus' }] }, 400, 'invalid_blocks'],
    [hook, {}, 400, 'no_text'],
  ];
  for (const [h, msg, status, body] of cases) {
    await assert.rejects(h.send(msg), (err) => {
      assert.equal(err.code, 'slack_webhook_http_error');
      assert.equal(err.statusCode, status);
      assert.equal(err.body, body);
      return true;
    }, body);
  }
  await admin('faults', { target: 'webhook', status: 429, retry_after: 5 });
  await assert.rejects(hook.send('x'), (err) => err.statusCode === 429 && err.body === 'rate_limited');
  await admin('channels', { id: CHANNEL, archived: true });
  await assert.rejects(hook.send('x'), (err) => err.statusCode === 410 && err.body === 'channel_is_archived');
});
