#pragma once
// The web UI of the Consul fake, as `consul agent -dev` serves one: `/` and `/ui` redirect to
// `/ui/`, and `/ui/` (and every `/ui/...` deep link) answers one self-contained page that reads
// the agent through the HTTP API only.
#include <optional>
#include <string>
#include <string_view>

#include "reply.hpp"

namespace cbes::testkit::consul_fake {

// The answer for a UI path, nullopt for any other path (the HTTP API's). `path` is decoded and
// cleaned; `raw_query` is the request's query, still encoded.
std::optional<reply> ui_route(const std::string& method, const std::string& path,
                              std::string_view raw_query);

// The page: HTML, CSS and JavaScript in one document (ui_page.cpp).
std::string_view ui_page();

}  // namespace cbes::testkit::consul_fake
