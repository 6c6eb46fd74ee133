// milter.h — the milter listener, for Postfix's smtpd_milters and
// non_smtpd_milters (MILTER_README; protocol version 6, milter/codec.h).
// Postfix opens one milter connection per SMTP session and sends the
// session's events over it; filterd collects the envelope and the message
// and, at the end of the body, judges it (within config.in_dialog_timeout)
// and answers while the remote client still waits for its reply to DATA:
//
//   pass      → the header edits, a replaced body (attachment removal) and
//               recipient changes as milter requests, then ACCEPT
//               (milter_answer.h); Postfix keeps and delivers the message,
//               so nothing is reinjected
//   D_REJECT, D_BOUNCE → SMFIR_REPLYCODE 5xx (the client sees it; no DSN)
//   D_DISCARD → SMFIR_DISCARD (Postfix says 250 and drops the message)
//   D_TEMPFAIL, a late verdict → SMFIR_REPLYCODE 4xx
//   a message above max_message_size → 552 5.3.4, unjudged
//
// The client is the one Postfix names in CONNECT (and HELO): it goes into
// the envelope's XFORWARD attributes, so policy banks, mynetworks and the
// summary line see the real client, as in the after-queue mode. The queue
// id (macro `i`) goes into the logs and the summary line (queued_as).
//
// Security: nothing from the MTA is trusted. Packets are bounded
// (milter::kDefaultMaxPacket, 256 KiB); a malformed or oversized packet, an
// OPTNEG filterd cannot agree to, or a packet out of order ends the
// connection with one log line (Postfix then applies milter_default_action).
//
// Concurrency: one coroutine per connection; its packets are handled in
// order (Postfix waits for the end-of-body reply before the next message),
// and the scan runs on the worker pool (Processor::judge_in_time).
#pragma once

#include "filterd/config.h"
#include "filterd/processor.h"
#include "smtp/asio.h"
#include "smtp/endpoint.h"

namespace filterd {

// Serves one milter connection until the MTA closes it or sends QUIT.
// `stopping` turns true when filterd shuts down: the connection is closed
// between messages. REQUIRES: config, processor and stopping outlive the
// coroutine.
boost::asio::awaitable<void> serve_milter(smtp::Socket socket, const Config& config,
                                          Processor& processor, const bool& stopping);

}  // namespace filterd
