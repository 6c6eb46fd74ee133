// privileges.h — dropping root after the listeners are bound.
#pragma once

#include <expected>
#include <string>

namespace filterd {

// If running as root and `user` is not empty, switches to that user's uid,
// gid and supplementary groups, irrevocably. Returns an error (never
// continues as root by accident) if the user is unknown or a call fails.
std::expected<void, std::string> drop_privileges(const std::string& user);

// Creates `dir` (and parents) if missing; when `user` is set and we are
// root, hands it to that user so the daemon can still write after dropping.
std::expected<void, std::string> prepare_state_dir(const std::string& dir, const std::string& user);

}  // namespace filterd
