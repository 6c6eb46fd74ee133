// Tests of configuration loading and validation.
#include "filterd/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace filterd {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    path_ = std::filesystem::temp_directory_path() /
            ("filterd-config-test-" + std::to_string(::getpid()) + ".conf");
    std::ofstream(path_) << text;
    return path_.string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::filesystem::path path_;
};

TEST_F(ConfigTest, DefaultsAreComplete) {
  auto c = load_config({});
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->listen.size(), 1u);
  EXPECT_EQ(c->listen[0].str(), "smtp:127.0.0.1:10024");
  EXPECT_EQ(c->forward.str(), "smtp:127.0.0.1:10025");
  EXPECT_EQ(c->policy.recipient.destiny[static_cast<size_t>(policy::Category::kVirus)],
            policy::Destiny::kDiscard);
  EXPECT_EQ(c->policy.scanner_failure_destiny, policy::Destiny::kTempfail);
  EXPECT_GE(c->workers, 1u);
}

TEST_F(ConfigTest, FileValuesAndCommandLineOverrides) {
  std::string f = write(
      "# comment\n"
      "listen = smtp:127.0.0.1:2000\n"
      "listen = lmtp:unix:/tmp/x.sock\n"
      "final_virus_destiny = D_REJECT\n"
      "myhostname = filter.test\n");
  auto c = load_config({f, {"--final_virus_destiny=D_BOUNCE"}});
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->listen.size(), 2u);
  EXPECT_EQ(c->listen[1].protocol, smtp::Protocol::kLmtp);
  EXPECT_EQ(c->policy.recipient.destiny[static_cast<size_t>(policy::Category::kVirus)],
            policy::Destiny::kBounce);
  EXPECT_EQ(c->x_virus_scanned, "filterd at filter.test");
}

TEST_F(ConfigTest, CommandLineListenReplacesTheFilesListen) {
  std::string f = write("listen = smtp:127.0.0.1:2000\n");
  auto c = load_config({f, {"--listen=smtp:127.0.0.1:3000"}});
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->listen.size(), 1u);
  EXPECT_EQ(c->listen[0].port, 3000);
}

TEST_F(ConfigTest, InDialogListenersReplaceTheDefaultListener) {
  auto c =
      load_config({"",
                   {"--proxy_listen=smtp:127.0.0.1:10030", "--milter_listen=inet:127.0.0.1:10040",
                    "--milter_listen=unix:/run/filterd/milter.sock"}});
  ASSERT_TRUE(c) << c.error();
  EXPECT_TRUE(c->listen.empty()) << "no after-queue listener unless asked for";
  ASSERT_EQ(c->proxy_listen.size(), 1u);
  EXPECT_EQ(c->proxy_forward.str(), c->forward.str()) << "the downstream defaults to forward";
  ASSERT_EQ(c->milter_listen.size(), 2u);
  EXPECT_EQ(c->milter_listen[0].port, 10040);
  EXPECT_EQ(c->milter_listen[1].unix_path, "/run/filterd/milter.sock");
  EXPECT_EQ(c->in_dialog_timeout, std::chrono::seconds(60));

  auto both =
      load_config({"",
                   {"--proxy_listen=smtp:127.0.0.1:10030", "--proxy_forward=smtp:127.0.0.1:10031",
                    "--listen=smtp:127.0.0.1:10024"}});
  ASSERT_TRUE(both) << both.error();
  EXPECT_EQ(both->listen.size(), 1u);
  EXPECT_EQ(both->proxy_forward.port, 10031);
}

TEST_F(ConfigTest, InDialogListenerErrors) {
  auto lmtp = load_config({"", {"--proxy_listen=lmtp:127.0.0.1:10030"}});
  ASSERT_FALSE(lmtp);
  EXPECT_NE(lmtp.error().find("proxy_listen"), std::string::npos) << lmtp.error();
  auto milter = load_config({"", {"--milter_listen=127.0.0.1:10040"}});
  ASSERT_FALSE(milter);
  EXPECT_NE(milter.error().find("inet:HOST:PORT or unix:PATH"), std::string::npos)
      << milter.error();
  auto forward = load_config({"", {"--proxy_forward=lmtp:127.0.0.1:24"}});
  EXPECT_FALSE(forward);
  auto zero = load_config({"", {"--in_dialog_timeout=0"}});
  EXPECT_FALSE(zero);
}

