#include "cbes/group/plan.hpp"

#include <algorithm>
#include <cstddef>
#include <deque>
#include <numeric>

namespace cbes::group {

namespace {

// A maximum flow on a small graph with unit-ish capacities (Edmonds-Karp). Edge e and its
// reverse e ^ 1 are stored side by side; `cap` is the residual capacity.
class flow_graph {
 public:
  explicit flow_graph(std::size_t nodes) : out_(nodes) {}

  // Returns the id of the forward edge.
  std::size_t add_edge(std::size_t from, std::size_t to, int cap) {
    const std::size_t e = to_.size();
    to_.push_back(to);
    cap_.push_back(cap);
    out_[from].push_back(e);
    to_.push_back(from);
    cap_.push_back(0);
    out_[to].push_back(e + 1);
    return e;
  }

  void push(std::size_t edge, int amount) {
    cap_[edge] -= amount;
    cap_[edge ^ 1U] += amount;
  }
  int residual(std::size_t edge) const { return cap_[edge]; }

  // One shortest augmenting path from `source` to `sink` carrying one unit; false when there
  // is none (the flow is maximum). Every path here starts with a unit-capacity edge.
  bool augment(std::size_t source, std::size_t sink) {
    constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::vector<std::size_t> via(out_.size(), none);  // edge that reached each node
    std::vector<bool> seen(out_.size(), false);
    std::deque<std::size_t> queue{source};
    seen[source] = true;
    while (!queue.empty() && !seen[sink]) {
      const std::size_t n = queue.front();
      queue.pop_front();
      for (const std::size_t e : out_[n]) {
        if (cap_[e] > 0 && !seen[to_[e]]) {
          seen[to_[e]] = true;
          via[to_[e]] = e;
          queue.push_back(to_[e]);
        }
      }
    }
    if (!seen[sink])
      return false;
    for (std::size_t n = sink; n != source; n = to_[via[n] ^ 1U])
      push(via[n], 1);
    return true;
  }

