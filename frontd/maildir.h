// maildir.h — local delivery into a Maildir (the virtual(8) part of frontd).
//
// The file is written under tmp/, fsynced, then linked into new/ and new/
// is fsynced: when deliver_to_maildir() returns success the message
// survives a crash; on failure nothing is in new/ (a temp file may remain
// in tmp/, which MUAs and Dovecot ignore and clean up after 36 hours).
//
// Names follow the Maildir convention Dovecot reads and writes:
//     SECONDS.M<usec>P<pid>Q<n>.HOST,S=<size>,W=<size with CRLF>
// with '/' and ':' in HOST written as \057 and \072. The content gets LF
// line ends (Maildir is a local format) and Return-Path and Delivered-To
// on top, like virtual(8).
//
// Missing directories on the way (the domain directory, even the base) are
// created mode 0700 and given to `owner` when one is set. Errors carry
// errno; the caller defers on any of them.
#pragma once

#include <sys/types.h>

#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "frontd/safe_io.h"

namespace filterd::frontd {

struct MailboxOwner {
  uid_t uid = 0;
  gid_t gid = 0;
};

struct MaildirDelivery {
  std::string maildir;  // ".../example.test/alice/" (trailing slash optional)
  std::string sender;   // for Return-Path ("" = null sender)
  std::string recipient;
  std::optional<MailboxOwner> owner;
  std::string hostname;  // for the file name
};

// Returns the path of the new file under new/.
std::expected<std::string, IoError> deliver_to_maildir(const MaildirDelivery& d,
                                                       std::string_view message);

// The Maildir file name for the given parts (exposed for tests).
std::string maildir_name(long long seconds, long usec, long pid, unsigned long long n,
                         std::string_view host, size_t size, size_t crlf_size);

// `message` with CRLF (and bare CR) line ends turned into LF.
std::string to_lf(std::string_view message);

}  // namespace filterd::frontd
