#include <catch2/catch.hpp>

#include "consul/client.hpp"
#include "integration/consul/harness.hpp"

using namespace consul_it;
using consul::errc;

namespace {
// Lists are built with this outside any braces (CONTRIBUTING.md, GCC 12 rule 2).
template <class... S>
std::vector<std::string> strings(S... s) {
  std::vector<std::string> v;
  (v.emplace_back(s), ...);
  return v;
}
}  // namespace

TEST_CASE("kv put then get round-trips bytes, flags above 2^63 and awkward keys") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    std::string binary(
        "\0\x01\xff"
        "abc",
        6);
    const std::string key = "dir/a b%?#+:\xC3\xA9";
    consul::kv_put_options o;
    o.flags = 16210313421097356768ull;
    auto put = co_await c.kv().put(key, binary, o);
    REQUIRE(put);
    CHECK(*put);
    auto got = co_await c.kv().get(key);
    REQUIRE(got);
    REQUIRE(got->value);
    CHECK(got->value->key == key);
    CHECK(got->value->value == binary);
    CHECK(got->value->flags == 16210313421097356768ull);
    CHECK(got->value->modify_index > 0);
    CHECK(got->meta.index == got->value->modify_index);
    CHECK(got->meta.known_leader);
  }());
}

TEST_CASE("kv get of a missing key is absent with its query meta") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    auto got = co_await c.kv().get("nope");
    REQUIRE(got);
    CHECK_FALSE(got->value);
    CHECK(got->meta.index >= 1);
  }());
}

TEST_CASE("kv empty value reads back as empty") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    REQUIRE(co_await c.kv().put("empty", ""));
    auto got = co_await c.kv().get("empty");
    REQUIRE(got);
    REQUIRE(got->value);
    CHECK(got->value->value.empty());
  }());
}

TEST_CASE("kv refuses a key starting with a slash before sending anything") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    const auto before = f.agent.requests_served();
    auto put = co_await c.kv().put("/abs", "x");
    REQUIRE_FALSE(put);
    CHECK(put.error().code == errc::invalid_argument);
    CHECK(put.error().message.find("must not begin with a '/'") != std::string::npos);
    CHECK(f.agent.requests_served() == before);
  }());
}

TEST_CASE("kv recurse lists a raw string prefix sorted and keys cut at the separator") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    for (const auto& k : strings("web/foo", "web/bar", "web/subdir/x", "web/subdir/y", "webby"))
      REQUIRE(co_await c.kv().put(k, k));
    auto all = co_await c.kv().recurse("web");
    REQUIRE(all);
    REQUIRE(all->value.size() == 5);
    CHECK(all->value.front().key == "web/bar");
    CHECK(all->value.back().key == "webby");
    auto keys = co_await c.kv().keys("web/", "/");
    REQUIRE(keys);
    CHECK(keys->value == strings("web/bar", "web/foo", "web/subdir/"));
    auto none = co_await c.kv().recurse("nothing/");
    REQUIRE(none);
    CHECK(none->value.empty());
    CHECK(none->meta.index >= 1);
  }());
}

TEST_CASE("kv remove deletes one key, a prefix, and honours cas") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    REQUIRE(co_await c.kv().put("t/a", "1"));
    REQUIRE(co_await c.kv().put("t/b", "2"));
    REQUIRE(co_await c.kv().put("u", "3"));
    auto u = co_await c.kv().get("u");
    REQUIRE(u);
    consul::kv_delete_options stale;
    stale.cas = u->value->modify_index + 100;
    CHECK_FALSE(*co_await c.kv().remove("u", stale));
    consul::kv_delete_options exact;
    exact.cas = u->value->modify_index;
    CHECK(*co_await c.kv().remove("u", exact));
    consul::kv_delete_options tree;
    tree.recurse = true;
    CHECK(*co_await c.kv().remove("t/", tree));
    CHECK((co_await c.kv().recurse("t/"))->value.empty());
    CHECK(*co_await c.kv().remove("never-existed"));
  }());
}

