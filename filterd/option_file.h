// option_file.h — config helpers shared by filterd and frontd: an option
// table (Boost.Program_options) rendered as the body of a shipped config
// file (each option's help text as comment lines wrapped at 76 columns, then
// "#key = default"; `--print-defaults`, etc/*.conf), and the host name
// default.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <map>
#include <string>

namespace filterd {

// `shown_default` gives the value to print for options without a default
// (repeatable ones such as filterd's `listen`).
std::string commented_options(const boost::program_options::options_description& table,
                              const std::map<std::string, std::string>& shown_default = {});

// gethostname(), or "localhost" when it fails or is empty.
std::string system_hostname();

}  // namespace filterd
