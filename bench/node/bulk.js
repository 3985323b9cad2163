// Reference run for bench-sink: the official client's helpers.bulk pushing the same 1 KiB
// documents into the same fake. Prints one JSON line: docs, seconds, cpu_us, failed.
//
//   node bulk.js http://127.0.0.1:9200 200000 [concurrency] [flushBytes]
'use strict'
const { Client } = require('@elastic/elasticsearch')

const [url, docsArg, concurrencyArg, flushArg] = process.argv.slice(2)
const docs = Number(docsArg || 200000)
const concurrency = Number(concurrencyArg || 2)
const flushBytes = Number(flushArg || 1000000)

// Same content as bench/sink.cpp one_kib_document().
function oneKibDocument () {
  let doc = '{"type":"airline","name":"40-Mile Air","iata":"Q5","icao":"MLA",' +
    '"callsign":"MILE-AIR","country":"United States","id":10,"active":true,' +
    '"tags":["a","b","c"],"price":12.5,"notes":"'
  doc += 'x'.repeat(1024 - 2 - doc.length)
  return doc + '"}'
}

async function main () {
  const template = JSON.parse(oneKibDocument())
  const client = new Client({ node: url })
  let failed = 0
  async function * source () {
    for (let i = 0; i < docs; i++) yield { ...template, _key: "doc_" + i }
  }
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  const stats = await client.helpers.bulk({
    datasource: source(),
    concurrency,
    flushBytes,
    onDocument (doc) {
      const id = doc._key
      delete doc._key
      return { index: { _index: 'bench-node', _id: id } }
    },
    onDrop () { failed++ }
  })
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const cpu = process.cpuUsage(cpu0)
  await client.close()
  console.log(JSON.stringify({
    docs: stats.successful, seconds, cpu_us: cpu.user + cpu.system, failed: failed + stats.failed
  }))
}

main().catch(err => { console.error(err && err.message ? err.message : err); process.exit(1) })
