#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/corpus/<target>/) from well-formed examples of
what each parser meets: mcbp frames as a server sends them, server JSON, bulk responses, document
content, configs, backups, Consul answers. The first byte of an input selects a decoder or a mode
where the target says so. Run it again after changing a target's input layout."""
import json
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def frame(magic, opcode, key=b"", extras=b"", value=b"", vbucket_or_status=0, opaque=0, cas=0,
          datatype=0, framing=b""):
    if magic in (0x08, 0x18):  # alternative encodings: framing extras length, 1-byte key length
        header = struct.pack(">BBBBBBHIIQ", magic, opcode, len(framing), len(key), len(extras),
                             datatype, vbucket_or_status,
                             len(framing) + len(extras) + len(key) + len(value), opaque, cas)
        return header + framing + extras + key + value
    header = struct.pack(">BBHBBHIIQ", magic, opcode, len(key), len(extras), datatype,
                         vbucket_or_status, len(extras) + len(key) + len(value), opaque, cas)
    return header + extras + key + value


doc = json.dumps({"type": "airline", "id": 10, "name": "40-Mile Air", "tags": ["a", "b"]}).encode()
mutation = frame(0x80, 0x57, key=b"\x00airline_10",
                 extras=struct.pack(">QQIIIHB", 5, 1, 0x02000006, 0, 0, 0, 0), value=doc,
                 vbucket_or_status=3, opaque=7, cas=0x16c3f1a2b3c4d5e6, datatype=1)
marker = frame(0x80, 0x56, extras=struct.pack(">QQI", 1, 5, 2), vbucket_or_status=3, opaque=7)
deletion = frame(0x80, 0x58, key=b"\x00gone", extras=struct.pack(">QQI", 6, 2, 0),
                 vbucket_or_status=3, opaque=7)
stream_end = frame(0x80, 0x55, extras=struct.pack(">I", 0), vbucket_or_status=3, opaque=7)
seqno_adv = frame(0x80, 0x64, extras=struct.pack(">Q", 9), vbucket_or_status=3, opaque=7)
system_event = frame(0x80, 0x5f, key=b"brewery", extras=struct.pack(">QIB", 8, 0, 2),
                     value=struct.pack(">QII", 0xa2, 0, 0x1c), vbucket_or_status=3, opaque=7)
hello = frame(0x81, 0x1f, value=struct.pack(">HHHH", 0x06, 0x0a, 0x12, 0x13))
error_map = frame(0x81, 0xfe, value=json.dumps(
    {"version": 2, "revision": 1, "errors": {"86": {"name": "ETMPFAIL", "desc": "temp",
                                                     "attrs": ["temp", "retry-now"]}}}).encode())
seqnos = frame(0x81, 0x48, value=struct.pack(">HQHQ", 0, 12, 1, 40))
failover = frame(0x81, 0x54, value=struct.pack(">QQQQ", 0x1234, 40, 0x99, 0))
stream_ok = frame(0x81, 0x53, value=struct.pack(">QQ", 0x1234, 0), opaque=7)
rollback = frame(0x81, 0x53, value=struct.pack(">Q", 4), vbucket_or_status=0x23, opaque=7)
alt = frame(0x18, 0x57, key=b"\x00k", extras=struct.pack(">QQIIIHB", 5, 1, 0, 0, 0, 0, 0),
            value=b"{}", framing=b"\x22\x00\x05", vbucket_or_status=1)
config = frame(0x81, 0xb5, value=b'{"rev":1,"name":"default"}', datatype=1)
sasl = frame(0x81, 0x20, value=b"SCRAM-SHA512 SCRAM-SHA256 PLAIN")
noop = frame(0x80, 0x5c, opaque=9)
stream = mutation + marker + deletion + seqno_adv + system_event + stream_end
for i, (name, data) in enumerate([
        ("dcp-stream", stream), ("hello", hello), ("error-map", error_map),
        ("vb-seqnos", seqnos), ("failover-log", failover), ("stream-ok", stream_ok),
        ("rollback", rollback), ("alt-response", alt), ("cluster-config", config),
        ("sasl-mechs", sasl), ("noop", noop), ("mutation", mutation)]):
    write("mcbp_frames", name, bytes([i * 5 % 64]) + data)