 private:
  std::vector<std::vector<std::size_t>> out_;
  std::vector<std::size_t> to_;
  std::vector<int> cap_;
};

}  // namespace

std::string vbucket_ranges(const std::vector<std::uint16_t>& vbs) {
  std::string out;
  for (std::size_t i = 0; i < vbs.size();) {
    std::size_t j = i;
    while (j + 1 < vbs.size() && vbs[j + 1] == vbs[j] + 1)
      ++j;
    if (!out.empty())
      out += ",";
    out += std::to_string(vbs[i]);
    if (j > i)
      out += "-" + std::to_string(vbs[j]);
    i = j + 1;
  }
  return out.empty() ? "none" : out;
}

plan_result plan(const ownership& current, const std::vector<member_id>& live_members,
                 const plan_settings& settings) {
  std::vector<member_id> members = live_members;
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  plan_result out;
  if (members.empty())
    return out;

  const std::size_t m = members.size();
  const std::size_t n = settings.num_vbuckets;
  const std::size_t base = n / m;
  const std::size_t extra = n % m;

  // claims[v]: the live members (indices into `members`, ascending) that stream v now.
  std::vector<std::vector<std::size_t>> claims(n);
  std::vector<std::size_t> owned(m, 0);
  for (std::size_t i = 0; i < m; ++i) {
    const auto it = current.find(members[i]);
    if (it == current.end())
      continue;
    for (const std::uint16_t v : it->second) {
      if (v < n && (claims[v].empty() || claims[v].back() != i)) {
        claims[v].push_back(i);
        ++owned[i];
      }
    }
  }

  // Members by preference for an extra vbucket: those that own more first, then member id.
  std::vector<std::size_t> by_owned(m);
  std::iota(by_owned.begin(), by_owned.end(), std::size_t{0});
  std::stable_sort(by_owned.begin(), by_owned.end(),
                   [&](std::size_t a, std::size_t b) { return owned[a] > owned[b]; });

  // Which vbuckets stay where they are: a maximum flow source → vbucket → claimant → sink,
  // each member taking `base`, plus one more through a pool that holds the `extra` vbuckets.
  const std::size_t source = 0, sink = 1, pool = 2, first_member = 3, first_vbucket = 3 + m;
  flow_graph g(first_vbucket + n);
  std::vector<std::size_t> to_sink(m), to_pool(m);
  for (std::size_t i = 0; i < m; ++i) {
    to_sink[i] = g.add_edge(first_member + i, sink, static_cast<int>(base));
    to_pool[i] = g.add_edge(first_member + i, pool, 1);
  }
  const std::size_t pool_to_sink = g.add_edge(pool, sink, static_cast<int>(extra));
  std::vector<std::size_t> from_source(n);
  std::vector<std::vector<std::size_t>> to_claimant(n);  // parallel to claims[v]
  for (std::size_t v = 0; v < n; ++v) {
    if (claims[v].empty())
      continue;
    from_source[v] = g.add_edge(source, first_vbucket + v, 1);
    for (const std::size_t i : claims[v])
      to_claimant[v].push_back(g.add_edge(first_vbucket + v, first_member + i, 1));
  }

  // A greedy start that states the preferences: the extras tentatively to the biggest owners;
  // each member keeps its lowest vbuckets; a vbucket claimed once before one claimed twice;
  // a vbucket claimed twice by the lowest claimant with room.
  std::vector<std::size_t> room(m, base);
  for (std::size_t k = 0; k < extra; ++k)
    ++room[by_owned[k]];
  const auto keep = [&](std::size_t v, std::size_t c) {
    const std::size_t i = claims[v][c];
    g.push(from_source[v], 1);
    g.push(to_claimant[v][c], 1);
    if (g.residual(to_sink[i]) > 0) {
      g.push(to_sink[i], 1);
    } else {
      g.push(to_pool[i], 1);
      g.push(pool_to_sink, 1);
    }
    --room[i];
  };
  for (const bool shared : {false, true}) {
    for (std::size_t v = 0; v < n; ++v) {
      if (claims[v].empty() || (claims[v].size() > 1) != shared)
        continue;
      for (std::size_t c = 0; c < claims[v].size(); ++c) {
        if (room[claims[v][c]] > 0) {
          keep(v, c);
          break;
        }
      }
    }
  }
  // Then whatever the greedy start missed (only ever with vbuckets claimed twice).
  while (g.augment(source, sink)) {
  }

  // owner[v]: the member index that streams v next; m while undecided.
  std::vector<std::size_t> owner(n, m);
  std::vector<std::size_t> kept(m, 0);
  for (std::size_t v = 0; v < n; ++v) {
    for (std::size_t c = 0; c < claims[v].size(); ++c) {
      if (g.residual(to_claimant[v][c]) == 0) {
        owner[v] = claims[v][c];
        ++kept[owner[v]];
      }
    }
  }

  // Shares: base + 1 for the members that keep that many, then for the biggest owners among
  // the rest until `extra` are given.
  std::vector<std::size_t> share(m, base);
  std::size_t extras_left = extra;
  for (std::size_t i = 0; i < m; ++i) {
    if (kept[i] > base) {
      share[i] = base + 1;
      --extras_left;
    }
  }
  for (const std::size_t i : by_owned) {
    if (extras_left == 0)
      break;
    if (share[i] == base) {
      share[i] = base + 1;
      --extras_left;
    }
  }

  // The rest, in ascending order, to the members short of their share in member-id order.
  std::size_t next = 0;
  for (std::size_t v = 0; v < n; ++v) {
    if (owner[v] != m)
      continue;
    while (kept[next] == share[next])
      ++next;
    owner[v] = next;
    ++kept[next];
  }

  for (const member_id& id : members)
    out.target[id];
  for (std::size_t v = 0; v < n; ++v) {
    const auto vb = static_cast<std::uint16_t>(v);
    out.target[members[owner[v]]].push_back(vb);
    const auto& c = claims[v];
    if (c.size() == 1 && c.front() == owner[v])
      continue;
    vbucket_move move{vb, {}, members[owner[v]]};
    for (const std::size_t i : c) {
      if (i != owner[v])
        move.from.push_back(members[i]);
    }
    out.moves.push_back(std::move(move));
  }
  return out;
}

}  // namespace cbes::group
