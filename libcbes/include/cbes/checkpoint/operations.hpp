#pragma once
// What the checkpoint tools do (cbes-checkpoint-backup / -restore / -clear [--catch-up]), on any
// store, so that the CLIs only parse arguments and print. None of them pauses a running group:
// stop the workers (or pause the AO group) first.
//
//   auto bucket = describe_bucket(*metadata_cluster);          // uuid + vbucket count
//   auto b = co_await take_backup(*store, bucket);              // every vbucket, zero if none
//   auto r = co_await restore_backup(*store, backup, bucket);   // validates, then saves all
//   auto c = co_await catch_up(*store, *source_cluster);        // every vbucket at its high seqno
#include <chrono>

#include <boost/asio/awaitable.hpp>

#include "cbes/checkpoint/backup.hpp"
#include "cbes/checkpoint/store.hpp"
#include "cbes/couchbase/cluster.hpp"

namespace cbes::checkpoint {

// The uuid and vbucket count of the bucket a cluster is connected to.
//
//   auto bucket = describe_bucket(*cluster);   // bucket.uuid, bucket.num_vbuckets
bucket_info describe_bucket(const couchbase::cluster& cluster);

// The checkpoint of every vbucket 0..bucket.num_vbuckets-1 (zero where there is none) with the
// bucket's uuid: the content of a backup file.
//
//   auto b = co_await take_backup(store, bucket);
//   if (b) write_backup_file(path, *b);
boost::asio::awaitable<result<backup>> take_backup(store& s, bucket_info bucket);

// validate(b, bucket) first — a refused backup changes nothing — then saves every entry
// (overwriting); the first failed vbucket's error otherwise.
//
//   auto r = co_await restore_backup(store, *read_backup_file(path), bucket);
boost::asio::awaitable<result<void>> restore_backup(store& s, backup b, bucket_info bucket);

// "Now" for every vbucket of the source bucket: vbuuid = newest failover-log entry, seqno =
// current high seqno, snapshot = seqno/seqno; saved to `s` and returned. A vbucket without an
// active copy (failover in progress) is waited for, up to `wait_for_active` (default 30 s),
// rather than skipped (the Java tool waits too).
//
//   auto now = co_await catch_up(store, *source);
boost::asio::awaitable<result<checkpoint_map>> catch_up(store& s, couchbase::cluster& source);
boost::asio::awaitable<result<checkpoint_map>> catch_up(store& s, couchbase::cluster& source,
                                                        std::chrono::milliseconds wait_for_active);

// The current positions catch_up() saves, without saving them.
boost::asio::awaitable<result<checkpoint_map>> current_positions(
    couchbase::cluster& source, std::chrono::milliseconds wait_for_active);

}  // namespace cbes::checkpoint
