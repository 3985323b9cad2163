#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cbes/connector/worker.hpp"
#include "cbes/group/plan.hpp"

using cbes::group::member_id;
using cbes::group::ownership;
using cbes::group::plan;
using cbes::group::plan_result;
using cbes::group::plan_settings;
using cbes::group::vbucket_move;
using vbuckets = std::vector<std::uint16_t>;

namespace {

member_id endpoint(int k) {
  return "node" + std::to_string(k) + "::10.0.0." + std::to_string(k) + ":8300::cbes";
}

std::vector<member_id> endpoints(int count) {
  std::vector<member_id> out;
  for (int k = 0; k < count; ++k)
    out.push_back(endpoint(k));
  return out;
}

vbuckets range(int first, int last) {  // [first, last]
  vbuckets out;
  for (int v = first; v <= last; ++v)
    out.push_back(static_cast<std::uint16_t>(v));
  return out;
}

// The static split of the Java connector for the sorted `members`.
ownership java_split(std::vector<member_id> members, std::uint16_t n) {
  std::sort(members.begin(), members.end());
  ownership out;
  const int m = static_cast<int>(members.size());
  for (int i = 0; i < m; ++i)
    out[members[static_cast<std::size_t>(i)]] = cbes::connector::member_vbuckets(i + 1, m, n);
  return out;
}

// What the planner must treat as the current state: for each vbucket, the live members that
// list it (in range, repeats counted once).
using claim_map = std::vector<std::set<member_id>>;

claim_map claims_of(const ownership& current, const std::set<member_id>& live, std::uint16_t n) {
  claim_map claims(n);
  for (const auto& [member, vbs] : current) {
    if (!live.contains(member))
      continue;
    for (const std::uint16_t v : vbs) {
      if (v < n)
        claims[v].insert(member);
    }
  }
  return claims;
}

// Moves that start a vbucket on a member that does not stream it yet.
std::size_t grants(const plan_result& p, const claim_map& claims) {
  return static_cast<std::size_t>(std::count_if(p.moves.begin(), p.moves.end(), [&](auto& mv) {
    return !claims[mv.vbucket].contains(mv.to);
  }));
}

bool has_duplicates(const claim_map& claims) {
  return std::any_of(claims.begin(), claims.end(), [](auto& c) { return c.size() > 1; });
}

// The fewest grants of any balanced assignment, by trying them all (tiny inputs only).
std::size_t brute_force_min_grants(const claim_map& claims, const std::set<member_id>& live) {
  const std::vector<member_id> members(live.begin(), live.end());
  const std::size_t n = claims.size(), m = members.size();
  std::vector<std::vector<bool>> claimed(n, std::vector<bool>(m));  // [v][member index]
  for (std::size_t v = 0; v < n; ++v) {
    for (std::size_t i = 0; i < m; ++i)
      claimed[v][i] = claims[v].contains(members[i]);
  }
  std::size_t assignments = 1;
  for (std::size_t v = 0; v < n; ++v)
    assignments *= m;
  std::size_t best = n;
  for (std::size_t a = 0; a < assignments; ++a) {
    std::vector<std::size_t> size(m, 0);
    std::size_t kept = 0;
    for (std::size_t v = 0, code = a; v < n; ++v, code /= m) {
      ++size[code % m];
      kept += claimed[v][code % m] ? 1 : 0;
    }
    const bool balanced = std::all_of(size.begin(), size.end(), [&](std::size_t s) {
      return s == n / m || s == (n + m - 1) / m;
    });
    if (balanced)
      best = std::min(best, n - kept);
  }
  return best;
}

// Every property a plan must have, whatever the input.
void check_plan(const ownership& current, const std::vector<member_id>& live_members,
                std::uint16_t n, const plan_result& p) {
  const std::set<member_id> live(live_members.begin(), live_members.end());
  const claim_map claims = claims_of(current, live, n);

  if (live.empty()) {
    REQUIRE(p.target.empty());
    REQUIRE(p.moves.empty());
    return;
  }

  // Every live member, balanced within one, every vbucket exactly once.
  REQUIRE(p.target.size() == live.size());
  const std::size_t m = live.size();
  std::vector<member_id> owner(n);
  std::vector<bool> seen(n, false);
  for (const auto& [member, vbs] : p.target) {
    REQUIRE(live.contains(member));
    REQUIRE(std::is_sorted(vbs.begin(), vbs.end()));
    REQUIRE((vbs.size() == n / m || vbs.size() == (n + m - 1) / m));
    for (const std::uint16_t v : vbs) {
      REQUIRE(v < n);
      REQUIRE_FALSE(seen[v]);
      seen[v] = true;
      owner[v] = member;
    }
  }
  REQUIRE(std::all_of(seen.begin(), seen.end(), [](bool b) { return b; }));

  // The moves are exactly the vbuckets whose live streamers change, releasing every other
  // claim.
  std::vector<vbucket_move> expected;
  for (std::size_t v = 0; v < n; ++v) {
    if (claims[v] == std::set<member_id>{owner[v]})
      continue;
    vbucket_move mv{static_cast<std::uint16_t>(v), {}, owner[v]};
    for (const member_id& c : claims[v]) {
      if (c != owner[v])
        mv.from.push_back(c);
    }
    expected.push_back(mv);
  }
  REQUIRE(p.moves == expected);

  // Sticky: the grants are the members' shortfalls against what they kept...
  std::size_t shortfall = 0;
  for (const auto& [member, vbs] : p.target) {
    const std::size_t kept = static_cast<std::size_t>(
        std::count_if(vbs.begin(), vbs.end(), [&](auto v) { return claims[v].contains(member); }));
    shortfall += vbs.size() - kept;
  }
  REQUIRE(grants(p, claims) == shortfall);
  // ...and no balanced assignment needs fewer. Without duplicates the best is known in closed
  // form: each member keeps up to its share, the extra vbuckets going to members that have more.
  if (!has_duplicates(claims)) {
    const std::size_t base = n / m, extra = n % m;
    std::size_t keepable = 0, over = 0;
    for (const member_id& member : live) {
      std::size_t owned = 0;
      for (const auto& c : claims)
        owned += c.contains(member) ? 1 : 0;
      keepable += std::min(owned, base);
      over += owned > base ? 1 : 0;
    }
    keepable += std::min(extra, over);
    REQUIRE(grants(p, claims) == n - keepable);
  }

  // Stable: planning again from the target (a new leader, same members) moves nothing.
  const plan_result again = plan(p.target, live_members, {n});
  REQUIRE(again.target == p.target);
  REQUIRE(again.moves.empty());
}

}  // namespace

