// npm @elastic/elasticsearch 8.x against `cbes-sandbox --services=elasticsearch
// --es-flavor=elasticsearch-8`: info, index, get, helpers.bulk with injected-free success,
// count after refresh, search, and a mapping conflict surfacing through onDrop / ResponseError.
// Usage: node npm_es_test.js <path to cbes-sandbox>   (NODE_PATH points at the npm install)
'use strict';
const { spawn } = require('child_process');
const assert = require('assert/strict');
const { Client, errors } = require('@elastic/elasticsearch');

function startSandbox(binary) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ['--services=elasticsearch', '--es-port=0',
                                '--es-flavor=elasticsearch-8'],
                       { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.on('exit', (code) => reject(new Error(`sandbox exited (${code}): ${out}`)));
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/^ready: elasticsearch (http:\/\/127\.0\.0\.1:\d+)$/m);
      if (m) {
        proc.removeAllListeners('exit');
        resolve({ proc, url: m[1] });
      }
    });
  });
}

async function run(url) {
  const client = new Client({ node: url, compression: true });
  const info = await client.info();
  assert.equal(info.tagline, 'You Know, for Search');
  assert.match(info.version.number, /^8\./);

  const indexed = await client.index({ index: 'npm', id: '1', document: { name: 'one', n: 1 } });
  assert.equal(indexed.result, 'created');
  const got = await client.get({ index: 'npm', id: '1' });
  assert.deepEqual(got._source, { name: 'one', n: 1 });
  assert.equal(await client.exists({ index: 'npm', id: 'missing' }), false);

  const docs = Array.from({ length: 50 }, (_, i) => ({ id: String(i + 2), n: i + 2 }));
  const dropped = [];
  const stats = await client.helpers.bulk({
    datasource: docs.concat([{ id: 'bad', n: 'not a number' }]),
    onDocument: (doc) => ({ index: { _index: 'npm', _id: doc.id } }),
    onDrop: (d) => dropped.push(d),
    refreshOnCompletion: 'npm',
  });
  assert.equal(stats.successful, 50);
  assert.equal(stats.failed, 1);
  assert.equal(dropped.length, 1);
  assert.equal(dropped[0].status, 400);
  assert.match(dropped[0].error.type, /_parsing_exception$/);

  const count = await client.count({ index: 'npm' });
  assert.equal(count.count, 51);
  const found = await client.search({ index: 'npm', query: { term: { n: 7 } } });
  assert.equal(found.hits.total.value, 1);
  assert.equal(found.hits.hits[0]._id, '7');

  await assert.rejects(client.index({ index: 'npm', id: 'x', document: { n: { deep: 1 } } }),
                       (e) => e instanceof errors.ResponseError && e.statusCode === 400 &&
                              /_parsing_exception$/.test(e.body.error.type));
  const health = await client.cluster.health();
  assert.ok(['green', 'yellow'].includes(health.status));
  await client.indices.delete({ index: 'npm' });
  assert.equal(await client.indices.exists({ index: 'npm' }), false);
  await client.close();
}

(async () => {
  const { proc, url } = await startSandbox(process.argv[2]);
  try {
    await run(url);
    console.log('ok: @elastic/elasticsearch 8 against elasticsearch-8');
  } finally {
    proc.kill('SIGTERM');
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
