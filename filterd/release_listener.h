// release_listener.h — amavis's AM.PDP release requests on a unix socket,
// so that amavisd-release and web front ends made for amavis release mail
// from filterd's quarantine unchanged (quarantine/am_pdp.h has the
// protocol).
//
// A request names a mail_id and, unless `requested_by` is one of the
// config's release_admins, its secret_id; the answer is one
// "setreply=CODE STATUS text" per recipient, as amavis's, or a failure
// triple (450 4.5.0, tempfail, 75). Malformed input is answered with a
// failure and the connection closed.
//
// Thread safety: runs on the io_context's thread; store calls are short.
#pragma once

#include <string>

#include "filterd/config.h"
#include "quarantine/am_pdp.h"
#include "quarantine/store.h"
#include "smtp/asio.h"
#include "smtp/endpoint.h"

namespace filterd {

class ReleaseListener {
 public:
  // REQUIRES: config and store outlive the listener.
  ReleaseListener(boost::asio::io_context& io, const Config& config, quarantine::Store& store);

  // Binds config.release_socket (mode unix_socket_mode, group
  // unix_socket_group) and accepts. Throws boost::system::system_error.
  void start();
  void stop();

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(smtp::Socket socket);
  boost::asio::awaitable<std::string> answer(quarantine::PdpRequest request);

  boost::asio::io_context& io_;
  const Config& config_;
  quarantine::Store& store_;
  std::optional<smtp::Acceptor> acceptor_;
};

}  // namespace filterd