TEST_F(ConfigTest, UnknownOptionNamesFileAndLine) {
  std::string f = write("forward = smtp:127.0.0.1:1\n\nfrobnicate = yes\n");
  auto c = load_config({f, {}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find(f + ":3:"), std::string::npos) << c.error();
  EXPECT_NE(c.error().find("frobnicate"), std::string::npos) << c.error();
}

TEST_F(ConfigTest, BadValueNamesTheLineItCameFrom) {
  std::string f = write("myhostname = x\nfinal_virus_destiny = D_MAYBE\n");
  auto c = load_config({f, {}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find(f + ":2: final_virus_destiny"), std::string::npos) << c.error();
}

TEST_F(ConfigTest, MalformedLinesAndValuesAreErrors) {
  EXPECT_FALSE(load_config({write("just words\n"), {}}));
  EXPECT_FALSE(load_config({write("max_recipients = many\n"), {}}));
  EXPECT_FALSE(load_config({write("listen = 127.0.0.1:25\n"), {}}));
  EXPECT_FALSE(load_config({write("scanner_failure_destiny = D_REJECT\n"), {}}));
  EXPECT_FALSE(load_config({write("max_command_line = 100\n"), {}}));
  EXPECT_FALSE(load_config({"/nonexistent/filterd.conf", {}}));
  EXPECT_FALSE(load_config({"", {"--nope=1"}}));
}

TEST_F(ConfigTest, PrintConfigShowsOnlyNonDefaults) {
  std::string f = write("final_virus_destiny = D_REJECT\n");
  std::string out = non_default_settings({f, {"--workers=3"}});
  EXPECT_EQ(out, "final_virus_destiny = D_REJECT\nworkers = 3\n");
}

}  // namespace
size_t cat(policy::Category c) {
  return static_cast<size_t>(c);
}

TEST_F(ConfigTest, PolicyBanksLoadInOrderPortThenMynetsThenOriginating) {
  std::string f = write(
      "listen = smtp:127.0.0.1:10024\n"
      "listen = smtp:127.0.0.1:10026\n"
      "mynetworks = 10.0.0.0/8\n"
      "policy_bank_by_port = 10026:SUBMISSION\n"
      "final_spam_destiny = D_DISCARD\n"
      "[policy_bank SUBMISSION]\n"
      "originating = yes\n"
      "final_banned_destiny = D_REJECT\n"
      "[policy_bank MYNETS]\n"
      "final_banned_destiny = D_PASS\n"
      "spam_kill_level = 20\n"
      "[policy_bank ORIGINATING]\n"
      "final_virus_destiny = D_REJECT\n");
  auto c = load_config({f, {}});
  ASSERT_TRUE(c) << c.error();
  const policy::Settings& inbound = c->bank_for(10024, "192.0.2.1");
  EXPECT_EQ(inbound.name, "base");
  EXPECT_EQ(inbound.recipient.destiny[cat(policy::Category::kSpam)], policy::Destiny::kDiscard);
  EXPECT_EQ(inbound.recipient.destiny[cat(policy::Category::kBanned)], policy::Destiny::kBounce);

  const policy::Settings& lan = c->bank_for(10024, "10.1.2.3");
  EXPECT_EQ(lan.name, "MYNETS");
  EXPECT_EQ(lan.recipient.destiny[cat(policy::Category::kBanned)], policy::Destiny::kPass);
  EXPECT_EQ(lan.recipient.spam_kill_level, 20);
  EXPECT_EQ(lan.recipient.destiny[cat(policy::Category::kSpam)], policy::Destiny::kDiscard)
      << "what a bank does not set comes from the base";

  const policy::Settings& sub = c->bank_for(10026, "192.0.2.1");
  EXPECT_EQ(sub.name, "SUBMISSION+ORIGINATING");
  EXPECT_EQ(sub.recipient.destiny[cat(policy::Category::kBanned)], policy::Destiny::kReject);
  EXPECT_EQ(sub.recipient.destiny[cat(policy::Category::kVirus)], policy::Destiny::kReject);

  const policy::Settings& both = c->bank_for(10026, "IPv6:::ffff:10.0.0.1");
  EXPECT_EQ(both.name, "SUBMISSION+MYNETS+ORIGINATING");
  EXPECT_EQ(both.recipient.destiny[cat(policy::Category::kBanned)], policy::Destiny::kPass);
}

TEST_F(ConfigTest, PolicyBankErrorsNameTheLine) {
  auto err = [&](const std::string& text) {
    auto c = load_config({write(text), {}});
    return c ? std::string("accepted") : c.error();
  };
  EXPECT_NE(err("[policy_bank X]\nlisten = smtp:127.0.0.1:1\n").find(":2: listen cannot be set"),
            std::string::npos);
  EXPECT_NE(err("[policy_bank X]\nfinal_spam_destiny = D_MAYBE\n").find(":2: final_spam_destiny"),
            std::string::npos);
  EXPECT_NE(err("[bank]\n").find(":1: expected [policy_bank NAME]"), std::string::npos);
  EXPECT_NE(err("policy_bank_by_port = 10026:NOPE\n").find("no [policy_bank NOPE] section"),
            std::string::npos);
  EXPECT_NE(err("policy_bank_by_port = x:Y\n").find("expected PORT:NAME"), std::string::npos);
  EXPECT_NE(err("mynetworks = 10.0.0.1/8\n").find("mynetworks"), std::string::npos);
  EXPECT_NE(err("banned_rules = /nonexistent\n").find("banned_rules"), std::string::npos);
  EXPECT_NE(err("bad_header_checks = 8bit sevenbit\n").find("unknown check 'sevenbit'"),
            std::string::npos);
  EXPECT_NE(err("recipient = bob@x.test spam_lover=perhaps\n").find(":1: "), std::string::npos);
  EXPECT_NE(err("recipient_delimiter = ++\n").find("recipient_delimiter"), std::string::npos);
}

TEST_F(ConfigTest, RecipientEntriesAndLocalDomainsResolvePerAddress) {
  std::string f = write(
      "local_domains = example.com .example.org\n"
      "recipient_delimiter = +\n"
      "recipient = boss@example.com spam_lover=yes spam_kill_level=30\n"
      "recipient = .example.org spam_kill_level=12 subject_tag_spam=\"[SPAM] \"\n"
      "recipient = boss@ banned_files_lover=yes\n");
  auto c = load_config({f, {}});
  ASSERT_TRUE(c) << c.error();
  policy::RecipientPolicy boss = policy::resolve_recipient(c->policy, "Boss+x@Example.com");
  EXPECT_TRUE(boss.local);
  EXPECT_TRUE(boss.lover[cat(policy::Category::kSpam)]);
  EXPECT_TRUE(boss.lover[cat(policy::Category::kSpammy)]);
  EXPECT_TRUE(boss.lover[cat(policy::Category::kBanned)]);
  EXPECT_EQ(boss.spam_kill_level, 30);
  policy::RecipientPolicy sub = policy::resolve_recipient(c->policy, "x@lists.example.org");
  EXPECT_TRUE(sub.local);
  EXPECT_EQ(sub.spam_kill_level, 12);
  EXPECT_EQ(sub.subject_tag[cat(policy::Category::kSpam)], "[SPAM] ");
  policy::RecipientPolicy other = policy::resolve_recipient(c->policy, "x@sub.example.com");
  EXPECT_FALSE(other.local) << "example.com without a dot covers that domain only";
  EXPECT_EQ(other.spam_kill_level, 6.31);
}

TEST_F(ConfigTest, BuiltinBannedRulesAndTemplatesAreLoadedByDefault) {
  auto c = load_config({});
  ASSERT_TRUE(c) << c.error();
  EXPECT_TRUE(c->policy.banned_rules);
  EXPECT_TRUE(c->policy.templates);
  auto none = load_config({"", {"--banned_rules=none", "--notify_templates=builtin:ja"}});
  ASSERT_TRUE(none) << none.error();
  EXPECT_FALSE(none->policy.banned_rules);
  EXPECT_TRUE(none->policy.templates);
}

}  // namespace filterd

namespace filterd {
namespace {

TEST(ConfigDocs, EtcFilterdConfListsEveryOptionWithItsDefault) {
  std::ifstream in(std::string(FILTERD_SOURCE_DIR) + "/etc/filterd.conf");
  ASSERT_TRUE(in);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::string body = default_config_file();
  EXPECT_NE(text.find(body), std::string::npos)
      << "etc/filterd.conf is out of date: regenerate it with filterd --print-defaults";
}

TEST(ConfigDocs, SampleConfigIsValid) {
  auto c = load_config({std::string(FILTERD_SOURCE_DIR) + "/etc/filterd.conf", {}});
  EXPECT_TRUE(c) << c.error();
}

}  // namespace
}  // namespace filterd