TEST_CASE("the header's example") {
  const auto p = plan({{"a", {0, 1, 2, 3}}, {"b", {4, 5, 6, 7}}}, {"a", "b", "c"}, {8});
  CHECK(p.target == ownership{{"a", {0, 1, 2}}, {"b", {4, 5, 6}}, {"c", {3, 7}}});
  CHECK(p.moves == std::vector<vbucket_move>{{3, {"a"}, "c"}, {7, {"b"}, "c"}});
}

TEST_CASE("from nothing, the plan is the Java connector's static split") {
  for (const std::uint16_t n : {1024, 64, 7, 3}) {
    for (int m = 1; m <= 10; ++m) {
      INFO("n=" << n << " m=" << m);
      auto members = endpoints(m);
      std::reverse(members.begin(), members.end());  // the order given does not matter
      const auto p = plan({}, members, {n});
      const auto split = java_split(members, n);
      REQUIRE(p.target == split);
      REQUIRE(p.moves.size() == n);
      for (const auto& mv : p.moves) {
        CHECK(mv.from.empty());
        CHECK(std::binary_search(split.at(mv.to).begin(), split.at(mv.to).end(), mv.vbucket));
      }
      check_plan({}, members, n, p);
    }
  }
}

TEST_CASE("fresh three members own 342, 341 and 341 contiguous vbuckets") {
  const auto p = plan({}, {"c", "a", "b"}, {});
  CHECK(p.target ==
        ownership{{"a", range(0, 341)}, {"b", range(342, 682)}, {"c", range(683, 1023)}});
}

