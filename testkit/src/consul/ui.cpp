#include "ui.hpp"

namespace cbes::testkit::consul_fake {

namespace {

// Go's http.Redirect, which the agent uses: the Location, and for GET a short HTML body.
reply moved_permanently(const std::string& method, const std::string& location) {
  reply r;
  r.status = 301;
  r.headers.emplace_back("Location", location);
  if (method == "GET" || method == "HEAD") {
    r.content_type = "text/html; charset=utf-8";
    if (method == "GET")
      r.body = "<a href=\"" + location + "\">Moved Permanently</a>.\n\n";
  }
  return r;
}

}  // namespace

std::optional<reply> ui_route(const std::string& method, const std::string& path,
                              std::string_view raw_query) {
  // A dev agent's index handler redirects `/` to the UI without the query; Go's ServeMux
  // redirects `/ui` (a subtree registered as `/ui/`) keeping it.
  if (path == "/")
    return moved_permanently(method, "/ui/");
  if (path == "/ui")
    return moved_permanently(method, raw_query.empty() ? "/ui/" : "/ui/?" + std::string(raw_query));
  if (!path.starts_with("/ui/"))
    return std::nullopt;
  if (method != "GET") {
    reply r = text(405, "method " + method + " not allowed");
    r.headers.emplace_back("Allow", "GET");
    return r;
  }
  reply r;
  r.body = std::string(ui_page());
  r.content_type = "text/html; charset=utf-8";
  // The page is one document: the browser loads nothing else, and always asks for the page of
  // the agent it talks to (a sandbox restarted at a newer version serves a newer page).
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; script-src 'unsafe-inline'; "
                         "style-src 'unsafe-inline'; img-src 'self' data:");
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

}  // namespace cbes::testkit::consul_fake
