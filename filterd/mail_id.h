// mail_id.h — amavis-style message ids: 12 characters of base64url from a
// CSPRNG-seeded generator, unique enough to name quarantine entries and to
// grep logs by. Thread-safe.
#pragma once

#include <string>

namespace filterd {

std::string new_mail_id();

}  // namespace filterd