TEST_CASE("a join moves about N/(M+1) vbuckets, all to the joiner") {
  const auto members = endpoints(3);
  const auto current = java_split(members, 1024);
  auto live = members;
  live.push_back(endpoint(3));
  const auto p = plan(current, live, {});
  CHECK(p.moves.size() == 256);
  for (const auto& mv : p.moves) {
    CHECK(mv.to == endpoint(3));
    REQUIRE(mv.from.size() == 1);
    const auto& had = current.at(mv.from.front());
    CHECK(std::binary_search(had.begin(), had.end(), mv.vbucket));
  }
  for (const auto& member : members) {
    const auto& now = p.target.at(member);
    CHECK(now.size() == 256);
    CHECK(std::includes(current.at(member).begin(), current.at(member).end(), now.begin(),
                        now.end()));
  }
  check_plan(current, live, 1024, p);

  SECTION("two joining at once share the moves") {
    live.push_back(endpoint(4));
    const auto q = plan(current, live, {});
    CHECK(q.moves.size() == 1024 - 3 * 205);  // the three keep 205 each (1024 = 4*205 + 204)
    for (const auto& mv : q.moves)
      CHECK((mv.to == endpoint(3) || mv.to == endpoint(4)));
    check_plan(current, live, 1024, q);
  }
}

TEST_CASE("a leave moves only the leaver's vbuckets") {
  const auto members = endpoints(4);
  const auto current = java_split(members, 1024);
  const member_id leaver = endpoint(2);
  std::vector<member_id> live;
  for (const auto& member : members) {
    if (member != leaver)
      live.push_back(member);
  }
  const auto p = plan(current, live, {});
  REQUIRE(p.moves.size() == 256);
  const auto& lost = current.at(leaver);
  for (std::size_t k = 0; k < p.moves.size(); ++k) {
    CHECK(p.moves[k].vbucket == lost[k]);
    CHECK(p.moves[k].from.empty());  // nobody live streams them: the leaver is gone
    CHECK(p.moves[k].to != leaver);
  }
  for (const auto& member : live) {
    const auto& now = p.target.at(member);
    CHECK(std::includes(now.begin(), now.end(), current.at(member).begin(),
                        current.at(member).end()));
  }
  check_plan(current, live, 1024, p);
}

TEST_CASE("a leader change with the same members moves nothing") {
  // An unbalanced-looking but balanced state a series of joins and leaves left behind.
  const ownership current{{"a", {0, 2, 4, 6, 8}}, {"b", {1, 3, 5, 7}}, {"c", {9, 10, 11, 12}}};
  const auto p = plan(current, {"a", "b", "c"}, {13});
  CHECK(p.target == current);
  CHECK(p.moves.empty());
  CHECK(plan(current, {"c", "b", "a", "b"}, {13}) == p);
}

TEST_CASE("a vbucket listed twice stays with the claimant whose share has room") {
  SECTION("the lower member id when both have room") {
    const ownership current{{"a", {0, 1, 5}}, {"b", {2, 3, 5}}};
    const auto p = plan(current, {"a", "b"}, {8});
    CHECK(p.target == ownership{{"a", {0, 1, 4, 5}}, {"b", {2, 3, 6, 7}}});
    CHECK(p.moves ==
          std::vector<vbucket_move>{{4, {}, "a"}, {5, {"b"}, "a"}, {6, {}, "b"}, {7, {}, "b"}});
    check_plan(current, {"a", "b"}, 8, p);
  }
  SECTION("the other claimant when the lower id is full") {
    const ownership current{{"a", {0, 1, 2, 3, 5}}, {"b", {5, 6}}};
    const auto p = plan(current, {"a", "b"}, {8});
    CHECK(p.target == ownership{{"a", {0, 1, 2, 3}}, {"b", {4, 5, 6, 7}}});
    CHECK(p.moves == std::vector<vbucket_move>{{4, {}, "b"}, {5, {"a"}, "b"}, {7, {}, "b"}});
    check_plan(current, {"a", "b"}, 8, p);
  }
  SECTION("listed three times, released by every other claimant before the grant") {
    const ownership current{{"a", {0, 1, 2}}, {"b", {0, 3}}, {"c", {0}}, {"gone", {0}}};
    const auto p = plan(current, {"a", "b", "c"}, {6});
    CHECK(p.target == ownership{{"a", {1, 2}}, {"b", {0, 3}}, {"c", {4, 5}}});
    CHECK(p.moves == std::vector<vbucket_move>{{0, {"a", "c"}, "b"}, {4, {}, "c"}, {5, {}, "c"}});
    check_plan(current, {"a", "b", "c"}, 6, p);
  }
  SECTION("a member listing a vbucket twice holds it once") {
    const ownership current{{"a", {1, 1, 0, 1}}, {"b", {2, 3}}};
    const auto p = plan(current, {"a", "b"}, {4});
    CHECK(p.target == ownership{{"a", {0, 1}}, {"b", {2, 3}}});
    CHECK(p.moves.empty());
  }
}