TEST_CASE("two clients racing a cas write: exactly one wins") {
  agent_fixture f;
  consul::client a(f.io.get_executor(), options_for(f.agent));
  consul::client b(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    REQUIRE(co_await a.kv().put("counter", "0"));
    auto seen = co_await a.kv().get("counter");
    REQUIRE(seen);
    const auto idx = seen->value->modify_index;
    int wins = 0;
    int done = 0;
    auto attempt = [&](consul::client& c, std::string v) -> asio::awaitable<void> {
      consul::kv_put_options o;
      o.cas = idx;
      auto r = co_await c.kv().put("counter", v, o);
      REQUIRE(r);
      wins += *r ? 1 : 0;
      ++done;
    };
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, attempt(a, "a"), asio::detached);
    asio::co_spawn(ex, attempt(b, "b"), asio::detached);
    while (done < 2)
      co_await sleep(10ms);
    CHECK(wins == 1);
    consul::kv_put_options create_only;
    create_only.cas = 0;
    auto existing = co_await a.kv().put("counter", "x", create_only);
    auto fresh = co_await a.kv().put("fresh", "x", create_only);
    CHECK_FALSE(existing.value());
    CHECK(fresh.value());
  }());
}

TEST_CASE("sessions are created, listed, renewed and destroyed") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    consul::session_options o;
    o.name = "leader";
    o.ttl = 15s;
    o.lock_delay = 2s;
    o.behavior = consul::session_behavior::delete_keys;
    auto id = co_await c.session().create(o);
    REQUIRE(id);
    auto info = co_await c.session().info(*id);
    REQUIRE(info);
    REQUIRE(info->value);
    CHECK(info->value->name == "leader");
    CHECK(info->value->ttl_duration == 15s);
    CHECK(info->value->lock_delay == 2s);
    CHECK(info->value->behavior == consul::session_behavior::delete_keys);
    CHECK(info->meta.index >= 1);
    auto self = co_await c.agent().self();
    REQUIRE(self);
    auto on_node = co_await c.session().node(self->node_name);
    REQUIRE(on_node);
    CHECK(on_node->value.size() == 1);
    auto all = co_await c.session().list();
    REQUIRE(all);
    CHECK(all->value.size() == 1);
    auto renewed = co_await c.session().renew(*id);
    REQUIRE(renewed);
    CHECK(renewed->id == *id);
    CHECK(renewed->ttl_duration == 15s);
    CHECK(*co_await c.session().destroy(*id));
    CHECK(*co_await c.session().destroy(*id));  // idempotent
    auto gone = co_await c.session().info(*id);
    REQUIRE(gone);
    CHECK_FALSE(gone->value);
    auto renew_gone = co_await c.session().renew(*id);
    REQUIRE_FALSE(renew_gone);
    CHECK(renew_gone.error().code == errc::session_not_found);
    CHECK(renew_gone.error().http_status == 404);
  }());
}

TEST_CASE("a session with an invalid TTL is refused with Consul's text") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    consul::session_options o;
    o.ttl = 5s;
    auto id = co_await c.session().create(o);
    REQUIRE_FALSE(id);
    CHECK(id.error().http_status == 500);
    CHECK(id.error().message.find("Invalid Session TTL") == 0);
  }());
}

