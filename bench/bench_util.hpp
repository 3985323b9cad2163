#pragma once
// What the benchmarks share: the document they push and how they measure CPU.
#include <sys/resource.h>

#include <string>

#include "cbes/couchbase/cluster.hpp"
#include "cbes/testkit/couchbase_cluster.hpp"

namespace cbes::bench {

// A 1 KiB JSON object shaped like a travel-sample airline document (what
// `cbes-sandbox --load-documents` stores).
inline std::string one_kib_document() {
  return cbes::testkit::padded_document(1024);
}

// Client options for the fakes' bucket "default" as Administrator/password.
inline cbes::couchbase::cluster_options fake_bucket_options(std::string seeds) {
  cbes::couchbase::cluster_options co;
  co.seeds = std::move(seeds);
  co.username = "Administrator";
  co.password = "password";
  co.bucket = "default";
  return co;
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
