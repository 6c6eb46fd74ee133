// Tests of frontd's pure decisions and local delivery: maps, domain lists,
// relay tricks and recipient restrictions, Maildir files, bounces.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "frontd/address.h"
#include "frontd/bounce.h"
#include "frontd/config.h"
#include "frontd/mail_header.h"
#include "frontd/maildir.h"
#include "frontd/maps.h"
#include "frontd/recipient_policy.h"

namespace filterd::frontd {
namespace {
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/frontd-delivery-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(TextMap, ParsesPostfixSourceFormatWithCommentsAndContinuations) {
  auto m = TextMap::parse(
      "# virtual mailboxes\n"
      "alice@Example.TEST   example.test/alice/\n"
      "\n"
      "bob@example.test\texample.test/bob/\n"
      "@catchall.test  catchall.test/all/\n"
      "long@example.test first\n"
      "   second\n",
      "vmailbox");
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->size(), 4u);
  EXPECT_EQ(m->find("ALICE@example.test"), "example.test/alice/");
  EXPECT_EQ(m->find("bob@example.test"), "example.test/bob/");
  EXPECT_EQ(m->find("long@example.test"), "first second");
  EXPECT_EQ(m->find_address("anyone@catchall.test"), "catchall.test/all/");
  EXPECT_FALSE(m->find_address("carol@example.test"));
}

TEST(TextMap, ErrorsNameTheFileAndLine) {
  auto m = TextMap::parse("a@b x\nlonely\n", "vmailbox");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), "vmailbox:2: expected 'key value'");
  auto d = TextMap::parse("a@b x\nA@B y\n", "vmailbox");
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().find("vmailbox:2: duplicate key"), std::string::npos);
}

TEST(DomainList, NamesFilesAndMaps) {
  TempDir dir;
  std::ofstream(dir.path() + "/vdomains") << "# local\nfile.test other.test\n";
  std::ofstream(dir.path() + "/vmap") << "map.test  OK\n";
  auto l = DomainList::parse("Example.test, second.test " + dir.path() +
                             "/vdomains texthash:" + dir.path() + "/vmap");
  ASSERT_TRUE(l) << l.error();
  for (const char* d : {"example.test", "SECOND.test", "file.test", "other.test", "map.test"}) {
    EXPECT_TRUE(l->contains(d)) << d;
  }
  EXPECT_FALSE(l->contains("sub.example.test"));
  EXPECT_FALSE(DomainList::parse("ldap:/etc/x"));
  EXPECT_FALSE(DomainList::parse("/nonexistent/vdomains"));
}

TEST(MapFile, ReloadsWhenTheFileChangesAndKeepsTheOldTableWhenBroken) {
  TempDir dir;
  const std::string path = dir.path() + "/vmailbox";
  std::ofstream(path) << "alice@example.test example.test/alice/\n";
  auto m = MapFile::open("texthash:" + path);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->reload(false), false);
  std::ofstream(path) << "alice@example.test example.test/alice/\nbob@example.test b/\n";
  auto r = m->reload(false);
  ASSERT_TRUE(r);
  EXPECT_TRUE(*r);
  EXPECT_TRUE(m->current()->find("bob@example.test"));
  std::ofstream(path) << "broken\n";
  EXPECT_FALSE(m->reload(true));
  EXPECT_TRUE(m->current()->find("bob@example.test")) << "old table kept";
}

struct Tables {
  DomainList domains = *DomainList::parse("example.test");
  TextMap mailboxes = *TextMap::parse(
      "alice@example.test example.test/alice/\n"
      "postmaster@example.test example.test/postmaster/\n"
      "evil@example.test ../../etc/\n",
      "t");
  LocalTables get() const { return LocalTables{&domains, &mailboxes}; }
};

TEST(RecipientPolicy, LocalMailboxIsAcceptedFromAnyone) {
  Tables t;
  EXPECT_FALSE(check_recipient("alice@example.test", {}, t.get()));
  EXPECT_FALSE(check_recipient("Alice@EXAMPLE.test", {}, t.get()));
}

TEST(RecipientPolicy, UnknownLocalUserIs550EvenForTrustedClients) {
  Tables t;
  for (ClientTrust trust : {ClientTrust{}, ClientTrust{true, false, false},
                            ClientTrust{false, true, false}, ClientTrust{false, false, true}}) {
    auto r = check_recipient("nobody@example.test", trust, t.get());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->code, 550);
    EXPECT_EQ(r->status, "5.1.1");
  }
}

TEST(RecipientPolicy, OtherDomainsAreRelayedOnlyForTrustedClients) {
  Tables t;
  auto r = check_recipient("someone@elsewhere.test", {}, t.get());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 554);
  EXPECT_EQ(r->status, "5.7.1");
  EXPECT_NE(r->text.find("Relay access denied"), std::string::npos);
  EXPECT_FALSE(check_recipient("someone@elsewhere.test", {.mynetworks = true}, t.get()));
  EXPECT_FALSE(check_recipient("someone@elsewhere.test", {.authenticated = true}, t.get()));
  EXPECT_FALSE(check_recipient("someone@elsewhere.test", {.reinjection = true}, t.get()));
}

