// proxy.h — the before-queue proxy, for Postfix's smtpd_proxy_filter
// (SMTPD_PROXY_README). For each session Postfix's smtpd opens, filterd
// opens one to the downstream (config.proxy_forward, Postfix's reinjection
// smtpd) and relays EHLO, XFORWARD, MAIL, RCPT and RSET one by one, so the
// remote client sees the downstream's replies in real time. At the end of
// DATA filterd judges the message (within config.in_dialog_timeout) and:
//
//   pass      → DATA downstream with filterd's header edits; the client gets
//               the downstream's reply (250 only once the downstream has it)
//   D_REJECT, D_BOUNCE → 5xx to the client, downstream RSET (no backscatter)
//   D_DISCARD → 250, quarantined as the policy says, nothing forwarded
//   D_TEMPFAIL, a late verdict, the downstream gone → 4xx
//
// Recipients are judged together (Processor::in_dialog). When the passing
// recipients differ from the downstream's envelope (a discarded recipient,
// an address extension), the open transaction is reset and the message is
// delivered in a new one with the changed envelope.
//
// Works the same whether Postfix streams the message (the default) or
// sends it after receiving it whole (smtpd_proxy_options = speed_adjust).
#pragma once

#include "filterd/config.h"
#include "filterd/processor.h"
#include "smtp/asio.h"
#include "smtp/endpoint.h"

namespace filterd {

// Serves one proxy connection until either side closes. `stopping` turns
// true when filterd shuts down: the session ends after its transaction.
// REQUIRES: config, processor and stopping outlive the coroutine.
boost::asio::awaitable<void> serve_proxy(smtp::Socket socket, const Config& config,
                                         Processor& processor, const bool& stopping);

}  // namespace filterd