TEST_CASE("acquire and release lock a key for one session at a time") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    consul::session_options so;
    so.lock_delay = 0ms;
    auto s1 = co_await c.session().create(so);
    auto s2 = co_await c.session().create(so);
    REQUIRE(s1);
    REQUIRE(s2);
    consul::kv_put_options acq1;
    acq1.acquire = *s1;
    consul::kv_put_options acq2;
    acq2.acquire = *s2;
    auto first = co_await c.kv().put("lock", "one", acq1);
    auto second = co_await c.kv().put("lock", "two", acq2);
    CHECK(first.value());
    CHECK_FALSE(second.value());
    auto held = co_await c.kv().get("lock");
    CHECK(held->value->session == *s1);
    CHECK(held->value->lock_index == 1);
    consul::kv_put_options rel;
    rel.release = *s1;
    auto released = co_await c.kv().put("lock", "free", rel);
    CHECK(released.value());
    auto after = co_await c.kv().get("lock");
    CHECK(after->value->session.empty());
    consul::kv_put_options bad;
    bad.acquire = "no-such-session";
    auto invalid = co_await c.kv().put("lock", "x", bad);
    REQUIRE_FALSE(invalid);
    CHECK(invalid.error().message.find("invalid session") != std::string::npos);
  }());
}

TEST_CASE("agent registers a service with a TTL check, updates it and deregisters") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    auto self = co_await c.agent().self();
    REQUIRE(self);
    CHECK(self->datacenter == "dc1");
    CHECK(self->node_name == "cbes-sandbox");

    consul::service_registration r;
    r.id = "web-1";
    r.name = "web";
    r.tags = strings("primary");
    r.meta.emplace("version", "1");
    r.port = 8080;
    consul::ttl_check check;
    check.ttl = 30s;
    check.deregister_critical_service_after = 1min;
    r.check = check;
    r.replace_existing_checks = true;
    REQUIRE(co_await c.agent().register_service(r));

    auto services = co_await c.agent().services();
    REQUIRE(services);
    REQUIRE(services->count("web-1") == 1);
    CHECK(services->at("web-1").meta.at("version") == "1");
    CHECK(services->at("web-1").port == 8080);

    auto checks = co_await c.agent().checks();
    REQUIRE(checks);
    REQUIRE(checks->count("service:web-1") == 1);
    CHECK(checks->at("service:web-1").status == "critical");  // TTL checks start critical
    CHECK(checks->count("serfHealth") == 0);

    auto passing = co_await c.health().service("web");
    REQUIRE(passing);
    CHECK(passing->value.size() == 1);
    consul::health_options only_passing;
    only_passing.passing = true;
    CHECK((co_await c.health().service("web", only_passing))->value.empty());

    REQUIRE(co_await c.agent().pass("service:web-1", "all good"));
    auto up = co_await c.health().service("web", only_passing);
    REQUIRE(up);
    REQUIRE(up->value.size() == 1);
    CHECK(up->value.front().service.id == "web-1");
    CHECK(up->value.front().node.address == "127.0.0.1");
    bool has_serf = false;
    for (const auto& ch : up->value.front().checks)
      has_serf = has_serf || ch.check_id == "serfHealth";
    CHECK(has_serf);

    REQUIRE(co_await c.agent().warn("service:web-1", "hmm"));
    CHECK((co_await c.health().service("web", only_passing))->value.empty());
    REQUIRE(co_await c.agent().update("service:web-1", consul::check_status::passing, "fine"));
    auto after = co_await c.agent().checks();
    CHECK(after->at("service:web-1").status == "passing");
    CHECK(after->at("service:web-1").output == "fine");
    REQUIRE(co_await c.agent().fail("service:web-1", "down"));
    CHECK((co_await c.agent().checks())->at("service:web-1").status == "critical");

    auto tagged_opts = consul::health_options{};
    tagged_opts.tags = strings("primary");
    CHECK((co_await c.health().service("web", tagged_opts))->value.size() == 1);
    tagged_opts.tags = strings("other");
    CHECK((co_await c.health().service("web", tagged_opts))->value.empty());

    auto catalog = co_await c.catalog().services();
    REQUIRE(catalog);
    CHECK(catalog->value.count("consul") == 1);
    CHECK(catalog->value.at("web") == strings("primary"));

    auto unknown = co_await c.agent().pass("no-such-check");
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().message.find("Unknown check ID") != std::string::npos);

    REQUIRE(co_await c.agent().deregister_service("web-1"));
    CHECK((co_await c.agent().services())->count("web-1") == 0);
    CHECK(co_await c.agent().deregister_service("web-1"));  // unknown id counts as done
  }());
}