TEST_CASE("duplicates are resolved so that the most vbuckets stay where they are") {
  // Taking vbucket 1 for a (the lower id, with room) would leave no room for 2 anywhere:
  // the best plan gives 1 to b and 2 to a, so nothing starts anywhere new.
  const ownership current{{"a", {0, 1, 2}}, {"b", {1, 3}}, {"c", {2, 4, 5}}};
  const std::vector<member_id> live{"a", "b", "c"};
  const auto p = plan(current, live, {6});
  CHECK(p.target == ownership{{"a", {0, 2}}, {"b", {1, 3}}, {"c", {4, 5}}});
  CHECK(p.moves == std::vector<vbucket_move>{{1, {"a"}, "b"}, {2, {"c"}, "a"}});
  check_plan(current, live, 6, p);
}

TEST_CASE("the extra vbucket goes to the member it lets keep one") {
  // 4 vbuckets on 3 members: one gets 2. a and b both claim 0 and 1 (so only one each can
  // stay); c alone owns 2 and 3, so c gets the extra and nothing starts anywhere new.
  const ownership current{{"a", {0, 1}}, {"b", {0, 1}}, {"c", {2, 3}}};
  const std::vector<member_id> live{"a", "b", "c"};
  const auto p = plan(current, live, {4});
  CHECK(p.target.at("c") == vbuckets{2, 3});
  CHECK(p.target.at("a").size() == 1);
  CHECK(p.target.at("b").size() == 1);
  CHECK(p.moves.size() == 2);  // 0 and 1: each released by one of a and b, kept by the other
  CHECK(grants(p, claims_of(current, {"a", "b", "c"}, 4)) == 0);
  check_plan(current, live, 4, p);
}

TEST_CASE("an extra vbucket no one can keep goes to the member that owns more, then the lower id") {
  // 5 on 2: one member gets 3. Neither can keep a third of its own, so it goes to b, which
  // owns more; with equal ownership, to a.
  CHECK(plan({{"b", {0}}}, {"a", "b"}, {5}).target == ownership{{"a", {1, 2}}, {"b", {0, 3, 4}}});
  CHECK(plan({{"a", {4}}, {"b", {0}}}, {"a", "b"}, {5}).target ==
        ownership{{"a", {1, 2, 4}}, {"b", {0, 3}}});
}

TEST_CASE("vbucket numbers beyond num_vbuckets are ignored") {
  const ownership current{{"a", {0, 1, 64, 1023, 65535}}, {"b", {2, 3, 100}}};
  const auto p = plan(current, {"a", "b"}, {4});
  CHECK(p.target == ownership{{"a", {0, 1}}, {"b", {2, 3}}});
  CHECK(p.moves.empty());
  CHECK(p == plan({{"a", {0, 1}}, {"b", {2, 3}}}, {"a", "b"}, {4}));
}

TEST_CASE("no live members: no target and no moves") {
  CHECK(plan({{"a", {0, 1}}, {"b", {2, 3}}}, {}, {4}) == plan_result{});
  CHECK(plan({}, {}, {}) == plan_result{});
}

TEST_CASE("more members than vbuckets: the first members get one, every member is listed") {
  const auto p = plan({}, {"e", "d", "c", "b", "a", "d"}, {3});
  CHECK(p.target == ownership{{"a", {0}}, {"b", {1}}, {"c", {2}}, {"d", {}}, {"e", {}}});
  // c leaves: its vbucket goes to d, the lowest id without one.
  const auto q = plan(p.target, {"a", "b", "d", "e"}, {3});
  CHECK(q.target == ownership{{"a", {0}}, {"b", {1}}, {"d", {2}}, {"e", {}}});
  CHECK(q.moves == std::vector<vbucket_move>{{2, {}, "d"}});
}

