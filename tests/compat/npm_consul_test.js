// npm `consul` 2.0.1 against cbes-sandbox (CONSUL_HOST/CONSUL_PORT); NODE_PATH points at the
// installed client (tests/compat/require.sh).
"use strict";
const Consul = require("consul");
const assert = require("assert/strict");

const consul = new Consul({ host: process.env.CONSUL_HOST, port: process.env.CONSUL_PORT });

async function main() {
  // KV with a key containing '/', which the client sends as %2F
  assert.equal(await consul.kv.set("dir/key", "hello"), true);
  const got = await consul.kv.get("dir/key");
  assert.equal(got.Key, "dir/key");
  assert.equal(got.Value, "hello");
  assert.equal(await consul.kv.get("missing"), undefined);
  const keys = await consul.kv.keys("dir/");
  assert.deepEqual(keys, ["dir/key"]);
  // papi hands a decoded `false` body back as undefined: check the effect instead.
  assert.notEqual(await consul.kv.set({ key: "dir/key", value: "x", cas: got.ModifyIndex + 999 }), true);
  assert.equal((await consul.kv.get("dir/key")).Value, "hello");
  assert.equal(await consul.kv.set({ key: "dir/key", value: "x", cas: got.ModifyIndex }), true);

  // session + lock
  const session = await consul.session.create({ name: "node", ttl: "15s", lockdelay: "0s" });
  assert.ok(session.ID);
  const renewed = await consul.session.renew(session.ID);
  assert.equal(renewed[0].ID, session.ID);
  assert.equal(await consul.kv.set({ key: "leader", value: "me", acquire: session.ID }), true);
  assert.equal((await consul.kv.get("leader")).Session, session.ID);
  assert.equal(await consul.kv.set({ key: "leader", value: "me", release: session.ID }), true);
  await consul.session.destroy(session.ID);
  assert.equal(await consul.session.info(session.ID), undefined);

  // service with a TTL check, check pass, health with passing
  await consul.agent.service.register({ name: "web", id: "web1", port: 80, check: { ttl: "10s" } });
  assert.deepEqual(await consul.health.service({ service: "web", passing: true }), []);
  await consul.agent.check.pass({ id: "service:web1", note: "fine" });
  const healthy = await consul.health.service({ service: "web", passing: true });
  assert.equal(healthy.length, 1);
  assert.equal(healthy[0].Service.ID, "web1");
  assert.equal(await consul.status.leader(), "127.0.0.1:8300");

  // a watch sees a change made after it started
  await consul.kv.set("watched", "1");
  await new Promise((resolve, reject) => {
    const watch = consul.watch({ method: consul.kv.get, options: { key: "watched", wait: "30s" } });
    let first = true;
    const timer = setTimeout(() => { watch.end(); reject(new Error("watch saw no change")); }, 30000);
    watch.on("change", (data) => {
      if (first) {
        first = false;
        assert.equal(data.Value, "1");
        setTimeout(() => consul.kv.set("watched", "2").catch(reject), 200);
        return;
      }
      if (data && data.Value === "2") {
        clearTimeout(timer);
        watch.end();
        resolve();
      }
    });
    watch.on("error", (err) => { clearTimeout(timer); watch.end(); reject(err); });
  });
  console.log("npm consul: all checks passed");
}

main().catch((err) => {
  console.error("FAILED:", err && err.stack ? err.stack : err);
  process.exit(1);
});
