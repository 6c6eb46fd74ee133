// tls.cc — see tls.h.
#include "frontd/tls.h"

#include <openssl/ssl.h>

#include <boost/asio/ssl.hpp>

namespace filterd::frontd {
namespace asio = boost::asio;

struct ClientStream::Tls {
  std::shared_ptr<asio::ssl::context> ctx;  // outlives the stream
  asio::ssl::stream<smtp::Socket&> stream;
  Tls(std::shared_ptr<asio::ssl::context> c, smtp::Socket& s)
      : ctx(std::move(c)), stream(s, *ctx) {}
};

std::expected<std::shared_ptr<asio::ssl::context>, std::string> make_tls_context(
    const std::string& cert_file, const std::string& key_file) {
  if (cert_file.empty() || key_file.empty()) {
    return std::unexpected("TLS needs smtpd_tls_cert_file and smtpd_tls_key_file");
  }
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  boost::system::error_code ec;
  // RFC 8996: TLS 1.0 and 1.1 are deprecated; RFC 8314 asks for 1.2+.
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                   ec);
  if (ec) return std::unexpected("TLS options: " + ec.message());
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) return std::unexpected("smtpd_tls_cert_file " + cert_file + ": " + ec.message());
  ctx->use_private_key_file(key_file, asio::ssl::context::pem, ec);
  if (ec) return std::unexpected("smtpd_tls_key_file " + key_file + ": " + ec.message());
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return std::unexpected("smtpd_tls_key_file " + key_file + " does not match the certificate");
  }
  return ctx;
}

std::expected<std::shared_ptr<asio::ssl::context>, std::string> make_client_tls_context() {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1,
                   ec);
  if (ec) return std::unexpected("TLS client options: " + ec.message());
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_verify_mode(asio::ssl::verify_none, ec);
  if (ec) return std::unexpected("TLS client verify mode: " + ec.message());
  return ctx;
}

ClientStream::ClientStream(std::shared_ptr<smtp::GuardedSocket> conn) : conn_(std::move(conn)) {}
ClientStream::~ClientStream() = default;

std::string ClientStream::tls_description() const {
  if (!tls_) return "";
  SSL* ssl = const_cast<asio::ssl::stream<smtp::Socket&>&>(tls_->stream).native_handle();
  return std::string(SSL_get_version(ssl)) + " with cipher " + SSL_get_cipher_name(ssl);
}

asio::awaitable<std::pair<size_t, boost::system::error_code>> ClientStream::read_some(char* buf,
                                                                                      size_t size) {
  boost::system::error_code ec;
  size_t n = 0;
  if (tls_) {
    n = co_await tls_->stream.async_read_some(asio::buffer(buf, size),
                                              asio::redirect_error(asio::use_awaitable, ec));
  } else {
    n = co_await conn_->socket().async_read_some(asio::buffer(buf, size),
                                                 asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return std::pair{n, ec};
}

asio::awaitable<boost::system::error_code> ClientStream::write(std::string data) {
  boost::system::error_code ec;
  if (tls_) {
    co_await asio::async_write(tls_->stream, asio::buffer(data),
                               asio::redirect_error(asio::use_awaitable, ec));
  } else {
    co_await asio::async_write(conn_->socket(), asio::buffer(data),
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return ec;
}

asio::awaitable<boost::system::error_code> ClientStream::handshake(
    std::shared_ptr<asio::ssl::context> ctx) {
  tls_ = std::make_unique<Tls>(std::move(ctx), conn_->socket());
  boost::system::error_code ec;
  co_await tls_->stream.async_handshake(asio::ssl::stream_base::server,
                                        asio::redirect_error(asio::use_awaitable, ec));
  co_return ec;
}

}  // namespace filterd::frontd