TEST_CASE("status reports the leader and peers, and an empty leader when it is lost") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    CHECK(*co_await c.status().leader() == "127.0.0.1:8300");
    CHECK(*co_await c.status().peers() == strings("127.0.0.1:8300"));
    f.agent.lose_leader(true);
    CHECK((co_await c.status().leader())->empty());
    consul::query_options stale;
    stale.mode = consul::consistency::stale;
    auto r = co_await c.kv().get("x", stale);
    REQUIRE(r);
    CHECK_FALSE(r->meta.known_leader);
    auto w = co_await c.kv().put("x", "y");
    REQUIRE_FALSE(w);
    CHECK(w.error().code == errc::no_leader);
    CHECK(w.error().message == "No cluster leader");
  }());
}

TEST_CASE("a txn applies every op or reports every failed op") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    std::vector<consul::txn_op> ok;
    ok.push_back(consul::txn_op::set("tx/a", "1"));
    ok.push_back(consul::txn_op::set("tx/b", "2", 7));
    ok.push_back(consul::txn_op::check_not_exists("tx/c"));
    ok.push_back(consul::txn_op::get("tx/a"));
    ok.push_back(consul::txn_op::get_tree("tx/"));
    auto r = co_await c.txn().run(ok);
    REQUIRE(r);
    REQUIRE(r->committed);
    REQUIRE(r->results.size() >= 3);
    const auto a = co_await c.kv().get("tx/a");
    std::vector<consul::txn_op> mixed;
    mixed.push_back(consul::txn_op::cas("tx/a", "3", a->value->modify_index));
    mixed.push_back(consul::txn_op::check_index("tx/b", 1));
    mixed.push_back(consul::txn_op::get("tx/missing"));
    mixed.push_back(consul::txn_op::remove_cas("tx/a", 1));
    mixed.push_back(consul::txn_op::check_session("tx/a", "nobody"));
    auto bad = co_await c.txn().run(mixed);
    REQUIRE(bad);
    CHECK_FALSE(bad->committed);
    std::vector<std::size_t> failed;
    std::vector<std::size_t> expected_failed;
    for (std::size_t i = 1; i <= 4; ++i)
      expected_failed.push_back(i);
    for (const auto& e : bad->errors) {
      failed.push_back(e.op_index);
      CHECK_FALSE(e.what.empty());
    }
    CHECK(failed == expected_failed);
    CHECK((co_await c.kv().get("tx/a"))->value->value == "1");  // nothing applied
    std::vector<consul::txn_op> del;
    del.push_back(consul::txn_op::remove("tx/a"));
    del.push_back(consul::txn_op::remove_tree("tx/"));
    CHECK((co_await c.txn().run(del))->committed);
    CHECK((co_await c.kv().recurse("tx/"))->value.empty());
  }());
}

TEST_CASE("ACL token: requests pass with it and fail with ACL not found without it") {
  cbes::testkit::consul_agent_options ao;
  ao.acl_master_token = "s3cr3t";
  agent_fixture f(ao);
  auto with = options_for(f.agent);
  with.token = "s3cr3t";
  consul::client good(f.io.get_executor(), with);
  auto wrong_opts = options_for(f.agent);
  wrong_opts.token = "nope";
  consul::client wrong(f.io.get_executor(), wrong_opts);
  consul::client anonymous(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    CHECK(*co_await good.kv().put("k", "v"));
    CHECK((co_await good.kv().get("k"))->value->value == "v");
    auto denied = co_await wrong.kv().put("k", "w");
    REQUIRE_FALSE(denied);
    CHECK(denied.error().code == errc::acl_denied);
    CHECK(denied.error().http_status == 403);
    CHECK(denied.error().message == "ACL not found");
    auto anon = co_await anonymous.kv().get("k");
    REQUIRE_FALSE(anon);
    CHECK(anon.error().code == errc::acl_denied);
  }());
}

