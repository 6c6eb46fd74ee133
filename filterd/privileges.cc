// privileges.cc — see privileges.h.
#include "filterd/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace filterd {
namespace {

std::expected<passwd, std::string> lookup(const std::string& user) {
  passwd* pw = getpwnam(user.c_str());
  if (pw == nullptr) return std::unexpected("unknown user '" + user + "'");
  return *pw;
}

}  // namespace

std::expected<void, std::string> drop_privileges(const std::string& user) {
  if (user.empty() || geteuid() != 0) return {};
  auto pw = lookup(user);
  if (!pw) return std::unexpected(pw.error());
  if (initgroups(user.c_str(), pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
      setuid(pw->pw_uid) != 0) {
    return std::unexpected("cannot switch to user '" + user + "': " + std::strerror(errno));
  }
  if (setuid(0) == 0) return std::unexpected("privileges could be regained after dropping");
  return {};
}

std::expected<void, std::string> prepare_state_dir(const std::string& dir,
                                                   const std::string& user) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return std::unexpected("state_dir " + dir + ": " + ec.message());
  if (!user.empty() && geteuid() == 0) {
    auto pw = lookup(user);
    if (!pw) return std::unexpected(pw.error());
    if (chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return std::unexpected("state_dir " + dir + ": chown: " + std::strerror(errno));
    }
  }
  return {};
}

}  // namespace filterd
