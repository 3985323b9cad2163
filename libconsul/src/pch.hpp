// Precompiled header for libconsul's sources: the heavy Boost headers every source needs.
#pragma once
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
