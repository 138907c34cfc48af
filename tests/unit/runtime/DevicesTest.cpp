#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "TestUtil.hpp"
#include "gov/runtime/Devices.hpp"

namespace gov::runtime {
namespace {

using test::TempDir;
using test::writeFile;

// A fake /sys with block devices: name -> (dev, size, partition?).
void addBlock(const TempDir& sys, const std::string& name, const std::string& dev,
              const std::string& size, bool partition = false) {
    writeFile(sys / ("block/" + name + "/dev"), dev + "\n");
    writeFile(sys / ("block/" + name + "/size"), size + "\n");
    if (partition) {
        writeFile(sys / ("block/" + name + "/partition"), "1\n");
    }
    writeFile(sys / ("dev/block/" + dev + "/uevent"), "");
}

TEST(WholeDisks, SkipsPartitionsAndEmptyDevicesAndSortsNumerically) {
    TempDir sys;
    addBlock(sys, "vda", "254:0", "536870912");
    addBlock(sys, "sda", "8:0", "1000");
    addBlock(sys, "sdb", "8:16", "1000");
    addBlock(sys, "sda1", "8:1", "900", /*partition=*/true);
    addBlock(sys, "loop0", "7:0", "0");
    addBlock(sys, "ram0", "1:0", "0");
    addBlock(sys, "nvme0n1", "259:0", "2000");
    auto disks = wholeDisks(sys.path());
    ASSERT_TRUE(disks.ok()) << disks.error().message();
    EXPECT_EQ(*disks, (std::vector<std::string>{"8:0", "8:16", "254:0", "259:0"}));
}

TEST(WholeDisks, FallsBackToClassBlock) {
    TempDir sys;
    writeFile(sys / "class/block/vdb/dev", "254:16\n");
    writeFile(sys / "class/block/vdb/size", "10\n");
    auto disks = wholeDisks(sys.path());
    ASSERT_TRUE(disks.ok()) << disks.error().message();
    EXPECT_EQ(*disks, (std::vector<std::string>{"254:16"}));
}

TEST(WholeDisks, MalformedDevFileIsAnError) {
    TempDir sys;
    writeFile(sys / "block/vda/dev", "vda\n");
    writeFile(sys / "block/vda/size", "10\n");
    auto disks = wholeDisks(sys.path());
    ASSERT_FALSE(disks.ok());
    EXPECT_NE(disks.error().message().find("expected MAJ:MIN, got 'vda'"), std::string::npos);
}

TEST(WholeDisks, MissingSysIsAnError) {
    TempDir sys;
    EXPECT_FALSE(wholeDisks(sys.path()).ok());
}

TEST(WholeDisks, RealHostListsSomeDisk) {
    auto disks = wholeDisks();
    ASSERT_TRUE(disks.ok()) << disks.error().message();
    if (disks->empty()) {
        GTEST_SKIP() << "no non-empty whole disk on this host";
    }
    for (const auto& d : *disks) {
        EXPECT_NE(d.find(':'), std::string::npos) << d;
    }
}

TEST(ResolveDevice, MajMinMustExistUnderSys) {
    TempDir sys;
    addBlock(sys, "sda", "8:0", "1000");
    auto ok = resolveDevice("8:0", sys.path(), "/dev");
    ASSERT_TRUE(ok.ok()) << ok.error().message();
    EXPECT_EQ(*ok, "8:0");
    auto missing = resolveDevice("8:99", sys.path(), "/dev");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message(), "device 8:99: no such block device");
}

TEST(ResolveDevice, MissingPathIsAnErrorNamingIt) {
    TempDir sys;
    TempDir dev;
    auto r = resolveDevice("/dev/nvme9n9", sys.path(), dev.path());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "device /dev/nvme9n9: No such file or directory");
}

TEST(ResolveDevice, CharacterDeviceIsRejected) {
    TempDir sys;
    auto r = resolveDevice("/dev/null", sys.path(), "/dev");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "device /dev/null: not a block device");
    TempDir dev;
    writeFile(dev / "regular", "");
    EXPECT_FALSE(resolveDevice("/dev/regular", sys.path(), dev.path()).ok());
}

TEST(ResolveDevice, BareNamesAndRelativePathsAreRejected) {
    EXPECT_FALSE(resolveDevice("sda").ok());
    EXPECT_FALSE(resolveDevice("dev/sda").ok());
    EXPECT_FALSE(resolveDevice("").ok());
}

TEST(ResolveDevice, BlockNodeUnderFakeDevResolvesToItsNumbers) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "mknod of a block device node needs root";
    }
    TempDir sys;
    TempDir dev;
    addBlock(sys, "vdz", "254:32", "10");
    ASSERT_EQ(::mknod((dev / "vdz").c_str(), S_IFBLK | 0600, makedev(254, 32)), 0);
    auto r = resolveDevice("/dev/vdz", sys.path(), dev.path());
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(*r, "254:32");
    // A node whose device is gone from /sys is stale.
    ASSERT_EQ(::mknod((dev / "stale").c_str(), S_IFBLK | 0600, makedev(254, 48)), 0);
    auto stale = resolveDevice("/dev/stale", sys.path(), dev.path());
    ASSERT_FALSE(stale.ok());
    EXPECT_EQ(stale.error().message(), "device /dev/stale: block device 254:48 is not present");
}

TEST(ResolveDevice, RealBlockDeviceOfThisHost) {
    auto disks = wholeDisks();
    ASSERT_TRUE(disks.ok());
    // Find the /dev node of the first disk through /sys/dev/block/MAJ:MIN -> name.
    for (const auto& mm : *disks) {
        std::error_code ec;
        auto target = std::filesystem::read_symlink("/sys/dev/block/" + mm, ec);
        if (ec)
            continue;
        std::string node = "/dev/" + target.filename().string();
        if (!std::filesystem::exists(node))
            continue;
        auto r = resolveDevice(node);
        ASSERT_TRUE(r.ok()) << r.error().message();
        EXPECT_EQ(*r, mm);
        return;
    }
    GTEST_SKIP() << "no whole disk with a /dev node on this host";
}

TEST(BuildDeviceTable, ResolvesEverySpecAndListsDisks) {
    TempDir sys;
    addBlock(sys, "sda", "8:0", "1000");
    addBlock(sys, "sdb", "8:16", "1000");
    auto t = buildDeviceTable({"8:16"}, sys.path(), "/dev");
    ASSERT_TRUE(t.ok()) << t.error().message();
    EXPECT_EQ(t->wholeDisks, (std::vector<std::string>{"8:0", "8:16"}));
    EXPECT_EQ(t->resolved, (std::map<std::string, std::string>{{"8:16", "8:16"}}));
    auto bad = buildDeviceTable({"8:0", "9:9"}, sys.path(), "/dev");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message(), "device 9:9: no such block device");
}

}  // namespace
}  // namespace gov::runtime
