"""Debian's python3-consul2 (module `consul`) against cbes-sandbox (CONSUL_HOST/PORT)."""
import os
import sys
import threading
import time

sys.path.insert(0, "/usr/lib/python3/dist-packages")
import consul  # noqa: E402

c = consul.Consul(host=os.environ["CONSUL_HOST"], port=int(os.environ["CONSUL_PORT"]), timeout=60)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAILED:", what)


# KV: put/get/CAS/delete/recurse
check(c.kv.put("app/config", "v1") is True, "kv.put")
index, data = c.kv.get("app/config")
check(data["Value"] == b"v1", "kv.get value")
check(int(index) == data["ModifyIndex"], "kv.get index")
check(c.kv.put("app/config", "v2", cas=data["ModifyIndex"] + 1000) is False, "cas mismatch")
check(c.kv.put("app/config", "v2", cas=data["ModifyIndex"]) is True, "cas match")
c.kv.put("app/other", "x")
_, items = c.kv.get("app/", recurse=True)
check([i["Key"] for i in items] == ["app/config", "app/other"], "recurse")
index404, missing = c.kv.get("nope")
check(missing is None and index404 is not None, "404 gives None with an index")
check(c.kv.delete("app/other") is True, "delete")
check(c.kv.get("app/other")[1] is None, "deleted")
check(c.kv.delete("app/", recurse=True) is True, "delete recurse")

# sessions: create / renew / destroy, acquire / release
sid = c.session.create(name="py", ttl=15, lock_delay=0, behavior="release")
check(len(sid) == 36, "session id")
renewed = c.session.renew(sid)
check(renewed["ID"] == sid, "session renew")
check(c.kv.put("lock", "me", acquire=sid) is True, "acquire")
check(c.kv.get("lock")[1]["Session"] == sid, "held")
check(c.kv.put("lock", "me", release=sid) is True, "release")
check("Session" not in c.kv.get("lock")[1], "released")
check(c.session.destroy(sid) is True, "session destroy")
check(c.session.info(sid)[1] is None, "session gone")

# agent service with a TTL check, ttl_pass, health.service(passing=True)
check(c.agent.service.register("web", service_id="web1", port=8080,
                               check=consul.Check.ttl("10s")) is True, "service register")
check(c.health.service("web", passing=True)[1] == [], "critical at start")
check(c.agent.check.ttl_pass("service:web1", "ok") is True, "ttl_pass")
_, nodes = c.health.service("web", passing=True)
check(len(nodes) == 1 and nodes[0]["Service"]["ID"] == "web1", "passing after ttl_pass")
check(c.agent.service.deregister("web1") is True, "deregister")

# blocking kv.get woken by a put from another thread
c.kv.put("watched", "1")
idx, _ = c.kv.get("watched")
result = {}


def watch():
    result["value"] = c.kv.get("watched", index=idx, wait="30s")


t = threading.Thread(target=watch)
start = time.monotonic()
t.start()
time.sleep(0.5)
check(t.is_alive(), "blocking get is waiting")
c.kv.put("watched", "2")
t.join(30)
check(not t.is_alive(), "blocking get woke up")
check(result.get("value", (None, {}))[1].get("Value") == b"2", "woken with the new value")
check(time.monotonic() - start < 25, "woken before the wait ended")

if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("python3-consul2: all checks passed")
