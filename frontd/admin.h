// admin.h — frontd's administrative commands, Postfix's in spirit:
//   frontd check        postfix check: the configuration, tables, header
//                       checks, TLS files, the SASL backend, the queue and
//                       mailbox directories and their owners and modes
//   frontd -n           postconf -n (non-default settings; in config.h)
//   frontd -a           postconf -a: SASL backends and mechanisms
//   frontd queue list   mailq: every queued message, its recipients still
//                       pending and the last deferral reason
//   frontd queue flush  postqueue -f: signals the running daemon (pid file
//                       in queue_directory) to retry every message now
// Each prints to `out` and returns the process exit status (0 fine, 1
// problems found or the command failed).
#pragma once

#include <ostream>
#include <string>

#include "frontd/config.h"

namespace filterd::frontd {

int run_check(const Config& config, std::ostream& out);
int run_sasl_report(const Config& config, std::ostream& out);
int run_queue_list(const Config& config, std::ostream& out);
int run_queue_flush(const Config& config, std::ostream& out);

// The daemon's pid file (written at start, removed at exit).
std::string pid_file(const Config& config);

}  // namespace filterd::frontd
