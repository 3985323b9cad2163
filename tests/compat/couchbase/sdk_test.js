// The official Couchbase Node.js SDK against `cbes-sandbox --services=couchbase`: bootstrap
// over the ephemeral KV port, KV round trips (getAndTouch and touch among them) and sub-document
// xattr operations.
// Usage: node sdk_test.js <path to cbes-sandbox>   (NODE_PATH points at the installed SDK)
'use strict';
const { spawn } = require('child_process');
const assert = require('assert');
const readline = require('readline');
const couchbase = require('couchbase');

function startSandbox(binary) {
  const child = spawn(binary, ['--services=couchbase', '--kv-port=0', '--mgmt-port=0',
                               '--load-sample=20'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const m = /^ready: couchbase (couchbase:\/\/\S+) (http:\/\/\S+)$/.exec(line);
      if (m) resolve({ child, connstr: m[1], mgmt: m[2] });
    });
    child.on('exit', (code) => reject(new Error(`cbes-sandbox exited with ${code}`)));
  });
}

async function main() {
  const sandbox = await startSandbox(process.argv[2]);
  let cluster;
  try {
    cluster = await couchbase.connect(sandbox.connstr, {
      username: 'Administrator', password: 'password',
      timeouts: { connectTimeout: 20000, kvTimeout: 20000, bootstrapTimeout: 20000 },
    });
    const coll = cluster.bucket('default').defaultCollection();

    // upsert / get / replace with CAS / remove
    const up = await coll.upsert('compat::doc', { name: 'cbes', n: 1 });
    assert.ok(up.cas, 'upsert returns a CAS');
    const got = await coll.get('compat::doc');
    assert.deepStrictEqual(got.content, { name: 'cbes', n: 1 });
    await coll.replace('compat::doc', { name: 'cbes', n: 2 }, { cas: got.cas });
    await assert.rejects(coll.replace('compat::doc', { n: 3 }, { cas: got.cas }),
                         couchbase.CasMismatchError);
    await assert.rejects(coll.insert('compat::doc', {}), couchbase.DocumentExistsError);
    const sample = await coll.get('route_1');
    assert.strictEqual(sample.content.airlineid, 'airline_1');
    await coll.remove('compat::doc');
    await assert.rejects(coll.get('compat::doc'), couchbase.DocumentNotFoundError);

    // lookupIn / mutateIn with xattrs
    await coll.mutateIn('compat::sub', [
      couchbase.MutateInSpec.upsert('cbes.checkpoint', { seqno: 42 },
                                    { xattr: true, createPath: true }),
      couchbase.MutateInSpec.upsert('body.n', 7, { createPath: true }),
    ], { storeSemantics: couchbase.StoreSemantics.Upsert });
    const look = await coll.lookupIn('compat::sub', [
      couchbase.LookupInSpec.get('cbes.checkpoint', { xattr: true }),
      couchbase.LookupInSpec.get('body.n'),
      couchbase.LookupInSpec.exists('missing'),
    ]);
    assert.deepStrictEqual(look.content[0].value, { seqno: 42 });
    assert.strictEqual(look.content[1].value, 7);
    assert.strictEqual(look.content[2].value, false);
    const plain = await coll.get('compat::sub');
    assert.deepStrictEqual(plain.content, { body: { n: 7 } }, 'xattrs are not in the body');

    // get with expiry (uses the $document virtual xattr)
    await coll.upsert('compat::ttl', { a: 1 }, { expiry: 3600 });
    const withExpiry = await coll.get('compat::ttl', { withExpiry: true });
    const now = Date.now() / 1000;
    assert.ok(withExpiry.expiryTime > now + 3000 && withExpiry.expiryTime < now + 3700,
              `expiry about an hour from now, got ${withExpiry.expiryTime}`);

    // getAndTouch / touch: a response must carry its request's opcode (answered as a GET, the SDK
    // aborted the whole process).
    const gat = await coll.getAndTouch('compat::ttl', 7200);
    assert.deepStrictEqual(gat.content, { a: 1 });
    assert.ok(gat.cas, 'getAndTouch returns a CAS');
    const touched = await coll.get('compat::ttl', { withExpiry: true });
    assert.ok(touched.expiryTime > now + 7000 && touched.expiryTime < now + 7300,
              `expiry about two hours from now after getAndTouch, got ${touched.expiryTime}`);
    await assert.rejects(coll.getAndTouch('compat::missing', 60), couchbase.DocumentNotFoundError);
    const touch = await coll.touch('compat::ttl', 3600);
    assert.ok(touch.cas, 'touch returns a CAS');
    console.log('ok: node sdk KV, getAndTouch, touch and sub-document round trips');
  } finally {
    if (cluster) await cluster.close();
    sandbox.child.kill('SIGTERM');
  }
}

main().then(() => process.exit(0), (err) => {
  console.error('FAILED:', err);
  process.exit(1);
});