bucket_config = json.dumps({
    "rev": 1, "revEpoch": 1, "name": "default", "uuid": "abc", "bucketType": "membase",
    "bucketCapabilities": ["collections", "dcp", "xattr", "cccp"],
    "collectionsManifestUid": "a2",
    "vBucketServerMap": {"hashAlgorithm": "CRC", "numReplicas": 1,
                         "serverList": ["$HOST:11210", "10.0.0.2:11210"],
                         "vBucketMap": [[0, 1], [1, 0], [0, -1], [1, -1]]},
    "nodesExt": [{"services": {"kv": 11210, "kvSSL": 11207, "mgmt": 8091}, "thisNode": True},
                 {"services": {"kv": 11210}, "hostname": "10.0.0.2",
                  "alternateAddresses": {"external": {"hostname": "kv2.example.com",
                                                      "ports": {"kv": 21210}}}}]})
manifest = json.dumps({"uid": "a2", "scopes": [
    {"name": "_default", "uid": "0", "collections": [{"name": "_default", "uid": "0"},
                                                      {"name": "brewery", "uid": "1c",
                                                       "maxTTL": 1, "history": True}]}]})
xattrs_body = b"_sync\x00{\"rev\":1}\x00"
xattrs = struct.pack(">I", 4 + len(xattrs_body)) + struct.pack(">I", len(xattrs_body)) + \
    xattrs_body + b'{"a":1}'
values = [
    (0, "bucket-config", bucket_config), (1, "manifest", manifest),
    (2, "error-map", error_map[24:].decode()), (3, "xattrs", xattrs),
    (4, "snappy", b"\x0a\x24hello world"), (5, "failover-log", struct.pack(">QQQQ", 1, 9, 2, 0)),
    (6, "stream-filter", '{"uid":"a2","collections":["1c"]}'), (7, "collection-key", b"\x1ckey"),
    (8, "mechanisms", "SCRAM-SHA512 SCRAM-SHA256 PLAIN"), (9, "snappy-value", b"\x04\x0ctest")]
for sel, name, data in values:
    write("mcbp_values", name, bytes([sel]) + (data.encode() if isinstance(data, str) else data))

ok = [{"index": {"_index": "idx", "_id": "k0", "_version": 1, "result": "created",
                 "_shards": {"total": 2, "successful": 1, "failed": 0}, "_seq_no": 0,
                 "_primary_term": 1, "status": 201}},
      {"delete": {"_index": "idx", "_id": "k1", "result": "not_found", "status": 404}}]
write("sink", "bulk-ok", bytes([1 | (1 << 1)]) + json.dumps(
    {"took": 3, "errors": False, "items": ok}).encode())
write("sink", "bulk-filtered", bytes([1 | (1 << 1)]) + json.dumps(
    {"items": [{"index": {"status": 201}}, {"delete": {"status": 200}}]}).encode())
write("sink", "bulk-errors", bytes([1 | (3 << 1)]) + json.dumps({"took": 3, "errors": True, "items": [
    {"index": {"status": 400, "error": {"type": "mapper_parsing_exception", "reason": "bad"}}},
    {"delete": {"status": 429, "error": {"type": "es_rejected_execution_exception"}}},
    {"index": {"status": 201}}, {"delete": {"status": 404}}]}).encode())
write("sink", "bulk-whole-error", bytes([1 | (0x40 << 1)]) + json.dumps(
    {"error": {"type": "illegal_argument_exception", "reason": "x"}, "status": 400}).encode())
write("sink", "document", bytes([0 | (1 << 1)]) + doc)
write("sink", "document-top-level", bytes([0 | (3 << 1)]) + b'{\r\n "meta": 1, "n": 1e5}')
write("sink", "counter", bytes([0 | (4 << 1)]) + b"18446744073709551615")

with open(os.path.join(here, "..", "examples", "connector", "default-connector.toml"), "rb") as f:
    write("config", "default-connector", b"\x01" + f.read())
with open(os.path.join(here, "..", "examples", "consul.toml"), "rb") as f:
    write("config", "consul", b"\x00" + f.read())
