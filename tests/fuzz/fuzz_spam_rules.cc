// Fuzz target: arbitrary text as a SpamAssassin rule file. parse_rules()
// must never crash or hang, every rule it returns has a valid name and a
// pattern that passes the regexp envelope check, and every diagnostic
// names a line of the input.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "spam/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace filterd::spam;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Includes resolve against a directory that does not exist: no file
  // outside the input is read.
  RuleSet set = parse_rules(in, "/nonexistent/fuzz.cf");
  size_t lines = 1;
  for (char c : in) lines += c == '\n';
  for (const auto& r : set.rules) {
    if (r.name.empty() || r.name.size() > 100) std::abort();
    if (!r.pattern.source.empty() && !check_perl_regexp(r.pattern.source, r.pattern.flags) &&
        !r.tags_replaced)
      std::abort();
  }
  for (const auto& d : set.skipped) {
    if (d.line < 0 || static_cast<size_t>(d.line) > lines) std::abort();
  }
  (void)set.summary();
  (void)read_perl_regexp(in.substr(0, 512));
  return 0;
}
