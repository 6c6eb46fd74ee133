// protocol.h — the constants of the Sendmail/Postfix milter protocol,
// version 6 (libmilter's mfdef.h semantics, as Postfix's milter8 client
// speaks it): command and reply codes, action flags (what the filter may
// do to a message) and protocol flags (what the MTA may leave out, or send
// without waiting for a reply).
#pragma once

#include <cstdint>

namespace filterd::milter {

inline constexpr uint32_t kVersion = 6;

// MTA → filter commands (SMFIC_*).
namespace command {
inline constexpr char kAbort = 'A';
inline constexpr char kBody = 'B';
inline constexpr char kConnect = 'C';
inline constexpr char kMacro = 'D';
inline constexpr char kEndOfBody = 'E';
inline constexpr char kHelo = 'H';
inline constexpr char kQuitNewConnection = 'K';
inline constexpr char kHeader = 'L';
inline constexpr char kMail = 'M';
inline constexpr char kEndOfHeaders = 'N';
inline constexpr char kOptNeg = 'O';
inline constexpr char kQuit = 'Q';
inline constexpr char kRcpt = 'R';
inline constexpr char kData = 'T';
inline constexpr char kUnknown = 'U';
}  // namespace command

// Filter → MTA replies and actions (SMFIR_*). OPTNEG's reply reuses 'O'.
namespace reply {
inline constexpr char kAddRcpt = '+';
inline constexpr char kDeleteRcpt = '-';
inline constexpr char kAccept = 'a';
inline constexpr char kReplaceBody = 'b';
inline constexpr char kContinue = 'c';
inline constexpr char kDiscard = 'd';
inline constexpr char kAddHeader = 'h';
inline constexpr char kInsertHeader = 'i';
inline constexpr char kChangeHeader = 'm';
inline constexpr char kOptNeg = 'O';
inline constexpr char kProgress = 'p';
inline constexpr char kQuarantine = 'q';
inline constexpr char kReject = 'r';
inline constexpr char kTempfail = 't';
inline constexpr char kReplyCode = 'y';
}  // namespace reply

// Actions the filter may take (SMFIF_*), negotiated in OPTNEG.
namespace action {
inline constexpr uint32_t kAddHeaders = 0x01;
inline constexpr uint32_t kChangeBody = 0x02;
inline constexpr uint32_t kAddRcpt = 0x04;
inline constexpr uint32_t kDeleteRcpt = 0x08;
inline constexpr uint32_t kChangeHeaders = 0x10;
inline constexpr uint32_t kQuarantine = 0x20;
inline constexpr uint32_t kChangeFrom = 0x40;
inline constexpr uint32_t kAddRcptWithArgs = 0x80;
inline constexpr uint32_t kSetSymbolList = 0x100;
}  // namespace action

// Protocol flags (SMFIP_*), negotiated in OPTNEG. kNo*: the MTA does not
// send that command; kNoReply*: it sends it and does not wait for a reply.
namespace protocol {
inline constexpr uint32_t kNoConnect = 0x01;
inline constexpr uint32_t kNoHelo = 0x02;
inline constexpr uint32_t kNoMail = 0x04;
inline constexpr uint32_t kNoRcpt = 0x08;
inline constexpr uint32_t kNoBody = 0x10;
inline constexpr uint32_t kNoHeaders = 0x20;
inline constexpr uint32_t kNoEndOfHeaders = 0x40;
inline constexpr uint32_t kNoReplyHeader = 0x80;
inline constexpr uint32_t kNoUnknown = 0x100;
inline constexpr uint32_t kNoData = 0x200;
inline constexpr uint32_t kSkip = 0x400;
inline constexpr uint32_t kRcptRejected = 0x800;
inline constexpr uint32_t kNoReplyConnect = 0x1000;
inline constexpr uint32_t kNoReplyHelo = 0x2000;
inline constexpr uint32_t kNoReplyMail = 0x4000;
inline constexpr uint32_t kNoReplyRcpt = 0x8000;
inline constexpr uint32_t kNoReplyData = 0x10000;
inline constexpr uint32_t kNoReplyUnknown = 0x20000;
inline constexpr uint32_t kNoReplyEndOfHeaders = 0x40000;
inline constexpr uint32_t kNoReplyBody = 0x80000;
inline constexpr uint32_t kHeaderLeadingSpace = 0x100000;
}  // namespace protocol

// What filterd asks for. Actions: add the X-Spam-* and notice headers,
// change/delete existing ones, replace the body when attachments are
// removed, quarantine (a Postfix hold), and delete or add recipients (a
// recipient whose destiny drops the message, an address extension). All
// but adding headers are optional: negotiate() keeps what the MTA offers.
// Protocol: every command is sent (the pipeline needs the client, HELO and
// envelope) except unknown SMTP commands; headers, end of headers, DATA and
// body chunks are only collected, so the MTA streams them without waiting
// for a reply per packet (fewer round trips; the verdict comes at end of
// body); header values keep their leading space so the message is rebuilt
// byte for byte (DKIM), which also means header values filterd adds must
// carry their own leading space.
inline constexpr uint32_t kWantedActions = action::kAddHeaders | action::kChangeHeaders |
                                           action::kChangeBody | action::kQuarantine |
                                           action::kAddRcpt | action::kDeleteRcpt;
inline constexpr uint32_t kWantedProtocol =
    protocol::kNoUnknown | protocol::kNoReplyHeader | protocol::kNoReplyEndOfHeaders |
    protocol::kNoReplyData | protocol::kNoReplyBody | protocol::kHeaderLeadingSpace;

// libmilter's MILTER_CHUNK_SIZE: the largest body chunk either side sends
// unless a larger data size (SMFIP_MDS_256K/1M) is negotiated, which filterd
// does not ask for.
inline constexpr uint32_t kBodyChunk = 65535;

}  // namespace filterd::milter
