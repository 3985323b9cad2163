#pragma once
// How far Elasticsearch has really got, per vbucket: the piece of the pipeline that decides
// where a checkpoint may be. Pure bookkeeping, no I/O, one thread.
//
// Every DCP event of a vbucket enters its FIFO in stream order. A document handed to the sink
// stays pending until the sink reports it done; every other event (ignored or filtered
// documents, snapshot markers, seqno-advanced, OSO ends, system events) is done at once but
// waits behind the documents ahead of it. The checkpoint is the position of the newest event
// with nothing pending before it, so it never passes a write Elasticsearch has not finished.
// A rollback starts a new generation: events of older generations still finish (their
// flow-control bytes are returned) but no longer move the checkpoint, which goes to the
// rollback point once they are out of the way.
//
//   cbes::connector::progress p;
//   p.start(vb, from_checkpoint);
//   auto token = p.add_document(vb, ev_position, ev_ack);   // put `token` in the sink event
//   p.add_done(vb, marker_position, marker_ack);            // passes through behind it
//   p.document_done(vb, token, acks);                       // when the sink reports it
//   if (p.dirty(vb)) save(vb, p.checkpoint_of(vb));
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cbes/checkpoint/checkpoint.hpp"

namespace cbes::connector {

using checkpoint::checkpoint;

// Flow-control bytes of one event: what dcp::consumer::acknowledge(session, bytes) takes.
struct flow_ack {
  std::uint64_t session = 0;
  std::size_t bytes = 0;
};

class progress {
 public:
  // Starts tracking a vbucket from the checkpoint its stream opens at (not dirty). Restarting
  // a tracked vbucket that still has pending events is a programming error (drain it first).
  void start(std::uint16_t vbucket, const checkpoint& from);
  // Stops tracking a vbucket; returns its checkpoint (nullopt when it was not tracked).
  std::optional<checkpoint> stop(std::uint16_t vbucket);
  bool tracked(std::uint16_t vbucket) const;

  // A document handed to the sink; returns the token the sink echoes in its done report.
  // `dirty`: false for the connector's own checkpoint documents, whose position moves the
  // checkpoint without asking for a save (a save would produce another event, forever).
  // `stamp` is the caller's (e.g. the receipt time for the latency metric), given back by
  // document_done().
  std::uint64_t add_document(std::uint16_t vbucket, const checkpoint& position, flow_ack ack,
                             bool dirty = true, std::uint64_t stamp = 0);
  // An event that needs no write; it is done once everything before it is. Its bytes are
  // returned at once (appended to `acks`).
  void add_done(std::uint16_t vbucket, const checkpoint& position, flow_ack ack,
                std::vector<flow_ack>& acks, bool dirty = true);
  // The sink finished the document with `token` (written, deleted, rejected, skipped,
  // superseded). Its bytes are appended to `acks`. Returns false when the token is not the
  // vbucket's oldest pending document (the sink broke its ordering promise) — the caller must
  // treat it as fatal.
  bool document_done(std::uint16_t vbucket, std::uint64_t token, std::vector<flow_ack>& acks,
                     std::uint64_t* stamp = nullptr);

  // The producer rolled the vbucket back to `to`: what is pending no longer moves the
  // checkpoint; `to` becomes it once they have finished.
  void rollback(std::uint16_t vbucket, const checkpoint& to, std::vector<flow_ack>& acks);
  // The generation of the vbucket: events queued before a rollback carry an older one and may
  // be dropped instead of written (their bytes go back with drop()).
  std::uint64_t generation(std::uint16_t vbucket) const;

  // Where Elasticsearch has got for this vbucket: the checkpoint to save.
  checkpoint checkpoint_of(std::uint16_t vbucket) const;
  std::map<std::uint16_t, checkpoint> checkpoints() const;
  // Changed since the last mark_saved().
  bool dirty(std::uint16_t vbucket) const;
  std::map<std::uint16_t, checkpoint> dirty_checkpoints() const;
  // The checkpoint `saved` of the vbucket was persisted; it stays dirty when it moved since.
  void mark_saved(std::uint16_t vbucket, const checkpoint& saved);

  // Documents handed to the sink and not done yet, for one vbucket or all.
  std::size_t pending(std::uint16_t vbucket) const;
  std::size_t pending() const { return pending_documents_; }
  // The smallest stamp of the documents pending (the oldest, when stamps are times); nullopt
  // when nothing is pending. Walks the vbuckets: call it now and then, not per event.
  std::optional<std::uint64_t> oldest_pending_stamp() const;
  // The vbuckets tracked.
  std::vector<std::uint16_t> vbuckets() const;

 private:
  struct entry {
    std::uint64_t token = 0;  // 0: done already (passes through)
    checkpoint position{};
    flow_ack ack{};
    std::uint64_t generation = 0;
    bool dirty = true;
    std::uint64_t stamp = 0;
  };
  struct vbucket_state {
    std::deque<entry> fifo;
    checkpoint committed{};
    std::uint64_t generation = 0;
    std::uint64_t next_token = 1;
    std::size_t pending_documents = 0;
    bool dirty = false;
  };
  vbucket_state& state(std::uint16_t vbucket);
  const vbucket_state& state(std::uint16_t vbucket) const;
  // Moves the checkpoint over the done entries at the head of the FIFO.
  static void advance(vbucket_state& s);

  vbucket_state* find(std::uint16_t vbucket);
  const vbucket_state* find(std::uint16_t vbucket) const;

  // Indexed by vbucket (looked up several times per document: a map's walk showed in profiles);
  // null = not tracked.
  std::vector<std::unique_ptr<vbucket_state>> vbuckets_;
  std::size_t pending_documents_ = 0;
};

}  // namespace cbes::connector
