#pragma once
// GCC 12 reports middle-end false positives inside coroutine frames and inlined Asio code
// (libconsul/CMakeLists.txt silences the same ones for its sources). Included first by the
// coroutine sources of this folder; the pragmas hold for the rest of the including file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wnull-dereference"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
