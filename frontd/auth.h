// auth.h — SMTP AUTH backends: who is this user, is this their password.
//
//   PasswdFile  the built-in default: a file of "user:HASH[:...]" lines
//               (Dovecot's passwd-file layout), HASH a crypt(3) string —
//               yescrypt "$y$", SHA-512 "$6$", SHA-256 "$5$", bcrypt "$2b$"
//               — optionally with a Dovecot scheme prefix such as
//               "{SHA512-CRYPT}" or "{CRYPT}". Verified with libxcrypt's
//               crypt_rn() on a worker thread (yescrypt is slow by design).
//               Re-read when the file changes. Unknown users cost the same
//               hashing time as known ones.
//   Dovecot     the client side of Dovecot's auth protocol (what Postfix's
//               smtpd_sasl_type = dovecot speaks) over a unix socket or
//               inet:HOST:PORT: VERSION/CPID, wait for DONE, then one
//               "AUTH <id> PLAIN service=smtp ... resp=<base64>" per attempt.
//
// Security: credentials live only in memory for the attempt; nothing here
// logs them (a failure's reason names the user at most). A backend that is
// down is a temporary failure (454), never a success.
#pragma once

#include <expected>
#include <memory>
#include <string>

#include "smtp/asio.h"
#include "smtp/sasl.h"

namespace boost::asio {
class thread_pool;
}

namespace filterd::frontd {

struct AuthResult {
  enum class Kind { kOk, kFail, kTempFail } kind = Kind::kFail;
  std::string user;    // the authenticated identity (kOk)
  std::string reason;  // for the log, never a credential
};

struct AuthContext {
  std::string client_addr;
  std::string local_addr;
  bool secured = false;  // TLS active
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Parameters by value: GCC 12 coroutines.
  virtual boost::asio::awaitable<AuthResult> authenticate(smtp::PlainCredentials creds,
                                                          AuthContext ctx) = 0;
  // "passwd_file:/etc/frontd/sasl_passwd" for logs and `frontd -a`.
  virtual std::string describe() const = 0;
};

// type "passwd_file" (path = the file) or "dovecot" (path = /socket or
// inet:HOST:PORT). `workers` runs the hashing. Errors are start-up errors.
std::expected<std::unique_ptr<Authenticator>, std::string> make_authenticator(
    const std::string& type, const std::string& path, boost::asio::thread_pool& workers);

// Checks `password` against a crypt(3) hash (scheme prefix allowed). Pure
// apart from the CPU time; usable from any thread.
bool verify_crypt(const std::string& password, const std::string& hash);

// A new yescrypt hash of `password` (for `frontd --hash-password`); empty
// on failure.
std::string hash_password(const std::string& password);

}  // namespace filterd::frontd
