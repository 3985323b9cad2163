#pragma once
// What the benchmarks share: the document they push and how they measure CPU.
#include <sys/resource.h>

#include <string>

namespace cbes::bench {

// A 1 KiB JSON object shaped like a travel-sample airline document.
inline std::string one_kib_document() {
  std::string doc = R"({"type":"airline","name":"40-Mile Air","iata":"Q5","icao":"MLA",)"
                    R"("callsign":"MILE-AIR","country":"United States","id":10,"active":true,)"
                    R"("tags":["a","b","c"],"price":12.5,"notes":")";
  while (doc.size() < 1024 - 2)
    doc += 'x';
  doc += "\"}";
  return doc;
}

// CPU time (user + system) of the calling thread: the code under test runs on it, the fakes
// run on their own threads.
inline double thread_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace cbes::bench
