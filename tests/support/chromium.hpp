#pragma once
// Debian's chromium, headless, for the web-page tests: load a page, let its JavaScript run, and
// take the DOM it built (what the tests assert on) and a screenshot (kept under
// build/screenshots/ for people to look at).
//
//   auto dom = cbes::test::chromium_dom(url);               // REQUIRE(dom) — it names a failure
//   CHECK(dom->find("data-member=\"n::a::g\"") != std::string::npos);
//   cbes::test::chromium_screenshot(url, "dashboard");      // build/screenshots/dashboard.png
//
// chromium missing is a failure, never a skip: scripts/install-deps.sh installs it.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace cbes::test {

struct chromium_result {
  std::string output;  // the DOM (chromium_dom) or the screenshot's path (chromium_screenshot)
  std::string error;   // why it failed; empty when it worked
  explicit operator bool() const { return error.empty(); }
};

namespace detail {

inline std::string chromium_binary() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (::access(p, X_OK) == 0)
      return p;
  return {};
}

inline std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs chromium with `args` (already shell-quoted), stdout to `out`; a fresh profile each time
// so that tests can run in parallel.
inline chromium_result run_chromium(const std::string& args, const std::filesystem::path& out) {
  const auto bin = chromium_binary();
  if (bin.empty())
    return {{}, "chromium is not installed (scripts/install-deps.sh installs Debian's chromium)"};
  static std::atomic<int> counter{0};
  const auto dir = std::filesystem::path(CBES_BINARY_DIR) / "tmp" / "chromium" /
                   (std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(dir);
  const auto err = dir / "stderr";
  // --no-sandbox: the tests run as root in CI, where chromium's sandbox refuses to start.
  const std::string cmd = "timeout 90 '" + bin +
                          "' --headless --no-sandbox --disable-gpu --hide-scrollbars "
                          "--no-first-run --disable-extensions --user-data-dir='" +
                          (dir / "profile").string() + "' " + args + " > '" + out.string() +
                          "' 2> '" + err.string() + "'";
  const int status = std::system(cmd.c_str());
  if (status != 0)
    return {{}, "chromium failed (status " + std::to_string(status) + "): " + read_all(err)};
  std::error_code ec;
  std::filesystem::remove_all(dir / "profile", ec);
  return {};
}

}  // namespace detail

// The DOM after the page's scripts ran for `budget` of virtual time (network waits do not count
// against it).
inline chromium_result chromium_dom(const std::string& url,
                                    std::chrono::milliseconds budget = std::chrono::seconds(5)) {
  const auto dir = std::filesystem::path(CBES_BINARY_DIR) / "tmp" / "chromium";
  std::filesystem::create_directories(dir);
  static std::atomic<int> counter{0};
  const auto out =
      dir / ("dom-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".html");
  auto r = detail::run_chromium(
      "--virtual-time-budget=" + std::to_string(budget.count()) + " --dump-dom '" + url + "'", out);
  if (!r)
    return r;
  r.output = detail::read_all(out);
  if (r.output.empty())
    r.error = "chromium printed no DOM for " + url;
  return r;
}

// Saves a `width`×`height` PNG of the page as build/screenshots/<name>.png.
inline chromium_result chromium_screenshot(
    const std::string& url, const std::string& name, int width = 1280, int height = 900,
    std::chrono::milliseconds budget = std::chrono::seconds(5)) {
  const auto dir = std::filesystem::path(CBES_BINARY_DIR) / "screenshots";
  std::filesystem::create_directories(dir);
  const auto png = dir / (name + ".png");
  std::error_code ec;
  std::filesystem::remove(png, ec);
  auto r = detail::run_chromium("--virtual-time-budget=" + std::to_string(budget.count()) +
                                    " --window-size=" + std::to_string(width) + "," +
                                    std::to_string(height) + " --screenshot='" + png.string() +
                                    "' '" + url + "'",
                                png.string() + ".stdout");
  std::filesystem::remove(png.string() + ".stdout", ec);
  if (!r)
    return r;
  if (!std::filesystem::exists(png) || std::filesystem::file_size(png) == 0) {
    r.error = "chromium wrote no screenshot of " + url;
    return r;
  }
  r.output = png.string();
  return r;
}

}  // namespace cbes::test
