#pragma once
// GCC 12 reports middle-end false positives (-Wnull-dereference, -Wmismatched-new-delete) inside
// coroutine frames and inlined Asio / Beast code. The sink sources that run coroutines over Asio
// include this first: a diagnostic pragma outside push/pop holds for the rest of the including
// file, so it must come before the Asio headers.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wnull-dereference"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
