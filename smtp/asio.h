// asio.h — the one place Boost.Asio is included from. Boost 1.74's
// awaitable.hpp uses std::exchange without including <utility>, so that
// comes first; everything else includes this header instead of Asio's.
#pragma once

// clang-format off
#include <utility>  // first: see above
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
