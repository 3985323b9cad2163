// cbes's checkpoint documents seen through the official Couchbase Node.js SDK: after a run they
// are exactly the Java connector's (key salt, empty binary body, the `cbes` xattr's text byte for
// byte), and checkpoints the SDK writes the way the Java connector does are resumed from.
//
// 1. cbes-sandbox (Couchbase + Elasticsearch, 500 sample documents); cbes replicates them all and
//    is stopped with SIGTERM (exit 0, checkpoints saved).
// 2. Every vbucket's checkpoint document is read with the SDK and checked against the Java shape.
// 3. With the SDK, as the Java connector would: vbucket V (the one with the most documents) gets a
//    checkpoint back at seqno 0 in its existing document; vbucket W's document is deleted and
//    created anew (empty binary body, then the xattr) at its saved position. The index is deleted.
// 4. cbes restarts; one sentinel document per vbucket marks the end of every stream. Once all
//    sentinels are in Elasticsearch, the index must hold exactly V's documents: V resumed from the
//    SDK's seqno 0, W from the SDK-created document (a missing one would replay W from ZERO), every
//    other vbucket from cbes's own checkpoint.
//
// Usage: node checkpoint_test.js <build dir>   (runs <build dir>/bin/cbes-sandbox and bin/cbes)
//        (NODE_PATH points at the installed SDK; tests/compat/require.sh sets it)
'use strict';
const { spawn } = require('child_process');
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const readline = require('readline');
const couchbase = require('couchbase');

const NUM_VBUCKETS = 1024;
const SAMPLE = 500;
const GROUP = 'compat-checkpoint';
const INDEX = 'cbes-compat';
const SENTINEL_INDEX = 'cbes-compat-sentinels';
const SENTINEL_PREFIX = 'zz-sentinel:';
const XATTR = 'cbes';
// Java SDK 3's RawBinaryTranscoder (which the Java connector creates the document with) stores
// CodecFlags.BINARY_COMPAT_FLAGS: common flags "binary" (3 << 24) | legacy binary flags (8 << 8).
const JAVA_BINARY_FLAGS = (3 << 24) | (8 << 8);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

// ---- CRC32 and Couchbase's key → vbucket rule (README "Checkpoints", reference §3.2) ----------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; ++n) {
    let c = n;
    for (let k = 0; k < 8; ++k) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(text) {
  let c = 0xffffffff;
  for (const b of Buffer.from(text, 'utf8')) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function vbucketOf(key) {
  return ((crc32(key) >>> 16) & 0x7fff) & (NUM_VBUCKETS - 1);
}

function baseCheckpointKey(vb) {
  return `_connector:cbes:${GROUP}:checkpoint:${vb}`;
}

// The smallest lowercase-hex salt that makes the key hash to its own vbucket.
function checkpointKey(vb) {
  for (let salt = 0; salt < 10000000; ++salt) {
    const key = `${baseCheckpointKey(vb)}#${salt.toString(16)}`;
    if (vbucketOf(key) === vb) return key;
  }
  return baseCheckpointKey(vb);
}

// A key of our own that lands in vbucket `vb`.
function sentinelKey(vb) {
  for (let n = 0; ; ++n) {
    const key = `${SENTINEL_PREFIX}${vb}:${n}`;
    if (vbucketOf(key) === vb) return key;
  }
}

// The checkpoint xattr exactly as the Java connector writes it: Jackson serialising a
// HashMap{bucketUuid, checkpoint} (iteration order: "checkpoint" falls in bucket 0 of the
// 16-bucket table, "bucketUuid" in bucket 2) whose Checkpoint properties come in creator order
// (vbuuid, seqno, snapshot{startSeqno, endSeqno}); compact, numbers as Java longs.
function javaXattrText(cp) {
  return `{"checkpoint":{"vbuuid":${cp.vbuuid},"seqno":${cp.seqno},"snapshot":` +
         `{"startSeqno":${cp.start},"endSeqno":${cp.end}}},"bucketUuid":""}`;
}

// ---- processes -------------------------------------------------------------------------------

const children = new Set();
let tmpDir;

// Last resort on every exit path (failure, exception, SIGINT/SIGTERM from ctest or a user): no
// sandbox or cbes outlives the test, and the config folder goes away.
process.on('exit', () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`FAILED: interrupted by ${sig}`);
    process.exit(1);
  });
}