TEST(RecipientPolicy, EveryRelayTrickIsDeniedEvenForTrustedClients) {
  Tables t;
  // The source route "@example.test:user@other.test" is stripped by the
  // SMTP parser before this check and arrives as "user@other.test".
  for (const char* trick :
       {"user%other.test@example.test", "\"user@other.test\"@example.test",
        "user@other.test@example.test", "other.test!user@example.test",
        "\"other.test!user\"@example.test", "user@other.test", "alice%example.test@example.test"}) {
    auto r = check_recipient(trick, {}, t.get());
    ASSERT_TRUE(r) << trick;
    EXPECT_EQ(r->code, 554) << trick;
    EXPECT_EQ(r->status, "5.7.1") << trick;
  }
  for (const char* trick : {"user%other.test@example.test", "user@other.test@example.test",
                            "other.test!user@example.test"}) {
    EXPECT_TRUE(check_recipient(trick, {.mynetworks = true, .authenticated = true}, t.get()))
        << trick;
  }
}

TEST(RecipientPolicy, AddressWithoutDomainIsASyntaxError) {
  Tables t;
  auto r = check_recipient("alice", {.mynetworks = true}, t.get());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 501);
}

TEST(RecipientPolicy, MailboxPathsStayBelowTheBase) {
  Tables t;
  EXPECT_EQ(mailbox_path("alice@example.test", t.get(), "/var/mail/vhosts"),
            "/var/mail/vhosts/example.test/alice/");
  EXPECT_FALSE(mailbox_path("evil@example.test", t.get(), "/var/mail/vhosts"));
  EXPECT_FALSE(mailbox_path("nobody@example.test", t.get(), "/var/mail/vhosts"));
}

// RFC 5321 §4.5.1: <Postmaster> without a domain is accepted, in any case.
TEST(Address, BarePostmasterIsQualifiedWithThePostmasterDomain) {
  EXPECT_EQ(qualify_postmaster("Postmaster", "example.test"), "postmaster@example.test");
  EXPECT_EQ(qualify_postmaster("postmaster", "example.test"), "postmaster@example.test");
  EXPECT_EQ(qualify_postmaster("postmaster@other.test", "example.test"), "postmaster@other.test");
  EXPECT_EQ(qualify_postmaster("alice", "example.test"), "alice");
  EXPECT_EQ(qualify_postmaster("postmaster", ""), "postmaster");
  Tables t;
  EXPECT_FALSE(check_recipient(qualify_postmaster("POSTMASTER", "example.test"), {}, t.get()))
      << "postmaster@example.test is a local mailbox";
}

TEST(Address, SplitsAtTheLastUnquotedAt) {
  Address a = split_address("\"a@b\"@Example.TEST");
  EXPECT_EQ(a.local, "\"a@b\"");
  EXPECT_EQ(a.domain, "example.test");
  EXPECT_EQ(split_address("plain").domain, "");
}

