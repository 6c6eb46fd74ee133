// Tests of the SMTP/LMTP server state machine, fed with bytes.
#include "smtp/server_session.h"

#include <gtest/gtest.h>

namespace filterd::smtp {
namespace {

class SessionTest : public ::testing::Test {
 protected:
  explicit SessionTest(Protocol p = Protocol::kSmtp) {
    SessionOptions o;
    o.protocol = p;
    o.hostname = "filter.test";
    o.limits.max_message_size = 1000;
    o.limits.max_recipients = 3;
    o.limits.max_errors = 5;
    session_ = std::make_unique<ServerSession>(o);
  }
  std::string feed(std::string_view bytes) {
    session_->feed(bytes);
    return session_->take_output();
  }
  // The reply codes in `out`, one per final reply line.
  static std::vector<int> codes(const std::string& out) {
    std::vector<int> c;
    size_t pos = 0;
    while (pos < out.size()) {
      size_t nl = out.find("\r\n", pos);
      if (out[pos + 3] == ' ') c.push_back(std::stoi(out.substr(pos, 3)));
      pos = nl + 2;
    }
    return c;
  }
  void start_transaction() {
    ASSERT_EQ(
        codes(feed("EHLO mta.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n")),
        (std::vector<int>{250, 250, 250, 354}));
  }
  std::unique_ptr<ServerSession> session_;
};

TEST_F(SessionTest, GreetingNamesHostAndEsmtp) {
  EXPECT_EQ(session_->greeting(), "220 filter.test ESMTP filterd\r\n");
}

TEST_F(SessionTest, EhloAdvertisesTheExtensionsFilterdImplements) {
  std::string out = feed("EHLO mta.test\r\n");
  for (const char* ext : {"PIPELINING", "SIZE 1000", "8BITMIME", "ENHANCEDSTATUSCODES", "DSN",
                          "SMTPUTF8", "XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE"}) {
    EXPECT_NE(out.find(ext), std::string::npos) << ext;
  }
  EXPECT_TRUE(out.ends_with("\r\n"));
  EXPECT_EQ(codes(out), std::vector<int>{250});
}

TEST_F(SessionTest, PipelinedEnvelopeGetsOneReplyPerCommandInOrder) {
  start_transaction();
  EXPECT_EQ(session_->state(), ServerSession::State::kData);
}

TEST_F(SessionTest, MessageEndsOnlyAtCrlfDotCrlfAndIsDotUnstuffed) {
  start_transaction();
  feed("Subject: hi\r\n\r\n..leading dot\r\nbody\r\n.\r\n");
  ASSERT_TRUE(session_->transaction_ready());
  Transaction t = session_->take_transaction();
  EXPECT_EQ(t.data, "Subject: hi\r\n\r\n.leading dot\r\nbody\r\n");
  EXPECT_EQ(t.envelope.sender, "a@x.test");
  ASSERT_EQ(t.envelope.recipients.size(), 1u);
  EXPECT_EQ(t.envelope.recipients[0].address, "b@y.test");
}

TEST_F(SessionTest, BareLfDotBareLfDoesNotEndDataSoNoSmuggling) {
  start_transaction();
  feed("Subject: x\r\n\r\nhello\n.\nMAIL FROM:<evil@x>\r\nmore\r\n");
  EXPECT_FALSE(session_->transaction_ready());
  EXPECT_EQ(session_->state(), ServerSession::State::kData);
  feed(".\r\n");
  ASSERT_TRUE(session_->transaction_ready());
  EXPECT_EQ(session_->take_transaction().data,
            "Subject: x\r\n\r\nhello\n.\nMAIL FROM:<evil@x>\r\nmore\r\n");
}

TEST_F(SessionTest, BareCrDotBareCrDoesNotEndData) {
  start_transaction();
  feed("a\r.\rb\r\n\r.\r\n");
  EXPECT_FALSE(session_->transaction_ready());
  feed(".\r\n");
  EXPECT_TRUE(session_->transaction_ready());
}

TEST_F(SessionTest, EndOfDataSplitAcrossReadsIsFound) {
  start_transaction();
  for (char c : std::string("line\r\n.\r\n")) feed(std::string_view(&c, 1));
  ASSERT_TRUE(session_->transaction_ready());
  EXPECT_EQ(session_->take_transaction().data, "line\r\n");
}

TEST_F(SessionTest, CommandsPipelinedAfterDataWaitForTheVerdict) {
  start_transaction();
  std::string out = feed("x\r\n.\r\nQUIT\r\n");
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(session_->transaction_ready());
  session_->take_transaction();
  session_->finish_data({Reply{250, "2.0.0", "Ok: queued as ABC"}});
  EXPECT_EQ(session_->take_output(), "250 2.0.0 Ok: queued as ABC\r\n221 2.0.0 Bye\r\n");
  EXPECT_TRUE(session_->closed());
}

TEST_F(SessionTest, MessageOverSizeLimitIsRefusedWith552AfterData) {
  start_transaction();
  std::string big(2000, 'a');
  std::string out = feed(big + "\r\n.\r\n");
  EXPECT_EQ(codes(out), std::vector<int>{552});
  EXPECT_FALSE(session_->transaction_ready());
  EXPECT_EQ(session_->state(), ServerSession::State::kCommand);
}

TEST_F(SessionTest, DeclaredSizeOverLimitIsRefusedAtMail) {
  feed("EHLO x\r\n");
  EXPECT_EQ(feed("MAIL FROM:<a@b> SIZE=5000\r\n"),
            "552 5.3.4 Message size exceeds fixed limit\r\n");
}

TEST_F(SessionTest, RecipientLimitAnswers452) {
  feed("EHLO x\r\nMAIL FROM:<a@b>\r\n");
  EXPECT_EQ(codes(feed("RCPT TO:<1@b>\r\nRCPT TO:<2@b>\r\nRCPT TO:<3@b>\r\nRCPT TO:<4@b>\r\n")),
            (std::vector<int>{250, 250, 250, 452}));
}

TEST_F(SessionTest, OverlongCommandLineIsRefusedAndSkipped) {
  feed("EHLO x\r\n");
  std::string out = feed(std::string(5000, 'A'));
  EXPECT_EQ(codes(out), std::vector<int>{500});
  out = feed(std::string(100, 'B') + "\r\nNOOP\r\n");
  EXPECT_EQ(codes(out), std::vector<int>{250});
}

TEST_F(SessionTest, TooManyErrorsCloseWith421) {
  std::string out;
  for (int i = 0; i < 5; ++i) out += feed("BOGUS\r\n");
  EXPECT_NE(out.find("421 4.7.0"), std::string::npos);
  EXPECT_TRUE(session_->closed());
}

TEST_F(SessionTest, MailBeforeEhloIsRefused) {
  EXPECT_EQ(codes(feed("MAIL FROM:<a@b>\r\n")), std::vector<int>{503});
}

TEST_F(SessionTest, DataWithoutRecipientsIsRefused) {
  feed("EHLO x\r\nMAIL FROM:<a@b>\r\n");
  EXPECT_EQ(codes(feed("DATA\r\n")), std::vector<int>{554});
}

TEST_F(SessionTest, NestedMailIsRefused) {
  feed("EHLO x\r\nMAIL FROM:<a@b>\r\n");
  EXPECT_EQ(codes(feed("MAIL FROM:<c@d>\r\n")), std::vector<int>{503});
}

TEST_F(SessionTest, UnknownMailParameterIsRefusedWith555) {
  feed("EHLO x\r\n");
  EXPECT_EQ(codes(feed("MAIL FROM:<a@b> FOO=BAR\r\n")), std::vector<int>{555});
}

TEST_F(SessionTest, DsnParametersAreKeptForTheNextHop) {
  feed("EHLO x\r\n");
  feed("MAIL FROM:<a@b> RET=HDRS ENVID=QQ+2B1 BODY=8BITMIME SMTPUTF8\r\n");
  feed("RCPT TO:<c@d> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c+40d\r\nDATA\r\nx\r\n.\r\n");
  ASSERT_TRUE(session_->transaction_ready());
  Transaction t = session_->take_transaction();
  EXPECT_EQ(t.envelope.ret, "HDRS");
  EXPECT_EQ(t.envelope.envid, "QQ+2B1");
  EXPECT_EQ(t.envelope.body, "8BITMIME");
  EXPECT_TRUE(t.envelope.smtputf8);
  EXPECT_EQ(t.envelope.recipients[0].notify, "SUCCESS,FAILURE");
  EXPECT_EQ(t.envelope.recipients[0].orcpt, "rfc822;c+40d");
}

TEST_F(SessionTest, BadNotifyIsRefused) {
  feed("EHLO x\r\nMAIL FROM:<a@b>\r\n");
  EXPECT_EQ(codes(feed("RCPT TO:<c@d> NOTIFY=NEVER,FAILURE\r\n")), std::vector<int>{501});
}

TEST_F(SessionTest, NonAsciiAddressNeedsSmtputf8) {
  feed("EHLO x\r\n");
  EXPECT_EQ(codes(feed("MAIL FROM:<j\xc3\xb6rg@b>\r\n")), std::vector<int>{553});
  EXPECT_EQ(codes(feed("MAIL FROM:<j\xc3\xb6rg@b> SMTPUTF8\r\n")), std::vector<int>{250});
}

TEST_F(SessionTest, NullSenderIsAccepted) {
  feed("EHLO x\r\n");
  EXPECT_EQ(codes(feed("MAIL FROM:<>\r\n")), std::vector<int>{250});
}

TEST_F(SessionTest, XforwardAttributesReachTheEnvelopeAndLastOneTransaction) {
  feed("EHLO x\r\n");
  EXPECT_EQ(codes(feed("XFORWARD NAME=client.test ADDR=192.0.2.1 PORT=4711\r\n"
                       "XFORWARD PROTO=ESMTP HELO=client.test SOURCE=REMOTE IDENT=123\r\n")),
            (std::vector<int>{250, 250}));
  feed("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nx\r\n.\r\n");
  Transaction t = session_->take_transaction();
  EXPECT_EQ(t.envelope.xforward.name, "client.test");
  EXPECT_EQ(t.envelope.xforward.addr, "192.0.2.1");
  EXPECT_EQ(t.envelope.xforward.port, "4711");
  EXPECT_EQ(t.envelope.xforward.proto, "ESMTP");
  EXPECT_EQ(t.envelope.xforward.source, "REMOTE");
  session_->finish_data({Reply{250, "2.0.0", "Ok"}});
  feed("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nx\r\n.\r\n");
  EXPECT_TRUE(session_->take_transaction().envelope.xforward.empty());
}

TEST_F(SessionTest, XforwardUnknownAttributeOrInsideTransactionIsRefused) {
  feed("EHLO x\r\n");
  EXPECT_EQ(codes(feed("XFORWARD COLOR=red\r\n")), std::vector<int>{501});
  feed("MAIL FROM:<a@b>\r\n");
  EXPECT_EQ(codes(feed("XFORWARD NAME=x\r\n")), std::vector<int>{503});
}

// Found by fuzz_server_session: a CR inside a command was echoed into the
// reply text and broke the reply's framing.
TEST_F(SessionTest, ClientBytesEchoedInRepliesCannotBreakReplyFraming) {
  feed("EHLO x\r\n");
  std::string out = feed("XFORWARD NA\rE=a\r\n");
  EXPECT_EQ(out, "501 5.5.4 Bad XFORWARD attribute: NA?E\r\n");
}

TEST_F(SessionTest, BareLfTerminatesCommands) {
  EXPECT_EQ(codes(feed("EHLO x\nNOOP\n")), (std::vector<int>{250, 250}));
}

TEST_F(SessionTest, RsetClearsTheTransaction) {
  feed("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n");
  EXPECT_EQ(codes(feed("RSET\r\nDATA\r\n")), (std::vector<int>{250, 503}));
}

TEST_F(SessionTest, TimeoutAnswers421AndCloses) {
  session_->on_timeout();
  EXPECT_EQ(session_->take_output(), "421 4.4.2 filter.test Error: timeout exceeded\r\n");
  EXPECT_TRUE(session_->closed());
}

TEST_F(SessionTest, UnimplementedCommandsAnswer502) {
  feed("EHLO x\r\n");
  EXPECT_EQ(codes(feed("STARTTLS\r\nAUTH PLAIN\r\nBDAT 10\r\n")),
            (std::vector<int>{502, 502, 502}));
}

TEST_F(SessionTest, LongDataLineWithoutNewlineIsConsumedIncrementally) {
  SessionOptions o;
  o.limits.max_message_size = 10 << 20;
  ServerSession s(o);
  s.feed("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
  std::string line(1 << 20, 'x');
  s.feed(line);
  s.feed(line);
  s.feed("\r\n.\r\n");
  ASSERT_TRUE(s.transaction_ready());
  EXPECT_EQ(s.take_transaction().data.size(), 2u * (1 << 20) + 2);
}

class LmtpSessionTest : public SessionTest {
 protected:
  LmtpSessionTest() : SessionTest(Protocol::kLmtp) {}
};

TEST_F(LmtpSessionTest, LhloIsRequiredAndEhloRefused) {
  EXPECT_EQ(codes(feed("EHLO x\r\n")), std::vector<int>{500});
  EXPECT_EQ(codes(feed("LHLO x\r\n")), std::vector<int>{250});
}

TEST_F(LmtpSessionTest, OneReplyPerRecipientAfterData) {
  feed("LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nDATA\r\nx\r\n.\r\n");
  ASSERT_TRUE(session_->transaction_ready());
  session_->take_transaction();
  session_->finish_data({Reply{250, "2.0.0", "Ok"}, Reply{452, "4.2.2", "Mailbox full"}});
  EXPECT_EQ(codes(session_->take_output()), (std::vector<int>{250, 452}));
}

// --- hooks frontd uses (filterd leaves them unset) ---------------------

TEST(SessionHooks, BannerReplacesTheDefaultGreeting) {
  SessionOptions o;
  o.banner = "mx.test ESMTP";
  EXPECT_EQ(ServerSession(o).greeting(), "220 mx.test ESMTP\r\n");
}

TEST(SessionHooks, RecipientCheckRefusesOneRecipientAndKeepsTheOthers) {
  SessionOptions o;
  o.check_recipient = [](const Envelope& env, const Recipient& r) -> std::optional<Reply> {
    EXPECT_EQ(env.sender, "a@x.test");
    if (r.address == "nobody@y.test") return Reply{550, "5.1.1", "User unknown"};
    return std::nullopt;
  };
  ServerSession s(o);
  s.feed(
      "EHLO c.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<nobody@y.test>\r\nRCPT "
      "TO:<b@y.test>\r\nDATA\r\nhi\r\n.\r\n");
  std::string out = s.take_output();
  EXPECT_NE(out.find("550 5.1.1 User unknown\r\n"), std::string::npos) << out;
  ASSERT_TRUE(s.transaction_ready());
  Transaction t = s.take_transaction();
  ASSERT_EQ(t.envelope.recipients.size(), 1u);
  EXPECT_EQ(t.envelope.recipients[0].address, "b@y.test");
  EXPECT_EQ(s.errors(), 1u);
}

TEST(SessionHooks, CommandCountsReadLikePostfixDisconnectLine) {
  SessionOptions o;
  o.check_recipient = [](const Envelope&, const Recipient& r) -> std::optional<Reply> {
    if (r.address.starts_with("bad")) return Reply{554, "5.7.1", "Relay access denied"};
    return std::nullopt;
  };
  ServerSession s(o);
  s.feed("EHLO c.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<bad@y.test>\r\nRCPT TO:<b@y.test>\r\n");
  s.feed("DATA\r\nhi\r\n.\r\n");
  ASSERT_TRUE(s.transaction_ready());
  s.take_transaction();
  s.finish_data({Reply{250, "2.0.0", "Ok: queued as X"}});
  s.feed("BOGUS\r\nQUIT\r\n");
  EXPECT_EQ(s.command_counts().summary(),
            "ehlo=1 mail=1 rcpt=1/2 data=1 quit=1 unknown=0/1 commands=5/7");
  EXPECT_EQ(s.helo(), "c.test");
  EXPECT_TRUE(s.esmtp());
}

TEST(SessionHooks, RejectedDataCountsAsAttemptedOnly) {
  ServerSession s(SessionOptions{});
  s.feed("HELO c.test\r\nMAIL FROM:<>\r\nRCPT TO:<b@y.test>\r\nDATA\r\nx\r\n.\r\n");
  s.take_transaction();
  s.finish_data({Reply{451, "4.3.0", "try later"}});
  s.feed("QUIT\r\n");
  EXPECT_EQ(s.command_counts().summary(), "helo=1 mail=1 rcpt=1 data=0/1 quit=1 commands=4/5");
}

// --- STARTTLS and AUTH (frontd) ------------------------------------------

SessionOptions tls_auth_options() {
  SessionOptions o;
  o.hostname = "mx.test";
  o.offer_starttls = true;
  o.auth_mechanisms = "PLAIN LOGIN";
  return o;
}

TEST(SessionTls, StartTlsIsOfferedAndAuthOnlyAfterIt) {
  ServerSession s(tls_auth_options());
  s.feed("EHLO c.test\r\n");
  std::string out = s.take_output();
  EXPECT_NE(out.find("250-STARTTLS"), std::string::npos) << out;
  EXPECT_EQ(out.find("AUTH"), std::string::npos) << "no AUTH before TLS: " << out;
  s.feed("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
  EXPECT_NE(s.take_output().find("503 5.5.1"), std::string::npos);
  s.feed("STARTTLS\r\nMAIL FROM:<injected@x>\r\n");
  EXPECT_EQ(s.take_output(), "220 2.0.0 Ready to start TLS\r\n");
  ASSERT_EQ(s.state(), ServerSession::State::kStartTls);
  s.tls_started();
  EXPECT_TRUE(s.tls_active());
  // The pipelined MAIL was dropped, and EHLO must be sent again.
  s.feed("MAIL FROM:<a@x>\r\n");
  EXPECT_NE(s.take_output().find("503 5.5.1"), std::string::npos);
  s.feed("EHLO c.test\r\n");
  out = s.take_output();
  EXPECT_EQ(out.find("STARTTLS"), std::string::npos) << out;
  EXPECT_NE(out.find("250-AUTH PLAIN LOGIN"), std::string::npos) << out;
  s.feed("STARTTLS\r\n");
  EXPECT_NE(s.take_output().find("554 5.5.1"), std::string::npos);
}

TEST(SessionAuth, PlainWithInitialResponseYieldsTheCredentials) {
  SessionOptions o = tls_auth_options();
  o.tls_active = true;
  ServerSession s(o);
  s.feed("EHLO c.test\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nMAIL FROM:<a@x>\r\n");
  ASSERT_EQ(s.state(), ServerSession::State::kAwaitingAuth);
  AuthRequest r = s.take_auth_request();
  EXPECT_EQ(r.mechanism, "PLAIN");
  EXPECT_EQ(r.credentials.authcid, "alice");
  EXPECT_EQ(r.credentials.password, "secret");
  s.finish_auth(Reply{235, "2.7.0", "Authentication successful"}, "alice");
  std::string out = s.take_output();
  EXPECT_NE(out.find("235 2.7.0 Authentication successful\r\n250 2.1.0 Ok"), std::string::npos)
      << "the pipelined MAIL runs after AUTH: " << out;
  EXPECT_EQ(out.find("secret"), std::string::npos);
  EXPECT_TRUE(s.authenticated());
  EXPECT_EQ(s.auth_user(), "alice");
  EXPECT_EQ(s.auth_mechanism(), "PLAIN");
}

TEST(SessionAuth, LoginPromptsForUserAndPassword) {
  SessionOptions o = tls_auth_options();
  o.tls_active = true;
  ServerSession s(o);
  s.feed("EHLO c.test\r\nAUTH LOGIN\r\n");
  EXPECT_TRUE(s.take_output().ends_with("334 VXNlcm5hbWU6\r\n"));
  s.feed("Ym9i\r\n");
  EXPECT_EQ(s.take_output(), "334 UGFzc3dvcmQ6\r\n");
  s.feed("cHc=\r\n");
  ASSERT_EQ(s.state(), ServerSession::State::kAwaitingAuth);
  AuthRequest r = s.take_auth_request();
  EXPECT_EQ(r.mechanism, "LOGIN");
  EXPECT_EQ(r.credentials.authcid, "bob");
  EXPECT_EQ(r.credentials.password, "pw");
}

TEST(SessionAuth, FailureAbortAndGarbageAreCountedAndNeverAuthenticate) {
  SessionOptions o = tls_auth_options();
  o.tls_active = true;
  ServerSession s(o);
  s.feed("EHLO c.test\r\nAUTH PLAIN\r\n");
  EXPECT_TRUE(s.take_output().ends_with("334 \r\n"));
  s.feed("not base64!\r\n");
  EXPECT_NE(s.take_output().find("501 5.5.2"), std::string::npos);
  s.feed("AUTH LOGIN\r\n*\r\n");
  EXPECT_NE(s.take_output().find("501 5.7.0 Authentication aborted"), std::string::npos);
  s.feed("AUTH CRAM-MD5\r\n");
  EXPECT_NE(s.take_output().find("504 5.5.4"), std::string::npos);
  s.feed("AUTH PLAIN AGFsaWNlAHdyb25n\r\n");
  ASSERT_EQ(s.state(), ServerSession::State::kAwaitingAuth);
  s.take_auth_request();
  s.finish_auth(Reply{535, "5.7.8", "Error: authentication failed"}, "");
  EXPECT_NE(s.take_output().find("535 5.7.8"), std::string::npos);
  EXPECT_FALSE(s.authenticated());
  s.feed("QUIT\r\n");
  EXPECT_EQ(s.command_counts().summary(), "ehlo=1 auth=0/4 quit=1 commands=2/6");
}

TEST(SessionAuth, NotOfferedWithoutTlsUnlessConfigured) {
  SessionOptions o = tls_auth_options();
  o.auth_requires_tls = false;
  o.auth_broken_clients = true;
  ServerSession s(o);
  s.feed("EHLO c.test\r\n");
  std::string out = s.take_output();
  EXPECT_NE(out.find("250-AUTH PLAIN LOGIN\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("250-AUTH=PLAIN LOGIN\r\n"), std::string::npos) << out;
}

TEST(Sasl, Base64IsStrict) {
  EXPECT_EQ(base64_encode(std::string("\0alice\0secret", 13)), "AGFsaWNlAHNlY3JldA==");
  EXPECT_EQ(base64_decode("AGFsaWNlAHNlY3JldA=="), std::string("\0alice\0secret", 13));
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_FALSE(base64_decode("AGFsa"));
  EXPECT_FALSE(base64_decode("AG=s"));
  EXPECT_FALSE(base64_decode("AG Fs"));
  EXPECT_FALSE(parse_plain(std::string("\0alice\0", 7)));
  EXPECT_FALSE(parse_plain(std::string("a\0b\0c\0d", 7)));
}

// --- relay mode (the before-queue proxy) ------------------------------

ServerSession relay_session() {
  SessionOptions o;
  o.hostname = "filter.test";
  o.relay = true;
  return ServerSession(o);
}

TEST(RelaySession, EnvelopeCommandsWaitForTheDownstreamsReply) {
  ServerSession s = relay_session();
  s.feed("EHLO mx.test\r\nMAIL FROM:<a@x.test> SIZE=10\r\nRCPT TO:<b@y.test>\r\n");
  ASSERT_EQ(s.state(), ServerSession::State::kAwaitingRelay);
  EXPECT_EQ(s.relay_request().verb, RelayRequest::Verb::kEhlo);
  EXPECT_EQ(s.relay_request().helo, "mx.test");
  EXPECT_EQ(s.take_output(), "") << "nothing is answered before the downstream did";
  s.finish_relay(Reply{250, "", "downstream.test\nPIPELINING"});
  const std::string ehlo = s.take_output();
  EXPECT_TRUE(ehlo.starts_with("250-filter.test\r\n")) << "our own EHLO reply: " << ehlo;
  EXPECT_NE(ehlo.find("XFORWARD"), std::string::npos);

  ASSERT_EQ(s.state(), ServerSession::State::kAwaitingRelay);
  EXPECT_EQ(s.relay_request().verb, RelayRequest::Verb::kMail);
  EXPECT_EQ(s.relay_request().envelope.sender, "a@x.test");
  EXPECT_EQ(s.relay_request().envelope.size, 10u);
  s.finish_relay(Reply{250, "2.1.0", "Ok"});
  EXPECT_EQ(s.take_output(), "250 2.1.0 Ok\r\n");

  ASSERT_EQ(s.state(), ServerSession::State::kAwaitingRelay);
  EXPECT_EQ(s.relay_request().recipient.address, "b@y.test");
  s.finish_relay(Reply{550, "5.1.1", "no such user"});
  EXPECT_EQ(s.take_output(), "550 5.1.1 no such user\r\n") << "the downstream's words";
  EXPECT_EQ(s.state(), ServerSession::State::kCommand);
  s.feed("DATA\r\n");
  EXPECT_EQ(s.take_output(), "554 5.5.1 Error: no valid recipients\r\n")
      << "a refused RCPT did not count";
}

TEST(RelaySession, RefusedMailLeavesNoTransaction) {
  ServerSession s = relay_session();
  s.feed("EHLO mx.test\r\n");
  s.finish_relay(Reply{250, "", "ok"});
  s.take_output();
  s.feed("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n");
  s.finish_relay(Reply{451, "4.4.1", "Error: next hop failed"});
  EXPECT_EQ(s.take_output(),
            "451 4.4.1 Error: next hop failed\r\n503 5.5.1 Error: need MAIL command\r\n");
}

TEST(RelaySession, RsetResetsWhateverTheDownstreamSaid) {
  ServerSession s = relay_session();
  s.feed("EHLO mx.test\r\n");
  s.finish_relay(Reply{250, "", "ok"});
  s.feed("MAIL FROM:<a@x.test>\r\n");
  s.finish_relay(Reply{250, "2.1.0", "Ok"});
  s.take_output();
  s.feed("RSET\r\n");
  ASSERT_EQ(s.relay_request().verb, RelayRequest::Verb::kRset);
  s.finish_relay(Reply{451, "4.4.1", "gone"});
  EXPECT_EQ(s.take_output(), "250 2.0.0 Ok\r\n");
  s.feed("RCPT TO:<b@y.test>\r\n");
  EXPECT_EQ(s.take_output(), "503 5.5.1 Error: need MAIL command\r\n");
}

TEST(RelaySession, CountsSucceedOnlyOnTheDownstreamsPositiveReply) {
  ServerSession s = relay_session();
  s.feed("EHLO mx.test\r\n");
  s.finish_relay(Reply{250, "", "ok"});
  s.feed("MAIL FROM:<a@x.test>\r\n");
  s.finish_relay(Reply{250, "2.1.0", "Ok"});
  s.feed("RCPT TO:<b@y.test>\r\n");
  s.finish_relay(Reply{550, "5.1.1", "no"});
  s.feed("QUIT\r\n");
  EXPECT_EQ(s.command_counts().summary(), "ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4");
}

}  // namespace
}  // namespace filterd::smtp