// A child process whose stdout lines can be waited for and whose stderr is kept for messages.
function startProcess(name, binary, args) {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const p = { name, child, lines: [], stderr: '', waiters: [] };
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    p.lines.push(line);
    for (const w of [...p.waiters]) w.check();
  });
  child.stderr.on('data', (d) => {
    p.stderr += d.toString();
    if (p.stderr.length > 200000) p.stderr = p.stderr.slice(-100000);
  });
  p.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      for (const w of [...p.waiters]) w.fail();
      resolve({ code, signal });
    });
  });
  child.on('error', (e) => {
    p.stderr += `spawn failed: ${e.message}\n`;
  });
  return p;
}

function stderrTail(p) {
  return p.stderr.split('\n').slice(-30).join('\n');
}

// Resolves with the match of the first stdout line matching `re`; rejects when the process exits
// first or `ms` pass.
function waitForLine(p, re, ms) {
  return new Promise((resolve, reject) => {
    const w = {};
    const done = () => {
      clearTimeout(w.timer);
      p.waiters.splice(p.waiters.indexOf(w), 1);
    };
    w.check = () => {
      for (const line of p.lines) {
        const m = re.exec(line);
        if (m) {
          done();
          resolve(m);
          return;
        }
      }
    };
    w.fail = () => {
      done();
      reject(new Error(`${p.name} exited before printing ${re}; stderr:\n${stderrTail(p)}`));
    };
    w.timer = setTimeout(() => {
      done();
      reject(new Error(`${p.name} printed no line matching ${re} within ${ms} ms; stdout:\n` +
                       `${p.lines.join('\n')}\nstderr:\n${stderrTail(p)}`));
    }, ms);
    p.waiters.push(w);
    if (p.child.exitCode !== null || p.child.signalCode !== null) w.fail();
    else w.check();
  });
}

// SIGTERM, then the exit status, or null when `ms` pass first.
async function terminate(p, ms) {
  p.child.kill('SIGTERM');
  const timer = new Promise((resolve) => {
    const t = setTimeout(() => resolve(null), ms);
    p.exited.then(() => clearTimeout(t));
  });
  return Promise.race([p.exited, timer]);
}

async function stopGracefully(p, ms) {
  const r = await terminate(p, ms);
  if (!r) throw new Error(`${p.name} did not exit within ${ms} ms of SIGTERM`);
  // Exit 0 is the connector's promise that the checkpoints of everything written were saved.
  if (r.code !== 0) {
    throw new Error(`${p.name} exited with ${r.code ?? r.signal} after SIGTERM, not 0; stderr:\n` +
                    stderrTail(p));
  }
}

// ---- Elasticsearch over HTTP -----------------------------------------------------------------

