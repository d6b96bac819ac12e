// Unit tests of js/sdk.js's own logic (the token cache, which errors count
// as transient or transport), run in Chromium and Firefox by
// tests/browser/js_units.rs like the other browser tests. wasm-bindgen
// copies this file and js/sdk.js into one folder per package, so the
// relative import below resolves there. Each export throws on failure.
import { Tokens, isTransient, isTransport } from '../js/sdk.js';

function assert(ok, what) {
  if (!ok) throw new Error('assertion failed: ' + what);
}
const eq = (a, b, what) => assert(JSON.stringify(a) === JSON.stringify(b),
  `${what}: ${JSON.stringify(a)} !== ${JSON.stringify(b)}`);

/** A token like the Rust `Tok`: stale from 30 s before `exp`. */
const token = (value, exp = Infinity) => ({ value, stale: (now) => now >= exp - 30000 });

/** A cache whose fetch counts calls and hands out `tok-N` valid for `ttl`. */
function counting(ttl, clock) {
  const c = { calls: 0 };
  c.cache = new Tokens(async () => token('tok-' + ++c.calls, clock.now + ttl), () => clock.now);
  return c;
}

export async function concurrentCallersShareOneRefresh() {
  let release, calls = 0;
  const gate = new Promise((r) => { release = r; });
  const cache = new Tokens(async () => {
    calls++;
    await gate;
    return token('shared');
  });
  const waiting = Promise.all([0, 1, 2, 3, 4].map(() => cache.get()));
  release();
  const got = await waiting;
  eq(calls, 1, 'fetches');
  assert(got.every((t) => t.value === 'shared'), 'every caller got the shared token');
}

export async function aFreshTokenIsReusedAndAStaleOneRefreshed() {
  const clock = { now: 0 };
  const c = counting(1800000, clock);
  eq((await c.cache.get()).value, 'tok-1', 'first');
  clock.now = 1000000;
  eq((await c.cache.get()).value, 'tok-1', 'still fresh');
  clock.now = 1780000; // inside the 30 s margin
  eq((await c.cache.get()).value, 'tok-2', 'refreshed');
  eq(c.calls, 2, 'fetches');
}

export async function invalidatingAReplacedTokenDoesNotRefreshTwice() {
  const c = counting(1e9, { now: 0 });
  const old = await c.cache.get();
  c.cache.invalidate(old);
  eq((await c.cache.get()).value, 'tok-2', 'replaced');
  c.cache.invalidate(old); // a second caller's late 401 with the old token
  eq((await c.cache.get()).value, 'tok-2', 'kept');
  eq(c.calls, 2, 'fetches');
}

export async function theRefreshAfterA401NamesTheRejectedTokenOnce() {
  const asked = [];
  let n = 0;
  const cache = new Tokens(async (rejected) => {
    asked.push(rejected ?? null);
    return token('tok-' + ++n);
  }, () => 0);
  const first = await cache.get();
  cache.invalidate(first);
  cache.invalidate(first); // a second caller's 401 with the same token
  eq((await cache.get()).value, 'tok-2', 'after the 401');
  cache.invalidate(first); // late, already replaced: no refresh, nothing named
  eq((await cache.get()).value, 'tok-2', 'after the late 401');
  eq(asked, [null, 'tok-1'], 'rejected tokens named');
}

export async function errorsAreNotCached() {
  let calls = 0;
  const cache = new Tokens(async () => {
    if (++calls === 1) throw Object.assign(new Error('down'), { code: 'token_service' });
    return token('ok');
  }, () => 0);
  let failed;
  try {
    await cache.get();
  } catch (e) {
    failed = e.code;
  }
  eq(failed, 'token_service', 'first call');
  eq((await cache.get()).value, 'ok', 'second call');
  eq(calls, 2, 'fetches');
}

export async function aFetchThatThrowsAtOnceRejectsEveryCallerAndIsNotCached() {
  let calls = 0;
  const cache = new Tokens((rejected) => {
    calls++;
    if (calls === 1) throw new Error('sync failure');
    return Promise.resolve(token('ok'));
  }, () => 0);
  const both = await Promise.allSettled([cache.get(), cache.get()]);
  eq(both.map((r) => r.status), ['rejected', 'rejected'], 'both callers');
  eq((await cache.get()).value, 'ok', 'next call fetches again');
  eq(calls, 2, 'fetches');
}

/** `core`: a Rust `Core`, whose errors are the SDK's own. */
export function transientAndTransportErrors(core) {
  const down = core.peliqanError(503, '<html>down</html>');
  eq([down.code, down.message], ['upstream', 'Peliqan answered 503: <html>down</html>'], '503');
  assert(isTransient(down), 'a 503 is worth retrying');
  assert(isTransient(core.peliqanError(429, '{}')), 'a 429 is worth retrying');
  assert(!isTransient(core.peliqanError(403, '{}')), 'a 403 is not');
  assert(!isTransient(core.peliqanError(400, '{"detail":"bad"}')), 'a 400 is not');
  const network = { code: 'network', details: {} };
  assert(isTransient(network) && isTransport(network), 'network: transient and transport');
  const cors = { code: 'cors', details: {} };
  assert(!isTransient(cors) && isTransport(cors), 'cors: transport, not worth retrying');
  assert(!isTransport(down), 'an answer is not a transport failure');
  assert(!isTransient(undefined) && !isTransport('x'), 'non-errors');
}
