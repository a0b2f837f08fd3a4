-- The summary every bench wrk script prints: one JSON line on stdout, read by bench/wrk.py.
function done(summary, latency, requests)
   io.write(string.format(
      '{"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
         .. '"latency_ms":{"p50":%.3f,"p99":%.3f,"max":%.3f}}\n',
      summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
      summary.errors.status, summary.errors.timeout,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
