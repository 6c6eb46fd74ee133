// mail_id.cc — see mail_id.h.
#include "filterd/mail_id.h"

#include <random>

namespace filterd {

std::string new_mail_id() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t bits = rng();
  std::string id(12, 'A');
  // amavis never starts or ends an id with '-' or '_' (amavisd-release reads
  // "spam-ID.gz" names by those): draw again until neither end is one.
  do {
    for (char& c : id) {  // 12 * 6 = 72 bits; the last 8 come from a second draw
      c = kAlphabet[bits & 63];
      bits >>= 6;
      if (bits == 0) bits = rng();
    }
  } while (id.front() == '-' || id.front() == '_' || id.back() == '-' || id.back() == '_');
  return id;
}

}  // namespace filterd