function esRequest(base, method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(new URL(urlPath, base), {
      method,
      headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {},
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch (_e) {
          json = undefined;
        }
        resolve({ status: res.statusCode, text, json });
      });
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

// Live documents of an index after a refresh (0 while it does not exist).
async function esCount(es, index) {
  await esRequest(es, 'POST', `/${index}/_refresh`);
  const r = await esRequest(es, 'GET', `/${index}/_count`);
  if (r.status === 404) return 0;
  assert.strictEqual(r.status, 200, `GET /${index}/_count answered ${r.status}: ${r.text}`);
  return r.json.count;
}

async function esIds(es, index) {
  await esRequest(es, 'POST', `/${index}/_refresh`);
  const r = await esRequest(es, 'POST', `/${index}/_search`,
                            { size: 5000, query: { match_all: {} } });
  if (r.status === 404) return [];
  assert.strictEqual(r.status, 200, `POST /${index}/_search answered ${r.status}: ${r.text}`);
  return r.json.hits.hits.map((h) => h._id);
}

// Polls `check` (an async predicate) every 100 ms until it holds or `ms` pass.
async function eventually(what, check, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- the connector ---------------------------------------------------------------------------

function writeConfig(dir, kv, es) {
  const secrets = path.join(dir, 'secrets');
  fs.mkdirSync(secrets);
  fs.writeFileSync(path.join(secrets, 'couchbase-password.toml'), "password = 'password'\n");
  fs.writeFileSync(path.join(secrets, 'elasticsearch-password.toml'), "password = ''\n");
  const file = path.join(dir, 'connector.toml');
  // The sentinel rule comes first: the first matching type rule wins.
  fs.writeFileSync(file, `[group]
name = '${GROUP}'
[group.static]
memberNumber = 1
totalMembers = 1
[metrics]
httpPort = 0
logInterval = '0'
[couchbase]
hosts = ['${kv}=kv']
bucket = 'default'
username = 'Administrator'
pathToPassword = '${path.join(secrets, 'couchbase-password.toml')}'
[elasticsearch]
hosts = ['${es}']
pathToPassword = '${path.join(secrets, 'elasticsearch-password.toml')}'
[[elasticsearch.type]]
prefix = '${SENTINEL_PREFIX}'
index = '${SENTINEL_INDEX}'
[[elasticsearch.type]]
prefix = ''
index = '${INDEX}'
`);
  return file;
}

async function startCbes(binary, config) {
  const p = startProcess('cbes', binary, ['--config', config]);
  const m = await waitForLine(p, /^ready: streaming (\d+) of (\d+) vbuckets as member 1\/1$/,
                              60000);
  assert.strictEqual(m[1], String(NUM_VBUCKETS), `cbes streams ${m[1]} vbuckets, not all`);
  return p;
}

// ---- reading and checking one checkpoint document --------------------------------------------

// Keeps the flags next to the bytes, so the body's format is checked rather than assumed.
const flagsTranscoder = {
  encode() {
    throw new Error('flagsTranscoder only decodes');
  },
  decode(bytes, flags) {
    return { bytes, flags };
  },
};

// The Java connector's own transcoder for the body: empty bytes with Java's binary flags.
const javaBinaryTranscoder = {
  encode(value) {
    return [value, JAVA_BINARY_FLAGS];
  },
  decode(bytes, flags) {
    return { bytes, flags };
  },
};

// Reads vbucket `vb`'s checkpoint document and checks it against the Java connector's; returns
// the checkpoint (numbers as BigInt) and the xattr's raw text.
async function readCheckpoint(sdk, vb) {
  const key = checkpointKey(vb);
  const where = `vbucket ${vb} (${key})`;
  // The key itself: only a document under the salted key is found by the Java connector.
  let body;
  try {
    body = await sdk.coll.get(key, { transcoder: flagsTranscoder });
  } catch (e) {
    if (e instanceof couchbase.DocumentNotFoundError) {
      throw new Error(`${where}: no checkpoint document under the Java key`);
    }
    throw e;
  }
  // Body: the Java connector creates it with RawBinaryTranscoder and an empty byte array; tools
  // and SDKs decide how to decode a body from its flags.
  assert.strictEqual(body.content.bytes.length, 0,
                     `${where}: the body must be empty, got ${body.content.bytes.length} bytes`);
  assert.strictEqual(body.content.flags, JAVA_BINARY_FLAGS,
                     `${where}: body flags 0x${body.content.flags.toString(16)}, Java's ` +
                     `RawBinaryTranscoder writes 0x${JAVA_BINARY_FLAGS.toString(16)} (binary)`);

  // The xattr as the SDK's public API returns it (parsed): field order and types. Object.keys
  // keeps JSON order for non-numeric keys, so "bucketUuid" first fails here.
  const parsed = await sdk.coll.lookupIn(key, [couchbase.LookupInSpec.get(XATTR, { xattr: true })]);
  const x = parsed.content[0].value;
  assert.ok(x && typeof x === 'object', `${where}: xattr ${XATTR} missing or not an object`);
  assert.deepStrictEqual(Object.keys(x), ['checkpoint', 'bucketUuid'],
                         `${where}: top-level keys in Java HashMap order`);
  assert.deepStrictEqual(Object.keys(x.checkpoint), ['vbuuid', 'seqno', 'snapshot'],
                         `${where}: checkpoint keys in Jackson creator order`);
  assert.deepStrictEqual(Object.keys(x.checkpoint.snapshot), ['startSeqno', 'endSeqno'],
                         `${where}: snapshot keys in Jackson creator order`);
  // Java ignores bucketUuid on load but always writes "" (backup files carry the real one).
  assert.strictEqual(x.bucketUuid, '', `${where}: bucketUuid must be ""`);
  for (const [name, v] of [['vbuuid', x.checkpoint.vbuuid], ['seqno', x.checkpoint.seqno],
                           ['startSeqno', x.checkpoint.snapshot.startSeqno],
                           ['endSeqno', x.checkpoint.snapshot.endSeqno]]) {
    // Jackson reads these into Java longs: a fraction or a string would fail the Java connector.
    assert.ok(Number.isInteger(v), `${where}: ${name} must be a JSON integer, got ${v}`);
  }

  // The same xattr's raw bytes: the parsed numbers above are doubles, so a vbuuid beyond 2^53
  // would already be rounded. The SDK JSON.parses sub-document values in
  // Collection._subdocDecode; sdk.rawColl overrides it to keep the bytes.
  const raw = await sdk.rawColl.lookupIn(key, [couchbase.LookupInSpec.get(XATTR, { xattr: true })]);
  const bytes = raw.content[0].value;
  assert.ok(Buffer.isBuffer(bytes),
            'the SDK no longer decodes sub-document values through Collection._subdocDecode; ' +
            'update how this test reads raw xattr bytes');
  const text = bytes.toString('utf8');
  // Compact, in Java's order, integers only: Jackson's exact output for this map.
  const m = new RegExp('^\\{"checkpoint":\\{"vbuuid":(-?\\d+),"seqno":(-?\\d+),"snapshot":' +
                       '\\{"startSeqno":(-?\\d+),"endSeqno":(-?\\d+)\\}\\},"bucketUuid":""\\}$')
                .exec(text);
  assert.ok(m, `${where}: xattr text is not the Java connector's shape: ${text}`);
  const cp = { vbuuid: BigInt(m[1]), seqno: BigInt(m[2]), start: BigInt(m[3]), end: BigInt(m[4]) };
  assert.strictEqual(text, javaXattrText(cp), `${where}: xattr text differs from Jackson's`);
  // vbuuids are written as signed Java longs (≥ 2^63 negative); seqnos are non-negative longs.
  assert.ok(cp.vbuuid >= INT64_MIN && cp.vbuuid <= INT64_MAX, `${where}: vbuuid outside int64`);
  for (const n of ['seqno', 'start', 'end']) {
    assert.ok(cp[n] >= 0n && cp[n] <= INT64_MAX, `${where}: ${n} ${cp[n]} outside 0..2^63-1`);
  }
  // A DCP stream request needs snapshotStart <= start <= snapshotEnd; anything else is refused by
  // the server, so a checkpoint outside its snapshot could not be resumed.
  assert.ok(cp.start <= cp.seqno && cp.seqno <= cp.end,
            `${where}: seqno ${cp.seqno} outside its snapshot ${cp.start}..${cp.end}`);
  // The parsed and the raw reads agree (same document, no other encoding in between).
  assert.strictEqual(BigInt(x.checkpoint.seqno), cp.seqno, `${where}: parsed seqno differs`);
  return { key, text, ...cp };
}

// Every vbucket's checkpoint, checked; no unsalted key (Java uses the bare key only when no salt
// was found, which never happens with 1024 vbuckets).
async function readAllCheckpoints(sdk) {
  const out = new Map();
  for (let vb = 0; vb < NUM_VBUCKETS; ++vb) {
    out.set(vb, await readCheckpoint(sdk, vb));
    // (get rather than exists: cbes-sandbox does not implement GET_META, which exists sends)
    await assert.rejects(sdk.coll.get(baseCheckpointKey(vb)), couchbase.DocumentNotFoundError,
                         `vbucket ${vb}: a checkpoint under the unsalted key`);
  }
  return out;
}

// Writes `cbes` the way the Java connector's CouchbaseCheckpointDao does: one sub-document upsert
// of the whole xattr, value serialised from a map in Java's order.
async function writeJavaCheckpoint(sdk, key, cp) {
  // The Node SDK serialises mutateIn values with JSON.stringify: only safe integers survive.
  // cbes-sandbox's vbuuids are 48-bit, so this holds against it.
  for (const n of ['vbuuid', 'seqno', 'start', 'end']) {
    assert.ok(Number.isSafeInteger(Number(cp[n])) && BigInt(Number(cp[n])) === cp[n],
              `${key}: ${n} ${cp[n]} cannot be written exactly through JSON.stringify`);
  }
  const value = {
    checkpoint: {
      vbuuid: Number(cp.vbuuid),
      seqno: Number(cp.seqno),
      snapshot: { startSeqno: Number(cp.start), endSeqno: Number(cp.end) },
    },
    bucketUuid: '',
  };
  await sdk.coll.mutateIn(key, [couchbase.MutateInSpec.upsert(XATTR, value, { xattr: true })]);
}

// ---- the test --------------------------------------------------------------------------------

async function main() {
  const buildDir = process.argv[2];
  if (!buildDir) {
    console.error('usage: node checkpoint_test.js <build dir>');
    process.exit(2);
  }
  const sandboxBin = path.join(buildDir, 'bin', 'cbes-sandbox');
  const cbesBin = path.join(buildDir, 'bin', 'cbes');
  for (const b of [sandboxBin, cbesBin]) {
    assert.ok(fs.existsSync(b), `${b} is not built`);
  }
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbes-compat-checkpoint-'));

  const sandbox = startProcess('cbes-sandbox', sandboxBin, [
    '--services=couchbase,elasticsearch', '--kv-port=0', '--mgmt-port=0', '--es-port=0',
    `--load-sample=${SAMPLE}`]);
  const cb = await waitForLine(sandbox, /^ready: couchbase (couchbase:\/\/(\S+)) http:\/\/\S+$/,
                               60000);
  const es = (await waitForLine(sandbox, /^ready: elasticsearch (http:\/\/\S+)$/, 60000))[1];
  const config = writeConfig(tmpDir, cb[2], es);

  let cluster;
  try {
    // 1. A first run replicates the whole sample.
    let cbes = await startCbes(cbesBin, config);
    await eventually(`${SAMPLE} documents in ${INDEX}`,
                     async () => (await esCount(es, INDEX)) === SAMPLE, 120000);
    await stopGracefully(cbes, 30000);
    const ids = await esIds(es, INDEX);
    assert.strictEqual(new Set(ids).size, SAMPLE, `${INDEX} lists ${ids.length} documents`);
    const byVbucket = new Map();
    for (const id of ids) {
      const vb = vbucketOf(id);
      if (!byVbucket.has(vb)) byVbucket.set(vb, []);
      byVbucket.get(vb).push(id);
    }

    cluster = await couchbase.connect(cb[1], {
      username: 'Administrator', password: 'password',
      timeouts: { connectTimeout: 20000, kvTimeout: 20000, bootstrapTimeout: 20000 },
    });
    const bucket = cluster.bucket('default');
    const sdk = { coll: bucket.defaultCollection(), rawColl: bucket.defaultCollection() };
    sdk.rawColl._subdocDecode = (bytes) => Buffer.from(bytes);

    // 2. Every checkpoint has the Java shape, and a vbucket's checkpoint is past its documents:
    //    all of them are in Elasticsearch, and each mutation took its own seqno.
    const first = await readAllCheckpoints(sdk);
    for (const [vb, keys] of byVbucket) {
      const cp = first.get(vb);
      assert.ok(cp.seqno >= BigInt(keys.length),
                `vbucket ${vb}: checkpoint seqno ${cp.seqno} is not past its ${keys.length} ` +
                'documents although Elasticsearch has them all');
      // Past seqno 0 the stream request must carry the vbucket's uuid, else a rollback to 0.
      assert.notStrictEqual(cp.vbuuid, 0n, `vbucket ${vb}: seqno ${cp.seqno} with vbuuid 0`);
    }
    console.log(`ok: ${NUM_VBUCKETS} checkpoint documents have the Java key, body and xattr`);

    // 3. Checkpoints written through the SDK as the Java connector writes them.
    const ranked = [...byVbucket.entries()]
                       .sort((a, b) => b[1].length - a[1].length || a[0] - b[0]);
    assert.ok(ranked.length >= 2, 'the sample fills fewer than two vbuckets');
    const [V, vKeys] = ranked[0];
    const [W, wKeys] = ranked[1];
    const cpV = first.get(V);
    const cpW = first.get(W);
    // V: back to the start, in the document cbes created (its vbuuid stays valid at seqno 0).
    const rewound = { vbuuid: cpV.vbuuid, seqno: 0n, start: 0n, end: 0n };
    await writeJavaCheckpoint(sdk, cpV.key, rewound);
    // W: a document created from nothing the Java way (upsert of an empty byte array with
    // RawBinaryTranscoder, then the xattr), at the position cbes had saved.
    await sdk.coll.remove(cpW.key);
    await sdk.coll.upsert(cpW.key, Buffer.alloc(0), { transcoder: javaBinaryTranscoder });
    await writeJavaCheckpoint(sdk, cpW.key, cpW);
    // What the SDK stored is the Java text; for W it is byte for byte what cbes had written.
    const sdkV = await readCheckpoint(sdk, V);
    assert.strictEqual(sdkV.text, javaXattrText(rewound), `vbucket ${V}: the SDK's xattr text`);
    const sdkW = await readCheckpoint(sdk, W);
    assert.strictEqual(sdkW.text, cpW.text,
                       `vbucket ${W}: the Java-shaped xattr written by the SDK differs from ` +
                       "cbes's own for the same checkpoint");

    // 4. Resume: the index starts empty, so whatever arrives was streamed again.
    const del = await esRequest(es, 'DELETE', `/${INDEX}`);
    assert.strictEqual(del.status, 200, `DELETE /${INDEX} answered ${del.status}: ${del.text}`);
    assert.strictEqual(await esCount(es, INDEX), 0, `${INDEX} not empty after its deletion`);
    cbes = await startCbes(cbesBin, config);
    // A sentinel at the end of every vbucket's stream: once Elasticsearch has all of them, every
    // stream has delivered everything it was going to replay (one vbucket's events reach
    // Elasticsearch in order, and the graceful stop finishes the writes in flight).
    for (let vb = 0; vb < NUM_VBUCKETS; ++vb) {
      await sdk.coll.upsert(sentinelKey(vb), { sentinel: vb });
    }
    await eventually(`${NUM_VBUCKETS} sentinels in ${SENTINEL_INDEX}`,
                     async () => (await esCount(es, SENTINEL_INDEX)) === NUM_VBUCKETS, 120000);
    await stopGracefully(cbes, 30000);

    const replayed = new Set(await esIds(es, INDEX));
    const missing = vKeys.filter((k) => !replayed.has(k));
    assert.deepStrictEqual(missing, [],
                           `vbucket ${V} was not streamed from the SDK-written seqno 0: ` +
                           `${missing.length} of its ${vKeys.length} documents missing`);
    const fromW = wKeys.filter((k) => replayed.has(k));
    assert.deepStrictEqual(fromW, [],
                           `vbucket ${W} was replayed: cbes did not resume from the checkpoint ` +
                           'document the SDK created');
    const others = [...replayed].filter((k) => vbucketOf(k) !== V);
    assert.deepStrictEqual(others, [],
                           "documents of vbuckets that had cbes's own checkpoints were replayed");
    assert.strictEqual(replayed.size, vKeys.length);
    console.log(`ok: resumed vbucket ${V} from an SDK-written seqno 0 (${vKeys.length} documents ` +
                `again), vbucket ${W} from an SDK-created document, the others from cbes's own`);

    // cbes's saves over the SDK's documents keep the Java shape, and V is past its documents again.
    const second = await readAllCheckpoints(sdk);
    assert.ok(second.get(V).seqno >= cpV.seqno,
              `vbucket ${V}: seqno ${second.get(V).seqno} after the replay, ${cpV.seqno} before`);
    console.log('ok: checkpoints saved over SDK-written documents keep the Java shape');
  } finally {
    if (cluster) await cluster.close();
    // A sandbox that does not stop is killed by the exit handler.
    await terminate(sandbox, 10000);
  }
}

main().then(() => process.exit(0), (err) => {
  console.error('FAILED:', err && err.message ? err.message : err);
  if (err && err.stack) console.error(err.stack);
  process.exit(1);
});