TEST_CASE("no vbuckets: every live member with none") {
  const auto p = plan({{"a", {0, 1}}}, {"a", "b"}, {0});
  CHECK(p.target == ownership{{"a", {}}, {"b", {}}});
  CHECK(p.moves.empty());
}

TEST_CASE("random ownerships and member sets: balanced, sticky, minimal, deterministic") {
  std::mt19937 rng(20240611);
  const auto pick = [&](std::size_t bound) { return static_cast<std::size_t>(rng() % bound); };
  for (int round = 0; round < 400; ++round) {
    INFO("round " << round);
    const std::uint16_t sizes[] = {1024, 64, 128, 0, 1, 5};
    const std::uint16_t n = pick(3) == 0 ? sizes[pick(6)] : static_cast<std::uint16_t>(pick(300));
    const int pool = 1 + static_cast<int>(pick(8));
    std::vector<member_id> live;
    for (int k = 0; k < pool; ++k) {
      if (pick(4) != 0)
        live.push_back(endpoint(k));
    }

    // The current state: a partition with holes, or overlapping random claims, or a
    // balanced plan followed by joins and leaves; sometimes out-of-range numbers.
    ownership current;
    switch (round % 3) {
      case 0:
        for (std::uint16_t v = 0; v < n; ++v) {
          const std::size_t who = pick(static_cast<std::size_t>(pool) + 1);
          if (who < static_cast<std::size_t>(pool))
            current[endpoint(static_cast<int>(who))].push_back(v);
        }
        break;
      case 1:
        for (int k = 0; k < pool; ++k) {
          const std::size_t density = 1 + pick(4);
          for (std::uint16_t v = 0; v < n; ++v) {
            if (pick(density * 2) == 0)
              current[endpoint(k)].push_back(v);
          }
        }
        break;
      default: {
        const auto before = plan({}, endpoints(pool), {n});
        current = plan(before.target, live, {n}).target;
        if (pick(2) == 0 && !live.empty())
          live.erase(live.begin() + static_cast<std::ptrdiff_t>(pick(live.size())));
        if (pick(2) == 0)
          live.push_back(endpoint(pool + 1));
      }
    }
    if (pick(5) == 0)
      current[endpoint(0)].push_back(static_cast<std::uint16_t>(n + pick(100)));

    const auto p = plan(current, live, {n});
    check_plan(current, live, n, p);

    // Deterministic: the same input, or the same input in another order, with repeats and
    // with members that are not live, gives the same plan.
    REQUIRE(plan(current, live, {n}) == p);
    ownership shuffled = current;
    for (auto& [member, vbs] : shuffled) {
      std::shuffle(vbs.begin(), vbs.end(), rng);
      if (!vbs.empty())
        vbs.push_back(vbs.front());
    }
    shuffled["not-live"] = range(0, n / 2);
    auto live_shuffled = live;
    std::shuffle(live_shuffled.begin(), live_shuffled.end(), rng);
    if (!live.empty())
      live_shuffled.push_back(live.front());
    REQUIRE(plan(shuffled, live_shuffled, {n}) == p);
  }
}

TEST_CASE("tiny random ownerships with duplicates: no balanced assignment starts fewer") {
  std::mt19937 rng(7);
  const auto pick = [&](std::size_t bound) { return static_cast<std::size_t>(rng() % bound); };
  for (int round = 0; round < 1000; ++round) {
    INFO("round " << round);
    const auto n = static_cast<std::uint16_t>(1 + pick(7));
    const int m = 1 + static_cast<int>(pick(3));
    const auto live = endpoints(m);
    ownership current;
    for (int k = 0; k <= m; ++k) {  // endpoint(m) is not live
      for (std::uint16_t v = 0; v < n; ++v) {
        if (pick(2) == 0)
          current[endpoint(k)].push_back(v);
      }
    }
    const auto p = plan(current, live, {n});
    check_plan(current, live, n, p);
    const std::set<member_id> live_set(live.begin(), live.end());
    const auto claims = claims_of(current, live_set, n);
    REQUIRE(grants(p, claims) == brute_force_min_grants(claims, live_set));
  }
}
