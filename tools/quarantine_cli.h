// quarantine_cli.h — `filterctl quarantine`: review and release what
// filterd kept.
//
//   filterctl quarantine [--config FILE] list [--category C] [--since T] [--until T]
//                        [--sender S] [--recipient R] [--subject S] [--limit N]
//                        [--offset N] [--json]
//   filterctl quarantine show ID [--raw] [--json]
//   filterctl quarantine release ID [--to ADDR]... [--by WHO]
//   filterctl quarantine delete ID
//   filterctl quarantine purge --older-than 30d
//   filterctl quarantine stats [--since T] [--json]
//
// T is a date (2026-11-28), unix seconds, or an age (30d, 12h). Exit 0 on
// success, 1 for an unknown id or a message already released, 2 for an
// error (no store, a corrupt entry, the next hop refusing a release).
#pragma once

namespace filterd::tools {

int quarantine_command(int argc, char** argv);

}  // namespace filterd::tools
