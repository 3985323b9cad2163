#pragma once
// The rebalance planner of Autonomous Operations: who should stream which vbucket next, given
// who streams what now and which members are live. A pure, deterministic function (no I/O, no
// clock, no randomness, no hash-map order): the same input always gives the same plan, so a
// new leader that learns the current ownership from the workers (`worker.status`) plans what
// the old one would have, and stops no one when nothing changed.
//
//   const cbes::group::ownership now{{"a", {0, 1, 2, 3}}, {"b", {4, 5, 6, 7}}};
//   auto p = cbes::group::plan(now, {"a", "b", "c"}, {.num_vbuckets = 8});
//   // p.target: a {0, 1, 2}, b {4, 5, 6}, c {3, 7}
//   // p.moves:  {3, from {"a"}, to "c"}, {7, from {"b"}, to "c"}
//
// Rules:
// - Balanced within one: each of the M live members gets floor(N/M) or ceil(N/M) of the N
//   vbuckets; the extra ones go first to members that keep one more of their own vbuckets
//   that way, then to those that own the most, then to the lowest member ids.
// - Sticky and minimal: a live member keeps what it streams up to its share; only a member's
//   surplus, the vbuckets of members that are not live, unowned vbuckets and the second claim
//   of a vbucket listed twice move. The number of vbuckets that start streaming on a new member
//   is the smallest any balanced assignment allows (an exact maximum matching, so it holds for
//   duplicated claims too). A join moves about N/(M+1) vbuckets, all to the joiner; a leave
//   moves only the leaver's.
// - The vbuckets that change hands are handed out in ascending order to the members short of
//   their share in member-id order, so from nothing (an empty `current`) member i of the
//   sorted live members gets the Java connector's static split,
//   connector::member_vbuckets(i + 1, M, N): contiguous ranges, the bigger ones first.
// - A vbucket listed by several live members stays with one whose share has room, the lowest
//   member id first, unless another choice lets more vbuckets stay where they are; the other
//   claims are released.
// - Ignored in `current`: members that are not live (their vbuckets are treated as unowned:
//   there is nobody left to release them), vbucket numbers >= num_vbuckets, and a vbucket a
//   member lists twice (it counts once). `live_members` is a set: order and repeats do not
//   matter.
// - No live members: an empty target and no moves.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cbes::group {

// A member of the group: its RPC endpoint id "<node>::<address>::<service id>".
using member_id = std::string;

// Who streams which vbuckets, as the workers report it (`worker.status`). A vbucket may be
// missing (nobody streams it) or, after a bug or a stale report, listed under two members.
using ownership = std::map<member_id, std::vector<std::uint16_t>>;

struct plan_settings {
  std::uint16_t num_vbuckets = 1024;  // the bucket's vbucket count (1024, or 64/128 on macOS)
};

// One vbucket changing hands. Carry it out in this order: every member in `from` stops
// streaming the vbucket and saves its checkpoint, then `to` is granted it. Never grant
// before every release is acknowledged, or two members stream it at once.
struct vbucket_move {
  std::uint16_t vbucket = 0;
  // The live members that stream it now and must release it, sorted; empty when no live member
  // streams it (unowned, or its owner is gone). More than one only when it was listed twice.
  std::vector<member_id> from;
  // The live member that streams it next. It may stream it already (a vbucket listed twice,
  // kept by `to`): then the move is only the release of the other claims.
  member_id to;

  bool operator==(const vbucket_move&) const = default;
};

struct plan_result {
  // Every live member, even one with no vbucket, with its vbuckets in ascending order; every
  // vbucket below num_vbuckets under exactly one member.
  ownership target;
  // One per vbucket whose set of live streamers changes, in ascending vbucket order.
  std::vector<vbucket_move> moves;

  bool operator==(const plan_result&) const = default;
};

// The next assignment from the current one; see the rules above.
// A sorted vbucket list as ranges for logs: {0, 1, 2, 5} -> "0-2,5"; {} -> "none".
std::string vbucket_ranges(const std::vector<std::uint16_t>& sorted_vbuckets);

plan_result plan(const ownership& current, const std::vector<member_id>& live_members,
                 const plan_settings& settings = {});

}  // namespace cbes::group
