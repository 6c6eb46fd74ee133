// auth_passwd.cc — the built-in password file backend (see auth.h).
#include <crypt.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <boost/asio/thread_pool.hpp>
#include <fstream>
#include <map>
#include <mutex>

#include "frontd/auth.h"

namespace filterd::frontd {
namespace asio = boost::asio;
namespace {

std::string strip_scheme(const std::string& hash) {
  if (!hash.starts_with("{")) return hash;
  const size_t close = hash.find('}');
  return close == std::string::npos ? hash : hash.substr(close + 1);
}

class PasswdFile : public Authenticator {
 public:
  PasswdFile(std::string path, asio::thread_pool& workers)
      : path_(std::move(path)), workers_(workers), dummy_(hash_password("frontd-dummy")) {}

  std::expected<void, std::string> load() {
    std::lock_guard lock(mu_);
    return load_locked();
  }

  asio::awaitable<AuthResult> authenticate(smtp::PlainCredentials creds, AuthContext) override {
    // Captures by reference: `creds` lives in this frame until the hashing is
    // done (GCC 12 double-destroys non-trivial captures moved into a
    // coroutine lambda).
    co_return co_await asio::co_spawn(
        workers_, [&]() -> asio::awaitable<AuthResult> { co_return check(creds); },
        asio::use_awaitable);
  }

  std::string describe() const override { return "passwd_file:" + path_; }

 private:
  std::expected<void, std::string> load_locked() {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) return std::unexpected(path_ + ": cannot stat");
    if (st.st_mtim.tv_sec == mtime_.tv_sec && st.st_mtim.tv_nsec == mtime_.tv_nsec &&
        st.st_size == size_ && loaded_) {
      return {};
    }
    std::ifstream in(path_);
    if (!in) return std::unexpected(path_ + ": cannot open");
    std::map<std::string, std::string> users;
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line.front() == '#') continue;
      const size_t c1 = line.find(':');
      if (c1 == std::string::npos || c1 == 0) {
        return std::unexpected(path_ + ":" + std::to_string(n) + ": expected user:hash");
      }
      const size_t c2 = line.find(':', c1 + 1);
      std::string hash =
          strip_scheme(line.substr(c1 + 1, c2 == std::string::npos ? c2 : c2 - c1 - 1));
      if (!hash.starts_with("$")) {
        return std::unexpected(path_ + ":" + std::to_string(n) +
                               ": not a crypt(3) hash (plain-text passwords are not accepted)");
      }
      users[line.substr(0, c1)] = std::move(hash);
    }
    users_ = std::move(users);
    mtime_ = st.st_mtim;
    size_ = st.st_size;
    loaded_ = true;
    return {};
  }

  AuthResult check(const smtp::PlainCredentials& creds) {
    std::string hash;
    bool known = false;
    {
      std::lock_guard lock(mu_);
      if (auto r = load_locked(); !r) {
        spdlog::warn("SASL passwd_file: {} (keeping the users loaded before)", r.error());
      }
      auto it = users_.find(creds.authcid);
      known = it != users_.end();
      // Unknown users are hashed too: the reply time does not tell who exists.
      hash = known ? it->second : dummy_;
    }
    if (!creds.authzid.empty() && creds.authzid != creds.authcid) {
      return {AuthResult::Kind::kFail, "", "authorization identity differs from the user"};
    }
    const bool ok = verify_crypt(creds.password, hash) && known;
    if (!ok) return {AuthResult::Kind::kFail, "", known ? "wrong password" : "unknown user"};
    return {AuthResult::Kind::kOk, creds.authcid, ""};
  }

  const std::string path_;
  asio::thread_pool& workers_;
  const std::string dummy_;
  std::mutex mu_;
  std::map<std::string, std::string> users_;
  std::timespec mtime_{};
  long long size_ = -1;
  bool loaded_ = false;
};

}  // namespace

bool verify_crypt(const std::string& password, const std::string& stored) {
  const std::string hash = strip_scheme(stored);
  auto data = std::make_unique<crypt_data>();  // ~32 KB: not on the stack
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (out == nullptr || out[0] == '*') return false;
  const std::string_view got(out);
  if (got.size() != hash.size()) return false;
  unsigned char diff = 0;  // constant time over the hash length
  for (size_t i = 0; i < got.size(); ++i) diff |= static_cast<unsigned char>(got[i] ^ hash[i]);
  return diff == 0;
}

std::string hash_password(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$y$", 0, nullptr, 0, salt, sizeof salt) == nullptr) return {};
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(password.c_str(), salt, data.get(), sizeof(crypt_data));
  return out == nullptr || out[0] == '*' ? std::string() : std::string(out);
}

std::expected<std::unique_ptr<Authenticator>, std::string> make_passwd_file(
    const std::string& path, asio::thread_pool& workers) {
  auto a = std::make_unique<PasswdFile>(path, workers);
  if (auto r = a->load(); !r) return std::unexpected(r.error());
  return a;
}

}  // namespace filterd::frontd
