// tls.h — the server side of TLS for frontd's listeners (OpenSSL through
// Boost.Asio): a context built from smtpd_tls_cert_file/key_file that allows
// TLS 1.2 and later only, and ClientStream, one accepted connection that
// starts in clear text (smtp, submission: STARTTLS) or in TLS (smtps).
//
// Timeouts: every read, write and the handshake run under the
// GuardedSocket's deadline (deadline.h), so a stalled peer cannot hold a
// connection forever.
//
// Thread safety: a ClientStream belongs to its connection's coroutine.
#pragma once

#include <expected>
#include <memory>
#include <string>
#include <utility>

#include "smtp/asio.h"
#include "smtp/deadline.h"

namespace boost::asio::ssl {
class context;
}

namespace filterd::frontd {

// Loads the certificate chain and key; checks they match. Start-up only.
std::expected<std::shared_ptr<boost::asio::ssl::context>, std::string> make_tls_context(
    const std::string& cert_file, const std::string& key_file);

// A client context for STARTTLS to relayhost: TLS 1.2+, no certificate
// verification (Postfix's may/encrypt levels). Start-up only.
std::expected<std::shared_ptr<boost::asio::ssl::context>, std::string> make_client_tls_context();

class ClientStream {
 public:
  explicit ClientStream(std::shared_ptr<smtp::GuardedSocket> conn);
  ~ClientStream();
  ClientStream(const ClientStream&) = delete;
  ClientStream& operator=(const ClientStream&) = delete;

  smtp::GuardedSocket& guard() { return *conn_; }
  bool tls() const { return tls_ != nullptr; }
  // "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384" once TLS is up.
  std::string tls_description() const;

  boost::asio::awaitable<std::pair<size_t, boost::system::error_code>> read_some(char* buf,
                                                                                 size_t size);
  boost::asio::awaitable<boost::system::error_code> write(std::string data);
  // Server handshake; afterwards all I/O is encrypted.
  boost::asio::awaitable<boost::system::error_code> handshake(
      std::shared_ptr<boost::asio::ssl::context> ctx);

 private:
  struct Tls;
  std::shared_ptr<smtp::GuardedSocket> conn_;
  std::unique_ptr<Tls> tls_;
};

}  // namespace filterd::frontd