TEST(Maildir, DeliveryWritesOneFileInNewWithLfLinesAndDovecotName) {
  TempDir dir;
  MaildirDelivery d{dir.path() + "/example.test/alice/", "bob@example.test", "alice@example.test",
                    std::nullopt, "mx.example.test"};
  auto r = deliver_to_maildir(d, "Subject: hi\r\n\r\nline1\r\nline2\r\n");
  ASSERT_TRUE(r) << r.error().what;
  EXPECT_TRUE(r->starts_with(dir.path() + "/example.test/alice/new/"));
  std::ifstream in(*r, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content,
            "Return-Path: <bob@example.test>\nDelivered-To: alice@example.test\n"
            "Subject: hi\n\nline1\nline2\n");
  const std::string name = fs::path(*r).filename();
  EXPECT_NE(name.find(".mx.example.test,S=" + std::to_string(content.size()) + ",W="),
            std::string::npos)
      << name;
  EXPECT_TRUE(fs::is_empty(dir.path() + "/example.test/alice/tmp"));
  EXPECT_TRUE(fs::is_directory(dir.path() + "/example.test/alice/cur"));
  struct stat st {};
  ASSERT_EQ(::stat(r->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(Maildir, UnwritableBaseIsAnErrorNotACrash) {
  MaildirDelivery d{"/proc/frontd-cannot-write/alice/", "", "alice@example.test", std::nullopt,
                    "h"};
  auto r = deliver_to_maildir(d, "x\r\n");
  ASSERT_FALSE(r);
  EXPECT_FALSE(r.error().what.empty());
}

TEST(Maildir, NameEscapesSlashAndColonInTheHostName) {
  EXPECT_EQ(maildir_name(1700000000, 12, 34, 5, "a/b:c", 100, 104),
            "1700000000.M12P34Q5.a\\057b\\072c,S=100,W=104");
}

TEST(Bounce, DsnGoesToTheSenderWithHeadersOnlyAndNeverForTheNullSender) {
  QueuedMessage m;
  m.id = "0123456789AB";
  m.arrival_ms = 1700000000000;
  m.envelope.sender = "alice@example.test";
  m.envelope.recipients = {{"bob@elsewhere.test", "", ""}, {"carol@elsewhere.test", "NEVER", ""}};
  m.data = "Subject: secret\r\nMessage-ID: <x@y>\r\n\r\nBODY-MUST-NOT-RETURN\r\n";
  std::vector<FailedRecipient> failed = {{0, {550, "5.1.1", "no such user"}},
                                         {1, {550, "5.1.1", "no such user"}}};
  auto b = make_bounce(m, failed, "mx.example.test", 1700000100);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->envelope.sender, "");
  ASSERT_EQ(b->envelope.recipients.size(), 1u);
  EXPECT_EQ(b->envelope.recipients[0].address, "alice@example.test");
  EXPECT_EQ(b->stage, Stage::kDeliver);
  EXPECT_NE(b->data.find("From: Mail Delivery System <MAILER-DAEMON@mx.example.test>"),
            std::string::npos);
  EXPECT_NE(b->data.find("Final-Recipient: rfc822; bob@elsewhere.test"), std::string::npos);
  EXPECT_EQ(b->data.find("carol@elsewhere.test"), std::string::npos) << "NOTIFY=NEVER";
  EXPECT_NE(b->data.find("Subject: secret"), std::string::npos);
  EXPECT_EQ(b->data.find("BODY-MUST-NOT-RETURN"), std::string::npos);
  m.envelope.sender = "";
  EXPECT_FALSE(make_bounce(m, failed, "mx.example.test", 1700000100));
}

TEST(MailHeader, FirstFieldUnfoldedCaseInsensitive) {
  const std::string m = "Received: x\r\nmessage-id:\r\n <a@b>\r\nMessage-ID: <second>\r\n\r\nb";
  EXPECT_EQ(header_value(m, "Message-ID"), "<a@b>");
  EXPECT_EQ(header_value(m, "Subject"), "");
  EXPECT_EQ(header_section(m).size(), m.size() - 3);
}

TEST(MailHeader, CountsReceivedFieldsInTheHeaderOnly) {
  const std::string m =
      "Received: a\r\n\tb\r\nreceived : c\r\nX-Received: d\r\nSubject: Received: e\r\n\r\n"
      "Received: body\r\n";
  EXPECT_EQ(count_fields(m, "Received"), 2u);
  EXPECT_EQ(count_fields("", "Received"), 0u);
}

TEST(Config, DefaultsLoadAndDurationsAndNextHopsParse) {
  auto c = load_config({});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->maximal_queue_lifetime, std::chrono::seconds(5 * 86400));
  EXPECT_EQ(c->smtpd_banner, c->myhostname + " ESMTP");
  EXPECT_FALSE(c->content_filter);
  EXPECT_EQ(parse_duration("2h"), std::chrono::seconds(7200));
  EXPECT_FALSE(parse_duration("2x"));
  auto hop = parse_next_hop("smtp:[127.0.0.1]:10024");
  ASSERT_TRUE(hop);
  EXPECT_EQ(hop->host, "127.0.0.1");
  EXPECT_EQ(hop->port, 10024);
  EXPECT_EQ(parse_next_hop("[mail.example.test]")->port, 25);
}

TEST(Config, BadValuesNameTheSetting) {
  auto c = load_config({"", {"--reinjection_listen=0.0.0.0:10025"}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("reinjection_listen"), std::string::npos) << c.error();
  c = load_config({"", {"--no_such_setting=1"}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("unknown setting"), std::string::npos) << c.error();
  c = load_config({"", {"--maximal_queue_lifetime=forever"}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("maximal_queue_lifetime"), std::string::npos) << c.error();
}

TEST(Config, FileWithContinuationLinesAndDollarExpansion) {
  TempDir dir;
  const std::string path = dir.path() + "/frontd.conf";
  std::ofstream(path) << "# test\nmyhostname = mx.example.test\n"
                         "smtpd_banner = $myhostname ESMTP ${mydomain}\n"
                         "virtual_mailbox_domains = a.test,\n   b.test\n";
  auto c = load_config({path, {}});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->smtpd_banner, "mx.example.test ESMTP example.test");
  EXPECT_EQ(c->virtual_mailbox_domains, "a.test, b.test");
  std::ofstream(path) << "myhostname = x\nnot a setting line\n";
  auto bad = load_config({path, {}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("frontd.conf:2"), std::string::npos) << bad.error();
}

TEST(Config, ShippedSampleFileIsTheGeneratedDefaultsAndLoads) {
  std::ifstream in(FILTERD_SOURCE_DIR "/etc/frontd.conf");
  ASSERT_TRUE(in) << "etc/frontd.conf missing";
  std::string shipped((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(shipped, default_config_file())
      << "regenerate: frontd --print-defaults > etc/frontd.conf";
  auto c = load_config({FILTERD_SOURCE_DIR "/etc/frontd.conf", {}});
  EXPECT_TRUE(c) << c.error();
}

}  // namespace
}  // namespace filterd::frontd
