#!/usr/bin/python3
"""Debian's python3-elasticsearch (7.17) against `cbes-sandbox --services=elasticsearch`.

Usage: python_es_test.py <path to cbes-sandbox> [flavor]
Starts the sandbox on an ephemeral port, reads its ready line, runs the client, and always
stops the sandbox. Exits non-zero on the first failed check.
"""
import re
import subprocess
import sys
import warnings

import elasticsearch
from elasticsearch import Elasticsearch, helpers


def start_sandbox(binary, flavor):
    proc = subprocess.Popen(
        [binary, "--services=elasticsearch", "--es-port=0", "--es-flavor=" + flavor],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline().strip()
    m = re.fullmatch(r"ready: elasticsearch (http://127\.0\.0\.1:\d+)", line)
    if not m:
        proc.kill()
        raise SystemExit("sandbox did not print the ready line, got: %r" % line)
    return proc, m.group(1)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def run(url):
    warnings.simplefilter("ignore")
    es = Elasticsearch([url], http_compress=True)
    info = es.info()
    check(info["tagline"] == "You Know, for Search", "info tagline: %r" % info)

    r = es.index(index="compat", id="1", body={"name": "one", "n": 1})
    check(r["result"] == "created", "index: %r" % r)
    check(es.get(index="compat", id="1")["_source"] == {"name": "one", "n": 1}, "get")
    check(es.exists(index="compat", id="nope") is False, "exists of a missing doc")

    actions = [{"_index": "compat", "_id": str(i), "_source": {"name": "doc %d" % i, "n": i}}
               for i in range(2, 102)]
    ok, errors = helpers.bulk(es, actions)
    check(ok == 100 and not errors, "helpers.bulk: %r %r" % (ok, errors))

    es.indices.refresh(index="compat")
    count = es.count(index="compat")["count"]
    check(count == 101, "count after refresh: %r" % count)
    hits = es.search(index="compat", body={"query": {"term": {"n": 7}}})["hits"]
    check(hits["total"]["value"] == 1 and hits["hits"][0]["_id"] == "7", "search: %r" % hits)
    health = es.cluster.health()
    check(health["status"] in ("green", "yellow"), "health: %r" % health)

    # A mapping conflict surfaces as the client's BulkIndexError / RequestError.
    try:
        helpers.bulk(es, [{"_index": "compat", "_id": "bad", "_source": {"n": "not a number"}}])
        raise AssertionError("helpers.bulk did not raise BulkIndexError")
    except helpers.BulkIndexError as e:
        err = e.errors[0]["index"]
        check(err["status"] == 400, "bulk error status: %r" % err)
        check("_parsing_exception" in err["error"]["type"], "bulk error type: %r" % err)
    try:
        es.index(index="compat", id="bad", body={"n": {"nested": True}})
        raise AssertionError("es.index did not raise RequestError")
    except elasticsearch.RequestError as e:
        check(e.status_code == 400, "RequestError status: %r" % e.status_code)
        check("_parsing_exception" in e.error, "RequestError type: %r" % e.error)
    try:
        es.get(index="compat", id="missing")
        raise AssertionError("get of a missing doc did not raise NotFoundError")
    except elasticsearch.NotFoundError:
        pass
    es.indices.delete(index="compat")
    check(not es.indices.exists(index="compat"), "index deleted")


def main():
    binary = sys.argv[1]
    flavor = sys.argv[2] if len(sys.argv) > 2 else "elasticsearch-8"
    proc, url = start_sandbox(binary, flavor)
    try:
        run(url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    print("ok: python3-elasticsearch against", flavor)


if __name__ == "__main__":
    main()
