// Node's own test runner under patchscope:
//
//   patchscope replay -c tests/examples/profile-api.har --strict -- \
//       node --test tests/examples/profile.test.mjs
//
// Node 20's fetch does not read the proxy variables, so the tests use
// the base URL patchscope gives in PATCHSCOPE_URL.
import assert from 'node:assert/strict';
import test from 'node:test';

const base = process.env.PATCHSCOPE_URL;
const auth = 'Basic ' + Buffer.from('acc1:my-api-key').toString('base64');
const profile = `${base}/v1/acc1/profiles/p1`;
const fields = '?fields=' + encodeURIComponent('id,title,actions.id');

async function call(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? { authorization: auth } :
      { authorization: auth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${method} ${url}: ${res.status}`);
  return res.json();
}

test('rename a profile, then read it back', { skip: !base }, async () => {
  assert.equal((await call('GET', profile + fields)).title,
    'Discovery call');
  assert.equal((await call('PATCH', profile, { title: 'Intro call' })).title,
    'Intro call');
  assert.equal((await call('GET', profile + fields)).title, 'Intro call');
});