TEST_CASE("a txn locks and unlocks a key for a session") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    consul::session_options so;
    so.ttl = 30s;
    auto id = co_await c.session().create(so);
    REQUIRE(id);
    std::vector<consul::txn_op> lock_ops;
    lock_ops.push_back(consul::txn_op::lock("tx/leader", "me", *id));
    lock_ops.push_back(consul::txn_op::check_session("tx/leader", *id));
    auto locked = co_await c.txn().run(lock_ops);
    REQUIRE(locked);
    CHECK(locked->committed);
    auto held = co_await c.kv().get("tx/leader");
    REQUIRE(held);
    REQUIRE(held->value);
    CHECK(held->value->session == *id);
    CHECK(held->value->lock_index == 1);
    CHECK(held->value->value == "me");

    std::vector<consul::txn_op> wrong;
    wrong.push_back(consul::txn_op::unlock("tx/leader", "x", "not-the-holder"));
    auto refused = co_await c.txn().run(wrong);
    REQUIRE(refused);
    CHECK_FALSE(refused->committed);
    CHECK(refused->errors.size() == 1);

    std::vector<consul::txn_op> unlock_ops;
    unlock_ops.push_back(consul::txn_op::unlock("tx/leader", "free", *id));
    auto unlocked = co_await c.txn().run(unlock_ops);
    REQUIRE(unlocked);
    CHECK(unlocked->committed);
    auto after = co_await c.kv().get("tx/leader");
    REQUIRE(after);
    REQUIRE(after->value);
    CHECK(after->value->session.empty());
    CHECK(after->value->value == "free");
    CHECK(co_await c.session().destroy(*id));
  }());
}

TEST_CASE("sessions bound to health checks are invalidated when a check turns critical") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    consul::service_registration r;
    r.id = "web-1";
    r.name = "web";
    consul::ttl_check check;
    check.ttl = 30s;
    r.check = check;
    REQUIRE(co_await c.agent().register_service(r));
    REQUIRE(co_await c.agent().pass("service:web-1"));

    // Bound to the service's TTL check (and serfHealth): its failure ends the session and
    // releases the session's locks.
    consul::session_options so;
    so.name = "svc-bound";
    so.service_checks = strings("service:web-1");
    auto svc = co_await c.session().create(so);
    REQUIRE(svc);
    auto info = co_await c.session().info(*svc);
    REQUIRE(info);
    REQUIRE(info->value);
    CHECK(info->value->name == "svc-bound");
    consul::kv_put_options acquire;
    acquire.acquire = *svc;
    REQUIRE(*co_await c.kv().put("svc/leader", "web-1", acquire));
    REQUIRE(co_await c.agent().fail("service:web-1", "broken"));
    CHECK_FALSE((co_await c.session().info(*svc))->value);
    auto key = co_await c.kv().get("svc/leader");
    REQUIRE(key);
    REQUIRE(key->value);
    CHECK(key->value->session.empty());

    // Bound to serfHealth only (node_checks): killing the node ends it; a session bound to
    // no check at all survives.
    consul::session_options node_bound;
    node_bound.node_checks = strings("serfHealth");
    auto on_node = co_await c.session().create(node_bound);
    REQUIRE(on_node);
    consul::session_options unbound;
    unbound.no_checks = true;
    unbound.ttl = 30s;
    auto free_session = co_await c.session().create(unbound);
    REQUIRE(free_session);
    f.agent.kill_node();
    CHECK_FALSE((co_await c.session().info(*on_node))->value);
    CHECK((co_await c.session().info(*free_session))->value);
    f.agent.kill_node(false);
  }());
}
