// option_file.cc — see option_file.h.
#include "filterd/option_file.h"

#include <unistd.h>

#include <boost/any.hpp>
#include <sstream>

namespace filterd {

std::string commented_options(const boost::program_options::options_description& table,
                              const std::map<std::string, std::string>& shown_default) {
  std::ostringstream out;
  for (const auto& opt : table.options()) {
    out << "\n";
    std::istringstream words(opt->description());
    std::string word, line = "#";
    while (words >> word) {
      if (line.size() + 1 + word.size() > 76) {
        out << line << "\n";
        line = "#";
      }
      line += " " + word;
    }
    out << line << "\n";
    boost::any def;
    std::string value;
    if (opt->semantic()->apply_default(def)) {
      if (auto* sv = boost::any_cast<std::string>(&def))
        value = *sv;
      else if (auto* u = boost::any_cast<unsigned>(&def))
        value = std::to_string(*u);
      else if (auto* b = boost::any_cast<unsigned long long>(&def))
        value = std::to_string(*b);
    } else if (auto it = shown_default.find(opt->long_name()); it != shown_default.end()) {
      value = it->second;
    }
    out << "#" << opt->long_name() << " = " << value << "\n";
  }
  return out.str();
}

std::string system_hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

}  // namespace filterd
