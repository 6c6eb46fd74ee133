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