write("config", "minimal", b"\x01[couchbase]\nhosts = ['127.0.0.1']\nbucket = 'default'\n"
      b"[group]\nname = 'g'\n[group.static]\nmemberNumber = 1\ntotalMembers = 2\n")

write("checkpoint", "backup", '{"formatVersion":1,"bucketUuid":"abc","vbuckets":{'
      '"2":{"vbuuid":0,"seqno":0,"snapshot":{"startSeqno":0,"endSeqno":0}},'
      '"10":{"vbuuid":-7032817290532466473,"seqno":45,"snapshot":{"startSeqno":40,"endSeqno":45}}}}')
write("checkpoint", "xattr", '{"checkpoint":{"vbuuid":1,"seqno":2,"snapshot":{"startSeqno":1,'
      '"endSeqno":2}},"bucketUuid":"abc"}')

kv = [{"Key": "couchbase/cbes/g/config", "Value": "W2dyb3VwXQ==", "Flags": 0, "CreateIndex": 5,
       "ModifyIndex": 9, "LockIndex": 1, "Session": "adf4238a-882b-9ddc-4a9d-5b6758e4159e"}]
consul = [
    (0, "kv", json.dumps(kv)), (0, "keys", '["a/b","a/c"]'),
    (1, "sessions", json.dumps([{"ID": "adf4238a", "Name": "cbes", "Node": "n1", "LockDelay": 15000000000,
                                 "Behavior": "delete", "TTL": "30s", "NodeChecks": ["serfHealth"],
                                 "ServiceChecks": [{"ID": "service:x"}], "CreateIndex": 1,
                                 "ModifyIndex": 1}])),
    (2, "agent-self", json.dumps({"Config": {"Datacenter": "dc1", "NodeName": "n1"},
                                  "Member": {"Name": "n1", "Addr": "127.0.0.1"}})),
    (2, "services", json.dumps({"cbes-1": {"ID": "cbes-1", "Service": "cbes", "Tags": ["g"],
                                           "Port": 0, "Address": ""}})),
    (3, "health", json.dumps([{"Node": {"Node": "n1", "Address": "127.0.0.1"},
                               "Service": {"ID": "cbes-1", "Service": "cbes"},
                               "Checks": [{"CheckID": "serfHealth", "Status": "passing"}]}])),
    (4, "txn", json.dumps({"Results": [{"KV": kv[0]}], "Errors": None})),
    (4, "txn-failed", json.dumps({"Results": None, "Errors": [{"OpIndex": 0, "What": "cas"}]})),
    (5, "duration", "1m30s"), (6, "endpoint-id", "node1::10.0.0.5::g"),
    (6, "control", '{"paused":true,"note":"x"}'),
    (7, "endpoint-doc", '{"requests":[{"jsonrpc":"2.0","id":"1","method":"worker.ping"}],'
                        '"responses":[{"jsonrpc":"2.0","id":"0","result":true,"timestamp":1}]}')]
for sel, name, data in consul:
    write("consul_json", name, bytes([sel]) + data.encode())

# Raw HTTP responses: first byte = piece size - 1.
http = [
    ("consul-kv", b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Consul-Index: 42\r\n"
     b"X-Consul-Knownleader: true\r\nX-Consul-Lastcontact: 0\r\nContent-Length: 92\r\n\r\n"
     b'[{"LockIndex":0,"Key":"k","Flags":0,"Value":"dg==","CreateIndex":5,"ModifyIndex":42}]      '),
    ("consul-chunked", b"HTTP/1.1 200 OK\r\nX-Consul-Index: 7\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"4\r\n[\"a\"\r\n1\r\n]\r\n0\r\n\r\n"),
    ("es-root", b"HTTP/1.1 200 OK\r\nX-Elastic-Product: Elasticsearch\r\nContent-Type: application/json"
     b"\r\nContent-Length: 75\r\n\r\n"
     b'{"version":{"number":"8.13.4"},"tagline":"You Know, for Search"}          '),
    ("es-close-delimited", b"HTTP/1.0 503 Service Unavailable\r\n\r\n{\"error\":\"x\"}"),
]
for i, (name, data) in enumerate(http):
    write("http_response", name, bytes([(i * 37) % 256]) + data)
